/*
 * The test harness: unique names and guaranteed cleanup. See harness.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "util/fs.h"
#include "harness.h"

enum undo_kind { UNDO_RM_RF, UNDO_UMOUNT, UNDO_CGROUP, UNDO_KILL, UNDO_CLOSE, UNDO_LINK, UNDO_FN, UNDO_FREE };

struct undo {
	enum undo_kind kind;
	char *path;
	pid_t pid;
	int fd;
	void (*fn)(void *);
	void *data;
	struct undo *next;
};

static struct undo *undo_stack;
static unsigned name_counter;
static int atexit_installed;

/*
 * Check ends a failed test's process with _exit(), so neither the checked
 * teardown nor atexit runs there. Every undo action that names a kernel
 * object is therefore also appended to a journal file that the runner
 * process (the parent of every test process) replays in its unchecked
 * teardown after each test case. The runner is also a child subreaper, so
 * processes a dead test left behind are reparented to it and killed there:
 * they are ours by construction.
 */
static int journal_fd = -1;

static void journal_append(const struct undo *u)
{
	char line[4200];
	int n;

	if (journal_fd < 0 || !u->path)
		return;
	if (u->kind != UNDO_RM_RF && u->kind != UNDO_UMOUNT && u->kind != UNDO_CGROUP && u->kind != UNDO_LINK)
		return;
	n = snprintf(line, sizeof(line), "%d\t%s\n", (int)u->kind, u->path);
	if (n > 0 && (size_t)n < sizeof(line) && write(journal_fd, line, (size_t)n) < 0) {
		/* the in-process undo still runs; the journal is the fallback */
	}
}

static void push(struct undo *u)
{
	struct undo *copy = calloc(1, sizeof(*copy));

	ck_assert_ptr_nonnull(copy);
	*copy = *u;
	copy->next = undo_stack;
	undo_stack = copy;
	journal_append(copy);
	if (!atexit_installed) {
		atexit(kt_cleanup);
		atexit_installed = 1;
	}
}

static char *xstrdup(const char *s)
{
	char *c = strdup(s);

	ck_assert_ptr_nonnull(c);
	return c;
}

const char *kt_name(const char *prefix)
{
	char buf[16];
	struct undo u = { .kind = UNDO_FREE };

	snprintf(buf, sizeof(buf), "k%.4s%d%x", prefix, (int)getpid() % 100000, name_counter++ % 0xfff);
	u.path = xstrdup(buf);
	push(&u);
	return u.path;
}

const char *kt_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/keel-test-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp %s: %s", path, strerror(errno));
	kt_defer_rm_rf(path);
	return undo_stack->path;
}

const char *kt_rootfs(void)
{
	const char *r = getenv("KEEL_TEST_ROOTFS");
	char probe[4096];

	ck_assert_msg(r && *r, "KEEL_TEST_ROOTFS is not set: run the suites with make check");
	snprintf(probe, sizeof(probe), "%s/bin/busybox", r);
	ck_assert_msg(access(probe, X_OK) == 0, "no busybox in the test rootfs %s", r);
	return r;
}

void kt_defer_rm_rf(const char *path)
{
	struct undo u = { .kind = UNDO_RM_RF, .path = xstrdup(path) };
	push(&u);
}

void kt_defer_umount(const char *path)
{
	struct undo u = { .kind = UNDO_UMOUNT, .path = xstrdup(path) };
	push(&u);
}

void kt_defer_rmdir_cgroup(const char *path)
{
	struct undo u = { .kind = UNDO_CGROUP, .path = xstrdup(path) };
	push(&u);
}

void kt_defer_kill(pid_t pid)
{
	struct undo u = { .kind = UNDO_KILL, .pid = pid };
	push(&u);
}

void kt_defer_close(int fd)
{
	struct undo u = { .kind = UNDO_CLOSE, .fd = fd };
	push(&u);
}

void kt_defer_link_del(const char *ifname)
{
	struct undo u = { .kind = UNDO_LINK, .path = xstrdup(ifname) };
	push(&u);
}

void kt_defer_fn(void (*fn)(void *), void *data)
{
	struct undo u = { .kind = UNDO_FN, .fn = fn, .data = data };
	push(&u);
}

struct deferred_container {
	char id[80], root[4096];
};

static void force_delete(void *data)
{
	struct deferred_container *t = data;
	keel_container *c = NULL;

	if (keel_container_load(&c, t->id, t->root, NULL) == 0)
		keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	keel_container_free(c);
	free(t);
}

void kt_defer_container(const char *id, const char *root, int default_cgroup)
{
	static char *cg2;
	struct deferred_container *t = calloc(1, sizeof(*t));
	char cg[4200];

	ck_assert_ptr_nonnull(t);
	ck_assert_msg(strlen(id) < sizeof(t->id) && strlen(root) < sizeof(t->root), "id or root too long: %s", id);
	if (default_cgroup) {
		if (!cg2)
			ck_assert_int_eq(keel_find_mount("cgroup2", &cg2, NULL), 0);
		snprintf(cg, sizeof(cg), "%s/keel/%s", cg2, id);
		kt_defer_rmdir_cgroup(cg); /* runs after the delete below */
	}
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->root, sizeof(t->root), "%s", root);
	kt_defer_fn(force_delete, t);
}

void kt_stop_when_ready(keel_container *c, int *code, int *sig)
{
	keel_container *other = NULL;
	keel_error *err = NULL;
	char ready[64];
	int i;

	snprintf(ready, sizeof(ready), "/proc/%d/root/ready", (int)keel_container_pid(c));
	for (i = 0; i < 200 && access(ready, F_OK) != 0; i++)
		usleep(10000);
	ck_assert_msg(access(ready, F_OK) == 0, "the init never made /ready");
	ck_assert_msg(keel_container_load(&other, keel_container_id(c), keel_container_state_root(c), &err) == 0,
		      "%s", keel_error_message(err));
	ck_assert_msg(keel_container_kill(other, keel_container_stop_signal(other), 0, &err) == 0, "%s",
		      keel_error_message(err));
	keel_container_free(other);
	ck_assert_int_eq(keel_container_wait(c, 0, code, sig, NULL), 1);
}

static void rm_rf(int at, const char *name, dev_t dev)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISDIR(st.st_mode) && st.st_dev == dev) {
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && (dir = fdopendir(fd))) {
			while ((de = readdir(dir)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					rm_rf(dirfd(dir), de->d_name, dev);
			closedir(dir);
		}
		unlinkat(at, name, AT_REMOVEDIR);
	} else if (!S_ISDIR(st.st_mode)) {
		unlinkat(at, name, 0);
	}
}

static void rmdir_cgroup(const char *path)
{
	char sub[4096];
	struct dirent *de;
	DIR *dir;
	int fd, i;

	snprintf(sub, sizeof(sub), "%s/cgroup.kill", path);
	if ((fd = open(sub, O_WRONLY | O_CLOEXEC)) >= 0) {
		if (write(fd, "1", 1) < 0) { /* nothing more to do */ }
		close(fd);
	}
	if ((dir = opendir(path))) {
		while ((de = readdir(dir)))
			if (de->d_type == DT_DIR && de->d_name[0] != '.') {
				snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
				rmdir_cgroup(sub);
			}
		closedir(dir);
	}
	/* killed processes leave the cgroup asynchronously */
	for (i = 0; i < 200 && rmdir(path) < 0 && errno == EBUSY; i++)
		usleep(10000);
}

static void undo_one(struct undo *u)
{
	char cmd[256];
	struct stat st;

	switch (u->kind) {
	case UNDO_RM_RF:
		if (lstat(u->path, &st) == 0)
			rm_rf(AT_FDCWD, u->path, st.st_dev);
		break;
	case UNDO_UMOUNT:
		umount2(u->path, MNT_DETACH);
		break;
	case UNDO_CGROUP:
		rmdir_cgroup(u->path);
		break;
	case UNDO_KILL:
		if (u->pid > 0 && kill(u->pid, SIGKILL) == 0)
			waitpid(u->pid, NULL, 0);
		break;
	case UNDO_CLOSE:
		close(u->fd);
		break;
	case UNDO_LINK:
		snprintf(cmd, sizeof(cmd), "ip link del '%s' 2>/dev/null", u->path);
		if (system(cmd)) { /* already gone is fine */ }
		break;
	case UNDO_FN:
		u->fn(u->data);
		break;
	case UNDO_FREE:
		break;
	}
}

void kt_cleanup(void)
{
	while (undo_stack) {
		struct undo *u = undo_stack;
		undo_stack = u->next;
		undo_one(u);
		free(u->path);
		free(u);
	}
}

void kt_setup(void)
{
	name_counter = 0;
}

void kt_teardown(void)
{
	kt_cleanup();
}

/* Kill and reap the processes reparented to this runner (a subreaper). */
static void reap_orphans(void)
{
	struct dirent *de;
	char path[64], buf[512], *p;
	pid_t self = getpid();
	DIR *proc;
	int fd, killed;

	do {
		killed = 0;
		if (!(proc = opendir("/proc")))
			return;
		while ((de = readdir(proc))) {
			pid_t pid = (pid_t)atoi(de->d_name);
			ssize_t n;

			if (pid <= 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			/* "pid (comm) state ppid ...": comm may hold spaces, so parse after ')' */
			if (!(p = strrchr(buf, ')')) || atoi(p + 4) != (int)self)
				continue;
			kill(pid, SIGKILL);
			killed = 1;
		}
		closedir(proc);
		/* Reap without blocking on one pid: a killed pid-namespace init
		 * ends only once the zombies of its namespace are reaped, and
		 * those may be our children too (CLONE_PARENT, then orphaned). */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (killed)
			usleep(10000);
	} while (killed);
}

/* Replay the journal in reverse: what the test processes did not undo. */
static void replay_journal(void)
{
	struct undo *stack = NULL, *u;
	char *data, *line, *save = NULL;
	off_t size;

	if (journal_fd < 0)
		return;
	reap_orphans();
	size = lseek(journal_fd, 0, SEEK_END);
	if (size <= 0 || !(data = calloc(1, (size_t)size + 1)))
		return;
	if (pread(journal_fd, data, (size_t)size, 0) == size) {
		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');
			if (!tab || !(u = calloc(1, sizeof(*u))))
				continue;
			u->kind = (enum undo_kind)atoi(line);
			u->path = strdup(tab + 1);
			u->next = stack;
			stack = u;
		}
	}
	free(data);
	while ((u = stack)) {
		stack = u->next;
		if (u->path)
			undo_one(u);
		free(u->path);
		free(u);
	}
	if (ftruncate(journal_fd, 0) < 0) { /* replays are idempotent */ }
}

static void runner_setup(void)
{
}

static void runner_teardown(void)
{
	replay_journal();
}

TCase *kt_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, runner_setup, runner_teardown);
	tcase_add_checked_fixture(tc, kt_setup, kt_teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

int kt_as_nobody(int (*fn)(void *), void *arg)
{
	int status = -1;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(126);
		_exit(fn(arg));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

char *kt_read(const char *path)
{
	struct undo u = { .kind = UNDO_FREE };
	char buf[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	u.path = xstrdup(buf);
	push(&u);
	return u.path;
}

int kt_mapped(const char *name)
{
	char line[512], *slash;
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = (slash = strrchr(line, '/')) && !strncmp(slash + 1, name, strlen(name));
	fclose(f);
	return found;
}

char *kt_read_tty(int master)
{
	static char buf[4096];
	size_t used = 0;
	ssize_t n;

	while (used < sizeof(buf) - 1 && (n = read(master, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	return buf;
}

static const char *suite_name = "?";

void kt_skip(const char *what, const char *missing)
{
	printf("SKIP: %s/%s: %s\n", suite_name, what, missing);
	fflush(stdout);
}

void kt_add_test_needs(TCase *tc, const TTest *test, const char *missing)
{
	if (missing)
		kt_skip(test->name, missing);
	else
		tcase_add_test(tc, test);
}

/* The suite's name for skip lines: the program's, as make check shows it. */
__attribute__((constructor)) static void name_suite(void)
{
	extern char *program_invocation_short_name;

	suite_name = program_invocation_short_name;
}

int kt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	int failed;

	/* The journal is unlinked at once: it lives as long as this runner. */
	snprintf(path, sizeof(path), "%s/keel-test-journal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	journal_fd = mkostemp(path, O_CLOEXEC | O_APPEND);
	if (journal_fd >= 0)
		unlink(path);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	srunner_run_all(sr, CK_NORMAL);
	replay_journal();
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
