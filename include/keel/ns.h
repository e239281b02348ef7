/**
 * @file keel/ns.h
 * @brief Namespaces: which to create for a new process, which to join
 * instead, the uid/gid maps of a new user namespace, and the clock
 * offsets of a new time namespace.
 *
 * A keel_ns is a description; nothing happens to the kernel until it is
 * given to keel_spawn() through keel_spawn_attr_set_ns().
 *
 * @code
 * keel_ns *ns = NULL;
 * keel_error *err = NULL;
 *
 * if (keel_ns_new(&ns, &err) < 0 ||
 *     keel_ns_create(ns, KEEL_NS_USER | KEEL_NS_MOUNT | KEEL_NS_PID |
 *                        KEEL_NS_NET | KEEL_NS_UTS | KEEL_NS_IPC, &err) < 0 ||
 *     keel_ns_add_uid_map(ns, 0, 100000, 65536, &err) < 0 ||
 *     keel_ns_add_gid_map(ns, 0, 100000, 65536, &err) < 0)
 *         goto fail;
 * // ... keel_spawn_attr_set_ns(attr, ns); keel_spawn(...);
 * keel_ns_free(ns);   // after keel_spawn() returned
 * @endcode
 *
 * "exec into a running container" is keel_ns_join_pid() with the flags
 * of the namespaces to share; KEEL_NS_PID included places the new process
 * inside the target's pid namespace.
 */
#ifndef KEEL_NS_H
#define KEEL_NS_H

#include <sys/types.h>
#include <keel/common.h>

KEEL_BEGIN_DECLS

/**
 * A namespace type, as a flag; types combine with `|`.
 * Values are fixed forever (they are not the kernel's CLONE_NEW* values).
 * @since 1.0
 */
typedef enum keel_ns_type {
	KEEL_NS_MOUNT = 1 << 0,  /**< mount table (CLONE_NEWNS) */
	KEEL_NS_PID = 1 << 1,    /**< process ids: the new process is pid 1 */
	KEEL_NS_NET = 1 << 2,    /**< network: only a down loopback at first */
	KEEL_NS_IPC = 1 << 3,    /**< System V IPC and POSIX message queues */
	KEEL_NS_UTS = 1 << 4,    /**< hostname and domain name */
	KEEL_NS_USER = 1 << 5,   /**< user and group ids, capabilities */
	KEEL_NS_CGROUP = 1 << 6, /**< the view of the cgroup tree */
	KEEL_NS_TIME = 1 << 7    /**< CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets */
} keel_ns_type;

/** Every namespace type. @since 1.0 */
#define KEEL_NS_ALL 0xff

/**
 * Which namespaces a new process gets. Opaque; made by keel_ns_new(),
 * freed by keel_ns_free().
 * @since 1.0
 */
typedef struct keel_ns keel_ns;

/**
 * Make an empty description: the process shares every namespace of its caller.
 * @param[out] out receives the new handle; the caller frees it with keel_ns_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (@p out is NULL) or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_new(keel_ns **out, keel_error **err);

/**
 * Free a description and close the namespace fds it holds.
 * @param ns a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_ns_free(keel_ns *ns);

/**
 * Ask for new namespaces of the given types (added to any asked before).
 *
 * A new user namespace gets the maps added with keel_ns_add_uid_map() and
 * keel_ns_add_gid_map(); when none were added, the caller's effective uid
 * and gid are mapped to 0 inside (one id each; "deny" is written to
 * /proc/PID/setgroups first when the caller is not root, as the kernel
 * requires). A new time namespace gets the offsets of
 * keel_ns_set_time_offset(), or none.
 *
 * @param ns a handle
 * @param flags keel_ns_type values combined with `|`
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL (NULL @p ns, unknown bits in @p flags)
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_create(keel_ns *ns, unsigned flags, keel_error **err);

/**
 * Join an existing namespace, given as an fd open on /proc/PID/ns/TYPE
 * (or a bind mount of one), instead of sharing the caller's.
 * @param ns a handle
 * @param type exactly one keel_ns_type value
 * @param fd a namespace fd; it is duplicated, the caller keeps ownership of @p fd
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (not one known type, or @p fd is a namespace of
 *         another type), -EBADF (@p fd is not open), or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_join_fd(keel_ns *ns, keel_ns_type type, int fd, keel_error **err);

/**
 * Join the namespaces of a running process, chosen by @p flags.
 *
 * The namespace fds are opened now, so the process may exit before
 * keel_spawn() without changing what is joined. A user namespace that is
 * the caller's own is skipped (the kernel refuses to join it again).
 * With KEEL_NS_PID the spawned process is created inside the target's
 * pid namespace (through a short-lived intermediate process); the caller
 * stays its parent and waits for it as usual.
 *
 * @param ns a handle
 * @param flags keel_ns_type values combined with `|`
 * @param pid the process whose namespaces to join
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad flags or pid), -ESRCH (no such process),
 *         -EACCES/-EPERM (not allowed to open its namespaces), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_join_pid(keel_ns *ns, unsigned flags, pid_t pid, keel_error **err);

/**
 * Like keel_ns_join_pid(), for a process given by a pidfd, which cannot
 * be confused with a later process that reuses the pid.
 * @param ns a handle
 * @param flags keel_ns_type values combined with `|`
 * @param pidfd a pidfd (pidfd_open(2), CLONE_PIDFD, keel_child_pidfd());
 *        borrowed, only used during the call
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (bad flags, @p pidfd is not a pidfd), -ESRCH (the
 *         process has exited), -EACCES/-EPERM, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_join_pidfd(keel_ns *ns, unsigned flags, int pidfd, keel_error **err);

/**
 * Add a range to the uid map of the new user namespace: ids
 * [@p inside, @p inside + @p count) inside are
 * [@p outside, @p outside + @p count) outside.
 *
 * As root the maps are written directly. Without privilege, a single id
 * range that maps only the caller's own uid is written directly; any
 * other map is written by newuidmap(1) (package uidmap), which checks it
 * against /etc/subuid.
 *
 * @param ns a handle
 * @param inside first id inside the namespace
 * @param outside first id outside (in the caller's user namespace)
 * @param count number of ids, at least 1
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (count 0, ranges overflow, a range that overlaps an
 *         earlier one inside or outside (checked here since 1.1, the kernel
 *         refused it at spawn), or more than 340 ranges),
 *         -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_add_uid_map(keel_ns *ns, unsigned inside, unsigned outside,
				    unsigned count, keel_error **err);

/**
 * Add a range to the gid map of the new user namespace; see
 * keel_ns_add_uid_map() (newgidmap(1) and /etc/subgid when unprivileged).
 * @param ns a handle
 * @param inside first id inside the namespace
 * @param outside first id outside
 * @param count number of ids, at least 1
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_add_gid_map(keel_ns *ns, unsigned inside, unsigned outside,
				    unsigned count, keel_error **err);

/**
 * Set the offset of a clock in the new time namespace (KEEL_NS_TIME must
 * also be created, or keel_spawn() fails with -EINVAL). The process sees
 * the host's clock plus the offset.
 * @param ns a handle
 * @param clockid CLOCK_MONOTONIC or CLOCK_BOOTTIME
 * @param sec seconds to add (may be negative, within what the kernel allows)
 * @param nsec nanoseconds to add, 0 to 999999999
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL (another clock, @p nsec out of range)
 * @since 1.0
 */
KEEL_PUBLIC int keel_ns_set_time_offset(keel_ns *ns, int clockid, long long sec, long nsec,
					keel_error **err);

/**
 * The name of a namespace type as in /proc/PID/ns ("mnt", "pid", "net",
 * "ipc", "uts", "user", "cgroup", "time").
 * @param type exactly one keel_ns_type value
 * @return a static string, or NULL for anything else
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_ns_type_name(keel_ns_type type);

KEEL_END_DECLS

#endif
