/*
 * Private: the container handle, for src/container.c and the tests.
 */
#ifndef KEEL_PRIV_CONTAINER_H
#define KEEL_PRIV_CONTAINER_H

#include <keel/container.h>
#include <keel/ns.h>
#include "state.h"
#include <keel/net.h>

struct keel_container_devices;

#define KEEL_HOOK_MAX 5

struct keel_container_hook {
	keel_container_hook_fn fn;
	void *userdata;
};

struct keel_container {
	char *id;
	char *root;                 /* the state root */
	char *dir;                  /* <root>/<id> */
	int loaded;                 /* made by keel_container_load() */
	int security_bad;           /* a loaded handle could not read the init's security */
	int created;                /* create ran (successfully) with this handle */

	/* configuration, used by create */
	keel_rootfs *rootfs;
	keel_process *process;
	keel_security *security;
	unsigned ns_flags;
	char *cgroup_parent;
	char *cgroup_path;          /* keel_container_set_cgroup_path(), or NULL */
	char **cgroup_values;       /* "key", "value" pairs, NULL-terminated */
	keel_ns *ns;                /* joins, id maps, time offsets (keel_container_ns()) */
	int has_memory_max, has_pids_max, has_cpu_max;
	uint64_t memory_max, pids_max, cpu_quota, cpu_period;
	char *bridge, *addr, *gateway, *net_host;
	char *hostname;             /* as given, for /etc/hostname and /etc/hosts */
	char **dns, **dns_search;   /* NULL-terminated, or NULL: the host's */
	char **extra_hosts;         /* "ADDR<tab>NAME" lines for /etc/hosts */
	char **ports;               /* published ports, as given (Docker's -p syntax) */
	int masquerade;             /* outbound NAT for the bridge's subnet */
	size_t rootfs_mark;         /* entries in rootfs before create added its own */
	char *upper_dir;
	int keep_upper;
	int has_log;                /* keel_container_set_log() */
	uint64_t log_max;
	char **layers;
	struct keel_container_hook hooks[KEEL_HOOK_MAX + 1];
	struct keel_container_devices *devices; /* issue 16: src/container-device.c; NULL: defaults */

	/* runtime */
	keel_cgroup *cgroup;        /* NULL before create */
	keel_child *child;          /* the init, in the process that created it */
	unsigned long long child_start; /* its start time, as recorded at create */
	int child_reaped;           /* keel_child_wait() of it returned 1 */
	struct keel_state_hold hold; /* <dir> and its state file, open between calls */
	int made_bridge;            /* this create made the bridge */
	keel_netns *ctr_net;        /* the init's network namespace, made and wired before the clone */
	struct keel_cstate st;      /* as last read or written */

	/* configuration (1.1, last so that the ABI dump barely changes) */
	int no_cgroup;              /* keel_container_set_cgroup_mode(KEEL_CONTAINER_CGROUP_NONE) */
	int stop_signal;            /* keel_container_set_stop_signal(), 0: not set (SIGTERM) */
};

/* Shared by the files of the container subsystem (container*.c). */

/* 0, or a KEEL_ERROR_STATE error when c is loaded or created already:
 * "container ID: WHAT: only possible before create". */
int container_only_before_create(keel_container *c, const char *what, keel_error **err);

/* Replace *dst with a copy of src (NULL: none); ENOMEM names what. */
int container_dup_str(char **dst, const char *src, const char *what, keel_error **err);

/* A path that goes into the state file: absolute, one line. */
int container_check_path(const char *path, const char *what, keel_error **err);

/* src/container-net.c: wire the init's network namespace (pid, or pidfd
 * when >= 0) to the bridge, from the parent hook. */
int container_wire_network(keel_container *c, pid_t pid, int pidfd, keel_error **err);

/* src/container-net.c: without a user namespace, make and wire the
 * container's network namespace before the clone (c->ctr_net). */
int container_prewire_network(keel_container *c, keel_error **err);

/* src/container-net.c: remove ports, the veth when with_veth (else the
 * kernel removes it with the namespace) and, with drop_bridge, the bridge
 * a failed create made. */
int container_unwire_network(keel_container *c, int drop_bridge, int with_veth, keel_error **err);

/* src/container-net.c: write the name files and bind them over the
 * image's, for a container that wants them. */
int container_add_names(keel_container *c, keel_error **err);

/* Did the caller set a stop signal (keel_container_set_stop_signal())?
 * For keel_image_apply(), whose config's StopSignal yields to it. */
int keel_container_has_stop_signal(const keel_container *c);

#endif
