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

#endif
