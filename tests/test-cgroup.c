/*
 * cgroup suite. The same binary runs in two places and picks its cases by
 * what the kernel says (is "memory" in the root's cgroup.controllers?):
 *
 * - everywhere ("common" cases): discovery, create/open/remove, bad input,
 *   raw files, moving processes, clone3 CLONE_INTO_CGROUP, freeze/thaw,
 *   kill, the events fd, cpu.stat usage (the cgroup namespace of a spawn
 *   is test-spawn's);
 * - on a host without v2 controllers, such as this v1/v2 hybrid
 *   ("hybrid-no-controllers"): every limit fails with the clear
 *   "controller ... is not available" error and changes nothing;
 * - on a pure v2 kernel, the test VM of tests/vm ("v2-limits"): pids.max,
 *   memory.max with the OOM killer and events, cpu.max, io.max on a brd
 *   ramdisk, controller delegation and the no-internal-process rule.
 *
 * Processes put into test cgroups are always forked children, never the
 * test runner. Every cgroup lives under a unique parent that the harness
 * kills and removes even when a test fails. Children never call exit() or
 * ck_assert (that would run the harness's atexit cleanup in the child).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "cgroup.h"
#include "util/fs.h"
#include "harness.h"
#include "host-probe.h"

/* --------------------------------------------------------------- helpers -- */

static char *mount_point(void)
{
	char *m = NULL;

	ck_assert_int_eq(keel_cgroup_mount_path(&m, NULL), 0);
	return m;
}

/* Does the root of the hierarchy offer the memory controller? (Called by
 * main, outside any test: no ck_assert here.) */
static int pure_v2(const char *m)
{
	char path[4096], buf[512] = "";
	int fd, ok = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", m);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0)
			buf[n] = '\0';
		close(fd);
		ok = strstr(buf, "memory") != NULL;
	}
	return ok;
}

/* Host probes for the v2-limits cases (main, outside the code under test):
 * NULL when the root of m offers every controller in want (space-separated),
 * else which one it lacks. */
static const char *controllers_missing(const char *m, const char *want)
{
	static char why[8][4200];
	static int next;
	char path[4096], have[512] = " ", w[64];
	const char *p = want;
	int fd, n;
	ssize_t len = 0;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", m);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, have + 1, sizeof(have) - 3);
		close(fd);
	}
	len = len > 0 ? len : 0;
	have[1 + len] = '\0';
	have[strcspn(have, "\n")] = '\0';
	strcat(have, " ");
	while (sscanf(p, "%63s%n", w, &n) == 1) {
		char word[70];

		p += n;
		snprintf(word, sizeof(word), " %s ", w);
		if (!strstr(have, word)) {
			snprintf(why[next % 8], sizeof(why[0]), "no %s controller in %s", w, path);
			return why[next++ % 8];
		}
	}
	return NULL;
}

/* io.weight is blk-iocost's file (its root-only io.cost.qos shows it is
 * built in). */
static const char *io_weight_missing(const char *m)
{
	static char why[4200];
	char path[4096];

	snprintf(path, sizeof(path), "%s/io.cost.qos", m);
	if (access(path, F_OK) == 0)
		return NULL;
	snprintf(why, sizeof(why), "no io.weight: this kernel has no blk-iocost (no %s)", path);
	return why;
}

/* io_max writes to a brd ramdisk, which a devices cgroup could deny: the
 * probe opens it as the test will. */
static const char *ramdisk_missing(void)
{
	static char why[256];
	int fd = open("/dev/ram0", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	snprintf(why, sizeof(why), "cannot open /dev/ram0 for writing (brd not loaded, or a devices cgroup denies it): %s",
		 strerror(errno));
	return why;
}

static void free_cg(void *cg)
{
	keel_cgroup_free(cg);
}

static void close_fd(void *p)
{
	close((int)(intptr_t)p);
}

/*
 * Every test's cgroups live under one cgroup per run of the suite, made by
 * main under the default parent. main kills and removes it after the run:
 * Check ends a failing or timed-out test's process with _exit() or SIGKILL,
 * which skips the harness's cleanup, and this net catches what that leaves.
 */
static char suite_root[4096];

/* A fresh, unique cgroup under the suite's, removed at cleanup. */
static keel_cgroup *test_parent(void)
{
	keel_error *err = NULL;
	keel_cgroup *cg = NULL;
	int ret = keel_cgroup_create(&cg, kt_name("cg"), suite_root, &err);

	ck_assert_msg(ret == 0, "create test parent: %s", keel_error_message(err));
	kt_defer_rmdir_cgroup(keel_cgroup_path(cg));
	kt_defer_fn(free_cg, cg);
	return cg;
}

/* A cgroup at parent/path, freed at cleanup (removed with the parent). */
static keel_cgroup *make_cg(keel_cgroup *parent, const char *path)
{
	keel_error *err = NULL;
	keel_cgroup *cg = NULL;
	int ret = keel_cgroup_create(&cg, path, keel_cgroup_path(parent), &err);

	ck_assert_msg(ret == 0, "create %s: %s", path, keel_error_message(err));
	kt_defer_fn(free_cg, cg);
	return cg;
}

static void must(int ret, keel_error *err, const char *what)
{
	ck_assert_msg(ret == 0, "%s: %s", what, keel_error_message(err));
	keel_error_free(err);
}

/* Read a cgroup file of cg into a harness-owned string, without newline. */
static char *cg_file(keel_cgroup *cg, const char *key)
{
	char path[4096], *s;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", keel_cgroup_path(cg), key);
	s = kt_read(path);
	ck_assert_msg(s != NULL, "read %s: %s", path, strerror(errno));
	n = strlen(s);
	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

/* The value of "key N" in a flat keyed cgroup file. */
static long long cg_field(keel_cgroup *cg, const char *file, const char *key)
{
	char *text = cg_file(cg, file), *p = text;
	size_t len = strlen(key);

	while (p && *p) {
		if (!strncmp(p, key, len) && p[len] == ' ')
			return atoll(p + len + 1);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	ck_abort_msg("no %s in %s", key, file);
	return -1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * A forked child that waits for "go" before running fn, so the test can
 * move it into a cgroup first. fn writes what it has to say to report.
 */
struct kid {
	pid_t pid;
	int go;       /* write end: one byte starts fn */
	int report;   /* read end of what fn writes */
};

typedef int (*kid_fn)(int report, void *arg);

static struct kid kid_start(kid_fn fn, void *arg)
{
	int go[2], rep[2];
	struct kid k;
	char c;

	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(rep, O_CLOEXEC), 0);
	k.pid = fork();
	ck_assert_int_ge(k.pid, 0);
	if (k.pid == 0) {
		close(go[1]);
		close(rep[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(120);
		_exit(fn(rep[1], arg));
	}
	close(go[0]);
	close(rep[1]);
	k.go = go[1];
	k.report = rep[0];
	kt_defer_kill(k.pid);
	kt_defer_fn(close_fd, (void *)(intptr_t)k.go);
	kt_defer_fn(close_fd, (void *)(intptr_t)k.report);
	return k;
}

static void kid_go(struct kid *k)
{
	ck_assert_int_eq(write(k->go, "g", 1), 1);
}

/* Read exactly size bytes of the kid's report (fails the test on EOF). */
static void kid_read(struct kid *k, void *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		n = read(k->report, (char *)buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "child %d reported nothing", (int)k->pid);
		got += (size_t)n;
	}
}

static int kid_wait(struct kid *k)
{
	int status;

	ck_assert_int_eq(waitpid(k->pid, &status, 0), k->pid);
	return status;
}

/* Grandchildren orphaned by a kill come to this test process rather than
 * to PID 1 (which may not reap them on some hosts), so that reap() can
 * collect them and no zombie outlives the test. */
static void adopt_orphans(void)
{
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
}

/* Reap n children or adopted orphans that were killed. */
static void reap(int n)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_gt(waitpid(-1, NULL, 0), 0);
}

static int sleeper(int report, void *arg)
{
	(void)report;
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* /proc/PID/cgroup must put pid in cg. */
static void assert_in(pid_t pid, keel_cgroup *cg)
{
	char path[64], want[4096], *mnt = mount_point(), *text;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	text = kt_read(path);
	ck_assert_ptr_nonnull(text);
	snprintf(want, sizeof(want), "0::%s\n", keel_cgroup_path(cg) + strlen(mnt));
	ck_assert_msg(strstr(text, want) != NULL, "%s is %s, not %s", path, text, want);
	free(mnt);
}

static int count_lines(const char *s)
{
	int n = *s ? 1 : 0;

	for (; *s; s++)
		if (*s == '\n' && s[1])
			n++;
	return n;
}

static int count_subdirs(const char *path)
{
	char cmd[4200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 -type d | wc -l", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* Wait (bounded) until the events fd is readable, collecting bits until
 * all of want are seen. Returns the bits seen. */
static unsigned wait_event_bits(keel_cgroup *cg, unsigned want, int timeout_ms)
{
	int fd = keel_cgroup_events_fd(cg, NULL);
	int64_t end = mono_ms() + timeout_ms;
	unsigned seen = 0, bits;

	ck_assert_int_ge(fd, 0);
	while ((seen & want) != want && mono_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, (int)(end - mono_ms())) <= 0)
			continue;
		bits = 0;
		ck_assert_int_eq(keel_cgroup_events_read(cg, &bits, NULL), 0);
		seen |= bits;
	}
	return seen;
}

/* ----------------------------------------------------------- discovery -- */

START_TEST(discovery_finds_the_cgroup2_mount)
{
	char *m = mount_point(), *parent = NULL, *self, want[4096];
	struct statfs sfs, top;
	keel_error *err = NULL;

	ck_assert_int_eq(statfs(m, &sfs), 0);
	ck_assert_msg(sfs.f_type == CGROUP2_SUPER_MAGIC, "%s is not cgroup2", m);
	/* on a hybrid host /sys/fs/cgroup is a tmpfs of v1 mounts, and the v2
	 * tree is the "unified" one below it */
	if (statfs("/sys/fs/cgroup", &top) == 0 && top.f_type == TMPFS_MAGIC)
		ck_assert_str_eq(m, "/sys/fs/cgroup/unified");
	else if (top.f_type == CGROUP2_SUPER_MAGIC)
		ck_assert_str_eq(m, "/sys/fs/cgroup");

	/* the default parent: the caller's cgroup's parent, or the root */
	must(keel_cgroup_default_parent(&parent, &err), err, "default parent");
	self = kt_read("/proc/self/cgroup");
	ck_assert_ptr_nonnull(self);
	self = strstr(self, "0::");
	ck_assert_ptr_nonnull(self);
	self += 3;
	self[strcspn(self, "\n")] = '\0';
	if (!strcmp(self, "/")) {
		ck_assert_str_eq(parent, m);
	} else {
		snprintf(want, sizeof(want), "%s%s", m, self);
		*strrchr(want, '/') = '\0';
		ck_assert_str_eq(parent, want);
	}
	free(parent);
	free(m);
}
END_TEST

/* In a private mount namespace without the cgroup2 mount, the library says
 * there is none. The namespace is made private before anything is
 * unmounted, so the host's mounts are never touched. */
START_TEST(discovery_says_when_there_is_no_cgroup2)
{
	char *m = mount_point();
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		keel_error *err = NULL;
		keel_cgroup *cg = NULL;
		char *where = NULL;

		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(10);
		/* every cgroup2 mount, in this namespace only */
		while (keel_cgroup_mount_path(&where, NULL) == 0) {
			if (umount2(where, MNT_DETACH) < 0)
				_exit(11);
			free(where);
		}
		if (keel_cgroup_mount_path(&where, &err) != -ENOENT)
			_exit(12);
		if (!strstr(keel_error_message(err), "no cgroup2 filesystem is mounted"))
			_exit(13);
		if (keel_cgroup_create(&cg, "x", NULL, NULL) != -ENOENT)
			_exit(14);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	/* and the host still has it */
	free(m);
	m = mount_point();
	free(m);
}
END_TEST

/* The cgroup2 mount is remembered between calls, but never past a change:
 * in a private mount namespace (so the host's mounts are never touched),
 * the answer is mountinfo's at every step while cgroup2 is mounted
 * elsewhere, mounted over, and unmounted from where it was. */
START_TEST(discovery_follows_the_mount_table)
{
	char *m = mount_point(), dir[4096];
	int status;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/cg2", kt_tmpdir());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *cached = NULL, *fresh = NULL;
		keel_cgroup *cg = NULL;
		int step = 0;

		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(10);
#define SAME_AS_MOUNTINFO(want)                                                                         \
	do {                                                                                            \
		step++;                                                                                 \
		if (keel_cgroup_mount_path(&cached, NULL) < 0 || keel_find_mount("cgroup2", &fresh, NULL) < 0) \
			_exit(20 + step);                                                               \
		if (strcmp(cached, fresh) || strcmp(cached, (want)))                                    \
			_exit(40 + step);                                                               \
		free(cached);                                                                           \
		free(fresh);                                                                            \
	} while (0)
		SAME_AS_MOUNTINFO(m);
		SAME_AS_MOUNTINFO(m); /* from the cache */
		if (mount("none", dir, "cgroup2", 0, NULL) < 0)
			_exit(11);
		SAME_AS_MOUNTINFO(m); /* a second mount comes after the first */
		if (mount("none", m, "tmpfs", 0, NULL) < 0)
			_exit(12);
		SAME_AS_MOUNTINFO(m); /* mounted over: mountinfo still names it */
		if (umount2(m, MNT_DETACH) < 0 || umount2(m, MNT_DETACH) < 0)
			_exit(13);
		SAME_AS_MOUNTINFO(dir); /* gone from there: the other one */
		SAME_AS_MOUNTINFO(dir);
		if (keel_cgroup_open(&cg, "", dir, NULL) < 0)
			_exit(14);
		if (strcmp(keel_cgroup_name(cg), "/"))
			_exit(15);
		keel_cgroup_free(cg);
		_exit(0);
#undef SAME_AS_MOUNTINFO
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit status %d",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -status);
	free(m);
	m = mount_point(); /* the host's is where it was */
	free(m);
}
END_TEST

/* A parent is the directory it names: by its real path, through a
 * symlink, with "//" or ".." in it; and a symlink out of the hierarchy
 * is refused. */
START_TEST(parent_paths_resolve_to_their_real_directory)
{
	keel_cgroup *p = test_parent(), *cg = NULL;
	const char *pp = keel_cgroup_path(p), *base = strrchr(pp, '/') + 1;
	char link[4096], odd[8192], want[8192], *m = mount_point();
	keel_error *err = NULL;
	struct {
		const char *parent, *name;
	} cases[4];

	snprintf(link, sizeof(link), "%s/cglink", kt_tmpdir());
	ck_assert_int_eq(symlink(pp, link), 0);
	snprintf(odd, sizeof(odd), "%s//", pp);
	cases[0].parent = pp, cases[0].name = "plain";
	cases[1].parent = link, cases[1].name = "viasym";
	cases[2].parent = odd, cases[2].name = "slashes";
	cases[3].parent = NULL, cases[3].name = "dotdot";
	for (int i = 0; i < 4; i++) {
		char dotdot[8192];

		if (!cases[i].parent) {
			snprintf(dotdot, sizeof(dotdot), "%s/../%s", pp, base);
			cases[i].parent = dotdot;
		}
		ck_assert_msg(keel_cgroup_create(&cg, cases[i].name, cases[i].parent, &err) == 0, "%s: %s",
			      cases[i].parent, keel_error_message(err));
		snprintf(want, sizeof(want), "%s/%s", pp, cases[i].name);
		ck_assert_str_eq(keel_cgroup_path(cg), want);
		ck_assert_str_eq(keel_cgroup_name(cg), want + strlen(m) + 1);
		ck_assert_int_eq(keel_cgroup_remove(cg, 0, NULL), 0);
		keel_cgroup_free(cg);
		cg = NULL;
	}
	snprintf(link, sizeof(link), "%s/outlink", kt_tmpdir());
	ck_assert_int_eq(symlink(kt_tmpdir(), link), 0);
	ck_assert_int_eq(keel_cgroup_create(&cg, "x", link, &err), -EINVAL);
	ck_assert_msg(strstr(keel_error_message(err), "not inside the cgroup2 hierarchy"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	ck_assert_ptr_null(cg);
	free(m);
}
END_TEST

/* ------------------------------------------------------------ lifecycle -- */

START_TEST(create_open_and_remove_children_first)
{
	keel_cgroup *p = test_parent(), *ab = NULL, *again = NULL, *a = NULL;
	struct stat s1, s2;
	struct statfs sfs;
	keel_error *err = NULL;
	char path[4096];

	must(keel_cgroup_create(&ab, "a/b", keel_cgroup_path(p), &err), err, "create a/b");
	snprintf(path, sizeof(path), "%s/a/b", keel_cgroup_path(p));
	ck_assert_str_eq(keel_cgroup_path(ab), path);
	ck_assert_int_eq(stat(path, &s1), 0);
	ck_assert_int_eq(statfs(path, &sfs), 0);
	ck_assert(sfs.f_type == CGROUP2_SUPER_MAGIC);
	/* the handle's fd is that directory */
	ck_assert_int_eq(fstat(keel_cgroup_fd(ab), &s2), 0);
	ck_assert(s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);

	/* creating it again says it exists; opening it finds the same one */
	ck_assert_int_eq(keel_cgroup_create(&again, "a/b", keel_cgroup_path(p), &err), -EEXIST);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_EXISTS);
	ck_assert_msg(strstr(keel_error_message(err), "exists already"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_ptr_null(again);
	must(keel_cgroup_open(&again, "a/b", keel_cgroup_path(p), &err), err, "open a/b");
	ck_assert_int_eq(fstat(keel_cgroup_fd(again), &s2), 0);
	ck_assert(s1.st_ino == s2.st_ino);
	keel_cgroup_free(again);

	/* removing "a" removes a/b first */
	must(keel_cgroup_open(&a, "a", keel_cgroup_path(p), &err), err, "open a");
	must(keel_cgroup_remove(a, 0, &err), err, "remove a");
	snprintf(path, sizeof(path), "%s/a", keel_cgroup_path(p));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* removing again is fine; opening now fails clearly */
	must(keel_cgroup_remove(a, 0, &err), err, "remove a again");
	ck_assert_int_eq(keel_cgroup_open(&again, "a", keel_cgroup_path(p), &err), -ENOENT);
	ck_assert_msg(strstr(keel_error_message(err), "no such cgroup"), "%s", keel_error_message(err));
	keel_error_free(err);
	keel_cgroup_free(a);
	keel_cgroup_free(ab);
	keel_cgroup_free(NULL);
}
END_TEST

static void check_invalid(int ret, keel_error **err, const char *needle)
{
	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_int_eq(keel_error_code(*err), KEEL_ERROR_INVALID);
	ck_assert_msg(strstr(keel_error_message(*err), needle), "'%s' lacks '%s'", keel_error_message(*err), needle);
	keel_error_free(*err);
	*err = NULL;
}

/* call fills the local err; it must fail with -EINVAL saying needle */
#define expect_invalid(call, needle) do { int r_ = (call); check_invalid(r_, &err, needle); } while (0)

START_TEST(bad_input_is_refused_and_leaves_nothing)
{
	keel_cgroup *p = test_parent(), *cg = NULL;
	keel_error *err = NULL;
	char *m = mount_point(), outside[4200], *value = NULL, *before;

	expect_invalid(keel_cgroup_create(&cg, "../escape", keel_cgroup_path(p), &err), "\"..\"");
	expect_invalid(keel_cgroup_create(&cg, "a/../../b", keel_cgroup_path(p), &err), "\"..\"");
	expect_invalid(keel_cgroup_create(&cg, "/abs", keel_cgroup_path(p), &err), "relative");
	expect_invalid(keel_cgroup_create(&cg, "a//b", keel_cgroup_path(p), &err), "empty");
	expect_invalid(keel_cgroup_create(&cg, "", keel_cgroup_path(p), &err), "empty");
	expect_invalid(keel_cgroup_create(&cg, "x", "/tmp", &err), "not inside the cgroup2 hierarchy");
	snprintf(outside, sizeof(outside), "%s/..", m);
	expect_invalid(keel_cgroup_create(&cg, "x", outside, &err), "not inside the cgroup2 hierarchy");
	expect_invalid(keel_cgroup_create(&cg, "x", "relative/parent", &err), "absolute");
	snprintf(outside, sizeof(outside), "%s/no-such-parent-kt", m);
	ck_assert_int_eq(keel_cgroup_create(&cg, "x", outside, &err), -ENOENT);
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_create(NULL, "x", NULL, NULL), -EINVAL);
	ck_assert_ptr_null(cg);
	/* nothing was made anywhere */
	ck_assert_int_eq(count_subdirs(keel_cgroup_path(p)), 0);

	/* bad values: refused by the library or the kernel, state unchanged */
	cg = make_cg(p, "v");
	expect_invalid(keel_cgroup_set_cpu_max(cg, 5000, 10, &err), "out of range");
	expect_invalid(keel_cgroup_set_cpu_weight(cg, 0, &err), "out of range");
	expect_invalid(keel_cgroup_set_cpuset_cpus(cg, "zero", &err), "not a list");
	expect_invalid(keel_cgroup_set_raw(cg, "../cgroup.procs", "1", &err), "not an interface file");
	expect_invalid(keel_cgroup_add_pid(cg, -1, &err), "not a process id");
	expect_invalid(keel_cgroup_remove(cg, 0x80, &err), "unknown flags");
	before = cg_file(cg, "cgroup.max.descendants");
	ck_assert_int_eq(keel_cgroup_set_raw(cg, "cgroup.max.descendants", "lots", &err), -EINVAL);
	ck_assert_msg(strstr(keel_error_message(err), "set cgroup.max.descendants to 'lots'"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_str_eq(cg_file(cg, "cgroup.max.descendants"), before);
	ck_assert_int_eq(keel_cgroup_get_raw(cg, "no.such.file", &value, &err), -ENOENT);
	keel_error_free(err);
	err = NULL;
	/* a pid that cannot exist (above the largest pid_max) */
	ck_assert_int_eq(keel_cgroup_add_pid(cg, 4194304 + 7, &err), -ESRCH);
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_events_read(cg, (unsigned[]){0}, &err), -EINVAL);
	keel_error_free(err);
	/* NULL handles are refused, not dereferenced */
	ck_assert_int_eq(keel_cgroup_set_memory_max(NULL, 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_cgroup_kill(NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_cgroup_fd(NULL), -EINVAL);
	ck_assert_ptr_null(keel_cgroup_path(NULL));
	free(m);
}
END_TEST

START_TEST(raw_files_round_trip)
{
	keel_cgroup *cg = make_cg(test_parent(), "raw");
	keel_error *err = NULL;
	char *value = NULL;

	must(keel_cgroup_set_raw(cg, "cgroup.max.descendants", "3", &err), err, "set raw");
	ck_assert_str_eq(cg_file(cg, "cgroup.max.descendants"), "3");
	must(keel_cgroup_get_raw(cg, "cgroup.max.descendants", &value, &err), err, "get raw");
	ck_assert_str_eq(value, "3");
	free(value);
	must(keel_cgroup_get_raw(cg, "cgroup.type", &value, &err), err, "get cgroup.type");
	ck_assert_str_eq(value, cg_file(cg, "cgroup.type"));
	free(value);
}
END_TEST

/* ------------------------------------------------------------ processes -- */

START_TEST(add_pid_moves_a_child)
{
	keel_cgroup *cg = make_cg(test_parent(), "procs");
	struct kid k = kid_start(sleeper, NULL);
	keel_error *err = NULL;
	int populated = -1;

	must(keel_cgroup_is_populated(cg, &populated, &err), err, "populated");
	ck_assert_int_eq(populated, 0);
	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	assert_in(k.pid, cg);
	ck_assert_int_eq(atoi(cg_file(cg, "cgroup.procs")), k.pid);
	must(keel_cgroup_is_populated(cg, &populated, &err), err, "populated");
	ck_assert_int_eq(populated, 1);
	ck_assert_int_eq(cg_field(cg, "cgroup.events", "populated"), 1);
}
END_TEST

static int child_in_cgroup(void *arg)
{
	(void)arg;
	pause();
	_exit(0);
}

START_TEST(clone3_into_cgroup_with_the_fd)
{
	keel_cgroup *cg = make_cg(test_parent(), "clone");
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)keel_cgroup_fd(cg),
	};
	long pid;

	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		child_in_cgroup(NULL);
	ck_assert_msg(pid > 0, "clone3 CLONE_INTO_CGROUP: %s", strerror(errno));
	kt_defer_kill((pid_t)pid);
	assert_in((pid_t)pid, cg);
}
END_TEST

/* -------------------------------------------------- freeze, kill, events -- */

static int counter(int report, void *arg)
{
	volatile uint64_t *count = arg;

	(void)report;
	for (;;)
		(*count)++;
	return 0;
}

START_TEST(freeze_stops_a_counter_and_thaw_resumes_it)
{
	keel_cgroup *cg = make_cg(test_parent(), "frz");
	volatile uint64_t *count;
	keel_error *err = NULL;
	uint64_t c1, c2;
	int frozen = -1;
	int64_t end;
	struct kid k;

	count = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(count != MAP_FAILED);
	k = kid_start(counter, (void *)count);
	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	ck_assert_int_ge(keel_cgroup_events_fd(cg, NULL), 0);
	kid_go(&k);
	while (*count == 0)
		sleep_ms(1);

	must(keel_cgroup_freeze(cg, 30000, &err), err, "freeze");
	/* freeze returns only once the kernel says frozen */
	ck_assert_int_eq(cg_field(cg, "cgroup.events", "frozen"), 1);
	must(keel_cgroup_is_frozen(cg, &frozen, &err), err, "is frozen");
	ck_assert_int_eq(frozen, 1);
	c1 = *count;
	sleep_ms(200);
	c2 = *count;
	ck_assert_msg(c1 == c2, "counted from %" PRIu64 " to %" PRIu64 " while frozen", c1, c2);
	ck_assert(wait_event_bits(cg, KEEL_CGROUP_EVENT_FROZEN, 10000) & KEEL_CGROUP_EVENT_FROZEN);

	must(keel_cgroup_thaw(cg, 30000, &err), err, "thaw");
	ck_assert_int_eq(cg_field(cg, "cgroup.events", "frozen"), 0);
	for (end = mono_ms() + 30000; *count == c2 && mono_ms() < end;)
		sleep_ms(10);
	ck_assert_msg(*count > c2, "still %" PRIu64 " after thaw", c2);
	munmap((void *)count, 4096);
}
END_TEST

static int forks_a_grandchild(int report, void *arg)
{
	(void)report;
	(void)arg;
	if (fork() == 0)
		for (;;)
			pause();
	for (;;)
		pause();
	return 0;
}

START_TEST(kill_empties_the_cgroup_and_events_say_so)
{
	keel_cgroup *cg = make_cg(test_parent(), "kill");
	struct kid k1, k2;
	keel_error *err = NULL;
	int status, populated = -1;

	adopt_orphans();
	k1 = kid_start(sleeper, NULL);
	k2 = kid_start(forks_a_grandchild, NULL);

	ck_assert_int_ge(keel_cgroup_events_fd(cg, NULL), 0);
	must(keel_cgroup_add_pid(cg, k1.pid, &err), err, "add k1");
	must(keel_cgroup_add_pid(cg, k2.pid, &err), err, "add k2");
	ck_assert(wait_event_bits(cg, KEEL_CGROUP_EVENT_POPULATED, 10000) & KEEL_CGROUP_EVENT_POPULATED);
	kid_go(&k2);
	/* the grandchild is born in the cgroup: three processes */
	for (int i = 0; i < 10000 && count_lines(cg_file(cg, "cgroup.procs")) < 3; i++)
		sleep_ms(1);
	ck_assert_int_eq(count_lines(cg_file(cg, "cgroup.procs")), 3);

	must(keel_cgroup_kill(cg, &err), err, "kill");
	ck_assert_int_eq(cg_field(cg, "cgroup.events", "populated"), 0);
	ck_assert_str_eq(cg_file(cg, "cgroup.procs"), "");
	must(keel_cgroup_is_populated(cg, &populated, &err), err, "populated");
	ck_assert_int_eq(populated, 0);
	status = kid_wait(&k1);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	status = kid_wait(&k2);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	reap(1);   /* the grandchild */
	ck_assert(wait_event_bits(cg, KEEL_CGROUP_EVENT_POPULATED, 10000) & KEEL_CGROUP_EVENT_POPULATED);
}
END_TEST

START_TEST(remove_refuses_a_populated_cgroup_unless_told_to_kill)
{
	keel_cgroup *p = test_parent(), *cg = make_cg(p, "busy");
	struct kid k = kid_start(sleeper, NULL);
	keel_error *err = NULL;
	int status;

	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	make_cg(cg, "child");
	ck_assert_int_eq(keel_cgroup_remove(cg, 0, &err), -EBUSY);
	ck_assert_msg(strstr(keel_error_message(err), "still has processes"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(access(keel_cgroup_path(cg), F_OK), 0);
	ck_assert_int_eq(kill(k.pid, 0), 0);

	must(keel_cgroup_remove(cg, KEEL_CGROUP_REMOVE_KILL, &err), err, "remove with kill");
	ck_assert_int_eq(access(keel_cgroup_path(cg), F_OK), -1);
	status = kid_wait(&k);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

static int burn_cpu(int report, void *arg)
{
	struct timespec ts;
	volatile unsigned long x = 0;
	int64_t want_ms = (int64_t)(intptr_t)arg, used;

	(void)report;
	do {
		for (int i = 0; i < 100000; i++)
			x++;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		used = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	} while (used < want_ms);
	return 0;
}

START_TEST(cpu_stat_counts_a_child_s_cpu_time)
{
	keel_cgroup *cg = make_cg(test_parent(), "cpu");
	struct kid k = kid_start(burn_cpu, (void *)(intptr_t)300);
	keel_error *err = NULL;
	uint64_t usage = 0, user = 0;
	long long before, after;
	int status;

	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	kid_go(&k);
	status = kid_wait(&k);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The kernel flushes a dead task's last CPU time into cpu.stat lazily,
	 * so the counter may still grow a little after the wait: the
	 * library's reading must lie between two reads of the file. */
	before = cg_field(cg, "cpu.stat", "usage_usec");
	must(keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_USAGE_USEC, &usage, &err), err, "usage");
	after = cg_field(cg, "cpu.stat", "usage_usec");
	must(keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_USER_USEC, &user, &err), err, "user");
	/* the child burned at least 300 ms of CPU inside the cgroup */
	ck_assert_msg(usage >= 250000, "usage_usec %" PRIu64, usage);
	ck_assert_msg(before <= (long long)usage && (long long)usage <= after,
		      "usage_usec %" PRIu64 " outside the kernel's %lld..%lld", usage, before, after);
	ck_assert(user <= usage);
}
END_TEST

/* ------------------------------------------- hybrid host: no controllers -- */

START_TEST(limits_say_the_controller_is_not_available)
{
	keel_cgroup *p = test_parent(), *cg = make_cg(p, "lim");
	char *m = mount_point(), where[4200], *root_before, *parent_before;
	keel_error *err = NULL;
	struct statfs sfs;
	uint64_t v;

	snprintf(where, sizeof(where), "%s/cgroup.subtree_control", m);
	root_before = kt_read(where);
	parent_before = cg_file(p, "cgroup.subtree_control");

	ck_assert_int_eq(keel_cgroup_set_memory_max(cg, 16 << 20, &err), -ENOENT);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_UNSUPPORTED);
	snprintf(where, sizeof(where), "cgroup %s: set memory.max: controller memory is not available "
		 "(not listed in %s/cgroup.controllers", keel_cgroup_name(cg), m);
	ck_assert_msg(strstr(keel_error_message(err), where), "'%s' lacks '%s'", keel_error_message(err), where);
	/* on this hybrid host the v1 memory hierarchy holds it */
	if (statfs("/sys/fs/cgroup/memory", &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC)
		ck_assert_msg(strstr(keel_error_message(err), "the cgroup v1 hierarchy at /sys/fs/cgroup/memory holds it"),
			      "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;

	ck_assert_int_eq(keel_cgroup_set_pids_max(cg, 5, &err), -ENOENT);
	ck_assert_msg(strstr(keel_error_message(err), "controller pids is not available"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_set_cpu_max(cg, 10000, 100000, &err), -ENOENT);
	ck_assert_msg(strstr(keel_error_message(err), "controller cpu is not available"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_set_io_max(cg, 1, 0, KEEL_CGROUP_IO_WBPS, 1 << 20, &err), -ENOENT);
	ck_assert_msg(strstr(keel_error_message(err), "controller io is not available"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_get_memory_max(cg, &v, &err), -ENOENT);
	ck_assert_msg(strstr(keel_error_message(err), "controller memory is not enabled"), "%s", keel_error_message(err));
	keel_error_free(err);

	/* and nothing changed in the kernel */
	ck_assert_int_eq(access(keel_cgroup_path(cg), F_OK), 0);
	snprintf(where, sizeof(where), "%s/memory.max", keel_cgroup_path(cg));
	ck_assert_int_eq(access(where, F_OK), -1);
	snprintf(where, sizeof(where), "%s/cgroup.subtree_control", m);
	ck_assert_str_eq(kt_read(where), root_before);
	ck_assert_str_eq(cg_file(p, "cgroup.subtree_control"), parent_before);
	free(m);
}
END_TEST

/* ------------------------------------------------- pure v2: real limits -- */

static int fork_until_refused(int report, void *arg)
{
	int result[2] = { 0, 0 };   /* forks that worked, errno of the first refusal */

	(void)arg;
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();

		if (pid == 0)
			for (;;)
				pause();
		if (pid < 0) {
			result[1] = errno;
			break;
		}
		result[0]++;
	}
	if (write(report, result, sizeof(result)) != sizeof(result))
		return 1;
	for (;;)
		pause();
	return 0;
}

START_TEST(pids_max_refuses_the_sixth_task)
{
	keel_cgroup *cg = make_cg(test_parent(), "pids");
	keel_error *err = NULL;
	uint64_t max = 0, cur = 0;
	int result[2];
	struct kid k;

	adopt_orphans();
	k = kid_start(fork_until_refused, NULL);

	must(keel_cgroup_set_pids_max(cg, 5, &err), err, "set pids.max");
	ck_assert_str_eq(cg_file(cg, "pids.max"), "5");
	must(keel_cgroup_get_pids_max(cg, &max, &err), err, "get pids.max");
	ck_assert_uint_eq(max, 5);
	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	kid_go(&k);
	kid_read(&k, result, sizeof(result));
	/* the forker is task 1; forks 2..5 work, the sixth task is refused */
	ck_assert_int_eq(result[0], 4);
	ck_assert_int_eq(result[1], EAGAIN);
	must(keel_cgroup_get_pids_current(cg, &cur, &err), err, "pids.current");
	ck_assert_uint_eq(cur, 5);
	ck_assert_int_eq(atoi(cg_file(cg, "pids.current")), 5);
	ck_assert_int_ge(cg_field(cg, "pids.events", "max"), 1);
	must(keel_cgroup_kill(cg, &err), err, "kill");
	/* a zombie still holds its pid: pids.current drops when it is reaped */
	ck_assert(WIFSIGNALED(kid_wait(&k)));
	reap(4);   /* its children */
	must(keel_cgroup_get_pids_current(cg, &cur, &err), err, "pids.current");
	ck_assert_uint_eq(cur, 0);
}
END_TEST

static int hog(int report, void *arg)
{
	long mb = (long)(intptr_t)arg;

	(void)report;
	for (long i = 0; i < mb; i++) {
		char *p = malloc(1 << 20);

		if (!p)
			return 3;
		memset(p, 0xa5, 1 << 20);
	}
	return 0;
}

START_TEST(memory_max_oom_kills_a_hog_and_wakes_the_events_fd)
{
	keel_cgroup *cg = make_cg(test_parent(), "mem");
	struct kid k = kid_start(hog, (void *)(intptr_t)64);
	keel_error *err = NULL;
	uint64_t v = 0, kills = 0, peak = 0;
	unsigned seen;
	int status;

	must(keel_cgroup_set_memory_max(cg, 16 << 20, &err), err, "set memory.max");
	must(keel_cgroup_set_memory_swap_max(cg, 0, &err), err, "set memory.swap.max");
	ck_assert_str_eq(cg_file(cg, "memory.max"), "16777216");
	ck_assert_str_eq(cg_file(cg, "memory.swap.max"), "0");
	must(keel_cgroup_get_memory_max(cg, &v, &err), err, "get memory.max");
	ck_assert_uint_eq(v, 16 << 20);
	ck_assert_int_ge(keel_cgroup_events_fd(cg, NULL), 0);
	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	kid_go(&k);

	seen = wait_event_bits(cg, KEEL_CGROUP_EVENT_OOM_KILL, 60000);
	ck_assert_msg(seen & KEEL_CGROUP_EVENT_OOM_KILL, "events fd reported 0x%x, no oom_kill", seen);
	status = kid_wait(&k);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "hog status %d", status);
	ck_assert_int_ge(cg_field(cg, "memory.events", "oom_kill"), 1);
	must(keel_cgroup_get_memory_event(cg, KEEL_CGROUP_MEMORY_EVENT_OOM_KILL, &kills, &err), err, "oom_kill");
	ck_assert_int_eq((long long)kills, cg_field(cg, "memory.events", "oom_kill"));
	must(keel_cgroup_get_memory_peak(cg, &peak, &err), err, "memory.peak");
	ck_assert_uint_le(peak, 16 << 20);
	ck_assert_uint_gt(peak, 8 << 20);
}
END_TEST

static int spin_wall(int report, void *arg)
{
	int64_t end = mono_ms() + (int64_t)(intptr_t)arg;
	volatile unsigned long x = 0;

	(void)report;
	while (mono_ms() < end)
		for (int i = 0; i < 10000; i++)
			x++;
	return 0;
}

/* The kernel's own account of the quota at work: cpu.stat counts the
 * periods in which the group ran out of its 10 ms and the time it was held
 * back. No bound on the CPU time used: that would be a timing assertion
 * on a machine whose other load we do not control. */
START_TEST(cpu_max_throttles_a_busy_loop)
{
	keel_cgroup *cg = make_cg(test_parent(), "cpumax");
	struct kid k = kid_start(spin_wall, (void *)(intptr_t)2000);
	keel_error *err = NULL;
	uint64_t quota = 0, period = 0, usage = 0, throttled = 0, throttled_usec = 0;
	int status;

	must(keel_cgroup_set_cpu_max(cg, 10000, 100000, &err), err, "set cpu.max");
	ck_assert_str_eq(cg_file(cg, "cpu.max"), "10000 100000");
	must(keel_cgroup_get_cpu_max(cg, &quota, &period, &err), err, "get cpu.max");
	ck_assert_uint_eq(quota, 10000);
	ck_assert_uint_eq(period, 100000);
	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	kid_go(&k);
	status = kid_wait(&k);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	must(keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_USAGE_USEC, &usage, &err), err, "usage");
	must(keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_NR_THROTTLED, &throttled, &err), err, "throttled");
	must(keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_THROTTLED_USEC, &throttled_usec, &err), err,
	     "throttled_usec");
	printf("cpu.max 10ms/100ms: 2 s of spinning used %" PRIu64 " us of CPU, throttled %" PRIu64
	       " times for %" PRIu64 " us\n", usage, throttled, throttled_usec);
	fflush(stdout);
	ck_assert_msg(throttled > 0, "nr_throttled is 0");
	ck_assert_msg(throttled_usec > 0, "throttled_usec is 0");
	ck_assert_int_eq((long long)throttled, cg_field(cg, "cpu.stat", "nr_throttled"));
	ck_assert_int_eq((long long)throttled_usec, cg_field(cg, "cpu.stat", "throttled_usec"));
	ck_assert_msg((long long)throttled <= cg_field(cg, "cpu.stat", "nr_periods"), "nr_throttled %" PRIu64
		      " > nr_periods %lld", throttled, cg_field(cg, "cpu.stat", "nr_periods"));
}
END_TEST

struct io_job {
	unsigned major, minor;
};

static int write_ramdisk(int report, void *arg)
{
	int64_t start, elapsed;
	void *buf;
	int fd;

	(void)arg;
	if (posix_memalign(&buf, 4096, 65536))
		return 2;
	memset(buf, 0x5a, 65536);
	fd = open("/dev/ram0", O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return 3;
	start = mono_ms();
	for (int i = 0; i < 48; i++)   /* 3 MiB */
		if (pwrite(fd, buf, 65536, (off_t)i * 65536) != 65536)
			return 4;
	elapsed = mono_ms() - start;
	close(fd);
	if (write(report, &elapsed, sizeof(elapsed)) != sizeof(elapsed))
		return 5;
	return 0;
}

START_TEST(io_max_throttles_ramdisk_writes)
{
	keel_cgroup *cg = make_cg(test_parent(), "io");
	struct kid k = kid_start(write_ramdisk, NULL);
	keel_error *err = NULL;
	unsigned major, minor;
	uint64_t wbps = 0, rbps = 0, wbytes = 0;
	int64_t elapsed = 0;
	char want[128], *dev;
	int status;

	dev = kt_read("/sys/block/ram0/dev");
	ck_assert_msg(dev != NULL, "no /sys/block/ram0: is the brd module loaded?");
	ck_assert_int_eq(sscanf(dev, "%u:%u", &major, &minor), 2);
	must(keel_cgroup_set_io_max(cg, major, minor, KEEL_CGROUP_IO_WBPS, 1 << 20, &err), err, "set io.max");
	snprintf(want, sizeof(want), "%u:%u rbps=max wbps=1048576 riops=max wiops=max", major, minor);
	ck_assert_str_eq(cg_file(cg, "io.max"), want);
	must(keel_cgroup_get_io_max(cg, major, minor, KEEL_CGROUP_IO_WBPS, &wbps, &err), err, "get wbps");
	ck_assert_uint_eq(wbps, 1 << 20);
	must(keel_cgroup_get_io_max(cg, major, minor, KEEL_CGROUP_IO_RBPS, &rbps, &err), err, "get rbps");
	ck_assert(rbps == KEEL_CGROUP_MAX);
	must(keel_cgroup_add_pid(cg, k.pid, &err), err, "add pid");
	kid_go(&k);
	kid_read(&k, &elapsed, sizeof(elapsed));
	status = kid_wait(&k);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %d", status);
	printf("io.max wbps=1MiB/s: 3 MiB of O_DIRECT writes to /dev/ram0 took %lld ms\n", (long long)elapsed);
	fflush(stdout);
	/* 3 MiB at 1 MiB/s cannot take less than ~2 s (a first slice may burst) */
	ck_assert_msg(elapsed >= 1500, "3 MiB written in %lld ms despite wbps=1MiB/s", (long long)elapsed);
	must(keel_cgroup_get_io_stat(cg, major, minor, KEEL_CGROUP_IO_STAT_WBYTES, &wbytes, &err), err, "io.stat");
	ck_assert_uint_ge(wbytes, 3 << 20);
	/* lifting the limit removes the line */
	must(keel_cgroup_set_io_max(cg, major, minor, KEEL_CGROUP_IO_WBPS, KEEL_CGROUP_MAX, &err), err, "lift");
	ck_assert_str_eq(cg_file(cg, "io.max"), "");
	ck_assert_int_eq(keel_cgroup_set_io_max(cg, 4095, 4095, KEEL_CGROUP_IO_WBPS, 1, &err), -ENODEV);
	ck_assert_msg(strstr(keel_error_message(err), "no block device 4095:4095"), "%s", keel_error_message(err));
	keel_error_free(err);
}
END_TEST

START_TEST(limits_round_trip_and_controllers_are_delegated)
{
	keel_cgroup *p = test_parent(), *cg = make_cg(p, "a/b");
	keel_error *err = NULL;
	uint64_t v = 0;
	char *s = NULL, path[4200];

	must(keel_cgroup_set_memory_high(cg, 32 << 20, &err), err, "memory.high");
	/* memory is now enabled in the test parent and in a, top down */
	ck_assert(strstr(cg_file(p, "cgroup.subtree_control"), "memory"));
	snprintf(path, sizeof(path), "%s/a/cgroup.subtree_control", keel_cgroup_path(p));
	ck_assert(strstr(kt_read(path), "memory"));
	ck_assert_str_eq(cg_file(cg, "memory.high"), "33554432");
	must(keel_cgroup_get_memory_high(cg, &v, &err), err, "get memory.high");
	ck_assert_uint_eq(v, 32 << 20);
	must(keel_cgroup_set_memory_max(cg, KEEL_CGROUP_MAX, &err), err, "memory.max max");
	ck_assert_str_eq(cg_file(cg, "memory.max"), "max");
	must(keel_cgroup_get_memory_max(cg, &v, &err), err, "get memory.max");
	ck_assert(v == KEEL_CGROUP_MAX);
	must(keel_cgroup_set_memory_low(cg, 4 << 20, &err), err, "memory.low");
	ck_assert_str_eq(cg_file(cg, "memory.low"), "4194304");
	must(keel_cgroup_get_memory_low(cg, &v, &err), err, "get memory.low");
	ck_assert_uint_eq(v, 4 << 20);
	must(keel_cgroup_get_memory_swap_max(cg, &v, &err), err, "get memory.swap.max");
	ck_assert(v == KEEL_CGROUP_MAX);
	must(keel_cgroup_get_memory_current(cg, &v, &err), err, "memory.current");
	ck_assert_uint_eq(v, 0);
	must(keel_cgroup_get_memory_stat(cg, "anon", &v, &err), err, "memory.stat anon");
	ck_assert_int_eq(keel_cgroup_get_memory_stat(cg, "no_such_field", &v, &err), -ENOENT);
	keel_error_free(err);
	err = NULL;

	must(keel_cgroup_set_cpu_weight(cg, 250, &err), err, "cpu.weight");
	ck_assert_str_eq(cg_file(cg, "cpu.weight"), "250");
	must(keel_cgroup_get_cpu_weight(cg, &v, &err), err, "get cpu.weight");
	ck_assert_uint_eq(v, 250);
	must(keel_cgroup_set_cpu_max(cg, KEEL_CGROUP_MAX, 50000, &err), err, "cpu.max max");
	ck_assert_str_eq(cg_file(cg, "cpu.max"), "max 50000");

	must(keel_cgroup_set_cpuset_cpus(cg, "0", &err), err, "cpuset.cpus");
	ck_assert_str_eq(cg_file(cg, "cpuset.cpus"), "0");
	must(keel_cgroup_get_cpuset_cpus(cg, &s, &err), err, "get cpuset.cpus");
	ck_assert_str_eq(s, "0");
	free(s);
	must(keel_cgroup_set_cpuset_mems(cg, "0", &err), err, "cpuset.mems");
	must(keel_cgroup_get_cpuset_mems(cg, &s, &err), err, "get cpuset.mems");
	ck_assert_str_eq(s, "0");
	free(s);

	must(keel_cgroup_set_pids_max(cg, KEEL_CGROUP_MAX, &err), err, "pids.max max");
	ck_assert_str_eq(cg_file(cg, "pids.max"), "max");

	must(keel_cgroup_set_io_weight(cg, 0, 0, 300, &err), err, "io.weight default");
	ck_assert(strstr(cg_file(cg, "io.weight"), "default 300"));
	must(keel_cgroup_get_io_weight(cg, 0, 0, &v, &err), err, "get io.weight");
	ck_assert_uint_eq(v, 300);

	/* a raw key of a controller enables it too */
	must(keel_cgroup_set_raw(cg, "memory.oom.group", "1", &err), err, "memory.oom.group");
	ck_assert_str_eq(cg_file(cg, "memory.oom.group"), "1");
}
END_TEST

START_TEST(no_internal_process_rule_is_explained)
{
	keel_cgroup *p = test_parent(), *mid = make_cg(p, "mid"), *leaf = make_cg(mid, "leaf");
	struct kid k = kid_start(sleeper, NULL);
	keel_error *err = NULL;
	char want[4200];

	/* mid holds a process, so it may not pass memory to leaf */
	must(keel_cgroup_add_pid(mid, k.pid, &err), err, "add pid to mid");
	ck_assert_int_eq(keel_cgroup_set_memory_max(leaf, 16 << 20, &err), -EBUSY);
	snprintf(want, sizeof(want), "controller memory cannot be enabled in %s/cgroup.subtree_control",
		 keel_cgroup_path(mid));
	ck_assert_msg(strstr(keel_error_message(err), want), "%s", keel_error_message(err));
	ck_assert_msg(strstr(keel_error_message(err), "no-internal-process rule"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert(!strstr(cg_file(mid, "cgroup.subtree_control"), "memory"));

	/* and the other way: a cgroup that delegates cannot take a process */
	must(keel_cgroup_kill(mid, &err), err, "kill mid");
	must(keel_cgroup_set_memory_max(leaf, 16 << 20, &err), err, "memory.max on leaf");
	ck_assert_int_eq(keel_cgroup_add_pid(mid, kid_start(sleeper, NULL).pid, &err), -EBUSY);
	ck_assert_msg(strstr(keel_error_message(err), "no-internal-process rule"), "%s", keel_error_message(err));
	keel_error_free(err);
}
END_TEST

/* --------------------------------------------------- enable_controller -- */

/* The controller the enable test uses: hugetlb, the one a v1/v2 hybrid
 * host like ours leaves to cgroup2 (and a pure v2 kernel has too). */
#define ENABLE_CONTROLLER "hugetlb"

static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* Best effort: take the controller out of the mount root's
 * subtree_control again if this test put it there (it stays when
 * another cgroup below still uses it). */
static char root_control[4200];

static void disable_in(const char *control)
{
	int fd = open(control, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "-" ENABLE_CONTROLLER, strlen(ENABLE_CONTROLLER) + 1) < 0) {
			/* still in use below: leave it */
		}
		close(fd);
	}
}

/* The suite's cgroup first: the kernel refuses to take a controller
 * from a parent while a child still passes it on. */
static void restore_root_control(void *data)
{
	char suite_control[4200];

	(void)data;
	snprintf(suite_control, sizeof(suite_control), "%s/cgroup.subtree_control", suite_root);
	disable_in(suite_control);
	disable_in(root_control);
}

START_TEST(enable_controller_delegates_it_from_the_root_down)
{
	char *m = mount_point(), path[4200], want[4400];
	keel_cgroup *p, *cg, *mid, *leaf;
	keel_error *err = NULL;
	struct kid k;

	snprintf(root_control, sizeof(root_control), "%s/cgroup.subtree_control", m);
	if (!has_word(kt_read(root_control), ENABLE_CONTROLLER))
		kt_defer_fn(restore_root_control, NULL);
	free(m);
	p = test_parent();
	cg = make_cg(p, "a/b");
	ck_assert(!has_word(cg_file(cg, "cgroup.controllers"), ENABLE_CONTROLLER));
	must(keel_cgroup_enable_controller(cg, ENABLE_CONTROLLER, &err), err, "enable " ENABLE_CONTROLLER);
	/* every ancestor passes it down, the cgroup itself offers it ... */
	ck_assert(has_word(kt_read(root_control), ENABLE_CONTROLLER));
	ck_assert(has_word(cg_file(p, "cgroup.subtree_control"), ENABLE_CONTROLLER));
	snprintf(path, sizeof(path), "%s/a/cgroup.subtree_control", keel_cgroup_path(p));
	ck_assert(has_word(kt_read(path), ENABLE_CONTROLLER));
	ck_assert(has_word(cg_file(cg, "cgroup.controllers"), ENABLE_CONTROLLER));
	/* ... and does not pass it on itself */
	ck_assert(!has_word(cg_file(cg, "cgroup.subtree_control"), ENABLE_CONTROLLER));
	must(keel_cgroup_enable_controller(cg, ENABLE_CONTROLLER, &err), err, "enable twice");

	ck_assert_int_eq(keel_cgroup_enable_controller(cg, "no/such", &err), -EINVAL);
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_enable_controller(cg, "nosuchctl", &err), -ENOENT);
	ck_assert_msg(strstr(keel_error_message(err), "nosuchctl"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_cgroup_enable_controller(NULL, ENABLE_CONTROLLER, &err), -EINVAL);
	keel_error_free(err);
	err = NULL;

	/* a parent with processes of its own cannot pass it down */
	mid = make_cg(test_parent(), "mid");
	leaf = make_cg(mid, "leaf");
	k = kid_start(sleeper, NULL);
	must(keel_cgroup_add_pid(mid, k.pid, &err), err, "add pid to mid");
	ck_assert_int_eq(keel_cgroup_enable_controller(leaf, ENABLE_CONTROLLER, &err), -EBUSY);
	snprintf(want, sizeof(want), "%s/cgroup.subtree_control", keel_cgroup_path(mid));
	ck_assert_msg(strstr(keel_error_message(err), want), "%s", keel_error_message(err));
	keel_error_free(err);
	ck_assert(!has_word(cg_file(mid, "cgroup.subtree_control"), ENABLE_CONTROLLER));
}
END_TEST

/* ------------------------------------------------------------------ main -- */

int main(void)
{
	char *m = NULL, name[64];
	Suite *s = suite_create("cgroup");
	keel_cgroup *root = NULL;
	keel_error *err = NULL;
	TCase *tc;
	SRunner *sr;
	int v2, failed;

	if (keel_cgroup_mount_path(&m, NULL) < 0) {
		printf("cgroup suite: no cgroup2 mount on this host\n");
		return EXIT_FAILURE;
	}
	v2 = pure_v2(m);
	printf("cgroup suite: cgroup2 at %s; %s\n", m,
	       v2 ? "memory is in its cgroup.controllers: pure v2, running the v2-limits cases" :
	       "no memory controller in its cgroup.controllers: running the hybrid-no-controllers "
	       "cases; limits are NOT tested here (tests/vm runs them on a pure v2 kernel)");
	fflush(stdout);
	snprintf(name, sizeof(name), "kcgsuite%d", (int)getpid());
	if (keel_cgroup_create(&root, name, NULL, &err) < 0) {
		printf("cgroup suite: %s\n", keel_error_message(err));
		free(m);
		return EXIT_FAILURE;
	}
	snprintf(suite_root, sizeof(suite_root), "%s", keel_cgroup_path(root));

	tc = kt_tcase("common", 120);
	tcase_add_test(tc, discovery_finds_the_cgroup2_mount);
	tcase_add_test(tc, discovery_says_when_there_is_no_cgroup2);
	tcase_add_test(tc, discovery_follows_the_mount_table);
	tcase_add_test(tc, parent_paths_resolve_to_their_real_directory);
	tcase_add_test(tc, create_open_and_remove_children_first);
	tcase_add_test(tc, bad_input_is_refused_and_leaves_nothing);
	tcase_add_test(tc, raw_files_round_trip);
	tcase_add_test(tc, add_pid_moves_a_child);
	tcase_add_test(tc, clone3_into_cgroup_with_the_fd);
	tcase_add_test(tc, freeze_stops_a_counter_and_thaw_resumes_it);
	tcase_add_test(tc, kill_empties_the_cgroup_and_events_say_so);
	tcase_add_test(tc, remove_refuses_a_populated_cgroup_unless_told_to_kill);
	tcase_add_test(tc, cpu_stat_counts_a_child_s_cpu_time);
	kt_add_test_needs(tc, enable_controller_delegates_it_from_the_root_down,
			  controllers_missing(m, ENABLE_CONTROLLER));
	suite_add_tcase(s, tc);

	if (v2) {
		tc = kt_tcase("v2-limits", 180);
		kt_add_test_needs(tc, pids_max_refuses_the_sixth_task, controllers_missing(m, "pids"));
		kt_add_test_needs(tc, memory_max_oom_kills_a_hog_and_wakes_the_events_fd, controllers_missing(m, "memory"));
		kt_add_test_needs(tc, cpu_max_throttles_a_busy_loop, controllers_missing(m, "cpu"));
		kt_add_test_needs(tc, io_max_throttles_ramdisk_writes,
				  kt_first_missing(controllers_missing(m, "io"), ramdisk_missing()));
		kt_add_test_needs(tc, limits_round_trip_and_controllers_are_delegated,
				  kt_first_missing(controllers_missing(m, "memory cpu cpuset pids io"),
						   io_weight_missing(m)));
		kt_add_test_needs(tc, no_internal_process_rule_is_explained, controllers_missing(m, "memory"));
	} else {
		tc = kt_tcase("hybrid-no-controllers", 60);
		tcase_add_test(tc, limits_say_the_controller_is_not_available);
	}
	suite_add_tcase(s, tc);
	free(m);

	/* verbose, so the log names every case and the set that ran */
	sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (keel_cgroup_remove(root, KEEL_CGROUP_REMOVE_KILL, &err) < 0) {
		printf("cgroup suite: cleanup: %s\n", keel_error_message(err));
		failed++;
	}
	keel_cgroup_free(root);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
