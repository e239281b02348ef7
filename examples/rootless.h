/*
 * keel-run without root, the way `podman run` does it: a user namespace
 * that maps the caller to root inside (and its /etc/subuid, /etc/subgid
 * range after it where newuidmap/newgidmap allow), the cgroup under the
 * caller's delegated cgroup2 subtree when it has one and none otherwise.
 * Each step that has to settle for less prints a one-line note saying
 * what to set up for more.
 */
#ifndef KEEL_EXAMPLES_ROOTLESS_H
#define KEEL_EXAMPLES_ROOTLESS_H

#include <keel.h>

/*
 * Give c a user namespace (KEEL_NS_USER added to its namespaces): the
 * caller's euid and egid are 0 inside, followed by the caller's first
 * /etc/subuid and /etc/subgid ranges (ids 1..count) when newuidmap and
 * newgidmap are installed (root writes any map itself). Without a range,
 * a note on stderr says that only the caller is mapped and how to get
 * more. 0, or a libkeel error in *err.
 */
int kx_userns_configure(keel_container *c, const char *prog, keel_error **err);

/*
 * Where an unprivileged caller's container cgroup goes: the library's
 * default parent (the parent of our own cgroup) when we own it, else
 * our own cgroup when we own it (a delegated leaf), else no cgroup
 * (KEEL_CONTAINER_CGROUP_NONE). With none, a note says that limits are
 * not available, and want_limits (some --memory, --pids, --cpus was
 * given) makes it an error instead (-1, already printed). 0 otherwise,
 * or a libkeel error in *err.
 */
int kx_rootless_cgroup(keel_container *c, const char *prog, int want_limits, keel_error **err);

#endif
