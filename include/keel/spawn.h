/**
 * @file keel/spawn.h
 * @brief Start a process in new or joined namespaces, in a cgroup,
 * optionally in a new root filesystem, and watch it through a pidfd.
 *
 * keel_spawn() is safe to call from any thread of any program: between
 * clone and execve the new process only makes system calls on memory
 * prepared before the clone. Every failure before exec, in the caller or
 * in the new process, is returned as a keel_error that names the step,
 * the object and the errno:
 * `init: chdir /srv: No such file or directory`,
 * `exec /bin/foo: Exec format error`.
 *
 * @code
 * keel_spawn_attr *attr = NULL;
 * keel_child *child = NULL;
 * int code, sig;
 *
 * if (keel_spawn_attr_new(&attr, &err) < 0)
 *         goto fail;
 * keel_spawn_attr_set_ns(attr, ns);           // borrowed
 * keel_spawn_attr_set_cgroup_fd(attr, cgfd);  // borrowed
 * if (keel_spawn(proc, attr, &child, &err) < 0)
 *         goto fail;                          // nothing is left running
 * printf("pid %d\n", (int)keel_child_pid(child));
 * keel_child_wait(child, 0, &code, &sig, &err);
 * keel_child_free(child);
 * keel_spawn_attr_free(attr);
 * @endcode
 */
#ifndef KEEL_SPAWN_H
#define KEEL_SPAWN_H

#include <sys/types.h>
#include <keel/common.h>
#include <keel/ns.h>
#include <keel/process.h>
#include <keel/mount.h>

KEEL_BEGIN_DECLS

/**
 * Where and how to start a process: namespaces, cgroup, root filesystem,
 * a hook in the parent, a start FIFO. Opaque; made by
 * keel_spawn_attr_new(), freed by keel_spawn_attr_free().
 * @since 1.0
 */
typedef struct keel_spawn_attr keel_spawn_attr;

/**
 * A started process. Opaque; made by keel_spawn(), freed by keel_child_free().
 * @since 1.0
 */
typedef struct keel_child keel_child;

/**
 * A function keel_spawn() calls in the caller's process once the new
 * process exists, its id maps are written and it is in its cgroup, and
 * before it goes on with its setup (for example to move a network link
 * into its network namespace).
 * @param pid the new process, as seen by the caller
 * @param pidfd a pidfd for it (-1 on kernels without pidfds); owned by keel_spawn()
 * @param userdata what was given to keel_spawn_attr_set_parent_hook()
 * @param[out] err the hook sets it on failure (may be NULL)
 * @return 0 to continue, or a negative errno: the process is then killed
 *         and reaped, and keel_spawn() returns the error wrapped in
 *         "parent hook: "
 * @since 1.0
 */
typedef int (*keel_spawn_hook)(pid_t pid, int pidfd, void *userdata, keel_error **err);

/**
 * Make default attributes: the caller's namespaces and cgroup, its root
 * filesystem, no hook, no start FIFO.
 * @param[out] out receives the handle; the caller frees it with keel_spawn_attr_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (@p out is NULL) or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_spawn_attr_new(keel_spawn_attr **out, keel_error **err);

/**
 * Free attributes (and the cgroup fd opened by keel_spawn_attr_join_cgroup_pid()).
 * @param attr a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_spawn_attr_free(keel_spawn_attr *attr);

/**
 * Use these namespaces.
 * @param attr a handle
 * @param ns borrowed: must stay alive until keel_spawn() returns; NULL for none
 * @since 1.0
 */
KEEL_PUBLIC void keel_spawn_attr_set_ns(keel_spawn_attr *attr, const keel_ns *ns);

/**
 * Mount this root filesystem in the new process (which needs a new mount
 * namespace) and pivot_root into it.
 * @param attr a handle
 * @param rootfs borrowed: must stay alive until keel_spawn() returns; NULL for none
 * @since 1.0
 */
KEEL_PUBLIC void keel_spawn_attr_set_rootfs(keel_spawn_attr *attr, const keel_rootfs *rootfs);

/**
 * Start the process in this cgroup: with clone3(CLONE_INTO_CGROUP), or on
 * older kernels by writing its pid to cgroup.procs before it goes on
 * from entering its namespaces to the rest of its setup.
 * @param attr a handle
 * @param dirfd an fd open on a cgroup2 directory; borrowed (must stay open
 *        until keel_spawn() returns); -1 for the caller's cgroup
 * @since 1.0
 */
KEEL_PUBLIC void keel_spawn_attr_set_cgroup_fd(keel_spawn_attr *attr, int dirfd);

/**
 * Start the process in the cgroup2 cgroup of a running process (as for an
 * exec into a container). The cgroup is opened now and the fd is owned by
 * @p attr; it replaces any keel_spawn_attr_set_cgroup_fd().
 * @param attr a handle
 * @param pid the process whose cgroup to use
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ESRCH (no such process), -ENOENT (no cgroup2 mount, or the
 *         cgroup is gone), -EINVAL, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_spawn_attr_join_cgroup_pid(keel_spawn_attr *attr, pid_t pid, keel_error **err);

/**
 * Call @p hook in the caller's process during keel_spawn(); see keel_spawn_hook.
 * @param attr a handle
 * @param hook the function, or NULL for none
 * @param userdata passed to @p hook
 * @since 1.0
 */
KEEL_PUBLIC void keel_spawn_attr_set_parent_hook(keel_spawn_attr *attr, keel_spawn_hook hook,
						 void *userdata);

/**
 * Split creation from start: the new process does all its setup, then
 * waits before execve until a byte is written to this FIFO (by anyone
 * opening it with O_WRONLY|O_NONBLOCK); keel_spawn() returns as soon as
 * the process waits. A failure of the execve that follows cannot be
 * returned by keel_spawn(): the process then exits with status 127.
 * @param attr a handle
 * @param path an existing FIFO (mkfifo(3)); copied; NULL for none
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (relative path) or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_spawn_attr_set_start_fifo(keel_spawn_attr *attr, const char *path,
					       keel_error **err);

/**
 * Set the word that starts the messages of failures inside the new
 * process before exec: "<label>: chdir /srv: No such file or directory".
 * The default is "init".
 * @param attr a handle
 * @param label for example "container init"; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_spawn_attr_set_label(keel_spawn_attr *attr, const char *label,
					  keel_error **err);

/**
 * Start a process and wait until it has exec'd its program (or, with a
 * start FIFO, until it waits on the FIFO).
 *
 * On failure nothing is left behind: the new process (and an
 * intermediate one, if any) is killed and reaped, and every fd opened
 * for it is closed. The error names the step:
 * KEEL_ERROR_EXEC for the execve itself (ENOENT, EACCES, ENOEXEC ...),
 * KEEL_ERROR_CHILD for a setup step in the new process, other codes for
 * the caller's side.
 *
 * The new process is the caller's child (SIGCHLD on exit); reap it with
 * keel_child_wait() (or waitpid()/waitid() on keel_child_pid()).
 * Signals: all signal dispositions are reset to default and the signal
 * mask is emptied in the new process. In the calling thread, all signals
 * are blocked from the clone until the new process has exec'd (as
 * posix_spawn does): when nothing is to be done in the caller during the
 * setup (no user or time namespace, no parent hook, no start FIFO) the
 * new process shares the caller's memory until its exec, instead of
 * copying it, and the calling thread sleeps meanwhile. Other threads run on.
 *
 * @param proc what to run
 * @param attr where to run it; NULL for the caller's namespaces and cgroup
 * @param[out] out receives the child; the caller frees it with keel_child_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0 or a negative errno: -EINVAL (bad input), -ENOENT/-EACCES/-ENOEXEC
 *         (exec), the errno of a failed setup step, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_spawn(const keel_process *proc, const keel_spawn_attr *attr,
			   keel_child **out, keel_error **err);

/** Flags for keel_child_wait(). Values fixed forever. @since 1.0 */
enum keel_wait_flags {
	KEEL_WAIT_NOHANG = 1 << 0 /**< return 0 at once if the process still runs */
};

/**
 * The process id, as seen by the caller.
 * @param child a child, or NULL (gives -1)
 * @return the pid
 * @since 1.0
 */
KEEL_PUBLIC pid_t keel_child_pid(const keel_child *child);

/**
 * A pidfd for the process: it becomes readable (POLLIN) when the process
 * exits, so it fits any event loop.
 * @param child a child, or NULL (gives -1)
 * @return an fd owned by @p child (closed by keel_child_free()), or -1 on
 *         kernels without pidfds
 * @since 1.0
 */
KEEL_PUBLIC int keel_child_pidfd(const keel_child *child);

/**
 * The master side of the process's pseudo-terminal (keel_process_set_tty()).
 * @param child a child, or NULL (gives -1)
 * @return an fd owned by @p child (closed by keel_child_free(); dup() it
 *         to keep it), or -1 when the process has no terminal
 * @since 1.0
 */
KEEL_PUBLIC int keel_child_tty_fd(const keel_child *child);

/**
 * The seccomp user-notification fd, when the process's seccomp filter
 * has notify rules.
 * @param child a child, or NULL (gives -1)
 * @return an fd owned by @p child (closed by keel_child_free()), or -1
 * @since 1.0
 */
KEEL_PUBLIC int keel_child_seccomp_notify_fd(const keel_child *child);

/**
 * Wait for the process to end and reap it. Once reaped, later calls
 * return 1 with the same status.
 * @param child a child
 * @param flags 0 to block, or KEEL_WAIT_NOHANG
 * @param[out] exit_code its exit status when it exited, else -1 (may be NULL)
 * @param[out] term_signal the signal that ended it, else 0 (may be NULL)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 1 when it has ended, 0 (only with KEEL_WAIT_NOHANG) when it
 *         still runs, or a negative errno: -EINVAL, -ECHILD (someone
 *         else reaped it)
 * @since 1.0
 */
KEEL_PUBLIC int keel_child_wait(keel_child *child, int flags, int *exit_code, int *term_signal,
				keel_error **err);

/**
 * Send a signal through the pidfd (so never to a process that reused the pid).
 * @param child a child
 * @param sig the signal number
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ESRCH (already reaped), -EINVAL (bad signal), -EPERM
 * @since 1.0
 */
KEEL_PUBLIC int keel_child_kill(keel_child *child, int sig, keel_error **err);

/**
 * Free the handle and close its fds. This does not kill the process; a
 * process that was not reaped stays a zombie until it is waited for
 * (waitpid() on its pid still works after this call).
 * @param child a child, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_child_free(keel_child *child);

KEEL_END_DECLS

#endif
