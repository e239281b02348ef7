/*
 * Private: spawn internals other units (container, tests) may use.
 * (Not named spawn.h: with -Isrc that would hide the system <spawn.h>.)
 */
#ifndef KEEL_PRIV_SPAWN_INTERNAL_H
#define KEEL_PRIV_SPAWN_INTERNAL_H

#include <keel/spawn.h>

/*
 * Use clone(2) instead of clone3(2), as on kernels before 5.3: the cgroup
 * is then joined by writing the pid to cgroup.procs. For tests of the
 * fallback path on kernels that have clone3.
 */
void keel_spawn_attr_force_legacy_clone(keel_spawn_attr *attr, int on);

/*
 * Bring the loopback interface of the new process's network namespace up,
 * in the child itself (one ioctl on a socket), after the parent hook and
 * before anything else the child does. For a container made with its own
 * network namespace: unlike a setns() from the caller, it works for an
 * unprivileged caller whose new user namespace owns that network namespace,
 * and costs no thread and no netlink. Meant only with a new network
 * namespace; in the caller's own it would bring the caller's lo up.
 */
void keel_spawn_attr_set_loopback_up(keel_spawn_attr *attr, int on);

/*
 * 1 if the child was cloned sharing the caller's memory (CLONE_VM |
 * CLONE_VFORK, src/util/vfork.h), 0 if fork-like. For tests: which path a
 * spawn took is otherwise invisible, which is the point.
 */
int keel_child_shared_memory(const keel_child *child);

#endif
