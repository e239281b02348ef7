/*
 * Helpers shared by the ns and spawn suites; see spawn-util.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "spawn-util.h"

static void free_process(void *p)
{
	keel_process_free(p);
}

keel_process *st_process(const char *arg0, ...)
{
	const char *argv[32];
	keel_process *p = NULL;
	keel_error *err = NULL;
	va_list ap;
	int n = 0;

	argv[n++] = arg0;
	va_start(ap, arg0);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(keel_process_new(&p, &err), 0);
	kt_defer_fn(free_process, p);
	ck_assert_msg(keel_process_set_args(p, argv, &err) == 0, "%s", keel_error_message(err));
	return p;
}

static void reap_child(void *data)
{
	keel_child *c = data;

	if (keel_child_wait(c, KEEL_WAIT_NOHANG, NULL, NULL, NULL) == 0) {
		keel_child_kill(c, SIGKILL, NULL);
		keel_child_wait(c, 0, NULL, NULL, NULL);
	}
	keel_child_free(c);
}

keel_child *st_spawn(keel_process *p, const keel_spawn_attr *attr)
{
	keel_error *err = NULL;
	keel_child *c = NULL;
	int ret = keel_spawn(p, attr, &c, &err);

	ck_assert_msg(ret == 0, "spawn failed (%d): %s", ret, keel_error_message(err));
	ck_assert_ptr_nonnull(c);
	kt_defer_fn(reap_child, c);
	return c;
}

char *st_run(keel_process *p, const keel_spawn_attr *attr, int *exit_code)
{
	char buf[65536];
	size_t used = 0;
	int fds[2], code = -2, sig = -2;
	ssize_t n;
	keel_child *c;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, fds[1], fds[1], NULL), 0);
	c = st_spawn(p, attr);
	close(fds[1]);
	while (used < sizeof(buf) - 1 && (n = read(fds[0], buf + used, sizeof(buf) - 1 - used)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_int_gt(n, 0);
		used += (size_t)n;
	}
	close(fds[0]);
	buf[used] = '\0';
	ck_assert_int_eq(keel_child_wait(c, 0, &code, &sig, NULL), 1);
	ck_assert_msg(sig == 0, "the program was killed by signal %d; output: %s", sig, buf);
	if (exit_code)
		*exit_code = code;
	else
		ck_assert_msg(code == 0, "exit code %d; output: %s", code, buf);
	{
		/* kt_read keeps its buffer until cleanup; reuse it via a file-less copy */
		char *copy = strdup(buf);
		ck_assert_ptr_nonnull(copy);
		kt_defer_fn(free, copy);
		return copy;
	}
}

unsigned long st_ns_inode(pid_t pid, const char *name)
{
	char path[128];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return (unsigned long)st.st_ino;
}

char *st_proc(pid_t pid, const char *file)
{
	char path[128], *s, *r, *w;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	s = kt_read(path);
	ck_assert_msg(s != NULL, "read %s: %s", path, strerror(errno));
	for (r = w = s; *r; r++) {
		if ((*r == ' ' || *r == '\t') && (w == s || w[-1] == ' ' || w[-1] == '\n'))
			continue;
		*w++ = *r == '\t' ? ' ' : *r;
	}
	*w = '\0';
	/* no blank before a newline */
	for (r = w = s; *r; r++) {
		if (*r == ' ' && (r[1] == '\n' || r[1] == '\0'))
			continue;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

int st_no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

int st_count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own fd */
}
