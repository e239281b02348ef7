/*
 * security, the child side: the three apply steps of a keel_security_plan
 * (see security.h for when spawn calls each), system calls only, on the
 * plan the parent made in src/security.c. Built into libkeel-child.la:
 * tests/check-child-alloc.sh checks that nothing here allocates.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <keel/error.h>

#include "security-internal.h"
#include "util/child.h"

/* RLIMIT_* names for messages, indexed by resource. */
const char *const rlimit_names[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = "CPU", [RLIMIT_FSIZE] = "FSIZE", [RLIMIT_DATA] = "DATA",
	[RLIMIT_STACK] = "STACK", [RLIMIT_CORE] = "CORE", [RLIMIT_RSS] = "RSS",
	[RLIMIT_NPROC] = "NPROC", [RLIMIT_NOFILE] = "NOFILE", [RLIMIT_MEMLOCK] = "MEMLOCK",
	[RLIMIT_AS] = "AS", [RLIMIT_LOCKS] = "LOCKS", [RLIMIT_SIGPENDING] = "SIGPENDING",
	[RLIMIT_MSGQUEUE] = "MSGQUEUE", [RLIMIT_NICE] = "NICE", [RLIMIT_RTPRIO] = "RTPRIO",
	[RLIMIT_RTTIME] = "RTTIME",
};

/* ============================================= the child (async-signal-safe) === */

/* Whether the calling process is in another namespace than the parent was
 * at prepare time. 1 yes, 0 no, -errno if it cannot tell. */
static int own_namespace(const char *path, const struct ns_id *parent)
{
	struct stat st;

	if (!parent->known)
		return -ENOENT;
	if (stat(path, &st) < 0)
		return -errno;
	return st.st_dev != parent->dev || st.st_ino != parent->ino;
}

/* Write a whole value to a /proc file in one write(2). */
static int write_proc(const char *path, const char *value, size_t len)
{
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == len ? 0 : -EIO;
}

static int apply_uts(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	const char *what = plan->hostname ? "hostname" : "domainname";
	const char *name = plan->hostname ? plan->hostname : plan->domainname;
	int own;

	if (!plan->hostname && !plan->domainname)
		return 0;
	own = own_namespace("/proc/self/ns/uts", &plan->parent_uts);
	if (own < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, -own, what, name);
	if (!own) {
		keel_report_fail(rep, KEEL_ERROR_INVALID, 0, what, name);
		keel_report_append(rep, ": the container has no UTS namespace of its own (it would rename the host)");
		return -EINVAL;
	}
	if (plan->hostname && sethostname(plan->hostname, plan->hostname_len) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "sethostname", plan->hostname);
	if (plan->domainname && setdomainname(plan->domainname, plan->domainname_len) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "setdomainname", plan->domainname);
	return 0;
}

static int apply_sysctls(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	size_t i;
	int ret;

	for (i = 0; i < plan->n_sysctls; i++) {
		const struct plan_sysctl *s = &plan->sysctls[i];

		ret = own_namespace(ns_files[s->ns], &plan->parent_ns[s->ns]);
		if (ret < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, -ret, "sysctl", s->key);
		if (!ret) {
			keel_report_fail(rep, KEEL_ERROR_INVALID, 0, "sysctl", s->key);
			keel_report_append(rep, ": the container has no ");
			keel_report_append(rep, ns_words[s->ns]);
			keel_report_append(rep, " namespace of its own (it would change the host)");
			return -EINVAL;
		}
		ret = write_proc(s->path, s->value, s->value_len);
		if (ret < 0) {
			keel_report_fail(rep, KEEL_ERROR_CHILD, -ret, "sysctl", s->key);
			keel_report_append(rep, ": write ");
			keel_report_append(rep, s->path);
			return ret;
		}
	}
	return 0;
}

int keel_security_plan_apply_early(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	size_t i;
	int ret;

	ret = apply_uts(plan, rep);
	if (ret < 0)
		return ret;
	ret = apply_sysctls(plan, rep);
	if (ret < 0)
		return ret;
	for (i = 0; i < plan->n_rlimits; i++) {
		const struct plan_rlimit *r = &plan->rlimits[i];

		if (syscall(SYS_prlimit64, 0, r->resource, &r->lim, NULL) < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "setrlimit",
						rlimit_names[r->resource]);
	}
	if (plan->has_oom) {
		ret = write_proc("/proc/self/oom_score_adj", plan->oom_str, plan->oom_len);
		if (ret < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, -ret, "oom_score_adj", plan->oom_str);
	}
	return 0;
}

/* "<step> capability 13": by number, since the names live in libcap-ng,
 * which the child does not call. */
static int report_cap_fail(struct keel_child_report *rep, int errnum, const char *step, int cap)
{
	char num[24], obj[48] = "capability ";

	keel_strlcat(obj, keel_utoa((unsigned long long)cap, num), sizeof(obj));
	return keel_report_fail(rep, KEEL_ERROR_CHILD, errnum, step, obj);
}

int keel_security_plan_apply_pre_user(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	int cap;

	for (cap = 0; cap <= plan->last_cap; cap++) {
		if (plan->bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return report_cap_fail(rep, errno, "drop from the bounding set", cap);
	}
	/* Keep the permitted set across setuid to a non-root user, so apply_late
	 * can install the requested sets; execve resets this flag. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "prctl", "PR_SET_KEEPCAPS");
	return 0;
}

static int apply_caps(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	int cap;

	data[0].effective = (uint32_t)plan->effective;
	data[1].effective = (uint32_t)(plan->effective >> 32);
	data[0].permitted = (uint32_t)plan->permitted;
	data[1].permitted = (uint32_t)(plan->permitted >> 32);
	data[0].inheritable = (uint32_t)plan->inheritable;
	data[1].inheritable = (uint32_t)(plan->inheritable >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "capset", NULL);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "prctl", "PR_CAP_AMBIENT_CLEAR_ALL");
	for (cap = 0; cap <= plan->last_cap; cap++) {
		if (!(plan->ambient & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return report_cap_fail(rep, errno, "raise ambient", cap);
	}
	return 0;
}

/* Write the label to the first attr file that exists. An ENOENT from the
 * write itself (not the open) is AppArmor's answer for a profile it does not
 * have, which the parent's check can miss only in a race with an unload. */
static int apply_lsm(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	const char *name;
	int i, fd = -1, e = ENOENT;
	ssize_t n;

	if (!plan->lsm_value)
		return 0;
	name = plan->lsm_value + plan->lsm_name_off;
	for (i = 0; i < 2 && plan->lsm_path[i] && fd < 0; i++) {
		fd = open(plan->lsm_path[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 && (e = errno) != ENOENT)
			break;
	}
	if (fd < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, e, plan->lsm_what, name);
	n = write(fd, plan->lsm_value, plan->lsm_len);
	e = n < 0 ? errno : EIO;
	close(fd);
	if ((size_t)n == plan->lsm_len)
		return 0;
	keel_report_fail(rep, KEEL_ERROR_CHILD, e, plan->lsm_what, name);
	if (e == ENOENT && plan->lsm_name_off)
		keel_report_append(rep, " (no such profile is loaded)");
	return -e;
}

static int apply_seccomp(const struct keel_security_plan *plan, int *notify_fd, struct keel_child_report *rep)
{
	unsigned long flags = plan->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long ret;

	if (!plan->prog.filter)
		return 0;
	ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &plan->prog);
	if (ret < 0) {
		int e = errno;

		keel_report_fail(rep, KEEL_ERROR_CHILD, e, "seccomp", "load the filter");
		if (e == EACCES)
			keel_report_append(rep, " (without no_new_privs this needs CAP_SYS_ADMIN)");
		return -e;
	}
	if (plan->notify)
		*notify_fd = (int)ret;
	return 0;
}

int keel_security_plan_has_listener(const struct keel_security_plan *plan)
{
	return plan->notify;
}

/* Effective = permitted (a non-root user's effective set was cleared by
 * setresuid; KEEPCAPS kept the permitted one). */
static int raise_effective(struct keel_child_report *rep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "capget", NULL);
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "capset", "raise the effective set");
	return 0;
}

int keel_security_plan_apply_late(const struct keel_security_plan *plan, int *notify_fd,
				  struct keel_child_report *rep)
{
	int ret;

	*notify_fd = -1;
	/* Without no_new_privs the kernel loads a filter only for a process
	 * with CAP_SYS_ADMIN, which the final sets usually lack: load it
	 * first, with the effective set raised to the permitted one, as runc
	 * does. The calls after it (capset, prctl, the LSM write, the spawn
	 * protocol, execve) must then pass the filter, as in runc. */
	if (!plan->no_new_privs && plan->prog.filter) {
		if ((ret = raise_effective(rep)) < 0 || (ret = apply_seccomp(plan, notify_fd, rep)) < 0 ||
		    (ret = apply_caps(plan, rep)) < 0)
			return ret;
		return apply_lsm(plan, rep);
	}
	ret = apply_caps(plan, rep);
	if (ret < 0)
		return ret;
	if (plan->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "prctl", "PR_SET_NO_NEW_PRIVS");
	ret = apply_lsm(plan, rep);
	if (ret < 0)
		return ret;
	/* Last: from here on only what the filter allows, which is execve. */
	return apply_seccomp(plan, notify_fd, rep);
}
