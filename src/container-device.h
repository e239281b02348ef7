/*
 * Private: a container's devices (issue 16), between src/container.c, which
 * calls the hooks below at fixed points of its lifecycle, and the CDI reader
 * (src/cdi.c), which adds nodes and hooks.
 *
 * What is configured before create is kept in a struct keel_container_devices
 * that the container owns (NULL until something is configured):
 *  - the device filter's mode and base rules (NULL: the default allow list);
 *  - host device nodes to make in the container's /dev, stat'ed when added;
 *  - raw rules to allow on top;
 *  - program hooks (CDI's) to run at the OCI points.
 * At create, keel_container_devices_setup() puts the nodes into the rootfs's
 * mount table (made by the child from the mount plan, no allocation there)
 * and attaches the filter to the container's cgroup before the init is
 * cloned into it.
 */
#ifndef KEEL_PRIV_CONTAINER_DEVICE_H
#define KEEL_PRIV_CONTAINER_DEVICE_H

#include <stddef.h>
#include <sys/types.h>

#include <keel/container.h>
#include "cgroup-device.h"

/* A device node to make in the container. */
struct keel_device_node {
	char *host;             /* the host's node: bound where mknod is refused */
	char *dest;             /* absolute path in the container */
	int block;              /* 1: a block device, 0: a character device */
	unsigned major, minor;
	mode_t mode;            /* permission bits */
	int has_owner;          /* chown the node to uid:gid */
	uid_t uid;
	gid_t gid;
	unsigned access;        /* what the filter allows of it (KEEL_DEVICE_*) */
};

/* A program run at one of the OCI points (a CDI hook). */
struct keel_exec_hook {
	int point;              /* enum keel_hook */
	char *path;
	char **args;            /* argv, NULL-terminated; NULL: { path } */
	char **env;             /* NULL-terminated; NULL: empty */
};

struct keel_container_devices {
	int unfiltered;
	keel_device_rules *base;         /* NULL: keel_device_rules_add_defaults() */
	struct keel_device_rule *extra;  /* keel_container_add_device_rule() */
	size_t n_extra;
	struct keel_device_node *nodes;
	size_t n_nodes;
	struct keel_exec_hook *hooks;
	size_t n_hooks;
};

/* Add a node (copied); the caller filled every field. Before create only. */
int keel_container_add_device_node(keel_container *c, const struct keel_device_node *node, keel_error **err);

/* Fill node from the host's node at host (stat, following symlinks):
 * type, numbers, mode, owner. -ENOENT, or -EINVAL when it is no device. */
int keel_device_node_from_host(const char *host, struct keel_device_node *node, keel_error **err);

/* Add a program hook (copied). Before create only. */
int keel_container_add_exec_hook(keel_container *c, int point, const char *path, char *const *args,
				 char *const *env, keel_error **err);

/* --- the hooks container.c calls --- */

/* Create, once the cgroup exists and before the init is spawned: device
 * nodes into the rootfs, the filter onto the cgroup (or a failure that
 * names the opt-out). */
int keel_container_devices_setup(keel_container *c, keel_error **err);

/* Whether any program hook is set for a point the parent hook serves. */
int keel_container_devices_has_hooks(const keel_container *c);

/* Run the program hooks of one point, in order; the first failure stops. */
int keel_container_devices_run_hooks(keel_container *c, int point, keel_error **err);

void keel_container_devices_free(struct keel_container_devices *d);

#endif
