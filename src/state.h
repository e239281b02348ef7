/*
 * Private: a container's persisted state, and the files around it.
 *
 * <state_root>/<id>/state is a small text file, one key=value per line,
 * rewritten in place by one pwrite() under the container's lock: an
 * exclusive flock on the <state_root>/<id> directory, which every
 * operation (and every reader of the state) holds. A handle keeps both
 * open between its operations (struct keel_state_hold).
 * Both are read and written only by src/container.c, through this header.
 */
#ifndef KEEL_PRIV_STATE_H
#define KEEL_PRIV_STATE_H

#include <stdint.h>
#include <sys/types.h>
#include <keel/common.h>

/* Everything delete, state, exec, kill ... need in a process that did not
 * create the container. Strings are malloc'd (NULL when unset). */
struct keel_cstate {
	int status;                    /* enum keel_container_state */
	pid_t pid;                     /* the init on the host, 0 before create */
	unsigned long long start_time; /* field 22 of /proc/PID/stat: the pid reuse guard */
	int64_t created, started;      /* unix times, 0 when not yet */
	int has_exit;                  /* exit_code / term_signal are known */
	int exit_code, term_signal;
	unsigned ns_flags;             /* keel_ns_type flags the init was made with */
	char *upper_dir;               /* the rootfs' upper base */
	int keep_upper;
	char **layers;                 /* NULL-terminated, lowest first (may be NULL) */
	size_t n_layers, cap_layers;   /* while the reader fills layers (0 otherwise) */
	char *cgroup;                  /* absolute path of the container's cgroup */
	char *net_host;                /* netns path of the host veth, NULL: the caller's */
	char *host_veth;               /* host end of the veth, NULL when none */
	char *bridge;                  /* the bridge it is attached to */
	int ports;                     /* nftables rules owned by the id may exist (net_host) */
	/* What keel_container_update() applied (src/resources.h has the forms):
	 * "<file> <value>" lines, merged by identity, in the order written. */
	char **resources;              /* NULL-terminated, or NULL */
	int has_device_rules;          /* an update replaced the device filter with: */
	char **device_rules;           /* "allow c 1:3 rwm" ... (NULL: an empty list) */
	long n_device_rules;           /* while the reader fills device_rules: as announced */
	int no_cgroup;                 /* made without one (KEEL_CONTAINER_CGROUP_NONE, 1.1) */
	int stop_signal;               /* keel_container_stop_signal() (1.1); 0: none recorded, SIGTERM */
};

/* The largest state file read: far above any real one (500 layers, the
 * most overlayfs stacks, of 4 KiB paths each is 2 MiB), well below what
 * would make a reader allocate without bound. */
#define KEEL_STATE_MAX_SIZE (4 * 1024 * 1024)

/* Free the strings of st and zero it. */
void keel_cstate_clear(struct keel_cstate *st);

/* Is id a valid container id? ([A-Za-z0-9][A-Za-z0-9_.-]{0,63}) */
int keel_state_check_id(const char *id, keel_error **err);

/* The default state root: /run/keel as root, $XDG_RUNTIME_DIR/keel
 * otherwise (-EINVAL when it is not set). *out is malloc'd. */
int keel_state_default_root(char **out, keel_error **err);

/*
 * Refuse a state root that someone else could change under us: every
 * directory of its real path owned by the caller's euid or root, and not
 * writable by group or others unless sticky (state.c says why). A root
 * that does not exist yet passes (its create checks it once made).
 * Container directories and state files are checked as they are opened:
 * owned by the caller's euid, writable by nobody else, no symlinks.
 * -EPERM, with the path and the reason.
 */
int keel_state_check_root(const char *root, keel_error **err);

/*
 * A handle's hold on <root>/<id>: the directory (whose flock is the lock)
 * and the state file, kept open between operations, so that an operation
 * is flock + fstat + pread (+ pwrite) + unlock instead of opening both
 * again. Both fds are close-on-exec (and a spawned child closes every fd
 * but its own anyway); keel_state_hold_close() releases them.
 */
struct keel_state_hold {
	int dirfd;     /* O_PATH | O_DIRECTORY on <root>/<id>, or -1 */
	int lockfd;    /* the same directory opened for flock, while locked; else -1 */
	int fd;        /* its state file, or -1 before it is read or written */
	int writable;  /* fd is O_RDWR (else O_RDONLY: a reader without write access) */
	size_t size;   /* the state file's size, as last seen under the lock */
};
#define KEEL_STATE_HOLD_INIT { -1, -1, -1, 0, 0 }

/* Take the lock, blocking: reopens dir by path when nothing is held yet or
 * the container held was deleted since (its state file has no link left).
 * made: the caller's mkdir just made dir. -ENOENT when dir does not exist
 * or was removed while we waited. */
int keel_state_hold_lock(struct keel_state_hold *h, const char *dir, int made, keel_error **err);
/* Release the lock, keep the held fds (dirfd, fd). */
void keel_state_hold_unlock(struct keel_state_hold *h);
/* Release the lock and close the fds (a NULL-safe no-op on an empty hold). */
void keel_state_hold_close(struct keel_state_hold *h);

/* Read the state file into *st (cleared first), under the lock. -ENOENT
 * when it does not exist, -EIO when a line does not parse. dir is for
 * messages. */
int keel_state_hold_read(struct keel_state_hold *h, const char *dir, struct keel_cstate *st, keel_error **err);

/* Rewrite the state file in place, in one pwrite(), under the lock
 * (creating it at the first write). */
int keel_state_hold_write(struct keel_state_hold *h, const char *dir, const struct keel_cstate *st,
			  keel_error **err);

/* The same by path, for one-off use (each opens and closes): write
 * dir/state; read dir/state into *st. */
int keel_state_write(const char *dir, const struct keel_cstate *st, keel_error **err);
int keel_state_read(const char *dir, struct keel_cstate *st, keel_error **err);

/* The ids of root's subdirectories that hold a state file, sorted. */
int keel_state_list(const char *root, char ***ids, size_t *n, keel_error **err);

#endif
