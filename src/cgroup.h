/*
 * Private: the contract between cgroup and its composers (spawn, container).
 *
 * Putting the new process into its cgroup:
 *  - with clone3(), spawn passes keel_cgroup_fd(cg) as clone_args.cgroup
 *    with CLONE_INTO_CGROUP: the child starts in the cgroup, nothing to do;
 *  - without it (no clone3, or an old kernel), the child moves itself by
 *    writing "0" to the cgroup.procs fd that the plan opened in the parent.
 * A cgroup namespace rooted at the container's cgroup is made by the child
 * once it is inside the cgroup: unshare(CLONE_NEWCGROUP) roots the new
 * namespace at the caller's current cgroup. (clone3 with CLONE_NEWCGROUP
 * would root it at the *parent's* cgroup, since namespaces are copied
 * before the child is attached to the target cgroup.)
 *
 * So the parent prepares a plan, clones, and the child applies the plan
 * before anything else that depends on its cgroup (before exec, and before
 * a pid namespace's /proc is mounted, so /proc/self/cgroup reads "0::/").
 */
#ifndef KEEL_PRIV_CGROUP_H
#define KEEL_PRIV_CGROUP_H

#include <keel/cgroup.h>
#include "util/child.h"

enum keel_cgroup_plan_flags {
	KEEL_CGROUP_PLAN_JOIN = 1,  /* the child writes itself into cgroup.procs */
	KEEL_CGROUP_PLAN_NEWNS = 2  /* then unshares a cgroup namespace */
};

struct keel_cgroup_plan {
	unsigned flags;
	int procs_fd;               /* O_WRONLY|O_CLOEXEC cgroup.procs, or -1 */
	char name[256];             /* the cgroup's name, for the child's report */
};

/*
 * Parent side: fill *plan for cg. flags are KEEL_CGROUP_PLAN_*; pass JOIN
 * when the clone does not use CLONE_INTO_CGROUP. The plan owns procs_fd:
 * release it with keel_cgroup_plan_release() in the parent after the clone.
 */
int keel_cgroup_plan_prepare(keel_cgroup *cg, unsigned flags, struct keel_cgroup_plan *plan,
			     keel_error **err);

/* Child side, async-signal-safe: join the cgroup and/or unshare a cgroup
 * namespace as planned. On failure fills rep ("join cgroup <name>", ...). */
int keel_cgroup_plan_apply(const struct keel_cgroup_plan *plan, struct keel_child_report *rep);

/* Close what the plan holds; safe to call twice. */
void keel_cgroup_plan_release(struct keel_cgroup_plan *plan);

/* The cgroup's path relative to the cgroup2 mount ("kt1/web"), as it
 * appears in messages; owned by cg. */
const char *keel_cgroup_name(const keel_cgroup *cg);

#endif
