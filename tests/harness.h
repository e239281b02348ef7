/*
 * The test harness shared by every Check suite.
 *
 * - Unique names: kt_name("br") gives "kbr1234a7" style names, short enough
 *   for an interface name (IFNAMSIZ), unique per process and test, so two
 *   runs of the suite cannot collide.
 * - Cleanup: every kernel object a test makes is registered as it is made
 *   (kt_defer_*), and undone in reverse order by the checked teardown or,
 *   when a ck_assert fails and Check exits the test's process, by atexit.
 * - kt_as_nobody(): run a function as uid/gid 65534 in a forked process,
 *   for the rootless paths.
 */
#ifndef KEEL_TEST_HARNESS_H
#define KEEL_TEST_HARNESS_H

#include <check.h>
#include <keel.h>
#include <sys/types.h>

/* A unique name "k<prefix><pid><n>" of at most 15 characters; the string
 * lives until the test ends. prefix should be 1-4 characters. */
const char *kt_name(const char *prefix);

/* A fresh directory under $TMPDIR (or /tmp), removed (rm -rf, not crossing
 * mounts) at cleanup. */
const char *kt_tmpdir(void);

/* The busybox root filesystem the build made (tests/rootfs). */
const char *kt_rootfs(void);

/* Register undo actions; they run last-registered first. Paths are copied. */
void kt_defer_rm_rf(const char *path);          /* rm -rf path */
void kt_defer_umount(const char *path);         /* umount2(path, MNT_DETACH) */
void kt_defer_rmdir_cgroup(const char *path);   /* cgroup.kill, then rmdir depth first */
void kt_defer_kill(pid_t pid);                  /* SIGKILL and reap a process we started */
void kt_defer_close(int fd);                    /* close an fd */
void kt_defer_link_del(const char *ifname);     /* delete a link in the current netns */
void kt_defer_fn(void (*fn)(void *), void *data);

/* A container by id under the state root root: at cleanup it is loaded and
 * deleted with KEEL_DELETE_FORCE (gone already is fine), and then, with
 * default_cgroup, its cgroup at <cgroup2>/keel/<id> is killed and removed,
 * for a create that died before it recorded one. Call it before create, so
 * that a failing assertion anywhere after still cleans up. */
void kt_defer_container(const char *id, const char *root, int default_cgroup);

/* Wait (up to 2 s) until the running container c's init has made /ready
 * in its root (its signal trap is set by then), send it its stop signal
 * through a second handle loaded from the state, as another process would
 * (keel-kill --stop), and wait for it to end: *code and *sig as
 * keel_container_wait() gives them. */
void kt_stop_when_ready(keel_container *c, int *code, int *sig);

/* Run every registered undo action now (idempotent). */
void kt_cleanup(void);

/* Checked fixture functions; kt_tcase() installs them. */
void kt_setup(void);
void kt_teardown(void);

/* A TCase with the harness fixture and a timeout in seconds. */
TCase *kt_tcase(const char *name, double timeout);

/* Run fn(arg) in a child process as uid and gid 65534 with no supplementary
 * groups; returns the child's wait status. */
int kt_as_nobody(int (*fn)(void *), void *arg);

/*
 * Named skips. A test that needs something the host may lack (the 32-bit
 * system call entry, a kernel module, a cgroup controller, KVM, a tool) is
 * added through kt_add_test_needs() with the result of a probe that ran
 * outside the code under test: NULL when the host has it, or a short reason
 * ("no 32-bit system call entry: int $0x80 faults here"). A skipped test is
 * not added to the TCase, so Check never counts it as a pass; instead one
 * line "SKIP: <suite>/<test>: <reason>" goes to stdout (the test's log),
 * which .ci/run collects into its closing summary.
 */
void kt_add_test_needs(TCase *tc, const TTest *test, const char *missing);

/* Record a skip of a whole group of checks (a suite, a script's part) by
 * name, in the same one-line form. */
void kt_skip(const char *what, const char *missing);

/* Run a suite and return the exit status for main(). */
int kt_run(Suite *s);

/* Read a whole small file into a static-per-call malloc'd buffer that the
 * harness frees at cleanup; NULL on error. */
char *kt_read(const char *path);

/* 1 if a library whose file name starts with name is mapped in this
 * process (/proc/self/maps), 0 if not, -1 if that cannot be read. */
int kt_mapped(const char *name);

/* Everything written to a terminal until its slave side is gone (EIO),
 * up to 4 KiB, in a static buffer that the next call overwrites. */
char *kt_read_tty(int master);

#endif
