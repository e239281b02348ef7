/*
 * Private: the contract between security and spawn.
 *
 * The parent compiles a keel_security into a plan: the seccomp program as
 * BPF, capability masks, rlimits, sysctl paths and values. The child
 * applies it in three steps, which spawn calls in this order:
 *
 *   apply_early     after namespaces exist, before the rootfs is mounted:
 *                   hostname, domainname, sysctls (through the /proc still
 *                   visible then), rlimits, oom_score_adj
 *   apply_pre_user  after pivot_root, before the uid/gid switch:
 *                   drop the bounding set, keep capabilities across setuid
 *   apply_late      after the uid/gid switch, the last thing before exec:
 *                   capability sets, ambient, no_new_privs, seccomp
 */
#ifndef KEEL_PRIV_SECURITY_H
#define KEEL_PRIV_SECURITY_H

#include <stddef.h>
#include <linux/filter.h>
#include <keel/security.h>
#include "util/child.h"

/*
 * The seccomp program sec holds (*prog NULL and *len 0 when none); owned
 * by sec. The container keeps a copy next to its state, so that a process
 * that loads the container (and so has none of the creator's
 * keel_security) execs under the init's filter.
 */
void keel_security_get_bpf(const keel_security *sec, const struct sock_filter **prog, size_t *len);

/*
 * What an exec into the container must share with the init besides the
 * seccomp program (capability sets, keep_caps, no_new_privs, rlimits, LSM
 * labels), as "key=value" lines the container keeps next to its state:
 * _format() returns it malloc'd (NULL: -ENOMEM); _parse() sets those
 * fields of sec from such text (-EIO with the line number when a line
 * does not parse; unknown keys are ignored).
 */
char *keel_security_profile_format(const keel_security *sec);
int keel_security_profile_parse(keel_security *sec, const char *text, keel_error **err);

/* Set a program kept that way (copied); -EINVAL for an empty one or one
 * longer than the kernel takes (BPF_MAXINSNS), -ENOMEM. */
int keel_security_set_bpf(keel_security *sec, const struct sock_filter *prog, size_t len, keel_error **err);

struct keel_security_plan;

/* Parent side. *out is freed with keel_security_plan_free(). */
int keel_security_plan_prepare(const keel_security *sec, struct keel_security_plan **out, keel_error **err);

/* Child side, async-signal-safe. */
int keel_security_plan_apply_early(const struct keel_security_plan *plan, struct keel_child_report *rep);
int keel_security_plan_apply_pre_user(const struct keel_security_plan *plan, struct keel_child_report *rep);
/* *notify_fd receives the seccomp user-notification listener when the
 * filter has NOTIFY rules, else -1; spawn hands it to the parent. */
int keel_security_plan_apply_late(const struct keel_security_plan *plan, int *notify_fd,
				  struct keel_child_report *rep);

/* Whether the child will hand back a seccomp listener fd (apply_late's
 * *notify_fd), which the spawn must then be able to receive. */
int keel_security_plan_has_listener(const struct keel_security_plan *plan);

void keel_security_plan_free(struct keel_security_plan *plan);

#endif
