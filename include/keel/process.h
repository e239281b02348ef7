/**
 * @file keel/process.h
 * @brief What to run: program and arguments, environment, working
 * directory, user and groups, umask, stdio or a pseudo-terminal, and the
 * security settings.
 *
 * A keel_process is a description that keel_spawn() turns into a running
 * process; one description may be spawned many times.
 *
 * @code
 * static const char *const argv[] = { "nginx", "-g", "daemon off;", NULL };
 * keel_process *p = NULL;
 *
 * if (keel_process_new(&p, &err) < 0 ||
 *     keel_process_set_args(p, argv, &err) < 0 ||   // PATH is searched
 *     keel_process_clearenv(p, &err) < 0 ||
 *     keel_process_setenv(p, "PATH", "/usr/sbin:/usr/bin:/sbin:/bin", &err) < 0 ||
 *     keel_process_set_cwd(p, "/srv", &err) < 0 ||
 *     keel_process_set_user(p, 101, 101, &err) < 0 ||
 *     keel_process_set_stdio(p, -1, log_fd, log_fd, &err) < 0)
 *         goto fail;
 * // ... keel_spawn(p, attr, &child, &err);
 * keel_process_free(p);
 * @endcode
 */
#ifndef KEEL_PROCESS_H
#define KEEL_PROCESS_H

#include <sys/types.h>
#include <keel/common.h>
#include <keel/security.h>

KEEL_BEGIN_DECLS

/**
 * What to run. Opaque; made by keel_process_new(), freed by keel_process_free().
 * @since 1.0
 */
typedef struct keel_process keel_process;

/**
 * Make an empty description. Until changed it inherits the caller's
 * environment, working directory, ids, umask and stdio.
 * @param[out] out receives the new handle; the caller frees it with keel_process_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (@p out is NULL) or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_new(keel_process **out, keel_error **err);

/**
 * Free a description.
 * @param p a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_process_free(keel_process *p);

/**
 * Set the program and its arguments. argv[0] is the program: a path when
 * it contains a '/', else a name searched in the PATH of the process's
 * environment (or /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 * when it has none), inside the process's root filesystem.
 * @param p a handle
 * @param argv a NULL-terminated array with at least argv[0]; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (NULL or empty @p argv, empty argv[0]) or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_args(keel_process *p, const char *const argv[], keel_error **err);

/**
 * Set an environment variable, replacing any earlier value (from the
 * inherited environment or an earlier call).
 * @param p a handle
 * @param name variable name: not empty, no '='; copied
 * @param value its value; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_setenv(keel_process *p, const char *name, const char *value,
				    keel_error **err);

/**
 * Remove an environment variable (set earlier or inherited).
 * @param p a handle
 * @param name variable name: not empty, no '='; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_unsetenv(keel_process *p, const char *name, keel_error **err);

/**
 * Start from an empty environment instead of the caller's, and forget
 * the variables set so far.
 * @param p a handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL (NULL @p p)
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_clearenv(keel_process *p, keel_error **err);

/**
 * Set the working directory, resolved inside the process's root
 * filesystem after it is mounted.
 * @param p a handle
 * @param cwd an absolute path; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (not absolute) or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_cwd(keel_process *p, const char *cwd, keel_error **err);

/**
 * Run as this uid and gid (as seen inside the process's user namespace).
 * Unless keel_process_set_groups() is called, the supplementary groups
 * are cleared (where the user namespace allows setgroups).
 * @param p a handle
 * @param uid user id
 * @param gid group id
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL ((uid_t)-1 or (gid_t)-1)
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_user(keel_process *p, uid_t uid, gid_t gid, keel_error **err);

/**
 * Set the supplementary groups.
 * @param p a handle
 * @param n number of groups (0 clears them), at most 65536
 * @param gids @p n group ids; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_groups(keel_process *p, size_t n, const gid_t *gids,
					keel_error **err);

/**
 * Set the file mode creation mask.
 * @param p a handle
 * @param mask the umask, 0 to 0777
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_umask(keel_process *p, mode_t mask, keel_error **err);

/**
 * Keep the caller's fds 3 to 3 + @p n - 1 open in the process, without
 * their close-on-exec flag, as `runc create --preserve-fds N` does for
 * socket activation (LISTEN_FDS). Every other fd above 2 is still closed.
 * The caller keeps ownership of its fds and must keep them open until
 * keel_spawn() returns.
 * @param p a handle
 * @param n how many fds after stderr to pass on, 0 (the default) to 65536
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL (NULL @p p, @p n too large)
 * @since 1.1
 */
KEEL_PUBLIC int keel_process_set_preserve_fds(keel_process *p, unsigned n, keel_error **err);

/**
 * Give the process these fds as its stdin, stdout and stderr. -1 means
 * /dev/null. The fds are duplicated into the new process at spawn time;
 * the caller keeps ownership and must keep them open until keel_spawn()
 * returns. Without this call the process inherits the caller's 0, 1, 2.
 * Every other fd of the caller is closed in the new process before exec.
 * @param p a handle
 * @param fd0 stdin, or -1
 * @param fd1 stdout, or -1
 * @param fd2 stderr, or -1
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL (an fd below -1)
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_stdio(keel_process *p, int fd0, int fd1, int fd2,
				       keel_error **err);

/**
 * Give the process a new pseudo-terminal as its controlling terminal and
 * stdin, stdout and stderr (this replaces keel_process_set_stdio()). The
 * master side is handed back by keel_child_tty_fd().
 *
 * The terminal comes from the devpts the process sees, so that it has a
 * name there (tty, ttyname(), reopening /dev/pts/N work): when the process
 * ends up in another mount namespace (a new one, as a container's, or a
 * joined one, as keel_container_exec()'s), it opens the /dev/ptmx of that
 * namespace after its mounts, before it switches user, and the terminal is
 * then owned by the user of keel_process_set_user(); a rootfs needs a
 * devpts at /dev/pts and /dev/ptmx (keel_rootfs_add_defaults() mounts
 * them), or the spawn fails with "open /dev/ptmx". Otherwise the caller's
 * /dev/ptmx is used. To set the window size, TIOCSWINSZ on the master.
 * @param p a handle
 * @param on 1 for a terminal, 0 for none
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_tty(keel_process *p, int on, keel_error **err);

/**
 * Apply these security settings (capabilities, seccomp, rlimits ...) to
 * the process. The handle is borrowed: it must stay alive until the last
 * keel_spawn() of @p p has returned.
 * @param p a handle
 * @param sec the settings, or NULL for none
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL (NULL @p p)
 * @since 1.0
 */
KEEL_PUBLIC int keel_process_set_security(keel_process *p, const keel_security *sec,
					  keel_error **err);

KEEL_END_DECLS

#endif
