/*
 * Private: what cgroup gives its composers (spawn, container).
 *
 * The new process is put into its cgroup by spawn, from the cgroup's
 * directory fd (keel_cgroup_fd()): with clone3(CLONE_INTO_CGROUP) the
 * kernel starts it there, and a CLONE_NEWCGROUP of the same call is
 * rooted there; with the clone(2) fallback the parent writes its pid into
 * cgroup.procs, and the child makes its cgroup namespace only after that
 * (src/spawn.c, child_main), so that /proc/self/cgroup reads "0::/" inside.
 */
#ifndef KEEL_PRIV_CGROUP_H
#define KEEL_PRIV_CGROUP_H

#include <keel/cgroup.h>

/* The cgroup's path relative to the cgroup2 mount ("kt1/web"), as it
 * appears in messages; owned by cg. */
const char *keel_cgroup_name(const keel_cgroup *cg);

#endif
