/*
 * ns suite: new and joined namespaces, id maps, time offsets, rootless.
 *
 * Every check reads the kernel: inodes of /proc/PID/ns/TYPE, /proc/PID/uid_map,
 * /proc/PID/timens_offsets, /proc/PID/status, what a program inside prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "harness.h"
#include "host-probe.h"
#include "spawn-util.h"

static keel_ns *new_ns(unsigned create)
{
	keel_ns *ns = NULL;

	ck_assert_int_eq(keel_ns_new(&ns, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_ns_free, ns);
	if (create)
		ck_assert_int_eq(keel_ns_create(ns, create, NULL), 0);
	return ns;
}

static keel_spawn_attr *attr_with(const keel_ns *ns)
{
	keel_spawn_attr *a = NULL;

	ck_assert_int_eq(keel_spawn_attr_new(&a, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_spawn_attr_free, a);
	keel_spawn_attr_set_ns(a, ns);
	return a;
}

static const char *const all_names[] = { "mnt", "pid", "net", "ipc", "uts", "user", "cgroup", "time" };

START_TEST(each_namespace_type_is_really_new)
{
	unsigned types = KEEL_NS_ALL & ~(unsigned)KEEL_NS_USER;
	keel_child *c = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(new_ns(types)));
	int i;

	for (i = 0; i < 8; i++) {
		if (!strcmp(all_names[i], "user"))
			ck_assert_uint_eq(st_ns_inode(keel_child_pid(c), "user"), st_ns_inode(0, "user"));
		else
			ck_assert_msg(st_ns_inode(keel_child_pid(c), all_names[i]) != st_ns_inode(0, all_names[i]),
				      "%s namespace is the caller's", all_names[i]);
	}
	/* and nothing shared was asked: a plain spawn shares them all */
	c = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(new_ns(0)));
	for (i = 0; i < 8; i++)
		ck_assert_uint_eq(st_ns_inode(keel_child_pid(c), all_names[i]), st_ns_inode(0, all_names[i]));
}
END_TEST

START_TEST(hostname_change_is_invisible_outside)
{
	keel_process *p = st_process("/bin/sh", "-c", "hostname kt-inside && hostname", NULL);
	struct utsname before, after;

	ck_assert_int_eq(uname(&before), 0);
	ck_assert_str_eq(st_run(p, attr_with(new_ns(KEEL_NS_UTS)), NULL), "kt-inside\n");
	ck_assert_int_eq(uname(&after), 0);
	ck_assert_str_eq(after.nodename, before.nodename);
	ck_assert_str_ne(after.nodename, "kt-inside");
}
END_TEST

START_TEST(process_is_pid_1_in_a_new_pid_namespace)
{
	keel_process *p = st_process("/bin/sh", "-c", "echo $$", NULL);

	ck_assert_str_eq(st_run(p, attr_with(new_ns(KEEL_NS_PID)), NULL), "1\n");
}
END_TEST

START_TEST(new_network_namespace_has_only_lo)
{
	keel_process *p = st_process("/bin/cat", "/proc/self/net/dev", NULL);
	char *out = st_run(p, attr_with(new_ns(KEEL_NS_NET)), NULL), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strchr(line, ':') || strchr(line, '|'))
			continue; /* the two header lines */
		while (*line == ' ')
			line++;
		ck_assert_msg(!strncmp(line, "lo:", 3), "unexpected link: %s", line);
		n++;
	}
	ck_assert_int_eq(n, 1);
}
END_TEST

static double uptime_of(const char *text)
{
	return strtod(text, NULL);
}

START_TEST(time_namespace_offsets_are_visible_inside)
{
	keel_ns *ns = new_ns(KEEL_NS_TIME);
	keel_process *p = st_process("/bin/cat", "/proc/uptime", NULL);
	double host_before, inside, host_after;
	char *offsets;
	keel_child *c;

	ck_assert_int_eq(keel_ns_set_time_offset(ns, CLOCK_BOOTTIME, 100000, 0, NULL), 0);
	ck_assert_int_eq(keel_ns_set_time_offset(ns, CLOCK_MONOTONIC, 86400, 5, NULL), 0);
	host_before = uptime_of(kt_read("/proc/uptime"));
	inside = uptime_of(st_run(p, attr_with(ns), NULL));
	host_after = uptime_of(kt_read("/proc/uptime"));
	ck_assert_msg(inside >= host_before + 100000 - 0.01 && inside <= host_after + 100000 + 0.01,
		      "uptime inside %.2f, host %.2f..%.2f", inside, host_before, host_after);
	c = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(ns));
	offsets = st_proc(keel_child_pid(c), "timens_offsets");
	ck_assert_str_eq(offsets, "monotonic 86400 5\nboottime 100000 0\n");
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "time"), st_ns_inode(0, "time"));
}
END_TEST

START_TEST(uid_and_gid_maps_read_back_as_root)
{
	keel_ns *ns = new_ns(KEEL_NS_USER | KEEL_NS_MOUNT);
	keel_child *c;

	ck_assert_int_eq(keel_ns_add_uid_map(ns, 0, 100000, 65536, NULL), 0);
	ck_assert_int_eq(keel_ns_add_gid_map(ns, 0, 200000, 1000, NULL), 0);
	ck_assert_int_eq(keel_ns_add_gid_map(ns, 1000, 300000, 1, NULL), 0);
	c = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(ns));
	ck_assert_str_eq(st_proc(keel_child_pid(c), "uid_map"), "0 100000 65536\n");
	ck_assert_str_eq(st_proc(keel_child_pid(c), "gid_map"), "0 200000 1000\n1000 300000 1\n");
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(c), "user"), st_ns_inode(0, "user"));
	/* no maps: root is mapped to root, one id */
	c = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(new_ns(KEEL_NS_USER)));
	ck_assert_str_eq(st_proc(keel_child_pid(c), "uid_map"), "0 0 1\n");
	ck_assert_str_eq(st_proc(keel_child_pid(c), "gid_map"), "0 0 1\n");
}
END_TEST

/* A target to join: a sleeping process in its own namespaces. */
static keel_child *target(unsigned types)
{
	return st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(new_ns(types)));
}

START_TEST(joining_a_running_process_shares_its_namespaces_and_pid_ns)
{
	unsigned types = KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_NET | KEEL_NS_IPC | KEEL_NS_UTS | KEEL_NS_CGROUP;
	keel_child *t = target(types), *j;
	keel_ns *ns = new_ns(0);
	const char *names[] = { "mnt", "pid", "net", "ipc", "uts", "cgroup" };
	char *status;
	int i, code = -1;

	ck_assert_int_eq(keel_ns_join_pid(ns, types | KEEL_NS_USER, keel_child_pid(t), NULL), 0);
	j = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(ns));
	for (i = 0; i < 6; i++)
		ck_assert_msg(st_ns_inode(keel_child_pid(j), names[i]) == st_ns_inode(keel_child_pid(t), names[i]),
			      "%s namespace not joined", names[i]);
	/* inside the pid namespace, not its init: NSpid has two levels */
	status = strstr(st_proc(keel_child_pid(j), "status"), "\nNSpid: ");
	ck_assert_ptr_nonnull(status);
	ck_assert_msg(sscanf(status, "\nNSpid: %*d %d", &i) == 1 && i > 1, "NSpid line: %.40s", status);
	/* the caller is its parent: it can wait for it */
	ck_assert_int_eq(keel_child_kill(j, SIGTERM, NULL), 0);
	ck_assert_int_eq(keel_child_wait(j, 0, &code, &i, NULL), 1);
	ck_assert_int_eq(i, SIGTERM);

	/* what runs inside sees the target's pid namespace from within */
	ck_assert_str_eq(st_run(st_process("/bin/sh", "-c", "echo $$", NULL), attr_with(ns), NULL), "3\n");
}
END_TEST

START_TEST(joining_by_pidfd_and_by_fd)
{
	keel_child *t = target(KEEL_NS_NET | KEEL_NS_UTS);
	keel_ns *ns = new_ns(0);
	char path[64];
	keel_error *err = NULL;
	int fd;
	keel_child *j;

	ck_assert_int_eq(keel_ns_join_pidfd(ns, KEEL_NS_NET, keel_child_pidfd(t), NULL), 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/uts", (int)keel_child_pid(t));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(keel_ns_join_fd(ns, KEEL_NS_UTS, fd, NULL), 0);
	close(fd); /* the handle has its own copy */
	ck_assert_int_eq(keel_ns_create(ns, KEEL_NS_IPC, NULL), 0); /* join and create mixed */
	j = st_spawn(st_process("/bin/sleep", "1000", NULL), attr_with(ns));
	ck_assert_uint_eq(st_ns_inode(keel_child_pid(j), "net"), st_ns_inode(keel_child_pid(t), "net"));
	ck_assert_uint_eq(st_ns_inode(keel_child_pid(j), "uts"), st_ns_inode(keel_child_pid(t), "uts"));
	ck_assert_uint_ne(st_ns_inode(keel_child_pid(j), "ipc"), st_ns_inode(0, "ipc"));

	/* an fd of the wrong type, a non-namespace fd, a non-pidfd */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(keel_ns_join_fd(ns, KEEL_NS_NET, fd, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "is not a net namespace"));
	keel_error_free(err);
	err = NULL;
	close(fd);
	ck_assert_int_eq(keel_ns_join_fd(ns, KEEL_NS_NET, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_join_fd(ns, KEEL_NS_NET | KEEL_NS_UTS, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_join_fd(ns, KEEL_NS_NET, 9999, NULL), -EBADF);
	ck_assert_int_eq(keel_ns_join_pidfd(ns, KEEL_NS_NET, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "not a pidfd"));
	keel_error_free(err);
}
END_TEST

START_TEST(joining_the_cgroup_of_a_running_process)
{
	keel_features *f = NULL;
	char cg[4096], want[4200], pidbuf[24];
	keel_spawn_attr *a;
	keel_child *t, *j;
	int fd;

	ck_assert_int_eq(keel_features_probe(&f, NULL), 0);
	snprintf(cg, sizeof(cg), "%s/%s", keel_features_cgroup2_path(f), kt_name("cg"));
	keel_features_free(f);
	ck_assert_int_eq(mkdir(cg, 0755), 0);
	kt_defer_rmdir_cgroup(cg);
	fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	kt_defer_close(fd);
	a = attr_with(NULL);
	keel_spawn_attr_set_cgroup_fd(a, fd);
	t = st_spawn(st_process("/bin/sleep", "1000", NULL), a);
	snprintf(want, sizeof(want), "0::/%s\n", strrchr(cg, '/') + 1);
	ck_assert_ptr_nonnull(strstr(st_proc(keel_child_pid(t), "cgroup"), want));

	a = attr_with(NULL);
	ck_assert_int_eq(keel_spawn_attr_join_cgroup_pid(a, keel_child_pid(t), NULL), 0);
	j = st_spawn(st_process("/bin/sleep", "1000", NULL), a);
	ck_assert_ptr_nonnull(strstr(st_proc(keel_child_pid(j), "cgroup"), want));
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)keel_child_pid(j));
	ck_assert_ptr_nonnull(strstr(kt_read(strcat(cg, "/cgroup.procs")), pidbuf));
	ck_assert_int_eq(keel_spawn_attr_join_cgroup_pid(a, 0, NULL), -EINVAL);
}
END_TEST

START_TEST(joining_an_exited_process_fails_cleanly)
{
	keel_child *t = st_spawn(st_process("/bin/true", NULL), NULL);
	pid_t pid = keel_child_pid(t);
	keel_error *err = NULL;
	keel_ns *ns = new_ns(0);

	ck_assert_int_eq(keel_child_wait(t, 0, NULL, NULL, NULL), 1);
	ck_assert_int_eq(keel_ns_join_pidfd(ns, KEEL_NS_NET, keel_child_pidfd(t), &err), -ESRCH);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "exited"));
	keel_error_free(err);
	if (kill(pid, 0) < 0) /* unless the pid was reused already */
		ck_assert_int_eq(keel_ns_join_pid(ns, KEEL_NS_NET, pid, NULL), -ESRCH);
}
END_TEST

START_TEST(inconsistent_namespace_requests_are_refused)
{
	keel_process *p = st_process("/bin/true", NULL);
	keel_error *err = NULL;
	keel_child *c = NULL;
	keel_ns *ns = new_ns(0);
	keel_child *t = target(KEEL_NS_NET);

	ck_assert_int_eq(keel_ns_create(ns, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_create(ns, 0x100, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_set_time_offset(ns, CLOCK_REALTIME, 1, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_set_time_offset(ns, CLOCK_MONOTONIC, 1, 1000000000, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_add_uid_map(ns, 0, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_ns_add_uid_map(ns, 4294967295U, 0, 2, NULL), -EINVAL);
	ck_assert_ptr_null(keel_ns_type_name((keel_ns_type)3));
	ck_assert_str_eq(keel_ns_type_name(KEEL_NS_MOUNT), "mnt");

	ck_assert_int_eq(keel_ns_set_time_offset(ns, CLOCK_MONOTONIC, 1, 0, NULL), 0);
	ck_assert_int_eq(keel_spawn(p, attr_with(ns), &c, &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "namespaces: time offsets need a new time namespace (KEEL_NS_TIME)");
	keel_error_free(err);
	err = NULL;

	ns = new_ns(KEEL_NS_NET);
	ck_assert_int_eq(keel_ns_join_pid(ns, KEEL_NS_NET, keel_child_pid(t), NULL), 0);
	ck_assert_int_eq(keel_spawn(p, attr_with(ns), &c, &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "namespaces: net is both created and joined");
	keel_error_free(err);
	err = NULL;

	ns = new_ns(KEEL_NS_NET);
	ck_assert_int_eq(keel_ns_add_uid_map(ns, 0, 1000, 1, NULL), 0);
	ck_assert_int_eq(keel_spawn(p, attr_with(ns), &c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "need a new user namespace"));
	keel_error_free(err);
	ck_assert_ptr_null(c);
}
END_TEST

/* ---- rootless, as uid 65534 ---- */

static int read_normalized(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;
	char *r, *w;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (r = w = buf; *r; r++)
		if (*r != ' ' || (w > buf && w[-1] != ' ' && w[-1] != '\n'))
			*w++ = *r;
	*w = '\0';
	return 0;
}

static int rootless_spawn(void *arg)
{
	static const char *const argv[] = { "/bin/sh", "-c", "id -u; id -g; echo $$; hostname kt-rootless", NULL };
	static const char *const sleep_argv[] = { "/bin/sleep", "1000", NULL };
	unsigned types = KEEL_NS_USER | KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_NET | KEEL_NS_IPC | KEEL_NS_UTS;
	keel_spawn_attr *a = NULL;
	keel_process *p = NULL;
	keel_child *c = NULL;
	keel_ns *ns = NULL;
	char buf[256] = "";
	int fds[2], code = -1, ok;
	size_t used;
	ssize_t n;

	(void)arg;
	if (keel_ns_new(&ns, NULL) || keel_ns_create(ns, types, NULL) || keel_spawn_attr_new(&a, NULL) ||
	    keel_process_new(&p, NULL) || keel_process_set_args(p, sleep_argv, NULL))
		return 10;
	keel_spawn_attr_set_ns(a, ns);
	if (keel_spawn(p, a, &c, NULL) < 0)
		return 11;
	ok = read_normalized(keel_child_pid(c), "uid_map", buf, sizeof(buf)) == 0 && !strcmp(buf, "0 65534 1\n") &&
	     read_normalized(keel_child_pid(c), "gid_map", buf, sizeof(buf)) == 0 && !strcmp(buf, "0 65534 1\n") &&
	     read_normalized(keel_child_pid(c), "setgroups", buf, sizeof(buf)) == 0 && !strcmp(buf, "deny\n");
	keel_child_kill(c, SIGKILL, NULL);
	keel_child_wait(c, 0, NULL, NULL, NULL);
	keel_child_free(c);
	if (!ok)
		return 12;
	/* inside: root, pid 1, and allowed to set its own hostname */
	if (pipe2(fds, O_CLOEXEC) < 0 || keel_process_set_args(p, argv, NULL) ||
	    keel_process_set_stdio(p, -1, fds[1], fds[1], NULL) || keel_spawn(p, a, &c, NULL) < 0)
		return 13;
	close(fds[1]);
	used = 0;
	while (used < sizeof(buf) - 1 && ((n = read(fds[0], buf + used, sizeof(buf) - 1 - used)) > 0 ||
					  (n < 0 && errno == EINTR)))
		used += n > 0 ? (size_t)n : 0;
	buf[used] = '\0';
	close(fds[0]);
	if (keel_child_wait(c, 0, &code, NULL, NULL) != 1 || code != 0)
		return 14;
	if (strcmp(buf, "0\n0\n1\n"))
		return 15;
	keel_child_free(c);
	keel_process_free(p);
	keel_spawn_attr_free(a);
	keel_ns_free(ns);
	return 0;
}

START_TEST(rootless_spawn_with_a_user_namespace_as_nobody)
{
	int status = kt_as_nobody(rootless_spawn, NULL);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rootless spawn failed at step %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
}
END_TEST

static int rootless_multi_range(void *arg)
{
	static const char *const argv[] = { "/bin/true", NULL };
	keel_spawn_attr *a = NULL;
	keel_process *p = NULL;
	keel_error *err = NULL;
	keel_child *c = NULL;
	keel_ns *ns = NULL;
	int ret;

	(void)arg;
	if (keel_ns_new(&ns, NULL) || keel_ns_create(ns, KEEL_NS_USER, NULL) ||
	    keel_ns_add_uid_map(ns, 0, 65534, 1, NULL) || keel_ns_add_uid_map(ns, 1, 1000000, 1000, NULL) ||
	    keel_spawn_attr_new(&a, NULL) || keel_process_new(&p, NULL) || keel_process_set_args(p, argv, NULL))
		return 20;
	keel_spawn_attr_set_ns(a, ns);
	ret = keel_spawn(p, a, &c, &err);
	/* nobody has no /etc/subuid range: newuidmap refuses, and says so */
	if (ret >= 0)
		return 21;
	if (!strstr(keel_error_message(err), "newuidmap"))
		return 22;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		return 23;
	keel_error_free(err);
	keel_process_free(p);
	keel_spawn_attr_free(a);
	keel_ns_free(ns);
	return 0;
}

START_TEST(rootless_multi_range_maps_go_through_newuidmap)
{
	/* newuidmap and user namespaces for nobody: probed in main() */
	int status = kt_as_nobody(rootless_multi_range, NULL);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "failed at step %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
}
END_TEST

int main(void)
{
	/* host probes, outside the code under test (tests/host-probe.h) */
	const char *no_userns = kt_missing_userns(65534), *no_root_userns = kt_missing_userns(0);
	Suite *s = suite_create("ns");
	TCase *tc = kt_tcase("create", 30);

	tcase_add_test(tc, each_namespace_type_is_really_new);
	tcase_add_test(tc, hostname_change_is_invisible_outside);
	tcase_add_test(tc, process_is_pid_1_in_a_new_pid_namespace);
	tcase_add_test(tc, new_network_namespace_has_only_lo);
	tcase_add_test(tc, time_namespace_offsets_are_visible_inside);
	kt_add_test_needs(tc, uid_and_gid_maps_read_back_as_root, no_root_userns);
	tcase_add_test(tc, inconsistent_namespace_requests_are_refused);
	suite_add_tcase(s, tc);
	tc = kt_tcase("join", 30);
	kt_add_test_needs(tc, joining_a_running_process_shares_its_namespaces_and_pid_ns, no_root_userns);
	tcase_add_test(tc, joining_by_pidfd_and_by_fd);
	tcase_add_test(tc, joining_the_cgroup_of_a_running_process);
	tcase_add_test(tc, joining_an_exited_process_fails_cleanly);
	suite_add_tcase(s, tc);
	tc = kt_tcase("rootless", 30);
	kt_add_test_needs(tc, rootless_spawn_with_a_user_namespace_as_nobody, no_userns);
	kt_add_test_needs(tc, rootless_multi_range_maps_go_through_newuidmap,
			  kt_first_missing(no_userns, kt_missing_tool("/usr/bin/newuidmap", 0, "uidmap")));
	suite_add_tcase(s, tc);
	return kt_run(s);
}
