/*
 * Private: the linux object of config.json (src/oci-linux.c) and its
 * resources (src/oci-resources.c).
 */
#ifndef KEEL_PRIV_OCI_LINUX_H
#define KEEL_PRIV_OCI_LINUX_H

#include "oci-internal.h"

/* Everything under "linux": namespaces, id maps, devices, cgroupsPath,
 * resources, sysctl, seccomp, paths, propagation. */
int oci_apply_linux(keel_oci *o, keel_container *c, keel_error **err);

/* linux.resources onto cgroup v2 interface files: set(key, value) for
 * each, in order (keel_container_set_cgroup_value() at create,
 * keel_cgroup_set_raw() for `update`). At create, values a new cgroup
 * has already (cpu.weight 100, memory.max max ...) are not written. */
typedef int (*oci_cgroup_set_fn)(void *target, const char *key, const char *value, keel_error **err);
int oci_apply_resources(keel_oci *o, struct json_object *res, const char *path, int at_create,
			oci_cgroup_set_fn set, void *target, keel_error **err);

#endif
