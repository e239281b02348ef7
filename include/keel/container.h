/**
 * @file keel/container.h
 * @brief A container the way a Docker user thinks of one: an id, a root
 * filesystem made of image layers plus its own writable layer, namespaces,
 * a cgroup, a network, an init process, a lifecycle, and state on disk that
 * any other process can pick up by id.
 *
 * @code
 * keel_container *c = NULL;
 * keel_error *err = NULL;
 * int code, sig;
 *
 * if (keel_container_new(&c, "web", NULL, &err) < 0)         // state in /run/keel/web
 *     goto fail;
 * keel_rootfs_add_layer(keel_container_rootfs(c), "/img/base", &err);   // lowest first
 * keel_rootfs_add_defaults(keel_container_rootfs(c), &err);             // /proc, /dev ...
 * keel_process_set_args(keel_container_process(c), argv, &err);         // the init
 * keel_container_set_hostname(c, "web", &err);
 * if (keel_container_run(c, &err) < 0 ||                     // create + start
 *     keel_container_wait(c, 0, &code, &sig, &err) < 0)      // 1 once it ended
 *     goto fail;
 * keel_container_delete(c, 0, &err);   // writable layer, cgroup, veth, state: gone
 * keel_container_free(c);              // memory and fds only
 * @endcode
 *
 * Another process picks the same container up by id:
 * @code
 * keel_container_load(&c, "web", NULL, &err);
 * keel_container_exec(c, proc, &child, &err);    // like `docker exec`
 * keel_container_kill(c, keel_container_stop_signal(c), 0, &err);   // SIGTERM unless set
 * keel_container_delete(c, KEEL_DELETE_FORCE, &err);
 * keel_container_free(c);
 * @endcode
 *
 * Lifecycle (as in the OCI runtime specification):
 *
 *     new ── create ──> CREATED ── start ──> RUNNING <── resume ── PAUSED
 *      (CREATING while create runs)            │ ── pause ──────────> │
 *                                               └── init ends ──> STOPPED ── delete
 *
 * - keel_container_create() makes the state directory, the cgroup, the
 *   network, and the init process, which sets up everything (namespaces,
 *   mounts, pivot_root, privileges) and then waits right before execve.
 * - keel_container_start() lets it execve; from this process or from another
 *   that loaded the container.
 * - A call in the wrong state fails with KEEL_ERROR_STATE and a message such
 *   as "container web: start: container is running (only a created container
 *   can be started)".
 *
 * State on disk: `<state_root>/<id>/` holds `state` (key=value lines),
 * `security` and `seccomp` (the init's security settings and seccomp
 * program, for execs from other processes) and, unless the caller chose
 * another place, `layer/` (the writable layer).
 * Every operation holds an exclusive flock on the `<id>` directory itself,
 * so operations on one container from several processes run one at a time;
 * the state file is rewritten in place under that lock, so a script that
 * reads it should hold the same lock:
 * `flock /run/keel/web cat /run/keel/web/state`.
 * The state root is, when the caller passes NULL, /run/keel for root and
 * $XDG_RUNTIME_DIR/keel for other users. Creating `<state_root>/<id>` is what
 * decides between two creates of the same id: one wins, the other gets
 * -EEXIST.
 *
 * The init is recognised by its pid and its start time (field 22 of
 * /proc/PID/stat), so a pid reused by an unrelated process is never
 * mistaken for the container.
 *
 * Trust (since 1.1): the state file is a record, not an authority. A
 * state root is refused (-EPERM, by create, load and list) when a
 * directory on its real path is owned by another user than the caller's
 * euid or root, or is writable by group or others without the sticky bit;
 * `<id>` must be a real directory and `state` a regular file (never
 * followed through a symlink), both owned by the caller and writable by
 * nobody else. Of what a state names, delete, kill and exec act only on
 * what the library can verify: the cgroup only if its last component is
 * the id, it lies inside the cgroup2 tree at its recorded real path, and
 * it carries the extended attribute its create set (`trusted.keel.container`
 * as root, `user.keel.container` otherwise); the init only through a pidfd
 * with the recorded start time and as a member of that cgroup; a writable
 * layer outside `<id>/` only if it holds the `.keel-container` marker its
 * create wrote; a host veth only with a name of the generated form
 * (`kv` and 8 hex digits); numbers only within their range. What fails a
 * check is left alone (a kill says the container is stopped). A container
 * made by libkeel 1.0, whose cgroup has no mark, is thus seen as stopped by
 * 1.1 and its cgroup is not removed by a 1.1 delete.
 *
 * Working directory (since 1.1): the new process resolves its cwd only
 * after closing every fd it inherited, and the start fails (EPERM, "the
 * directory is outside the root of the new process") if the cwd is not
 * under its root; a process that joins a container (keel_container_exec())
 * is not dumpable from before its first setns() until its execve.
 *
 * Exit codes: the process that created the container is the init's parent
 * and learns its exit code in keel_container_wait(), which also records it
 * in the state. Another process learns it from the state, or from the
 * kernel while the ended init is not yet reaped; otherwise it is unknown
 * (keel_container_exit_code() says so). A program that detaches (like
 * `keel-run -d`) keeps a small monitor process as the init's parent for
 * this (see examples/keel-run.c).
 *
 * A handle is not thread-safe: use one handle from one thread at a time
 * (two handles on the same container, in one process or several, are fine:
 * the directory's lock serializes them).
 *
 * A handle keeps a few close-on-exec fds between calls (an `O_PATH` fd
 * of the `<id>` directory, which is opened for the flock only during an
 * operation, its state file, an `O_PATH` fd of the cgroup, and in the
 * creating process the init's pidfd); no container process ever gets
 * them, and keel_container_free() closes them.
 */
#ifndef KEEL_CONTAINER_H
#define KEEL_CONTAINER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <keel/common.h>
#include <keel/mount.h>
#include <keel/ns.h>
#include <keel/security.h>
#include <keel/cgroup.h>
#include <keel/process.h>
#include <keel/spawn.h>

KEEL_BEGIN_DECLS

/**
 * A container. Opaque; made by keel_container_new() or
 * keel_container_load(), released by keel_container_free().
 * @since 1.0
 */
typedef struct keel_container keel_container;

/**
 * The states of a container (keel_container_state()). Values are fixed forever.
 * @since 1.0
 */
enum keel_container_state {
	KEEL_STATE_CREATING = 1, /**< keel_container_create() is running */
	KEEL_STATE_CREATED = 2,  /**< the init is set up and waits before execve */
	KEEL_STATE_RUNNING = 3,  /**< the init has exec'd and is alive */
	KEEL_STATE_PAUSED = 4,   /**< the cgroup is frozen */
	KEEL_STATE_STOPPED = 5   /**< the init has ended (or create failed half-way) */
};

/**
 * The points where a caller's hooks run, as the OCI runtime specification
 * names them. Values are fixed forever.
 *
 * Every hook runs in the calling process, never in the container's init:
 * between clone and execve the init may not allocate or take locks, so
 * the two hooks that OCI runs "in the container" run in the caller at the
 * matching moment of the setup protocol instead.
 * @since 1.0
 */
enum keel_hook {
	/** In keel_container_create(), after the init was cloned into its
	 * namespaces and cgroup and the network was wired, before it mounts
	 * its rootfs. keel_container_pid() is valid. */
	KEEL_HOOK_CREATE_RUNTIME = 1,
	/** In keel_container_create(), right after CREATE_RUNTIME (OCI runs it
	 * inside the container after its mounts; here it runs in the caller,
	 * and may enter the init's namespaces through /proc/PID/ns/). */
	KEEL_HOOK_CREATE_CONTAINER = 2,
	/** In keel_container_start(), just before the init is told to execve
	 * (OCI runs it inside the container); in keel_container_run(), right
	 * after CREATE_CONTAINER. */
	KEEL_HOOK_START_CONTAINER = 3,
	/** In keel_container_start(), once the init was told to execve (it
	 * does so at once); in keel_container_run(), once it has exec'd. A
	 * failure is returned but does not stop the container. */
	KEEL_HOOK_POSTSTART = 4,
	/** In keel_container_delete(), after the processes ended and before
	 * anything is removed. A failure is reported but delete goes on. */
	KEEL_HOOK_POSTSTOP = 5
};

/**
 * A hook: called with the container and the userdata given to
 * keel_container_set_hook(). Return 0, or a negative errno (and fill
 * @p err) to fail the step it belongs to.
 *
 * A hook runs while the operation it belongs to holds the container's
 * lock: it may read keel_container_id(), keel_container_pid() and the
 * like, and enter the init's namespaces through /proc/PID/ns, but must not
 * call an operation on the same container (state, kill, exec ...), which
 * would wait for that lock forever.
 * @since 1.0
 */
typedef int (*keel_container_hook_fn)(keel_container *c, void *userdata, keel_error **err);

/**
 * Flags of keel_container_kill(). Values are fixed forever.
 * @since 1.0
 */
enum keel_container_kill_flags {
	KEEL_KILL_ALL = 1 /**< signal every process of the container's cgroup, not
			       only the init (SIGKILL uses cgroup.kill) */
};

/**
 * Flags of keel_container_delete(). Values are fixed forever.
 * @since 1.0
 */
enum keel_container_delete_flags {
	KEEL_DELETE_FORCE = 1,     /**< kill a created, running or paused container first */
	KEEL_DELETE_KEEP_UPPER = 2 /**< keep the writable layer on disk */
};

/* ------------------------------------------------------------- handles -- */

/**
 * Make a new container description. Nothing is created on disk or in the
 * kernel until keel_container_create().
 * @param[out] out receives the handle; the caller frees it with keel_container_free()
 * @param id the container's name: 1 to 64 characters from [A-Za-z0-9_.-],
 *        the first one a letter or digit
 * @param state_root the directory holding the state of containers, or NULL
 *        for the default (/run/keel as root, $XDG_RUNTIME_DIR/keel
 *        otherwise); absolute
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad id, relative state root, NULL @p out; or, without
 *         root, no $XDG_RUNTIME_DIR for the default); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_new(keel_container **out, const char *id, const char *state_root,
				   keel_error **err);

/**
 * Load a container from its persisted state, in any process.
 * The handle can start, wait for, exec into, kill, pause, resume and delete
 * the container; its configuration handles (keel_container_rootfs() ...)
 * are empty and configuring it has no effect.
 * @param[out] out receives the handle; the caller frees it with keel_container_free()
 * @param id the container's id
 * @param state_root as for keel_container_new()
 * @param[out] err receives an error on failure (may be NULL)
 *
 * Since 1.1 a container directory whose state file is missing, empty or
 * does not parse still gives a handle: every call on it but a delete with
 * KEEL_DELETE_FORCE fails as the read does (-ENOENT or -EIO, saying that a
 * force delete removes it), and that delete removes what the id names.
 * @return 0; -EINVAL (bad id or root, @p out NULL); -ENOENT ("container web
 *         not found in /run/keel"); -EPERM (a state root, directory or state
 *         file that others can change, see above); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_load(keel_container **out, const char *id, const char *state_root,
				    keel_error **err);

/**
 * Free a handle: memory and file descriptors only. The container itself
 * (its processes, cgroup, writable layer, state) is never touched; see
 * keel_container_delete().
 * @param c a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_container_free(keel_container *c);

/**
 * The container's id.
 * @param c a handle
 * @return a string owned by @p c, valid until keel_container_free(); NULL for NULL
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_container_id(const keel_container *c);

/**
 * The state root the container lives in (`/run/keel` ...).
 * @param c a handle
 * @return a string owned by @p c, valid until keel_container_free(); NULL for NULL
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_container_state_root(const keel_container *c);

/**
 * The container's root filesystem, to configure before keel_container_create()
 * with the keel_rootfs_* calls (a plain directory, or layers, mounts ...).
 * Its upper base is set to keel_container_set_upper_dir()'s directory at
 * create unless the caller set one.
 * @param c a handle
 * @return a handle owned by @p c (never free it), valid until keel_container_free()
 * @since 1.0
 */
KEEL_PUBLIC keel_rootfs *keel_container_rootfs(keel_container *c);

/**
 * The init process (argv, env, cwd, user, stdio, tty), to configure before
 * keel_container_create() with the keel_process_* calls.
 * @param c a handle
 * @return a handle owned by @p c (never free it), valid until keel_container_free()
 * @since 1.0
 */
KEEL_PUBLIC keel_process *keel_container_process(keel_container *c);

/**
 * The privileges of the init and, by default, of every exec'd process:
 * made with keel_security_new()'s defaults (Docker's capabilities,
 * no_new_privs; no seccomp profile unless one is set). Configure it before
 * keel_container_create().
 * @param c a handle
 * @return a handle owned by @p c (never free it), valid until keel_container_free()
 * @since 1.0
 */
KEEL_PUBLIC keel_security *keel_container_security(keel_container *c);

/**
 * The container's cgroup: for stats, events, and limits beyond the
 * keel_container_set_* ones.
 * @param c a handle
 * @return a handle owned by @p c (never free it), valid until
 *         keel_container_free(); NULL before keel_container_create() (and,
 *         for a loaded container, when its cgroup is gone)
 * @since 1.0
 */
KEEL_PUBLIC keel_cgroup *keel_container_cgroup(keel_container *c);

/* -------------------------------------------------------- configuration -- */

/**
 * The namespace description of the init, for what
 * keel_container_set_namespaces() cannot say: namespaces to join instead
 * of making (keel_ns_join_fd(): a network namespace made by a CNI plugin,
 * `/proc/PID/ns/ipc` of a pod's infra container), the uid and gid maps of
 * a new user namespace (keel_ns_add_uid_map()), the clock offsets of a new
 * time namespace. A type joined here is not made, even when the flags of
 * keel_container_set_namespaces() include it; keel_container_exec() joins
 * it too. Do not call keel_ns_create() on it: create adds the flags.
 * @param c a handle
 * @return a handle owned by @p c (never free it), valid until
 *         keel_container_free(); NULL for NULL @p c. Configuring it after
 *         create has no effect.
 * @since 1.1
 */
KEEL_PUBLIC keel_ns *keel_container_ns(keel_container *c);

/**
 * The container's cgroup, as a path below the cgroup parent
 * (keel_container_set_cgroup_parent(), or keel_cgroup_default_parent()),
 * instead of the default `keel/<id>` (or `<id>` under a parent the caller
 * chose): what an OCI config.json's cgroupsPath names. Missing
 * intermediate directories are made (and not removed at delete); the
 * cgroup itself must not exist yet.
 * @param c a handle
 * @param path a relative path such as "libpod_parent/libpod-web", without
 *        "..", or NULL for the default
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (absolute or empty path, "..", after create); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_cgroup_path(keel_container *c, const char *path, keel_error **err);

/**
 * Write an interface file of the container's cgroup when it is made at
 * create, before the init is cloned into it (keel_cgroup_set_raw(): the
 * controller the file belongs to is enabled first): "memory.high",
 * "cpu.weight", "io.max" ... Written in the order given, after the limits
 * of keel_container_set_memory_max() and the like; setting a key again
 * replaces its value. A value the kernel refuses fails the create.
 * @param c a handle
 * @param key the file name, no '/'
 * @param value what to write, such as "8:0 rbps=1048576"
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad key, NULL value, after create); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_cgroup_value(keel_container *c, const char *key, const char *value,
						keel_error **err);

/**
 * Whether create makes a cgroup for the container
 * (keel_container_set_cgroup_mode()). Values are fixed forever.
 * @since 1.1
 */
enum keel_container_cgroup_mode {
	/** The default: create makes `keel/<id>` under the cgroup parent
	 * (or the path of keel_container_set_cgroup_path()), with the limits
	 * set, and clones the init into it. */
	KEEL_CONTAINER_CGROUP_OWN = 0,
	/** No cgroup: the init stays in its creator's cgroup, as a rootless
	 * `podman run` where no cgroup is delegated to the user. There are
	 * then no limits (setting one fails the create), no device filter
	 * (keel_container_set_device_filter(KEEL_DEVICES_UNFILTERED) is
	 * needed), no pause, and KEEL_KILL_ALL signals the init only (which,
	 * as pid 1 of its own pid namespace, takes the others with it on
	 * SIGKILL). A process that loads the container knows the init by its
	 * pid and recorded start time (and, with KEEL_NS_PID, by its pid
	 * namespace not being the loader's), since no cgroup vouches for it. */
	KEEL_CONTAINER_CGROUP_NONE = 1
};

/**
 * Choose whether create makes a cgroup for the container; see
 * keel_container_cgroup_mode. The mode is recorded in the state, so that
 * keel_container_load() knows the container has none.
 * @param c a handle
 * @param mode KEEL_CONTAINER_CGROUP_OWN or KEEL_CONTAINER_CGROUP_NONE
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (unknown mode, NULL @p c, after create)
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_cgroup_mode(keel_container *c, int mode, keel_error **err);

/**
 * Which namespaces the container gets. The default is
 * KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_UTS | KEEL_NS_IPC | KEEL_NS_NET |
 * KEEL_NS_CGROUP; add KEEL_NS_USER for a rootless container.
 * @param c a handle
 * @param flags keel_ns_type values (keel/ns.h) combined with `|`
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (unknown bits; KEEL_NS_MOUNT missing, which the
 *         rootfs needs; after create)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_namespaces(keel_container *c, unsigned flags, keel_error **err);

/**
 * The container's hostname (needs KEEL_NS_UTS); forwarded to its keel_security.
 * @param c a handle
 * @param name 1 to 64 characters
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad name, after create); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_hostname(keel_container *c, const char *name, keel_error **err);

/**
 * The signal that asks the container to stop, as Docker's `--stop-signal`
 * and an image's `config.StopSignal`: recorded in the state at create, so
 * that any process that loads the container can send the same one
 * (examples/keel-kill.c does, when it is given no signal). keel_image_apply() sets
 * the image's StopSignal unless this was called before it; a call after
 * it replaces the image's.
 * The library itself never sends it: keel_container_kill() sends what
 * it is given, and a KEEL_DELETE_FORCE delete SIGKILL.
 * @param c a handle
 * @param sig a signal number, from 1 to 64 (SIGRTMAX); SIGTERM unless set
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a number out of range ("container web: set stop
 *         signal: bad signal 0 (a signal number from 1 to 64)") or a NULL
 *         @p c; -EINVAL with KEEL_ERROR_STATE after create or on a loaded
 *         handle
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_stop_signal(keel_container *c, int sig, keel_error **err);

/**
 * The container's stop signal: what keel_container_set_stop_signal() or
 * keel_image_apply() set, or, for a loaded handle, what its create
 * recorded. A container whose state records none (made by libkeel 1.0)
 * has SIGTERM, as one that never set one.
 * @param c a handle
 * @return the signal number (SIGTERM by default); 0 for a NULL @p c
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_stop_signal(const keel_container *c);

/**
 * The cgroup the container's cgroup is made under.
 * @param c a handle
 * @param path an absolute directory inside the cgroup2 mount, or NULL for
 *        keel_cgroup_default_parent() (the default)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (relative path, after create); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_cgroup_parent(keel_container *c, const char *path, keel_error **err);

/**
 * memory.max of the container, applied when its cgroup is made at create.
 * On a host without the memory controller create then fails with the
 * cgroup's "controller memory is not available" error. To change the
 * limits of a container that exists, use keel_container_update().
 * @param c a handle
 * @param bytes the limit in bytes (at least 4096)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (too small, after create)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_memory_max(keel_container *c, uint64_t bytes, keel_error **err);

/**
 * pids.max of the container, applied at create (see keel_container_set_memory_max()).
 * @param c a handle
 * @param n the most processes at once (at least 1)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (0, after create)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_pids_max(keel_container *c, uint64_t n, keel_error **err);

/**
 * cpu.max of the container, applied at create (see keel_container_set_memory_max()):
 * @p quota_us of CPU time every @p period_us (50000, 100000 is half a CPU).
 * @param c a handle
 * @param quota_us the quota in microseconds (>= 1000)
 * @param period_us the period in microseconds, 1000 to 1000000
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (out of range, after create)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_cpu_max(keel_container *c, uint64_t quota_us, uint64_t period_us,
					   keel_error **err);

/**
 * Give the container an eth0 on a bridge: at create the bridge is made if
 * missing (and brought up, with @p gateway as its address when given), a
 * veth pair is made, its host end attached to the bridge, its other end
 * moved into the container as eth0 with @p addr_cidr and, with @p gateway,
 * a default route. Delete removes the host end. Needs KEEL_NS_NET. Without
 * this call the container has only lo.
 * @param c a handle
 * @param bridge the bridge's name (1 to 15 characters, no '/', ':', white
 *        space, "." or "..")
 * @param addr_cidr the container's address, "10.88.0.2/16" (IPv4 or IPv6,
 *        the prefix in range)
 * @param gateway the default gateway, "10.88.0.1" (of the address's
 *        family), or NULL for no default route
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad name or address, checked here since 1.1 rather
 *         than at create; after create); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_network(keel_container *c, const char *bridge, const char *addr_cidr,
					   const char *gateway, keel_error **err);

/**
 * Add a nameserver to the container's /etc/resolv.conf. Without any, the
 * host's nameservers are used, minus its loopback ones (127.0.0.53 and
 * such mean the container itself in its own network namespace; when only
 * those are listed, systemd-resolved's upstream list
 * /run/systemd/resolve/resolv.conf is used; when none is left, 8.8.8.8 and
 * 8.8.4.4, as Docker does). Docker's --dns.
 *
 * A container on a network (keel_container_set_network()), or one given a
 * nameserver, search domain or extra host, gets its own /etc/hosts,
 * /etc/hostname (when it has a hostname) and /etc/resolv.conf: written
 * into its state directory at create and bind-mounted read-write over the
 * image's files, as Docker does (the container may edit them; the edits
 * stay in the state directory and go with the container). The image and
 * its layers are never written: a file the image lacks is created in the
 * container's writable layer, or skipped for a plain directory or
 * read-only rootfs; a file the caller bind-mounts itself is left to that mount.
 * /etc/hosts has the localhost lines, the hostname on the container's
 * address (127.0.1.1 without one) and the extra hosts.
 * @param c the container, before create
 * @param server an IPv4 or IPv6 address, not a loopback one
 * @param err optional error
 * @return 0, -EINVAL (not an address, a loopback one, or after create), -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_add_dns(keel_container *c, const char *server, keel_error **err);

/**
 * Add a search domain to the container's /etc/resolv.conf; any given
 * replace the host's search and domain lines (Docker's --dns-search).
 * See keel_container_add_dns() for when the file is made.
 * @param c the container, before create
 * @param domain a domain, 1 to 253 characters without blank or '#'
 * @param err optional error
 * @return 0, -EINVAL, -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_add_dns_search(keel_container *c, const char *domain, keel_error **err);

/**
 * Add a line to the container's /etc/hosts (Docker's --add-host NAME:ADDR).
 * See keel_container_add_dns() for when the file is made.
 * @param c the container, before create
 * @param name a host name, 1 to 253 characters without blank or '#'
 * @param addr its IPv4 or IPv6 address
 * @param err optional error
 * @return 0, -EINVAL, -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_add_host(keel_container *c, const char *name, const char *addr, keel_error **err);

/**
 * Publish a port of the container on the host, as `docker run -p`:
 * "8080:80", "127.0.0.1:8080:80/udp", "[fd00::1]:8080:80". At create the
 * rules are made by keel_net_ports_publish() in the network namespace of
 * the bridge (keel_container_set_network_host()), owned by the container's
 * id; delete removes them, from any process (also after the creating one
 * was killed). Needs keel_container_set_network(). A port already
 * published (by any container) fails the create with -EADDRINUSE.
 * @param c the container, before create
 * @param spec [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]
 * @param err optional error
 * @return 0, -EINVAL (a spec that does not parse, or after create), -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_add_port(keel_container *c, const char *spec, keel_error **err);

/**
 * Give the container's bridge outbound access by masquerade
 * (keel_net_masquerade_add() with the subnet of the container's address),
 * at create. The rule belongs to the bridge, not to the container: it
 * stays while the bridge is used, and goes with keel_net_masquerade_del().
 * Forwarding in the host namespace is not changed (keel_net_set_forwarding()).
 * @param c the container, before create
 * @param on 1 to masquerade, 0 not to (the default)
 * @param err optional error
 * @return 0, -EINVAL (after create)
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_masquerade(keel_container *c, int on, keel_error **err);

/**
 * Where the bridge and the host end of the veth live: a network namespace
 * given by a path (`/proc/PID/ns/net`, `/run/netns/NAME`), instead of the
 * caller's own. It must still be reachable by that path when the container
 * is deleted (the path is persisted).
 * @param c a handle
 * @param netns_path an absolute path to a network namespace, or NULL for
 *        the network namespace of the calling thread (the default)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (relative path, after create); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_network_host(keel_container *c, const char *netns_path,
						keel_error **err);

/**
 * Where the writable layer goes (for a rootfs made of layers): the
 * rootfs' upper base. The default is `<state_root>/<id>/layer`.
 * @param c a handle
 * @param dir an absolute directory (created if missing; since 1.1 an
 *        existing path that is not a directory is -EINVAL). The create
 *        leaves a `.keel-container` marker in it, without which a delete
 *        in any process leaves the directory alone.
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (relative path, not a directory, after create); -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_upper_dir(keel_container *c, const char *dir, keel_error **err);

/**
 * Send the init's stdout and stderr to a log the library owns in the
 * container's state directory, `<state_root>/<id>/container.log`, so that
 * a detached container's output is never lost. A small logger process,
 * forked at create in a session of its own, reads the init's output from
 * a pipe and writes the file: it outlives the process that created the
 * container and ends when the container's last process holding the pipe
 * has ended. When the file would pass @p max_bytes it is renamed
 * `container.log.1` (replacing the older one) and a new one is begun, so
 * at most twice the cap is kept; keel_container_delete() removes both.
 * This replaces keel_process_set_stdio() of the init: its stdin becomes
 * /dev/null. Processes started with keel_container_exec() keep their own
 * stdio. Not for an init with a terminal (keel_process_set_tty()).
 * @param c a handle
 * @param max_bytes the cap of one file, at least 4096; 0 for 1 MiB
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (NULL @p c, a cap below 4096, after create)
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_log(keel_container *c, uint64_t max_bytes, keel_error **err);

/**
 * Where the log of keel_container_set_log() is, for a reader such as
 * keel-logs (also on a handle from keel_container_load()).
 * @param c a handle
 * @param rotated 0 for the current file, 1 for the rotated older one
 * @param[out] path receives the path; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (NULL @p c or @p path); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_log_path(const keel_container *c, int rotated, char **path, keel_error **err);

/**
 * Keep the writable layer when the container is deleted (it is removed by
 * default). KEEL_DELETE_KEEP_UPPER does the same for one delete.
 * @param c a handle (NULL is ignored)
 * @param on 1 to keep, 0 to remove
 * @since 1.0
 */
KEEL_PUBLIC void keel_container_set_keep_upper(keel_container *c, int on);

/**
 * Add an image layer, lowest first: keel_rootfs_add_layer() on
 * keel_container_rootfs(), also recorded in the state so that
 * keel_container_layers() (and keel-ps) can list it.
 * @param c a handle
 * @param dir an absolute path to the layer's directory
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_rootfs_add_layer(); -EINVAL after create
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_add_layer(keel_container *c, const char *dir, keel_error **err);

/**
 * Set a hook at one of the OCI points (see enum keel_hook for where each
 * runs). One hook per point; a second call replaces it; @p fn NULL removes it.
 * Hooks are not persisted: a process that loaded the container runs only
 * the hooks it set itself.
 * @param c a handle
 * @param point a keel_hook value
 * @param fn the function, or NULL
 * @param userdata passed to @p fn as is
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (unknown point)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_set_hook(keel_container *c, enum keel_hook point,
					keel_container_hook_fn fn, void *userdata, keel_error **err);

/* ------------------------------------------------------------ lifecycle -- */

/**
 * Create the container: the state directory (the arbiter between two
 * creates of the same id), the cgroup with its limits, the init process in
 * its namespaces and cgroup, the network, the rootfs and mounts; the init
 * then waits right before execve. On failure nothing is left: no state
 * directory, cgroup, veth, mount or writable layer.
 * @param c a new handle (keel_container_new())
 * @param[out] err receives an error on failure (may be NULL); failures
 *        inside the init before exec say so ("container web: container
 *        init: mount overlay on ...: No such device")
 * @return 0; -EEXIST ("container web exists in /run/keel"); -EINVAL (bad
 *         configuration, or a handle that was loaded or created already);
 *         the negative errno of any failed step
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_create(keel_container *c, keel_error **err);

/**
 * Start a created container: its init execs the command. Works from the
 * creating process and from another that loaded the container.
 * @param c a handle
 * @param[out] err receives an error on failure (may be NULL)
 * The init was set up completely at create, so what is left to fail is its
 * execve: that failure cannot be returned here (the init has no one to
 * tell but its exit status, 127, and the container becomes stopped).
 * keel_container_run() does report it, with its errno.
 * @return 0; -EINVAL with KEEL_ERROR_STATE when the container is not
 *         created ("container web: start: container is running (only a
 *         created container can be started)"); -ESRCH when the init is no
 *         longer waiting; -ENOENT when the container was deleted; the
 *         error of the START_CONTAINER hook
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_start(keel_container *c, keel_error **err);

/**
 * keel_container_create() and keel_container_start() in one step, without
 * the start FIFO, so that an execve failure comes back with its errno
 * (KEEL_ERROR_EXEC: -ENOENT, -EACCES, -ENOEXEC), and nothing is left then.
 * START_CONTAINER runs in the caller right after CREATE_CONTAINER, before
 * the init mounts its rootfs and execs; POSTSTART once it has exec'd.
 * @param c a new handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_container_create() and keel_container_start()
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_run(keel_container *c, keel_error **err);

/**
 * Wait for the init to end. In the creating process it is reaped here and
 * its exit code recorded in the state; elsewhere the call watches it with
 * a pidfd.
 * @param c a handle
 * @param flags 0 or KEEL_WAIT_NOHANG (keel/spawn.h)
 * @param[out] exit_code receives the exit status (0-255), or -1 when it
 *        ended by a signal or is not known in this process (may be NULL)
 * @param[out] term_signal receives the signal that ended it, or 0 (may be NULL)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 1 when the init has ended, 0 when it still runs (only with
 *         KEEL_WAIT_NOHANG); -EINVAL with KEEL_ERROR_STATE if the
 *         container was never started; other negative errnos
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_wait(keel_container *c, unsigned flags, int *exit_code, int *term_signal,
				    keel_error **err);

/**
 * Send a signal to the init, or with KEEL_KILL_ALL to every process of the
 * container's cgroup (SIGKILL through cgroup.kill).
 * @param c a handle
 * @param sig a signal number (1-64)
 * @param flags 0 or KEEL_KILL_ALL
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad signal or flags); -EINVAL with KEEL_ERROR_STATE
 *         when the container is stopped; other negative errnos
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_kill(keel_container *c, int sig, unsigned flags, keel_error **err);

/**
 * Freeze every process of the container (cgroup.freeze) and wait until the
 * kernel says it is frozen.
 * @param c a handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL with KEEL_ERROR_STATE unless it is running; the
 *         errno of keel_cgroup_freeze()
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_pause(keel_container *c, keel_error **err);

/**
 * Thaw a paused container.
 * @param c a handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL with KEEL_ERROR_STATE unless it is paused; the errno
 *         of keel_cgroup_thaw()
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_resume(keel_container *c, keel_error **err);

/**
 * Run a new process inside a running container, like `docker exec`: it
 * joins every namespace of the init (the pid namespace included), its
 * cgroup and its root, and gets the container's security settings unless
 * @p proc has its own; stdio or a pty as set on @p proc. Through a loaded
 * handle these are the init's (capabilities, no_new_privs, rlimits, LSM
 * labels, seccomp filter), which create keeps in the state directory; an
 * unreadable copy fails the exec with -EIO rather than run it with less
 * confinement than the init.
 * @param c a handle (created here or loaded)
 * @param proc what to run (borrowed; only used during the call)
 * @param[out] out receives the process; the caller waits for it and frees
 *        it with the keel_child_* calls (keel/spawn.h)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL with KEEL_ERROR_STATE unless it is running; the
 *         errno of the spawn (-ENOENT for a missing command ...)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_exec(keel_container *c, const keel_process *proc, keel_child **out,
				    keel_error **err);

/**
 * The container's state, checked against the kernel rather than taken from
 * the state file: the init is alive with the start time recorded (a reused
 * pid is not it), and the cgroup's cgroup.events says whether it is frozen.
 * A change found here (the init ended) is written back to the state file.
 * @param c a handle
 * @param[out] state receives an enum keel_container_state value
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (NULL argument); -ENOENT if the container was deleted
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_state(keel_container *c, int *state, keel_error **err);

/**
 * A state's name: "creating", "created", "running", "paused", "stopped".
 * @param state an enum keel_container_state value
 * @return a static string; "unknown" for another value
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_container_state_name(int state);

/**
 * The init's pid on the host, as last known (see keel_container_state()).
 * @param c a handle
 * @return the pid, or 0 before create (or NULL @p c)
 * @since 1.0
 */
KEEL_PUBLIC pid_t keel_container_pid(const keel_container *c);

/**
 * The master side of the init's pseudo-terminal (keel_process_set_tty() on
 * keel_container_process()), in the process that created the container.
 * @param c a handle
 * @return an fd owned by @p c (closed by keel_container_free(); dup() it
 *         to keep it), or -1 when the init has no terminal, or the
 *         container was loaded rather than created here
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_tty_fd(const keel_container *c);

/**
 * When the container was created.
 * @param c a handle
 * @return seconds since the epoch, or 0 before create (or NULL @p c)
 * @since 1.0
 */
KEEL_PUBLIC int64_t keel_container_created_at(const keel_container *c);

/**
 * When the container was started.
 * @param c a handle
 * @return seconds since the epoch, or 0 when not started (or NULL @p c)
 * @since 1.0
 */
KEEL_PUBLIC int64_t keel_container_started_at(const keel_container *c);

/**
 * How the init ended, when known (see the file comment).
 * @param c a handle
 * @param[out] exit_code receives the exit status 0-255, or -1 when it was
 *        killed by a signal (may be NULL)
 * @param[out] term_signal receives the signal, or 0 (may be NULL)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENODATA when not known (still running, never started, or
 *         reaped by a process that did not record it)
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_exit_code(keel_container *c, int *exit_code, int *term_signal,
					 keel_error **err);

/**
 * The image layers given with keel_container_add_layer(), lowest first.
 * @param c a handle
 * @param[out] layers receives a NULL-terminated array of paths (empty for a
 *        plain directory rootfs); the caller frees it with keel_container_strv_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL; -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_layers(keel_container *c, char ***layers, keel_error **err);

/**
 * The disk usage of the writable layer, what `docker ps -s` shows.
 * @param c a handle
 * @param[out] bytes receives the size in bytes (0 for a plain directory rootfs)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the writable layer is gone; the errno of a failed stat
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_upper_usage(keel_container *c, uint64_t *bytes, keel_error **err);

/**
 * Delete the container: with KEEL_DELETE_FORCE first kill every process of
 * a created, running or paused one; reap the init; run the POSTSTOP hook;
 * remove the writable layer (unless kept), the cgroup, the host end of the
 * veth, and the state directory. The mounts went away with the container's
 * mount namespace. The handle stays valid only for keel_container_free().
 * Only what passes the checks at the top of this header is removed. With
 * KEEL_DELETE_FORCE, a container whose state file is missing, empty or
 * corrupt (since 1.1) loses its marked `keel/<id>` cgroup under the
 * default parent, with every process in it, and `<state_root>/<id>`; a
 * cgroup under another parent or a writable layer elsewhere cannot be
 * found without its state and is left.
 * @param c a handle
 * @param flags KEEL_DELETE_FORCE, KEEL_DELETE_KEEP_UPPER
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EBUSY with KEEL_ERROR_STATE when it is not stopped and
 *         KEEL_DELETE_FORCE is not given ("container web: delete: container
 *         is running (stop it, or use force)"); the errno of a failed removal
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_delete(keel_container *c, unsigned flags, keel_error **err);

/**
 * List the containers of a state root (the directories with a state file).
 * @param state_root as for keel_container_new() (NULL for the default)
 * @param[out] ids receives a NULL-terminated array of ids, sorted; the
 *        caller frees it with keel_container_strv_free(); empty when the root does
 *        not exist
 * @param[out] n receives the number of ids (may be NULL)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL; -ENOMEM; the errno of reading the directory
 * @since 1.0
 */
KEEL_PUBLIC int keel_container_list(const char *state_root, char ***ids, size_t *n, keel_error **err);

/**
 * Free a NULL-terminated array of strings returned by libkeel
 * (keel_container_list(), keel_container_layers()).
 * @param strv the array, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_container_strv_free(char **strv);

/* -------------------------------------------------------------- devices -- */

/**
 * Whether a container gets a device filter (keel_container_set_device_filter()).
 * Values are fixed forever.
 * @since 1.1
 */
enum keel_device_filter {
	/** The default: the container's cgroup gets a BPF device program
	 * (keel_cgroup_set_devices()) with keel_device_rules_add_defaults()'s
	 * allow list, or the rules of keel_container_set_device_rules(), plus
	 * the devices added with keel_container_add_device() and friends. When
	 * no program can be attached (no BPF device programs in the kernel,
	 * no privilege to load one), create fails and says so. */
	KEEL_DEVICES_FILTERED = 0,
	/** No device program: the container may open any device node it can
	 * reach (within what the cgroups above it allow). Rootless callers,
	 * who cannot load BPF programs, need this; the kernel then still
	 * refuses mknod in the container's user namespace. */
	KEEL_DEVICES_UNFILTERED = 1
};

/**
 * Choose whether the container gets a device filter. Every container is
 * filtered unless this says otherwise: create never starts an unfiltered
 * container silently.
 * @param c a handle
 * @param mode KEEL_DEVICES_FILTERED or KEEL_DEVICES_UNFILTERED
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (unknown mode, after create)
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_device_filter(keel_container *c, int mode, keel_error **err);

/**
 * The rules the container's device filter starts from, instead of the
 * default list. Before create the program of @p rules is loaded (once:
 * @p rules caches it) and the rules are copied with it, so containers
 * given the same unchanged list share one program and each create only
 * attaches it (about 5 us, against about 0.3 ms for the load a container
 * on the default list pays at its create). @p rules is changed only by
 * that load: threads may share a list once it was given to one container.
 * The devices added with keel_container_add_device() and
 * keel_container_add_device_rule() are allowed on top of them.
 *
 * After create (from the creating process or one that loaded the
 * container) the call changes the filter of the running container at
 * once: @p rules becomes its whole filter (the added devices are allowed
 * only if @p rules allows them), attached before the old one is detached,
 * and recorded in its state: this is keel_container_update() with
 * keel_resources_set_device_rules(), so the container must be created,
 * running or paused.
 * @param c a handle
 * @param rules the rules (borrowed: only used during the call)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for NULL; the errno of the load before create
 *         (-EPERM without CAP_BPF or CAP_SYS_ADMIN); after create the
 *         errors of keel_container_update() (-ENOENT when the container's
 *         cgroup is gone, KEEL_ERROR_STATE when it has exited)
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_set_device_rules(keel_container *c, keel_device_rules *rules,
						keel_error **err);

/**
 * Give the container a device of the host, like `docker run --device`:
 * the node at @p host_path is looked up now (stat), and at create a node
 * with its type, numbers, mode and owner is made at @p container_path
 * (with mknod; in a user namespace, where mknod is refused, the host's node
 * is bound on an empty file instead, as runc does), and the device is
 * allowed in the filter with @p access.
 * @param c a handle
 * @param host_path the host's device node, such as "/dev/fuse" (a symlink
 *        is followed)
 * @param container_path where it appears in the container (absolute), or
 *        NULL for @p host_path
 * @param access the filter access, letters from "rwm", or NULL for "rwm"
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when @p host_path does not exist; -EINVAL when it is
 *         not a character or block device, for a bad path or access, or
 *         after create; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_add_device(keel_container *c, const char *host_path,
					  const char *container_path, const char *access,
					  keel_error **err);

/**
 * Allow more devices in the container's filter, like
 * `docker run --device-cgroup-rule`: a rule in keel_device_rules_add_string()'s
 * syntax ("c 10:200 rwm", "b 7:* rw"), after the defaults and the added devices.
 * No node is made: the container may mknod one (the default rules allow mknod).
 * @param c a handle
 * @param rule the rule
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a malformed rule (the message says what is
 *         expected) or after create; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_add_device_rule(keel_container *c, const char *rule, keel_error **err);

/* ------------------------------------------------------------ resources -- */

/**
 * A set of resource changes for a created, running or paused container
 * (keel_container_update()), like `docker update`. Opaque; made by
 * keel_resources_new(), released by keel_resources_free(). Only what was
 * set is changed; everything else stays as it is. Each setter checks its
 * value at once (the message names the cgroup file and the value); setting
 * the same file (and, for io.max and io.weight, the same device and limit)
 * again replaces the earlier value. Not thread-safe.
 *
 * Limits in bytes or counts take KEEL_CGROUP_MAX for "no limit" (the
 * kernel's "max"); any other value above INT64_MAX (a negative number
 * cast to uint64_t) is refused.
 *
 * @code
 * keel_resources *r = NULL;
 * keel_resources_new(&r, &err);
 * keel_resources_set_memory_max(r, 256 << 20, &err);
 * keel_resources_set_cpu_max(r, 50000, 100000, &err);      // half a CPU
 * keel_resources_set_pids_max(r, 200, &err);
 * keel_container_update(c, r, &err);    // written, and recorded in the state
 * keel_resources_free(r);
 * @endcode
 * @since 1.1
 */
typedef struct keel_resources keel_resources;

/**
 * Make an empty set of changes.
 * @param[out] out receives the set; the caller frees it with keel_resources_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL if @p out is NULL; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_new(keel_resources **out, keel_error **err);

/**
 * Free a set of changes (and its copy of device rules).
 * @param r a set, or NULL (ignored)
 * @since 1.1
 */
KEEL_PUBLIC void keel_resources_free(keel_resources *r);

/**
 * memory.max: the hard limit; above it the kernel reclaims, then OOM-kills.
 * @param r a set
 * @param bytes at least 4096, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (out of range, NULL); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_memory_max(keel_resources *r, uint64_t bytes, keel_error **err);

/**
 * memory.high: the throttling threshold (see keel_cgroup_set_memory_high()).
 * @param r a set
 * @param bytes at least 4096, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_resources_set_memory_max()
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_memory_high(keel_resources *r, uint64_t bytes, keel_error **err);

/**
 * memory.swap.max: the swap the container may use, on top of its memory
 * (cgroup v2 counts swap alone, unlike Docker's --memory-swap, which is
 * memory plus swap).
 * @param r a set
 * @param bytes 0 (no swap) or more, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_resources_set_memory_max()
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_memory_swap_max(keel_resources *r, uint64_t bytes, keel_error **err);

/**
 * cpu.weight: the container's share of CPU time under contention.
 * @param r a set
 * @param weight 1 to 10000 (the kernel's default is 100)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL out of range; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_cpu_weight(keel_resources *r, uint64_t weight, keel_error **err);

/**
 * cpu.max: @p quota_us of CPU time every @p period_us (50000 of 100000
 * is half a CPU).
 * @param r a set
 * @param quota_us at least 1000, or KEEL_CGROUP_MAX for no quota
 * @param period_us 1000 to 1000000
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL out of range; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_cpu_max(keel_resources *r, uint64_t quota_us, uint64_t period_us,
					   keel_error **err);

/**
 * pids.max: the most processes (and threads) at once.
 * @param r a set
 * @param max at least 1, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL out of range; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_pids_max(keel_resources *r, uint64_t max, keel_error **err);

/**
 * io.weight of one block device, or the default weight with major and
 * minor 0 (see keel_cgroup_set_io_weight() for what a device needs).
 * @param r a set
 * @param major the device's major number (0 with @p minor 0: the default)
 * @param minor its minor number
 * @param weight 1 to 10000
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL out of range; -ENODEV when this host has no block
 *         device @p major:@p minor (/sys/dev/block); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_io_weight(keel_resources *r, unsigned major, unsigned minor,
					     uint64_t weight, keel_error **err);

/**
 * One io.max limit of one block device; its other limits stay.
 * @param r a set
 * @param major the device's major number
 * @param minor its minor number
 * @param which the limit (KEEL_CGROUP_IO_RBPS ...)
 * @param value at least 1, or KEEL_CGROUP_MAX to lift it
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (unknown @p which, 0, out of range); -ENODEV when
 *         there is no such block device; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_io_max(keel_resources *r, unsigned major, unsigned minor,
					  keel_cgroup_io_limit which, uint64_t value, keel_error **err);

/**
 * cpuset.cpus: the CPUs the container may run on.
 * @param r a set
 * @param cpus a list such as "0-2,4" (copied)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL when it is empty or not such a list; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_cpuset_cpus(keel_resources *r, const char *cpus, keel_error **err);

/**
 * cpuset.mems: the memory nodes the container may allocate from.
 * @param r a set
 * @param mems a list such as "0" or "0-1" (copied)
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_resources_set_cpuset_cpus()
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_cpuset_mems(keel_resources *r, const char *mems, keel_error **err);

/**
 * Any other file of a resource controller ("memory.low", "cpu.idle",
 * "hugetlb.2MB.max", "io.max" in the kernel's own syntax ...), for what
 * has no typed setter. The value is written as given; the kernel checks
 * it at update.
 * @param r a set
 * @param file "<controller>.<name>" of a controller among cpu, cpuset,
 *        io, memory, pids, hugetlb, rdma, misc, or one of the core limits
 *        cgroup.max.depth and cgroup.max.descendants (never another
 *        cgroup.* file: cgroup.procs, cgroup.kill ... are no resources)
 * @param value what to write: not empty, no newline (copied)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for another file name or a bad value; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_value(keel_resources *r, const char *file, const char *value,
					 keel_error **err);

/**
 * Replace the container's whole device filter with @p rules (as
 * keel_container_set_device_rules() after create): the new program is
 * attached before the old one is detached, so the container is never
 * without a filter. The rules are copied (with their loaded program).
 * @param r a set
 * @param rules the new filter (borrowed: only used during the call)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for NULL; -ENOMEM; -EMFILE
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_set_device_rules(keel_resources *r, const keel_device_rules *rules,
						keel_error **err);

/**
 * Read the @p i th cgroup file of a set, in the order they are written:
 * for a set made by keel_container_resources(), what the container's
 * updates recorded.
 * @param r a set
 * @param i 0, 1, ...
 * @param[out] file receives the file name ("memory.max"); borrowed from
 *        @p r, valid until @p r changes or is freed
 * @param[out] value receives what is (or was) written to it ("268435456",
 *        "max 100000", "8:0 rbps=1048576"); borrowed likewise
 * @return 0; -ENOENT when @p i is past the last one; -EINVAL for NULL
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_get(const keel_resources *r, size_t i, const char **file, const char **value);

/**
 * The device filter of a set.
 * @param r a set
 * @param[out] rules receives a copy of the rules; the caller frees it with
 *        keel_device_rules_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the set replaces no device filter; -EINVAL; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_resources_get_device_rules(const keel_resources *r, keel_device_rules **rules,
						keel_error **err);

/**
 * Change the resources of a created, running or paused container, from
 * the process that created it or any that loaded it, and record the
 * change in its state, so that a later keel_container_load() (keel-ps,
 * another process, a restart of the caller) finds it through
 * keel_container_resources().
 *
 * As atomic as the kernel allows: first everything is checked (the
 * container's state, that every file exists in its cgroup, enabling a
 * controller that is available but not yet enabled for it, and the
 * device program loaded), and the current value of each file is read;
 * only then are the files written, in the order they were set, and the
 * device filter replaced last. When a write is refused, the files already
 * written are put back as they were (in reverse order), and the error
 * names the file and the value refused. Only what stayed applied (a put
 * back that failed too, said in the message) is recorded.
 * @param c a container handle (created here or loaded)
 * @param r the changes (borrowed: only used during the call)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for NULL; KEEL_ERROR_STATE (errno EINVAL) for a
 *         container that is not created, running or paused (one that has
 *         exited: nothing is changed); -ENOENT when its cgroup is gone or
 *         a controller is not available (KEEL_ERROR_UNSUPPORTED; nothing is
 *         changed); the errno of a refused write (then nothing, or only
 *         what could not be put back, is changed); the errors of
 *         keel_cgroup_set_devices()
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_update(keel_container *c, const keel_resources *r, keel_error **err);

/**
 * What the container's updates recorded in its state, merged (a later
 * update of a file replaces an earlier one's value). Limits given before
 * create (keel_container_set_memory_max() ...) are not in it.
 * @param c a container handle (created here or loaded)
 * @param[out] out receives a set (empty when nothing was updated); the
 *        caller frees it with keel_resources_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for NULL or before create; the errors of
 *         keel_container_state(); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_container_resources(keel_container *c, keel_resources **out, keel_error **err);

KEEL_END_DECLS

#endif
