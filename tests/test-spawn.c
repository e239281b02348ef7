/*
 * spawn suite: running a program and hearing back from it.
 *
 * What is checked is what the kernel says about the new process
 * (/proc/PID/status, cwd, exe, cgroup, fds, its wait status, the bytes it
 * wrote), never what the library believes it did. Every failure path
 * also checks that no process and no fd was left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "error.h"
#include "process.h"
#include "spawn-internal.h"
#include "util/vfork.h"
#include "harness.h"
#include "host-probe.h"
#include "spawn-util.h"

/* Spawn that must fail: returns the error (freed at cleanup) and checks
 * that nothing was left running and no fd was leaked. */
static keel_error *spawn_fails(keel_process *p, const keel_spawn_attr *attr, int want_ret)
{
	int before = st_count_fds(), ret;
	keel_error *err = NULL;
	keel_child *c = NULL;

	ret = keel_spawn(p, attr, &c, &err);
	ck_assert_msg(ret == want_ret, "spawn returned %d, wanted %d: %s", ret, want_ret, keel_error_message(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(keel_error_errno(err), -want_ret);
	kt_defer_fn((void (*)(void *))keel_error_free, err);
	ck_assert_msg(st_no_children(), "a process was left behind");
	ck_assert_int_eq(st_count_fds(), before);
	return err;
}

static keel_spawn_attr *new_attr(void)
{
	keel_spawn_attr *a = NULL;

	ck_assert_int_eq(keel_spawn_attr_new(&a, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_spawn_attr_free, a);
	return a;
}

START_TEST(stdout_reaches_the_caller_through_a_pipe)
{
	keel_process *p = st_process("echo", "hello", "world", NULL);

	ck_assert_str_eq(st_run(p, NULL, NULL), "hello world\n");
}
END_TEST

START_TEST(stdin_comes_from_the_callers_fd_and_dev_null)
{
	keel_process *p = st_process("/bin/cat", NULL);
	int in[2], out[2], code = -1;
	char buf[64] = "";
	keel_child *c;

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(keel_process_set_stdio(p, in[0], out[1], -1, NULL), 0);
	c = st_spawn(p, NULL);
	close(in[0]);
	close(out[1]);
	ck_assert_int_eq(write(in[1], "ping\n", 5), 5);
	close(in[1]);
	ck_assert_int_eq(read(out[0], buf, sizeof(buf) - 1), 5);
	ck_assert_str_eq(buf, "ping\n");
	close(out[0]);
	ck_assert_int_eq(keel_child_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 0);
	/* stdin -1 is /dev/null: cat ends at once with nothing */
	ck_assert_int_eq(keel_process_set_stdio(p, -1, -1, -1, NULL), 0);
	ck_assert_str_eq(st_run(p, NULL, NULL), "");
}
END_TEST

START_TEST(environment_is_set_unset_and_cleared)
{
	keel_process *p = st_process("env", NULL);
	const char *out;

	setenv("KT_INHERITED", "yes", 1);
	setenv("KT_DROPPED", "yes", 1);
	ck_assert_int_eq(keel_process_setenv(p, "KT_NEW", "a=b c", NULL), 0);
	ck_assert_int_eq(keel_process_setenv(p, "KT_INHERITED", "replaced", NULL), 0);
	ck_assert_int_eq(keel_process_unsetenv(p, "KT_DROPPED", NULL), 0);
	out = st_run(p, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(out, "KT_NEW=a=b c\n"));
	ck_assert_ptr_nonnull(strstr(out, "KT_INHERITED=replaced\n"));
	ck_assert_ptr_null(strstr(out, "KT_INHERITED=yes"));
	ck_assert_ptr_null(strstr(out, "KT_DROPPED"));
	ck_assert_ptr_nonnull(strstr(out, "PATH="));
	/* cleared: only what is set afterwards, and PATH search falls back
	 * to the default path */
	ck_assert_int_eq(keel_process_clearenv(p, NULL), 0);
	ck_assert_int_eq(keel_process_setenv(p, "ONLY", "1", NULL), 0);
	ck_assert_str_eq(st_run(p, NULL, NULL), "ONLY=1\n");
	ck_assert_int_eq(keel_process_setenv(p, "=bad", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_process_unsetenv(p, "", NULL), -EINVAL);
	unsetenv("KT_INHERITED");
	unsetenv("KT_DROPPED");
}
END_TEST

/* Thousands of variables, set, set again and unset: each ends in the
 * environment once, with its last value (and the index that makes this
 * linear agrees with the list it indexes). */
START_TEST(many_variables_keep_their_last_value)
{
	keel_process *p = NULL;
	char name[32], want[64], **env = NULL;
	size_t i, n = 0;

	ck_assert_int_eq(keel_process_new(&p, NULL), 0);
	ck_assert_int_eq(keel_process_clearenv(p, NULL), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "KT_V%zu", i);
		ck_assert_int_eq(keel_process_setenv(p, name, "first", NULL), 0);
	}
	for (i = 0; i < 20000; i += 2) {
		snprintf(name, sizeof(name), "KT_V%zu", i);
		ck_assert_int_eq(keel_process_setenv(p, name, "again", NULL), 0);
	}
	for (i = 0; i < 20000; i += 1000) {
		snprintf(name, sizeof(name), "KT_V%zu", i + 1);
		ck_assert_int_eq(keel_process_unsetenv(p, name, NULL), 0);
	}
	ck_assert_int_eq(keel_process_build_env(p, &env, NULL), 0);
	for (n = 0; env[n]; n++)
		;
	ck_assert_uint_eq(n, 20000 - 20);
	for (i = 0; env[i]; i++) {
		size_t v;

		ck_assert_int_eq(sscanf(env[i], "KT_V%zu=", &v), 1);
		snprintf(want, sizeof(want), "KT_V%zu=%s", v, v % 2 ? "first" : "again");
		ck_assert_str_eq(env[i], want);
		ck_assert_msg(v % 1000 != 1, "%s was unset", env[i]);
	}
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
	keel_process_free(p);
}
END_TEST

START_TEST(cwd_umask_user_and_groups_are_applied)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	const gid_t groups[] = { 100, 65534 };
	char link[64], cwd[4096], *status;
	ssize_t n;
	keel_child *c;

	ck_assert_int_eq(keel_process_set_cwd(p, "/tmp", NULL), 0);
	ck_assert_int_eq(keel_process_set_umask(p, 027, NULL), 0);
	ck_assert_int_eq(keel_process_set_user(p, 65534, 65533, NULL), 0);
	ck_assert_int_eq(keel_process_set_groups(p, 2, groups, NULL), 0);
	c = st_spawn(p, NULL);
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)keel_child_pid(c));
	n = readlink(link, cwd, sizeof(cwd) - 1);
	ck_assert_int_gt(n, 0);
	cwd[n] = '\0';
	ck_assert_str_eq(cwd, "/tmp");
	status = st_proc(keel_child_pid(c), "status");
	ck_assert_ptr_nonnull(strstr(status, "\nUmask: 0027\n"));
	ck_assert_ptr_nonnull(strstr(status, "\nUid: 65534 65534 65534 65534\n"));
	ck_assert_ptr_nonnull(strstr(status, "\nGid: 65533 65533 65533 65533\n"));
	ck_assert_ptr_nonnull(strstr(status, "\nGroups: 100 65534\n"));
	ck_assert_int_eq(keel_process_set_cwd(p, "relative", NULL), -EINVAL);
	ck_assert_int_eq(keel_process_set_umask(p, 01000, NULL), -EINVAL);
	ck_assert_int_eq(keel_process_set_user(p, (uid_t)-1, 0, NULL), -EINVAL);
}
END_TEST

START_TEST(user_without_groups_clears_supplementary_groups)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	const gid_t mine[] = { 4, 24 };
	keel_child *c;

	ck_assert_int_eq(setgroups(2, mine), 0);
	ck_assert_int_eq(keel_process_set_user(p, 65534, 65534, NULL), 0);
	c = st_spawn(p, NULL);
	ck_assert_int_eq(setgroups(0, NULL), 0);
	ck_assert_ptr_nonnull(strstr(st_proc(keel_child_pid(c), "status"), "\nGroups:\n"));
}
END_TEST

START_TEST(wait_reports_exit_code_and_signal_and_pidfd_polls)
{
	keel_process *p = st_process("/bin/sh", "-c", "exit 7", NULL);
	int code = -5, sig = -5;
	struct pollfd pfd;
	keel_error *err = NULL;
	keel_child *c = st_spawn(p, NULL);

	ck_assert_int_eq(keel_child_wait(c, 0, &code, &sig, NULL), 1);
	ck_assert_int_eq(code, 7);
	ck_assert_int_eq(sig, 0);
	/* reaped: the same answer again, and no more signals */
	ck_assert_int_eq(keel_child_wait(c, KEEL_WAIT_NOHANG, &code, &sig, NULL), 1);
	ck_assert_int_eq(code, 7);
	ck_assert_int_eq(keel_child_kill(c, SIGTERM, &err), -ESRCH);
	keel_error_free(err);

	p = st_process("/bin/sleep", "1000", NULL);
	c = st_spawn(p, NULL);
	ck_assert_int_ge(keel_child_pidfd(c), 0);
	pfd = (struct pollfd){ .fd = keel_child_pidfd(c), .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(keel_child_wait(c, KEEL_WAIT_NOHANG, &code, &sig, NULL), 0);
	ck_assert_int_eq(keel_child_kill(c, SIGTERM, NULL), 0);
	ck_assert_int_eq(poll(&pfd, 1, -1), 1);
	ck_assert(pfd.revents & POLLIN);
	ck_assert_int_eq(keel_child_wait(c, 0, &code, &sig, NULL), 1);
	ck_assert_int_eq(sig, SIGTERM);
	ck_assert_int_eq(code, -1);
	ck_assert(st_no_children());
}
END_TEST

START_TEST(exec_missing_program_is_enoent)
{
	keel_error *err = spawn_fails(st_process("/nonexistent/kt-prog", NULL), NULL, -ENOENT);

	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_EXEC);
	ck_assert_str_eq(keel_error_message(err), "exec /nonexistent/kt-prog: No such file or directory");
	err = spawn_fails(st_process("kt-no-such-program", NULL), NULL, -ENOENT);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_EXEC);
	ck_assert_str_eq(keel_error_message(err), "exec kt-no-such-program: No such file or directory");
}
END_TEST

static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", kt_tmpdir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

START_TEST(exec_not_executable_is_eacces)
{
	const char *path = write_file("plain", "#!/bin/sh\n", 10, 0644);
	keel_error *err = spawn_fails(st_process(path, NULL), NULL, -EACCES);
	char want[4200];

	snprintf(want, sizeof(want), "exec %s: Permission denied", path);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_EXEC);
	ck_assert_str_eq(keel_error_message(err), want);
}
END_TEST

START_TEST(exec_garbage_and_foreign_elf_are_enoexec)
{
	/* A valid ELF header for aarch64 (e_machine 183): the kernel knows
	 * the format but not the machine. */
	unsigned char elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0 };
	const char *path;
	keel_error *err;
	char want[4200];

	elf[16] = 2;            /* ET_EXEC */
	elf[18] = 183;          /* EM_AARCH64 */
	elf[20] = 1;            /* EV_CURRENT */
	elf[52] = 64;           /* e_ehsize */
	elf[54] = 56;           /* e_phentsize */
	path = write_file("garbage", "\x01\x02\x03 not a program\n", 18, 0755);
	err = spawn_fails(st_process(path, NULL), NULL, -ENOEXEC);
	snprintf(want, sizeof(want), "exec %s: Exec format error", path);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_EXEC);
	ck_assert_str_eq(keel_error_message(err), want);
	path = write_file("aarch64", elf, sizeof(elf), 0755);
	err = spawn_fails(st_process(path, NULL), NULL, -ENOEXEC);
	snprintf(want, sizeof(want), "exec %s: Exec format error", path);
	ck_assert_str_eq(keel_error_message(err), want);
}
END_TEST

START_TEST(child_step_failure_names_step_and_object)
{
	keel_process *p = st_process("/bin/true", NULL);
	keel_spawn_attr *a = new_attr();
	keel_error *err;

	ck_assert_int_eq(keel_process_set_cwd(p, "/nonexistent-kt-dir", NULL), 0);
	err = spawn_fails(p, NULL, -ENOENT);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_CHILD);
	ck_assert_str_eq(keel_error_message(err), "init: chdir /nonexistent-kt-dir: No such file or directory");
	ck_assert_int_eq(keel_spawn_attr_set_label(a, "container init", NULL), 0);
	err = spawn_fails(p, a, -ENOENT);
	ck_assert_str_eq(keel_error_message(err),
			 "container init: chdir /nonexistent-kt-dir: No such file or directory");
}
END_TEST

START_TEST(bad_input_is_refused_clearly)
{
	keel_process *p = NULL;
	keel_error *err = NULL;
	keel_child *c = NULL;
	const char *empty[] = { NULL };
	keel_spawn_attr *a = new_attr();
	char path[4200];

	ck_assert_int_eq(keel_spawn(NULL, NULL, &c, NULL), -EINVAL);
	ck_assert_int_eq(keel_process_new(&p, NULL), 0);
	ck_assert_int_eq(keel_spawn(p, NULL, &c, &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "spawn: no program to run (keel_process_set_args was not called)");
	keel_error_free(err);
	ck_assert_int_eq(keel_process_set_args(p, empty, NULL), -EINVAL);
	keel_process_free(p);

	p = st_process("/bin/true", NULL);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, 999, -1, NULL), 0);
	err = spawn_fails(p, NULL, -EBADF);
	ck_assert_str_eq(keel_error_message(err), "stdio: fd 999 for stdout: Bad file descriptor");
	ck_assert_int_eq(keel_process_set_stdio(p, -2, 1, 2, NULL), -EINVAL);

	p = st_process("/bin/true", NULL);
	snprintf(path, sizeof(path), "%s", write_file("not-a-fifo", "x", 1, 0644));
	ck_assert_int_eq(keel_spawn_attr_set_start_fifo(a, "relative", NULL), -EINVAL);
	ck_assert_int_eq(keel_spawn_attr_set_start_fifo(a, path, NULL), 0);
	err = spawn_fails(p, a, -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "not a FIFO"));

	keel_child_free(NULL);
	keel_spawn_attr_free(NULL);
	keel_process_free(NULL);
	ck_assert_int_eq(keel_child_pid(NULL), -1);
}
END_TEST

START_TEST(callers_fds_do_not_leak_into_the_program)
{
	keel_process *p = st_process("/bin/ls", "/proc/self/fd", NULL);
	int leaky = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
	char name[16];
	const char *out;

	ck_assert_int_ge(leaky, 3);
	kt_defer_close(leaky);
	out = st_run(p, NULL, NULL);
	snprintf(name, sizeof(name), "\n%d\n", leaky);
	/* 0, 1, 2, and ls's own directory fd */
	ck_assert_msg(strstr(out, name) == NULL, "fd %d leaked: %s", leaky, out);
	ck_assert_str_eq(out, "0\n1\n2\n3\n");
}
END_TEST

START_TEST(pty_master_reads_what_the_program_writes)
{
	keel_process *p = st_process("/bin/sh", "-c", "test -t 0 && test -t 1 && tty && echo on-a-tty", NULL);
	char buf[4096];
	size_t used = 0;
	ssize_t n;
	keel_child *c;
	int code = -1;

	ck_assert_int_eq(keel_process_set_tty(p, 1, NULL), 0);
	c = st_spawn(p, NULL);
	ck_assert_int_ge(keel_child_tty_fd(c), 0);
	/* read until the slave side is gone (EIO) */
	while (used < sizeof(buf) - 1 && (n = read(keel_child_tty_fd(c), buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	ck_assert_int_eq(keel_child_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(strncmp(buf, "/dev/pts/", 9) == 0, "tty printed: %s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "on-a-tty\r\n"));
}
END_TEST

/* In a mount namespace of its own, the child opens its terminal from the
 * /dev/ptmx it sees, and the master reaches us before spawn returns, even
 * while the program still waits on its start FIFO. */
START_TEST(pty_in_a_new_mount_namespace_is_opened_by_the_child)
{
	keel_process *p = st_process("/bin/sh", "-c", "tty && test -c $(tty) && test -t 2 && echo on-a-tty", NULL);
	keel_spawn_attr *a = new_attr();
	keel_ns *ns = NULL;
	char fifo[4200], *out;
	int code = -1, fd;
	keel_child *c;

	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_MOUNT, NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	snprintf(fifo, sizeof(fifo), "%s/start", kt_tmpdir());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(keel_spawn_attr_set_start_fifo(a, fifo, NULL), 0);
	ck_assert_int_eq(keel_process_set_tty(p, 1, NULL), 0);
	c = st_spawn(p, a);
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "mnt"), st_ns_inode(0, "mnt"));
	ck_assert_int_ge(keel_child_tty_fd(c), 0);
	ck_assert(isatty(keel_child_tty_fd(c)));
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
	out = kt_read_tty(keel_child_tty_fd(c));
	ck_assert_int_eq(keel_child_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_msg(code == 0, "exit %d, output: %s", code, out);
	ck_assert_msg(strncmp(out, "/dev/pts/", 9) == 0, "tty printed: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "on-a-tty\r\n"));
}
END_TEST

/* A step that fails after the child sent its terminal: the master it
 * sent is closed, and the error names the step. */
START_TEST(pty_made_by_the_child_is_not_leaked_when_a_later_step_fails)
{
	keel_process *p = st_process("/bin/true", NULL);
	keel_spawn_attr *a = new_attr();
	keel_ns *ns = NULL;
	keel_error *err;

	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_MOUNT, NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	ck_assert_int_eq(keel_process_set_tty(p, 1, NULL), 0);
	ck_assert_int_eq(keel_process_set_cwd(p, "/nonexistent-kt-dir", NULL), 0);
	err = spawn_fails(p, a, -ENOENT); /* checks the fd count too */
	ck_assert_str_eq(keel_error_message(err), "init: chdir /nonexistent-kt-dir: No such file or directory");
}
END_TEST

START_TEST(start_fifo_holds_the_program_until_written)
{
	keel_process *p = st_process("/bin/sh", "-c", "exit 3", NULL);
	keel_spawn_attr *a = new_attr();
	char fifo[4200], link[64], exe[4096], self[4096];
	int code = -1, fd;
	keel_child *c;
	ssize_t n;

	snprintf(fifo, sizeof(fifo), "%s/start", kt_tmpdir());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(keel_spawn_attr_set_start_fifo(a, fifo, NULL), 0);
	c = st_spawn(p, a);
	/* set up but not exec'd: still running the test binary's image */
	ck_assert_int_eq(keel_child_wait(c, KEEL_WAIT_NOHANG, &code, NULL, NULL), 0);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)keel_child_pid(c));
	n = readlink(link, exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n] = '\0';
	ck_assert_str_eq(exe, self);
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
	ck_assert_int_eq(keel_child_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 3);
}
END_TEST

struct hook_seen {
	pid_t pid;
	int pidfd_ok;
	char exe[4096];
	int fail;
};

static int record_hook(pid_t pid, int pidfd, void *userdata, keel_error **err)
{
	struct hook_seen *s = userdata;
	char path[64];
	ssize_t n;

	s->pid = pid;
	s->pidfd_ok = pidfd >= 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, s->exe, sizeof(s->exe) - 1);
	s->exe[n > 0 ? n : 0] = '\0';
	if (s->fail == 1)
		return -EADDRINUSE; /* a hook that leaves err alone */
	if (s->fail == 2)
		return keel_error_sys(err, EADDRINUSE, "move link %s", "kveth0");
	return 0;
}

START_TEST(parent_hook_runs_before_the_program_and_its_failure_cleans_up)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	keel_spawn_attr *a = new_attr();
	struct hook_seen seen = { 0 };
	char self[4096];
	keel_error *err;
	ssize_t n;
	keel_child *c;

	keel_spawn_attr_set_parent_hook(a, record_hook, &seen);
	c = st_spawn(p, a);
	ck_assert_int_eq(keel_child_shared_memory(c), 0); /* the hook runs while it waits */
	ck_assert_int_eq(seen.pid, keel_child_pid(c));
	ck_assert(seen.pidfd_ok);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n] = '\0';
	ck_assert_str_eq(seen.exe, self); /* it had not exec'd yet */
	ck_assert_int_eq(keel_child_kill(c, SIGKILL, NULL), 0);
	ck_assert_int_eq(keel_child_wait(c, 0, NULL, NULL, NULL), 1);

	seen.fail = 1;
	err = spawn_fails(p, a, -EADDRINUSE);
	ck_assert_str_eq(keel_error_message(err), "parent hook: Address already in use");
	seen.fail = 2;
	err = spawn_fails(p, a, -EADDRINUSE);
	ck_assert_str_eq(keel_error_message(err), "parent hook: move link kveth0: Address already in use");
}
END_TEST

static const char *make_cgroup(void)
{
	keel_features *f = NULL;
	static char path[4096];

	ck_assert_int_eq(keel_features_probe(&f, NULL), 0);
	ck_assert_ptr_nonnull(keel_features_cgroup2_path(f));
	snprintf(path, sizeof(path), "%s/%s", keel_features_cgroup2_path(f), kt_name("cg"));
	keel_features_free(f);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	kt_defer_rmdir_cgroup(path);
	return path;
}

static void check_cgroup_placement(int legacy)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	keel_spawn_attr *a = new_attr();
	const char *cg = make_cgroup();
	char want[4200];
	int fd;
	keel_child *c;

	fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	kt_defer_close(fd);
	keel_spawn_attr_set_cgroup_fd(a, fd);
	keel_spawn_attr_force_legacy_clone(a, legacy);
	c = st_spawn(p, a);
	/* clone3 puts the child in the cgroup itself, so it may share our
	 * memory; the fallback joins it by pid, which needs the handshake. */
	ck_assert_int_eq(keel_child_shared_memory(c), legacy ? 0 : KEEL_HAVE_VFORK_CLONE);
	snprintf(want, sizeof(want), "0::/%s\n", strrchr(cg, '/') + 1);
	ck_assert_ptr_nonnull(strstr(st_proc(keel_child_pid(c), "cgroup"), want));
	/* and the test process itself stayed where it was */
	ck_assert_ptr_null(strstr(kt_read("/proc/self/cgroup"), want));
}

/*
 * A cgroup namespace must be rooted at the cgroup the process was put in,
 * so that inside it /proc/self/cgroup reads "0::/", whichever way it got
 * there: clone3(CLONE_INTO_CGROUP) or the clone(2) fallback, whose parent
 * writes the pid into cgroup.procs after the clone (then the namespace
 * can only be made after that write). join_uts: a joined namespace too,
 * so the new ones are made by unshare() after the joins, not by clone.
 */
static void check_cgroup_namespace_root(int legacy, int join_uts)
{
	keel_process *p = st_process("/bin/cat", "/proc/self/cgroup", NULL);
	keel_spawn_attr *a = new_attr();
	const char *cg = make_cgroup();
	keel_ns *ns = NULL;
	char *seen;
	int fd, code = -1;

	fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	kt_defer_close(fd);
	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_CGROUP, NULL), 0);
	if (join_uts)
		ck_assert_int_eq(keel_ns_join_pid(ns, KEEL_NS_UTS, getpid(), NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	keel_spawn_attr_set_cgroup_fd(a, fd);
	keel_spawn_attr_force_legacy_clone(a, legacy);
	seen = st_run(p, a, &code);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(!strncmp(seen, "0::/\n", 5) || strstr(seen, "\n0::/\n"), "inside it sees:\n%s", seen);
}

START_TEST(cgroup_namespace_is_rooted_at_the_cgroup_with_clone3)
{
	check_cgroup_namespace_root(0, 0);
}
END_TEST

START_TEST(cgroup_namespace_is_rooted_at_the_cgroup_with_the_clone_fallback)
{
	check_cgroup_namespace_root(1, 0);
}
END_TEST

START_TEST(cgroup_namespace_after_joins_is_rooted_at_the_cgroup_with_clone3)
{
	check_cgroup_namespace_root(0, 1);
}
END_TEST

START_TEST(cgroup_namespace_after_joins_is_rooted_at_the_cgroup_with_the_clone_fallback)
{
	check_cgroup_namespace_root(1, 1);
}
END_TEST

START_TEST(cgroup_fd_places_the_process_with_clone3)
{
	check_cgroup_placement(0);
}
END_TEST

START_TEST(cgroup_fd_places_the_process_with_the_clone_fallback)
{
	check_cgroup_placement(1);
}
END_TEST

START_TEST(clone_fallback_makes_namespaces_and_a_working_handle)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	keel_spawn_attr *a = new_attr();
	keel_ns *ns = NULL;
	int sig = 0;
	keel_child *c;

	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_NET | KEEL_NS_PID, NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	keel_spawn_attr_force_legacy_clone(a, 1);
	c = st_spawn(p, a);
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "net"), st_ns_inode(0, "net"));
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "pid"), st_ns_inode(0, "pid"));
	ck_assert_int_eq(keel_child_kill(c, SIGKILL, NULL), 0);
	ck_assert_int_eq(keel_child_wait(c, 0, NULL, &sig, NULL), 1);
	ck_assert_int_eq(sig, SIGKILL);
}
END_TEST

/* Which spawns may clone a child that shares our memory (util/vfork.h),
 * and that each kind works: those with parent work between clone and
 * exec, and those the kernel refuses to a shared mm, take the fork-like
 * path. */
static keel_child *spawn_in(unsigned create, const char *fifo)
{
	keel_spawn_attr *a = new_attr();
	keel_ns *ns = NULL;

	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, create, NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	if (fifo)
		ck_assert_int_eq(keel_spawn_attr_set_start_fifo(a, fifo, NULL), 0);
	return st_spawn(st_process("/bin/sleep", "1000", NULL), a);
}

START_TEST(memory_is_shared_only_when_the_parent_has_nothing_to_do)
{
	char fifo[4200];
	keel_child *c;

	c = spawn_in(KEEL_NS_PID | KEEL_NS_NET | KEEL_NS_MOUNT | KEEL_NS_UTS | KEEL_NS_IPC, NULL);
	ck_assert_int_eq(keel_child_shared_memory(c), KEEL_HAVE_VFORK_CLONE);
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "pid"), st_ns_inode(0, "pid"));
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "mnt"), st_ns_inode(0, "mnt"));

	c = spawn_in(KEEL_NS_USER | KEEL_NS_NET, NULL); /* id maps to write */
	ck_assert_int_eq(keel_child_shared_memory(c), 0);
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "user"), st_ns_inode(0, "user"));

	c = spawn_in(KEEL_NS_TIME, NULL); /* setns(time) refuses a shared mm */
	ck_assert_int_eq(keel_child_shared_memory(c), 0);
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "time"), st_ns_inode(0, "time"));

	snprintf(fifo, sizeof(fifo), "%s/fifo", kt_tmpdir());
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	c = spawn_in(KEEL_NS_NET, fifo); /* it waits on the FIFO before exec */
	ck_assert_int_eq(keel_child_shared_memory(c), 0);
}
END_TEST

/* The private loopback flag: lo is up in the new network namespace only
 * when asked, and the caller's own lo is not what it touches. */
static int lo_up_in_new_netns(int ask)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	keel_spawn_attr *a = new_attr();
	keel_netns *net = NULL;
	keel_ns *ns = NULL;
	keel_child *c;
	int up = -1;

	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_USER | KEEL_NS_NET, NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	keel_spawn_attr_set_loopback_up(a, ask);
	c = st_spawn(p, a);
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "net"), st_ns_inode(0, "net"));
	ck_assert_int_eq(keel_netns_open_pid(&net, keel_child_pid(c), NULL), 0);
	ck_assert_int_eq(keel_net_link_state(net, "lo", &up, NULL, NULL, NULL, NULL), 0);
	keel_netns_free(net);
	ck_assert_int_eq(keel_child_kill(c, SIGKILL, NULL), 0);
	ck_assert_int_eq(keel_child_wait(c, 0, NULL, NULL, NULL), 1);
	return up;
}

START_TEST(loopback_up_brings_lo_up_inside_the_new_netns)
{
	ck_assert_int_eq(lo_up_in_new_netns(0), 0);
	ck_assert_int_eq(lo_up_in_new_netns(1), 1);
}
END_TEST

/* ---- many threads spawning while others malloc and free ---- */

#define STRESS_SPAWNERS 6
#define STRESS_SPAWNS 300

static volatile int stress_stop;

static void *malloc_loop(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!stress_stop) {
		void *blocks[16];
		int i;
		for (i = 0; i < 16; i++)
			blocks[i] = malloc((size_t)(16 + (n++ % 4096)));
		for (i = 0; i < 16; i++)
			free(blocks[i]);
	}
	return NULL;
}

static void *spawn_loop(void *arg)
{
	static const char *const argv_true[] = { "/bin/true", NULL };
	static const char *const argv_missing[] = { "kt-missing-program", NULL };
	long failures = 0;
	int i;

	(void)arg;
	for (i = 0; i < STRESS_SPAWNS; i++) {
		keel_process *p = NULL;
		keel_error *err = NULL;
		keel_child *c = NULL;
		int code = -1, sig = -1, bad = i % 10 == 9;

		if (keel_process_new(&p, NULL) < 0 ||
		    keel_process_set_args(p, bad ? argv_missing : argv_true, NULL) < 0) {
			failures++;
		} else if (bad) {
			/* the failure path too: an exec error, reported */
			failures += keel_spawn(p, NULL, &c, &err) != -ENOENT ||
				    keel_error_code(err) != KEEL_ERROR_EXEC;
			keel_error_free(err);
		} else if (keel_spawn(p, NULL, &c, &err) < 0) {
			failures++;
			keel_error_free(err);
		} else {
			failures += keel_child_wait(c, 0, &code, &sig, NULL) != 1 || code != 0 || sig != 0;
			keel_child_free(c);
		}
		keel_process_free(p);
	}
	return (void *)failures;
}

START_TEST(spawning_from_many_threads_while_others_malloc)
{
	pthread_t spawners[STRESS_SPAWNERS], mallocers[2];
	long total = 0;
	void *ret;
	int i;

	stress_stop = 0;
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&mallocers[i], NULL, malloc_loop, NULL), 0);
	for (i = 0; i < STRESS_SPAWNERS; i++)
		ck_assert_int_eq(pthread_create(&spawners[i], NULL, spawn_loop, NULL), 0);
	for (i = 0; i < STRESS_SPAWNERS; i++) {
		ck_assert_int_eq(pthread_join(spawners[i], &ret), 0);
		total += (long)ret;
	}
	stress_stop = 1;
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(mallocers[i], NULL), 0);
	ck_assert_msg(total == 0, "%ld of %d spawns went wrong", total, STRESS_SPAWNERS * STRESS_SPAWNS);
	ck_assert(st_no_children());
}
END_TEST

/* ------------------------------------------- security, rootfs, propagation --- */

static keel_security *new_security(void)
{
	keel_security *sec = NULL;

	ck_assert_int_eq(keel_security_new(&sec, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_security_free, sec);
	return sec;
}

/* The one field of /proc/PID/status named key, e.g. "CapEff:\t...". */
static char *status_field(pid_t pid, const char *key)
{
	char *s = st_proc(pid, "status"), *line = strstr(s, key), *end;

	ck_assert_msg(line != NULL, "no %s in /proc/%d/status", key, (int)pid);
	line += strlen(key);
	while (*line == ' ')
		line++;
	if ((end = strchr(line, '\n')))
		*end = '\0';
	return line;
}

START_TEST(process_security_drops_capabilities_and_sets_no_new_privs)
{
	keel_process *p = st_process("/bin/sleep", "1000", NULL);
	keel_security *sec = new_security();
	keel_error *err = NULL;
	keel_child *c;

	keel_security_caps_clear(sec);
	ck_assert_int_eq(keel_security_cap_add(sec, "CAP_KILL", NULL), 0);
	keel_security_set_no_new_privs(sec, 1);
	ck_assert_int_eq(keel_process_set_security(NULL, sec, &err), -EINVAL);
	keel_error_free(err);
	ck_assert_int_eq(keel_process_set_security(p, sec, NULL), 0);
	c = st_spawn(p, NULL);
	/* CAP_KILL is bit 5: 0x20, in the effective and bounding sets */
	ck_assert_str_eq(status_field(keel_child_pid(c), "CapEff:"), "0000000000000020");
	ck_assert_str_eq(status_field(keel_child_pid(c), "CapBnd:"), "0000000000000020");
	ck_assert_str_eq(status_field(keel_child_pid(c), "NoNewPrivs:"), "1");
	/* and without the settings, the program keeps ours */
	c = st_spawn(st_process("/bin/sleep", "1000", NULL), NULL);
	ck_assert_str_eq(status_field(keel_child_pid(c), "NoNewPrivs:"), "0");
	ck_assert_str_ne(status_field(keel_child_pid(c), "CapEff:"), "0000000000000020");
}
END_TEST

/* A supervisor answers the program's getppid through the notify fd the
 * child handle gives: the shell's $PPID (from getppid) is the answer. */
START_TEST(seccomp_notify_fd_of_the_child_answers_the_programs_calls)
{
	keel_process *p = st_process("/bin/sh", "-c", "echo $PPID", NULL);
	keel_security *sec = new_security();
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	keel_seccomp *f = NULL;
	char buf[64] = "";
	int out[2], nfd, code = -1;
	ssize_t n;
	keel_child *c;

	ck_assert_int_eq(keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_NOTIFY, "getppid", NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(keel_process_set_security(p, sec, NULL), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	kt_defer_close(out[0]);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, out[1], -1, NULL), 0);
	c = st_spawn(p, NULL);
	close(out[1]);
	nfd = keel_child_seccomp_notify_fd(c);
	ck_assert_int_ge(nfd, 0);
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
	ck_assert_int_eq(req.pid, keel_child_pid(c));
	ck_assert_int_eq(req.data.nr, SYS_getppid);
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.val = 4242;
	ck_assert_int_eq(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
	n = read(out[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf, "4242\n");
	ck_assert_int_eq(keel_child_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 0);
	/* no notify rule, no fd */
	ck_assert_int_eq(keel_child_seccomp_notify_fd(NULL), -1);
	c = st_spawn(st_process("/bin/true", NULL), NULL);
	ck_assert_int_eq(keel_child_seccomp_notify_fd(c), -1);
}
END_TEST

/* A scratch tmpfs on the host made shared: the "shared host mount". */
static const char *shared_host_mount(void)
{
	const char *dir = kt_tmpdir();
	char sub[4200];

	ck_assert_int_eq(mount("keelscratch", dir, "tmpfs", 0, "size=1m"), 0);
	kt_defer_umount(dir);
	ck_assert_int_eq(mount(NULL, dir, NULL, MS_SHARED, NULL), 0);
	snprintf(sub, sizeof(sub), "%s/from_host", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/from_container", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	return dir;
}

/* The optional fields ("shared:N master:M") of the mount at point in a
 * mountinfo, or NULL when no mount is there. */
static char *mount_tags(const char *mountinfo_path, const char *point)
{
	char *info = kt_read(mountinfo_path), *line, *save = NULL, *tags = NULL;

	ck_assert_msg(info != NULL, "read %s", mountinfo_path);
	for (line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mp[4200], rest[4200] = "";
		int off = 0;

		/* id parent major:minor root mountpoint options [tags] - ... */
		if (sscanf(line, "%*s %*s %*s %*s %4199s %*s%n", mp, &off) != 1 || strcmp(mp, point))
			continue;
		snprintf(rest, sizeof(rest), "%s", line + off);
		*strstr(rest, " - ") = '\0';
		free(tags);
		tags = strdup(rest); /* the last mount at a point is the visible one */
	}
	if (tags)
		kt_defer_fn(free, tags);
	return tags;
}

struct propagation_seen {
	int host_mount_inside;     /* a host mount under the shared dir shows inside */
	int container_mount_on_host; /* a container mount under it shows on the host */
	char tags[256];            /* the container's /srv mount's propagation tags */
};

static void run_with_propagation(keel_propagation prop, struct propagation_seen *seen)
{
	const char *dir = shared_host_mount();
	keel_process *p = st_process("/bin/sh", "-c",
				     "mount -t tmpfs inside /srv/from_container && echo mounted && read x", NULL);
	keel_spawn_attr *a = new_attr();
	keel_rootfs *r = NULL;
	keel_ns *ns = NULL;
	char path[4200], proc[64], buf[64] = "", *tags;
	int in[2], out[2], code = -1;
	keel_child *c;

	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_rootfs_free, r);
	ck_assert_int_eq(keel_rootfs_set_directory(r, kt_rootfs(), NULL), 0);
	ck_assert_int_eq(keel_rootfs_set_propagation(r, prop, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_bind(r, dir, "/srv", 0, NULL), 0);
	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_MOUNT | KEEL_NS_PID, NULL), 0);
	keel_spawn_attr_set_ns(a, ns);
	keel_spawn_attr_set_rootfs(a, r);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	kt_defer_close(in[1]);
	kt_defer_close(out[0]);
	ck_assert_int_eq(keel_process_set_stdio(p, in[0], out[1], -1, NULL), 0);
	c = st_spawn(p, a);
	close(in[0]);
	close(out[1]);
	ck_assert_int_gt(read(out[0], buf, sizeof(buf) - 1), 0);
	ck_assert_str_eq(buf, "mounted\n");
	/* the program runs in the busybox root, where the image file is */
	snprintf(path, sizeof(path), "/proc/%d/root/etc/image-release", (int)keel_child_pid(c));
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(proc, sizeof(proc), "/proc/%d/mountinfo", (int)keel_child_pid(c));
	ck_assert_ptr_nonnull(mount_tags(proc, "/srv/from_container"));
	snprintf(path, sizeof(path), "%s/from_host", dir);
	ck_assert_int_eq(mount("fromhost", path, "tmpfs", 0, "size=1m"), 0);
	kt_defer_umount(path);
	seen->host_mount_inside = mount_tags(proc, "/srv/from_host") != NULL;
	snprintf(path, sizeof(path), "%s/from_container", dir);
	seen->container_mount_on_host = mount_tags("/proc/self/mountinfo", path) != NULL;
	tags = mount_tags(proc, "/srv");
	ck_assert_ptr_nonnull(tags);
	snprintf(seen->tags, sizeof(seen->tags), "%s", tags);
	ck_assert_int_eq(write(in[1], "\n", 1), 1);
	ck_assert_int_eq(keel_child_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 0);
}

/* Each propagation mode against a shared host mount, both ways, from the
 * kernel's mountinfo of each side. */
START_TEST(rootfs_propagation_modes_against_a_shared_host_mount)
{
	struct propagation_seen seen;

	memset(&seen, 0, sizeof(seen));
	run_with_propagation(KEEL_PROPAGATION_SLAVE, &seen);
	ck_assert_msg(seen.host_mount_inside, "rslave: a host mount did not reach the container");
	ck_assert_msg(!seen.container_mount_on_host, "rslave: a container mount reached the host");
	ck_assert_msg(strstr(seen.tags, "master:") && !strstr(seen.tags, "shared:"), "rslave: tags '%s'", seen.tags);
	kt_cleanup();

	memset(&seen, 0, sizeof(seen));
	run_with_propagation(KEEL_PROPAGATION_PRIVATE, &seen);
	ck_assert_msg(!seen.host_mount_inside, "rprivate: a host mount reached the container");
	ck_assert_msg(!seen.container_mount_on_host, "rprivate: a container mount reached the host");
	ck_assert_msg(!strstr(seen.tags, "master:") && !strstr(seen.tags, "shared:"), "rprivate: tags '%s'",
		      seen.tags);
	kt_cleanup();

	/* rshared inside, the host side slave: in, never out */
	memset(&seen, 0, sizeof(seen));
	run_with_propagation(KEEL_PROPAGATION_SHARED, &seen);
	ck_assert_msg(seen.host_mount_inside, "rshared: a host mount did not reach the container");
	ck_assert_msg(!seen.container_mount_on_host, "rshared: a container mount reached the host");
	ck_assert_msg(strstr(seen.tags, "master:") && strstr(seen.tags, "shared:"), "rshared: tags '%s'", seen.tags);
}
END_TEST

int main(void)
{
	/* host probes, outside the code under test (tests/host-probe.h) */
	const char *no_ptmx = kt_missing_device("/dev/ptmx", O_RDWR), *no_root_userns = kt_missing_userns(0);
	Suite *s = suite_create("spawn");
	TCase *tc = kt_tcase("process", 30);

	tcase_add_test(tc, stdout_reaches_the_caller_through_a_pipe);
	tcase_add_test(tc, stdin_comes_from_the_callers_fd_and_dev_null);
	tcase_add_test(tc, environment_is_set_unset_and_cleared);
	tcase_add_test(tc, many_variables_keep_their_last_value);
	tcase_add_test(tc, cwd_umask_user_and_groups_are_applied);
	tcase_add_test(tc, user_without_groups_clears_supplementary_groups);
	tcase_add_test(tc, callers_fds_do_not_leak_into_the_program);
	kt_add_test_needs(tc, pty_master_reads_what_the_program_writes, no_ptmx);
	kt_add_test_needs(tc, pty_in_a_new_mount_namespace_is_opened_by_the_child, no_ptmx);
	kt_add_test_needs(tc, pty_made_by_the_child_is_not_leaked_when_a_later_step_fails, no_ptmx);
	suite_add_tcase(s, tc);
	tc = kt_tcase("child", 30);
	tcase_add_test(tc, wait_reports_exit_code_and_signal_and_pidfd_polls);
	tcase_add_test(tc, start_fifo_holds_the_program_until_written);
	tcase_add_test(tc, parent_hook_runs_before_the_program_and_its_failure_cleans_up);
	tcase_add_test(tc, cgroup_fd_places_the_process_with_clone3);
	tcase_add_test(tc, cgroup_fd_places_the_process_with_the_clone_fallback);
	tcase_add_test(tc, cgroup_namespace_is_rooted_at_the_cgroup_with_clone3);
	tcase_add_test(tc, cgroup_namespace_is_rooted_at_the_cgroup_with_the_clone_fallback);
	tcase_add_test(tc, cgroup_namespace_after_joins_is_rooted_at_the_cgroup_with_clone3);
	tcase_add_test(tc, cgroup_namespace_after_joins_is_rooted_at_the_cgroup_with_the_clone_fallback);
	tcase_add_test(tc, clone_fallback_makes_namespaces_and_a_working_handle);
	tcase_add_test(tc, loopback_up_brings_lo_up_inside_the_new_netns);
	kt_add_test_needs(tc, memory_is_shared_only_when_the_parent_has_nothing_to_do, no_root_userns);
	tcase_add_test(tc, process_security_drops_capabilities_and_sets_no_new_privs);
	tcase_add_test(tc, seccomp_notify_fd_of_the_child_answers_the_programs_calls);
	tcase_add_test(tc, rootfs_propagation_modes_against_a_shared_host_mount);
	suite_add_tcase(s, tc);
	tc = kt_tcase("failures", 30);
	tcase_add_test(tc, exec_missing_program_is_enoent);
	tcase_add_test(tc, exec_not_executable_is_eacces);
	tcase_add_test(tc, exec_garbage_and_foreign_elf_are_enoexec);
	tcase_add_test(tc, child_step_failure_names_step_and_object);
	tcase_add_test(tc, bad_input_is_refused_clearly);
	suite_add_tcase(s, tc);
	tc = kt_tcase("threads", 240);
	tcase_add_test(tc, spawning_from_many_threads_while_others_malloc);
	suite_add_tcase(s, tc);
	return kt_run(s);
}
