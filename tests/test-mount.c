/*
 * Mount suite: root filesystems made of layers, the mount table, the
 * default /proc, /sys and /dev, masking, pivot_root.
 *
 * There is no spawn here: each test forks a "container" by hand. The child
 * unshares a mount, PID and IPC namespace, forks the container's PID 1,
 * which replays the plan with keel_mount_plan_apply() and then either
 * checks things with system calls (an inside_fn) or execs busybox from the
 * new root. Failures inside come back as exit codes plus a line on stderr;
 * setup failures as the child report, through a pipe.
 *
 * Everything asserted is kernel state: files in the upper and lower
 * directories on the host, what stat/open/read return inside, the host's
 * /proc/self/mountinfo.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <keel.h>

#include "error.h"
#include "mount.h"
#include "util/child.h"
#include "harness.h"
#include "host-probe.h"

/* ------------------------------------------------------------ helpers --- */

typedef int (*inside_fn)(void *arg);

/* Inside the container: report a failed check and give its exit code. */
static int bad(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "inside the container: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %s)\n", strerror(errno));
	return code;
}

static void die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static int wait_exit(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 250;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/*
 * Run fn as PID 1 of a fresh mount+PID+IPC namespace (plus extra_ns) after
 * applying plan. Returns fn's exit code, or -1 when apply failed (then
 * *rep holds the child's report).
 */
static int run_container(const struct keel_mount_plan *plan, int extra_ns, inside_fn fn, void *arg,
			 struct keel_child_report *rep)
{
	int fds[2];
	pid_t pid;
	ssize_t n;
	int code;

	memset(rep, 0, sizeof(*rep));
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t init;

		die_with_parent();
		close(fds[0]);
		if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | extra_ns) < 0)
			_exit(bad(201, "unshare"));
		init = fork();
		if (init < 0)
			_exit(202);
		if (init == 0) {
			struct keel_child_report r = { 0 };

			die_with_parent();
			if (keel_mount_plan_apply(plan, &r) < 0) {
				if (write(fds[1], &r, sizeof(r)) < 0)
					_exit(203);
				_exit(204);
			}
			_exit(fn(arg));
		}
		close(fds[1]);
		_exit(wait_exit(init));
	}
	kt_defer_kill(pid);
	close(fds[1]);
	n = read(fds[0], rep, sizeof(*rep));
	close(fds[0]);
	code = wait_exit(pid);
	return n == (ssize_t)sizeof(*rep) ? -1 : code;
}

/* The report as the parent would show it: "<msg>: <strerror>". */
static const char *report_text(const struct keel_child_report *rep)
{
	static char buf[KEEL_REPORT_MSG_MAX + 128];

	snprintf(buf, sizeof(buf), "%s: %s", rep->msg, strerror(rep->errnum));
	return buf;
}

/* Prepare r, or fail the test with the library's message. */
static struct keel_mount_plan *prepare(const keel_rootfs *r)
{
	struct keel_mount_plan *plan = NULL;
	keel_error *err = NULL;
	int ret = keel_mount_plan_prepare(r, &plan, &err);

	ck_assert_msg(ret == 0, "prepare: %s", keel_error_message(err));
	ck_assert_ptr_nonnull(plan);
	return plan;
}

/* Run and insist that apply worked and fn returned 0. */
static void run_ok(const struct keel_mount_plan *plan, inside_fn fn, void *arg)
{
	struct keel_child_report rep;
	int code = run_container(plan, 0, fn, arg, &rep);

	ck_assert_msg(code != -1, "apply failed: %s", report_text(&rep));
	ck_assert_msg(code == 0, "check inside the container failed with code %d (see stderr)", code);
}

static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static char *path_in(const char *dir, const char *rel)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, sizeof(bufs[0]), "%s/%s", dir, rel);

	ck_assert_int_lt(n, (int)sizeof(bufs[0]));
	return b;
}

/*
 * Two image layers in a fresh directory: l0 is a copy of the busybox
 * rootfs, l1 adds /etc/layer1 and /etc/doomed and overrides
 * /etc/image-release. Readable by everybody, for the rootless test.
 */
struct image {
	const char *dir;
	char l0[4096], l1[4096], base[4096];
};

static void make_image(struct image *img)
{
	img->dir = kt_tmpdir();
	ck_assert_int_eq(chmod(img->dir, 0755), 0);
	snprintf(img->l0, sizeof(img->l0), "%s/l0", img->dir);
	snprintf(img->l1, sizeof(img->l1), "%s/l1", img->dir);
	snprintf(img->base, sizeof(img->base), "%s/c", img->dir);
	sh("cp -a '%s' '%s'", kt_rootfs(), img->l0);
	sh("mkdir -p '%s/etc' && chmod 755 '%s' '%s/etc'", img->l1, img->l1, img->l1);
	write_file(path_in(img->l1, "etc/layer1"), "layer one\n");
	write_file(path_in(img->l1, "etc/doomed"), "delete me\n");
	write_file(path_in(img->l1, "etc/image-release"), "from layer one\n");
}

static keel_rootfs *layered_rootfs(const struct image *img, const char *container)
{
	char base[4096];
	keel_rootfs *r = NULL;

	snprintf(base, sizeof(base), "%s/%s", img->dir, container);
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_layer(r, img->l0, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_layer(r, img->l1, NULL), 0);
	ck_assert_int_eq(keel_rootfs_set_upper_base(r, base, NULL), 0);
	return r;
}

/* A digest of a whole tree: names, types, modes, owners, sizes, contents,
 * link targets. Equal digests mean the tree is byte-for-byte the same. */
static void digest_add(uint64_t *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--)
		*h = (*h ^ *p++) * 1099511628211ULL;
}

static void digest_tree(int dirfd, const char *rel, uint64_t *h)
{
	struct dirent **names;
	int i, n = scandirat(dirfd, rel, &names, NULL, alphasort);

	ck_assert_msg(n >= 0, "scandir %s: %s", rel, strerror(errno));
	for (i = 0; i < n; i++) {
		char path[4096], buf[4096];
		struct stat st;
		ssize_t len;
		int fd;

		if (!strcmp(names[i]->d_name, ".") || !strcmp(names[i]->d_name, "..")) {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", rel, names[i]->d_name);
		free(names[i]);
		ck_assert_int_eq(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
		digest_add(h, path, strlen(path));
		digest_add(h, &st.st_mode, sizeof(st.st_mode));
		digest_add(h, &st.st_uid, sizeof(st.st_uid));
		digest_add(h, &st.st_gid, sizeof(st.st_gid));
		if (S_ISDIR(st.st_mode)) {
			digest_tree(dirfd, path, h);
		} else if (S_ISLNK(st.st_mode)) {
			len = readlinkat(dirfd, path, buf, sizeof(buf));
			digest_add(h, buf, (size_t)len);
		} else if (S_ISREG(st.st_mode)) {
			digest_add(h, &st.st_size, sizeof(st.st_size));
			fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
			ck_assert_int_ge(fd, 0);
			while ((len = read(fd, buf, sizeof(buf))) > 0)
				digest_add(h, buf, (size_t)len);
			close(fd);
		} else {
			digest_add(h, &st.st_rdev, sizeof(st.st_rdev));
		}
	}
	free(names);
}

static uint64_t digest(const char *dir)
{
	uint64_t h = 14695981039346656037ULL;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	digest_tree(fd, ".", &h);
	close(fd);
	return h;
}

/* How many mounts of the host's mount namespace sit at or under prefix. */
static int host_mounts_under(const char *prefix)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192], mnt[4096];
	size_t len = strlen(prefix);
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && !strncmp(mnt, prefix, len))
			n++;
	fclose(f);
	return n;
}

static int file_is(const char *path, const char *want)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

/* ---------------------------------------------------------- bad input --- */

START_TEST(api_rejects_bad_input)
{
	keel_rootfs *r = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_rootfs_new(NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);

	ck_assert_int_eq(keel_rootfs_set_directory(r, "relative/dir", &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "rootfs: directory 'relative/dir': not an absolute path");
	ck_assert_int_eq(keel_rootfs_add_layer(r, "layer", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "layer 'layer': not an absolute path"));
	ck_assert_int_eq(keel_rootfs_add_layer(r, "/img/a:b", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "cannot use a path with ':' or ','"));
	ck_assert_int_eq(keel_rootfs_add_layer(r, NULL, &err), -EINVAL);

	ck_assert_int_eq(keel_rootfs_add_bind(r, "/srv", "data", 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "'data': not an absolute path inside the container"));
	ck_assert_int_eq(keel_rootfs_add_bind(r, "/srv", "/data/../../etc", 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "'..' is not allowed"));
	ck_assert_int_eq(keel_rootfs_add_bind(r, "/srv", "//", 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "cannot mount over the container's root"));
	ck_assert_int_eq(keel_rootfs_add_bind(r, "srv", "/data", 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "bind source 'srv'"));
	ck_assert_int_eq(keel_rootfs_add_bind(r, "/srv", "/data", 1u << 30, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "unknown flags"));
	ck_assert_int_eq(keel_rootfs_add_bind(r, "/srv", "/data", KEEL_MOUNT_SLAVE | KEEL_MOUNT_SHARED, &err),
			 -EINVAL);
	ck_assert_int_eq(keel_rootfs_add_mount(r, NULL, NULL, "/x", 0, NULL, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "no filesystem type"));
	ck_assert_int_eq(keel_rootfs_add_mount(r, "tmpfs", NULL, "/x", KEEL_MOUNT_IDMAP, NULL, &err), -EINVAL);
	ck_assert_int_eq(keel_rootfs_add_tmpfs(r, "/tmp", 0, 070000, &err), -EINVAL);
	ck_assert_int_eq(keel_rootfs_set_propagation(r, (keel_propagation)9, &err), -EINVAL);
	ck_assert_int_eq(keel_rootfs_add_masked_path(r, "proc/kcore", &err), -EINVAL);
	ck_assert_int_eq(keel_rootfs_set_idmap(r, -1, &err), -EBADF);
	ck_assert_int_eq(keel_rootfs_set_idmap(r, STDIN_FILENO, &err), -EINVAL);
	ck_assert_int_eq(keel_rootfs_upper_usage(r, NULL, &err), -EINVAL);
	ck_assert_int_eq(keel_rootfs_remove_upper(r, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "no upper base"));

	/* a directory excludes layers, and the other way round */
	ck_assert_int_eq(keel_rootfs_set_directory(r, "/srv/root", NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_layer(r, "/img/base", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "use either a directory or layers"));

	/* NULL handles are refused, not crashed on */
	ck_assert_int_eq(keel_rootfs_add_defaults(NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_rootfs_add_bind(NULL, "/a", "/b", 0, NULL), -EINVAL);
	keel_rootfs_set_readonly(NULL, 1);
	keel_rootfs_free(NULL);
	keel_error_free(err);
	keel_rootfs_free(r);
}
END_TEST

START_TEST(prepare_rejects_what_cannot_work)
{
	struct keel_mount_plan *plan = (void *)1;
	const char *dir = kt_tmpdir();
	keel_rootfs *r = NULL;
	keel_error *err = NULL;
	char missing[4096];

	/* nothing at all */
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	ck_assert_int_eq(keel_mount_plan_prepare(r, &plan, &err), -EINVAL);
	ck_assert_ptr_null(plan);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "no directory and no layers"));
	keel_rootfs_free(r);

	/* a layer that does not exist: named, with ENOENT */
	snprintf(missing, sizeof(missing), "%s/no-such-layer", dir);
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_layer(r, missing, NULL), 0);
	ck_assert_int_eq(keel_rootfs_set_upper_base(r, path_in(dir, "c"), NULL), 0);
	ck_assert_int_eq(keel_mount_plan_prepare(r, &plan, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), missing));
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "No such file or directory"));
	ck_assert_int_eq(access(path_in(dir, "c/upper"), F_OK), -1); /* nothing made */
	keel_rootfs_free(r);

	/* layers but nowhere to write */
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_layer(r, dir, NULL), 0);
	ck_assert_int_eq(keel_mount_plan_prepare(r, &plan, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "keel_rootfs_set_upper_base"));
	keel_rootfs_free(r);

	/* a file is not a rootfs directory; a bind source must exist */
	write_file(path_in(dir, "file"), "x");
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_set_directory(r, path_in(dir, "file"), NULL), 0);
	ck_assert_int_eq(keel_mount_plan_prepare(r, &plan, &err), -ENOTDIR);
	ck_assert_int_eq(keel_rootfs_set_directory(r, dir, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_bind(r, missing, "/data", 0, NULL), 0);
	ck_assert_int_eq(keel_mount_plan_prepare(r, &plan, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "bind mount on /data: source"));
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), missing));
	keel_rootfs_free(r);
	keel_error_free(err);
}
END_TEST

/* ------------------------------------------------------ layers, overlay --- */

struct own_file {
	const char *mine, *theirs;
};

/* Write my file, check the other container's is not here, and that the
 * host's directories are not visible either (we are pivoted). */
static int write_mine_not_theirs(void *arg)
{
	struct own_file *o = arg;
	int fd = open(o->mine, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, o->mine, strlen(o->mine)) != (ssize_t)strlen(o->mine))
		return bad(10, "write %s", o->mine);
	close(fd);
	if (access(o->theirs, F_OK) == 0)
		return bad(11, "%s of the other container is visible", o->theirs);
	if (!file_is("/etc/layer1", "layer one\n") || !file_is("/etc/image-release", "from layer one\n"))
		return bad(12, "the layers are not stacked l1 over l0");
	if (access("/bin/busybox", X_OK) != 0)
		return bad(13, "no /bin/busybox from the bottom layer");
	return 0;
}

START_TEST(two_containers_share_layers_and_see_only_their_own)
{
	struct own_file a = { "/a.txt", "/b.txt" }, b = { "/b.txt", "/a.txt" };
	struct keel_mount_plan *pa, *pb;
	struct image img;
	keel_rootfs *ra, *rb;
	uint64_t l0, l1;

	make_image(&img);
	l0 = digest(img.l0);
	l1 = digest(img.l1);
	ra = layered_rootfs(&img, "ca");
	rb = layered_rootfs(&img, "cb");
	pa = prepare(ra);
	pb = prepare(rb);
	run_ok(pa, write_mine_not_theirs, &a);
	run_ok(pb, write_mine_not_theirs, &b);
	/* again, each on its own kept writable layer */
	run_ok(pa, write_mine_not_theirs, &a);

	/* on the host: each write went to its own upper dir, none to the layers */
	ck_assert(file_is(path_in(img.dir, "ca/upper/a.txt"), "/a.txt"));
	ck_assert(file_is(path_in(img.dir, "cb/upper/b.txt"), "/b.txt"));
	ck_assert_int_eq(access(path_in(img.dir, "ca/upper/b.txt"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.dir, "cb/upper/a.txt"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.l0, "a.txt"), F_OK), -1);
	ck_assert(digest(img.l0) == l0);
	ck_assert(digest(img.l1) == l1);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	keel_mount_plan_free(pa);
	keel_mount_plan_free(pb);
	keel_rootfs_free(ra);
	keel_rootfs_free(rb);
}
END_TEST

/* busybox from the image, as PID 1 */
static int exec_sh(void *script)
{
	execl("/bin/sh", "sh", "-c", (const char *)script, (char *)NULL);
	return bad(127, "exec /bin/sh");
}

START_TEST(whiteout_hides_a_deleted_file_but_the_layer_keeps_it)
{
	struct keel_mount_plan *plan;
	struct image img;
	keel_rootfs *r;
	struct stat st;
	uint64_t l1;

	make_image(&img);
	l1 = digest(img.l1);
	r = layered_rootfs(&img, "c");
	plan = prepare(r);
	run_ok(plan, exec_sh, "rm /etc/doomed && test ! -e /etc/doomed");
	/* a second start of the same container still does not see it */
	run_ok(plan, exec_sh, "test ! -e /etc/doomed && ! ls /etc | grep -q doomed && test -e /etc/layer1");

	/* the upper layer holds a whiteout: a 0/0 character device */
	ck_assert_int_eq(lstat(path_in(img.dir, "c/upper/etc/doomed"), &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_int_eq(st.st_rdev, makedev(0, 0));
	ck_assert(file_is(path_in(img.l1, "etc/doomed"), "delete me\n"));
	ck_assert(digest(img.l1) == l1);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

static int write_fails_with_erofs(void *arg)
{
	const char *path = arg;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd >= 0)
		return bad(20, "created %s on a read-only rootfs", path);
	if (errno != EROFS)
		return bad(21, "create %s: expected EROFS", path);
	if (mkdir("/newdir", 0755) == 0 || errno != EROFS)
		return bad(22, "mkdir /newdir: expected EROFS");
	/* a writable mount of the table stays writable */
	fd = open("/scratch/ok", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return bad(23, "create /scratch/ok in the tmpfs");
	close(fd);
	return 0;
}

START_TEST(readonly_rootfs_refuses_writes_with_erofs)
{
	struct keel_mount_plan *plan;
	struct image img;
	keel_rootfs *r;
	const char *dir = kt_tmpdir();
	char copy[4096];

	/* an overlay */
	make_image(&img);
	r = layered_rootfs(&img, "c");
	keel_rootfs_set_readonly(r, 1);
	ck_assert_int_eq(keel_rootfs_add_tmpfs(r, "/scratch", 1 << 20, 0755, NULL), 0);
	plan = prepare(r);
	run_ok(plan, write_fails_with_erofs, "/etc/new");
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
	ck_assert_int_eq(access(path_in(img.dir, "c/upper/etc/new"), F_OK), -1);

	/* a plain directory: the mount point /scratch is made before the
	 * root turns read-only */
	snprintf(copy, sizeof(copy), "%s/root", dir);
	sh("cp -a '%s' '%s'", kt_rootfs(), copy);
	ck_assert_int_eq(keel_rootfs_new(&r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_set_directory(r, copy, NULL), 0);
	keel_rootfs_set_readonly(r, 1);
	ck_assert_int_eq(keel_rootfs_add_tmpfs(r, "/scratch", 1 << 20, 0755, NULL), 0);
	plan = prepare(r);
	run_ok(plan, write_fails_with_erofs, "/etc/new");
	ck_assert_int_eq(access(path_in(copy, "etc/new"), F_OK), -1);
	ck_assert_int_eq(host_mounts_under(copy), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* ------------------------------------------------------------ defaults --- */

static ssize_t read_all(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + total, size - (size_t)total)) > 0 && (size_t)(total += n) < size)
		;
	close(fd);
	return n < 0 ? -1 : total;
}

static int dir_entries(const char *path, int only_digits)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && (!only_digits || (de->d_name[0] >= '0' && de->d_name[0] <= '9')))
			n++;
	closedir(d);
	return n;
}

static int check_defaults(void *arg)
{
	const char *const *masked;
	char buf[4096], link[64];
	struct statfs sfs;
	struct stat st;
	ssize_t n;
	int fd;

	/* masked: a file reads empty, a directory is empty */
	for (masked = arg; *masked; masked++)
		if ((n = read_all(*masked, buf, sizeof(buf))) != 0)
			return bad(30, "masked %s read %zd bytes", *masked, n);
	if (dir_entries("/sys/firmware", 0) != 0)
		return bad(32, "/sys/firmware is not empty");
	/* read-only paths */
	/* (a kernel without CONFIG_MAGIC_SYSRQ has no sysrq-trigger) */
	if (access("/proc/sysrq-trigger", F_OK) == 0 &&
	    (open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS))
		return bad(33, "/proc/sysrq-trigger is writable");
	if (open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS)
		return bad(34, "/proc/sys is writable");
	if (mkdir("/sys/kernel/x", 0755) == 0 || errno != EROFS)
		return bad(35, "/sys is writable");
	/* /proc shows this PID namespace: we are 1, and alone */
	if (readlink("/proc/self", link, sizeof(link)) != 1 || link[0] != '1')
		return bad(36, "/proc/self is not 1");
	if ((n = dir_entries("/proc", 1)) != 1)
		return bad(37, "/proc lists %zd processes, expected only PID 1", n);
	/* /dev: a tmpfs with working nodes, pts, shm, mqueue, links */
	if (statfs("/dev", &sfs) < 0 || sfs.f_type != 0x01021994 /* TMPFS_MAGIC */)
		return bad(38, "/dev is not a tmpfs");
	if (umask(027) != 027)
		return bad(49, "the umask was not given back after the mounts");
	if (stat("/dev/null", &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3) ||
	    (st.st_mode & 0777) != 0666)
		return bad(39, "/dev/null is not a 0666 char device 1:3");
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, 16) != 16 || buf[0] || buf[15])
		return bad(40, "/dev/zero does not read zeros");
	close(fd);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return bad(41, "/dev/null is not writable");
	close(fd);
	if (open("/dev/full", O_WRONLY | O_CLOEXEC) < 0 || stat("/dev/urandom", &st) < 0 ||
	    stat("/dev/random", &st) < 0 || stat("/dev/tty", &st) < 0)
		return bad(42, "a default device is missing");
	if (statfs("/dev/pts", &sfs) < 0 || sfs.f_type != 0x1cd1 /* DEVPTS_SUPER_MAGIC */)
		return bad(43, "/dev/pts is not devpts");
	if ((fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return bad(44, "open /dev/ptmx");
	close(fd);
	if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != 0x01021994)
		return bad(45, "/dev/shm is not a tmpfs");
	if (statfs("/dev/mqueue", &sfs) < 0 || sfs.f_type != 0x19800202 /* MQUEUE_MAGIC */)
		return bad(46, "/dev/mqueue is not mqueue");
	if ((n = readlink("/dev/fd", link, sizeof(link) - 1)) < 0 || (link[n] = '\0', strcmp(link, "/proc/self/fd")))
		return bad(47, "/dev/fd does not point to /proc/self/fd");
	if (stat("/dev/stdin", &st) < 0)
		return bad(48, "/dev/stdin does not resolve");
	return 0;
}

START_TEST(defaults_mask_paths_and_show_only_the_containers_processes)
{
	struct keel_mount_plan *plan;
	struct image img;
	keel_rootfs *r;

	const char *const candidates[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug" };
	const char *masked[5] = { NULL };
	char buf[4096];
	size_t i, n = 0;
	mode_t old_umask;

	/* the masked files this kernel has; at least one must have content on
	 * the host, or the test would prove nothing */
	for (i = 0; i < 4; i++)
		if (access(candidates[i], F_OK) == 0)
			masked[n++] = candidates[i];
	ck_assert_uint_ge(n, 1);
	ck_assert_msg(read_all("/proc/timer_list", buf, sizeof(buf)) > 0 ||
		      read_all("/proc/kcore", buf, sizeof(buf)) > 0, "no masked file has content on the host");
	ck_assert_int_gt(dir_entries("/sys/firmware", 0), 0);

	make_image(&img);
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_defaults(r, NULL), 0);
	plan = prepare(r);
	/* a restrictive umask: the nodes still get their modes, and the
	 * process gets the umask back (check_defaults() looks) */
	old_umask = umask(027);
	run_ok(plan, check_defaults, masked);
	umask(old_umask);
	/* busybox agrees: ps sees only itself and sh */
	run_ok(plan, exec_sh, "n=$(ps -o pid= | wc -l); test $n -ge 2 && test $n -le 5 && "
	       "test \"$(cat /proc/1/comm)\" = sh && test \"$(cat /proc/timer_list | wc -c)\" -eq 0");
	/* the mount points made inside /dev live on its tmpfs, not in the upper layer */
	ck_assert_int_eq(access(path_in(img.dir, "c/upper/dev/pts"), F_OK), -1);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/*
 * Masks and read-only paths one name below a filesystem the plan mounted
 * (proc, the /dev tmpfs), which the child reaches by name from that
 * mount's root: a file, a directory, a missing name, the plan's own
 * relative symlink /dev/ptmx (resolved beneath the root, as before), a
 * kernel symlink (/proc/self), a path under an earlier mask, a file bound
 * into /dev.
 */

static int never_runs(void *arg)
{
	(void)arg;
	return 99;
}

/* How many mounts /proc/self/mountinfo lists at point. */
static int mounts_at(const char *point)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192], mnt[4096];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && !strcmp(mnt, point))
			n++;
	fclose(f);
	return n;
}

static int is_dev_null(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int check_anchored(void *arg)
{
	static const char *const none[] = { "/proc/keel-none", "/dev/keel-none", "/proc/tty/drivers" };
	char buf[64];
	struct statfs sfs;
	struct stat st;
	size_t i;
	int fd;

	(void)arg;
	/* a masked file: /dev/null over it */
	if (!is_dev_null("/proc/version") || read_all("/proc/version", buf, sizeof(buf)) != 0)
		return bad(110, "/proc/version is not masked by /dev/null");
	/* a masked directory: an empty read-only tmpfs */
	if (statfs("/proc/tty", &sfs) < 0 || sfs.f_type != 0x01021994 || !(sfs.f_flags & ST_RDONLY) ||
	    dir_entries("/proc/tty", 0) != 0)
		return bad(111, "/proc/tty is not an empty read-only tmpfs");
	/* a masked device in the /dev tmpfs */
	if (!is_dev_null("/dev/zero") || read_all("/dev/zero", buf, sizeof(buf)) != 0)
		return bad(112, "/dev/zero is not masked by /dev/null");
	/* the plan's symlink /dev/ptmx -> pts/ptmx: the mask lands on its
	 * target, the link stays */
	if (lstat("/dev/ptmx", &st) < 0 || !S_ISLNK(st.st_mode) || !is_dev_null("/dev/pts/ptmx"))
		return bad(113, "the mask of /dev/ptmx did not reach /dev/pts/ptmx");
	/* missing names, and a name under a masked directory: nothing mounted */
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (mounts_at(none[i]) != 0)
			return bad(114, "something is mounted at %s", none[i]);
	/* read-only: /proc/self follows the kernel's link to /proc/1 */
	if (open("/proc/1/comm", O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS)
		return bad(115, "/proc/1/comm is writable");
	if (mounts_at("/proc/1") != 1)
		return bad(116, "/proc/1 is not one read-only mount");
	/* the rest of /proc stays writable where it was */
	if ((fd = open("/proc/sys/kernel/hostname", O_RDONLY | O_CLOEXEC)) < 0)
		return bad(117, "read /proc/sys/kernel/hostname");
	close(fd);
	if (open("/dev/shm/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 || errno != EROFS)
		return bad(118, "/dev/shm is writable");
	/* a read-only file bound into /dev */
	if (!file_is("/dev/keel-file", "hello\n"))
		return bad(119, "/dev/keel-file is not the host's file");
	if (open("/dev/keel-file", O_WRONLY | O_CLOEXEC) >= 0 || errno != EROFS)
		return bad(120, "/dev/keel-file is writable");
	/* a tmpfs inside /dev, with its mode */
	if (stat("/dev/keel-tmp", &st) < 0 || (st.st_mode & 07777) != 0700 ||
	    statfs("/dev/keel-tmp", &sfs) < 0 || sfs.f_type != 0x01021994)
		return bad(121, "/dev/keel-tmp is not a 0700 tmpfs");
	/* the default devices are still there */
	if (!is_dev_null("/dev/null"))
		return bad(122, "/dev/null");
	return 0;
}

START_TEST(masks_and_readonly_paths_inside_the_plans_own_mounts)
{
	const char *host = kt_tmpdir();
	struct keel_mount_plan *plan;
	struct image img;
	keel_rootfs *r;
	size_t i;
	static const char *const masked[] = {
		"/proc/version", "/proc/tty", "/proc/keel-none", "/dev/zero", "/dev/ptmx", "/proc/tty/drivers",
	};
	static const char *const ro[] = { "/proc/self", "/dev/shm", "/proc/keel-none", "/dev/keel-none" };

	make_image(&img);
	write_file(path_in(host, "hello"), "hello\n");
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_defaults(r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_bind(r, path_in(host, "hello"), "/dev/keel-file", KEEL_MOUNT_RDONLY, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_tmpfs(r, "/dev/keel-tmp", 1 << 20, 0700, NULL), 0);
	for (i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
		ck_assert_int_eq(keel_rootfs_add_masked_path(r, masked[i], NULL), 0);
	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		ck_assert_int_eq(keel_rootfs_add_readonly_path(r, ro[i], NULL), 0);
	plan = prepare(r);
	run_ok(plan, check_anchored, NULL);
	/* the bind's mount point was made on the /dev tmpfs, not in the image */
	ck_assert_int_eq(access(path_in(img.dir, "c/upper/dev/keel-file"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.dir, "c/upper/dev/keel-tmp"), F_OK), -1);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* The plan's absolute symlinks in /dev lead out of the rootfs: a mask or a
 * read-only path through them is refused, as any such symlink is. */
START_TEST(mask_through_an_absolute_symlink_in_dev_is_refused)
{
	static const char *const paths[] = { "/dev/fd", "/dev/stdout" };
	struct keel_child_report rep;
	struct image img;
	size_t i;

	make_image(&img);
	for (i = 0; i < 2; i++) {
		struct keel_mount_plan *plan;
		keel_rootfs *r = layered_rootfs(&img, "c");

		ck_assert_int_eq(keel_rootfs_add_defaults(r, NULL), 0);
		if (i == 0)
			ck_assert_int_eq(keel_rootfs_add_masked_path(r, paths[i], NULL), 0);
		else
			ck_assert_int_eq(keel_rootfs_add_readonly_path(r, paths[i], NULL), 0);
		plan = prepare(r);
		ck_assert_int_eq(run_container(plan, 0, never_runs, NULL, &rep), -1);
		ck_assert_int_eq(rep.errnum, EXDEV);
		ck_assert_msg(strstr(rep.msg, paths[i]) && strstr(rep.msg, "leads out of the rootfs through a symlink"),
			      "unclear refusal: %s", rep.msg);
		ck_assert_int_eq(host_mounts_under(img.dir), 0);
		keel_mount_plan_free(plan);
		keel_rootfs_free(r);
	}
}
END_TEST

/* A mount over /proc after the defaults hides the plan's procfs: the
 * masks and read-only paths under /proc then find nothing (they are looked
 * up beneath the root, in the tmpfs), and nothing is mounted on the hidden
 * procfs. A fresh procfs, mounted aside, lists every mount. */
static int check_proc_covered(void *arg)
{
	char line[8192], mnt[4096];
	struct statfs sfs;
	int n_proc = 0;
	FILE *f;

	(void)arg;
	if (statfs("/proc", &sfs) < 0 || sfs.f_type != 0x01021994)
		return bad(130, "/proc is not the tmpfs");
	if (mkdir("/keel-proc", 0755) < 0 || mount("proc", "/keel-proc", "proc", 0, NULL) < 0)
		return bad(131, "mount a procfs aside");
	if (!(f = fopen("/keel-proc/self/mountinfo", "re")))
		return bad(132, "open mountinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			if (!strncmp(mnt, "/proc/", 6)) {
				fclose(f);
				return bad(133, "%s is mounted under the covered /proc", mnt);
			}
			n_proc += !strcmp(mnt, "/proc");
		}
	fclose(f);
	if (n_proc != 2)
		return bad(134, "%d mounts at /proc, expected the procfs and the tmpfs over it", n_proc);
	/* the rest of the defaults still took effect */
	if (!is_dev_null("/dev/null") || statfs("/sys/firmware", &sfs) < 0 || sfs.f_type != 0x01021994)
		return bad(135, "the defaults outside /proc are missing");
	return 0;
}

START_TEST(a_mount_over_procfs_hides_it_from_later_masks)
{
	struct keel_mount_plan *plan;
	struct image img;
	keel_rootfs *r;

	make_image(&img);
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_defaults(r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_tmpfs(r, "/proc", 1 << 20, 0755, NULL), 0);
	plan = prepare(r);
	run_ok(plan, check_proc_covered, NULL);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* -------------------------------------------------------- mount table --- */

static int check_table(void *arg)
{
	struct statfs sfs;
	struct stat st;
	int fd;

	(void)arg;
	/* read-only bind of a directory */
	if (!file_is("/data/hello", "hello\n"))
		return bad(50, "/data/hello is not the host's file");
	if (open("/data/new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 || errno != EROFS)
		return bad(51, "a read-only bind is writable");
	/* a file bind onto a destination that did not exist */
	if (!file_is("/etc/extra.conf", "conf\n"))
		return bad(52, "file bind /etc/extra.conf");
	/* tmpfs with size and mode */
	if (stat("/run/t", &st) < 0 || (st.st_mode & 07777) != 01777)
		return bad(53, "/run/t mode is 0%o, expected 01777", st.st_mode & 07777);
	if (statfs("/run/t", &sfs) < 0 || (uint64_t)sfs.f_blocks * (uint64_t)sfs.f_bsize != 2u << 20)
		return bad(54, "/run/t is not 2 MiB");
	if (!(sfs.f_flags & ST_NOSUID) || !(sfs.f_flags & ST_NODEV))
		return bad(55, "/run/t is not nosuid,nodev");
	/* noexec bind */
	if (statfs("/data2", &sfs) < 0 || !(sfs.f_flags & ST_NOEXEC) || (sfs.f_flags & ST_RDONLY))
		return bad(56, "/data2 is not noexec and writable");
	fd = open("/data2/written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return bad(57, "write into the writable bind /data2");
	close(fd);
	return 0;
}

START_TEST(mount_table_binds_and_tmpfs_with_flags)
{
	const char *host = kt_tmpdir(), *host2 = kt_tmpdir();
	struct keel_mount_plan *plan;
	struct image img;
	keel_rootfs *r;

	make_image(&img);
	write_file(path_in(host, "hello"), "hello\n");
	write_file(path_in(host, "extra.conf"), "conf\n");
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_bind(r, host, "/data", KEEL_MOUNT_RDONLY | KEEL_MOUNT_RECURSIVE, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_bind(r, path_in(host, "extra.conf"), "/etc/extra.conf", KEEL_MOUNT_RDONLY,
					      NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_tmpfs(r, "/run/t", 2 << 20, 01777, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_bind(r, host2, "/data2",
					      KEEL_MOUNT_NOEXEC | KEEL_MOUNT_NOSUID | KEEL_MOUNT_PRIVATE, NULL), 0);
	plan = prepare(r);
	run_ok(plan, check_table, NULL);
	/* the write through the bind reached the host directory */
	ck_assert_int_eq(access(path_in(host2, "written"), F_OK), 0);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	ck_assert_int_eq(host_mounts_under(host), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* cgroup2 in a cgroup namespace: a view rooted at the container's cgroup */
static int check_cgroup2(void *arg)
{
	struct statfs sfs;
	char buf[4096];
	ssize_t n;

	(void)arg;
	if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != 0x63677270 /* CGROUP2_SUPER_MAGIC */)
		return bad(90, "/sys/fs/cgroup is not cgroup2");
	if (access("/sys/fs/cgroup/cgroup.procs", F_OK) < 0)
		return bad(91, "no cgroup.procs at the root of the view");
	if ((n = read_all("/proc/self/cgroup", buf, sizeof(buf) - 1)) < 0)
		return bad(92, "read /proc/self/cgroup");
	buf[n] = '\0';
	if (!strstr(buf, "0::/\n"))
		return bad(93, "the cgroup2 line is not 0::/ in the namespace: %s", buf);
	return 0;
}

START_TEST(cgroup2_in_a_cgroup_namespace)
{
	struct keel_mount_plan *plan;
	struct keel_child_report rep;
	struct image img;
	keel_rootfs *r;
	int code;

	make_image(&img);
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_mount(r, "proc", NULL, "/proc", 0, NULL, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_mount(r, "cgroup2", "cgroup", "/sys/fs/cgroup",
					       KEEL_MOUNT_NOSUID | KEEL_MOUNT_NODEV | KEEL_MOUNT_NOEXEC, NULL, NULL), 0);
	plan = prepare(r);
	code = run_container(plan, CLONE_NEWCGROUP, check_cgroup2, NULL, &rep);
	ck_assert_msg(code == 0, "cgroup2 check: code %d %s", code, code == -1 ? report_text(&rep) : "");
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

START_TEST(symlink_escape_in_a_bind_destination_is_refused)
{
	const char *host = kt_tmpdir(), *outside = kt_tmpdir();
	const char *const escapes[] = { "abs", "rel" };
	struct keel_child_report rep;
	struct image img;
	char target[4096];
	size_t i;

	make_image(&img);
	write_file(path_in(host, "hello"), "hello\n");
	/* /abs -> <outside> (absolute), /rel -> ../../../..<outside> (climbs above the root) */
	ck_assert_int_eq(symlink(outside, path_in(img.l1, "abs")), 0);
	snprintf(target, sizeof(target), "../../../../../../../..%s", outside);
	ck_assert_int_eq(symlink(target, path_in(img.l1, "rel")), 0);

	for (i = 0; i < 2; i++) {
		struct keel_mount_plan *plan;
		char dest[64], container[16];
		keel_rootfs *r;
		int code;

		snprintf(container, sizeof(container), "c%zu", i);
		snprintf(dest, sizeof(dest), "/%s/sub/dir", escapes[i]);
		r = layered_rootfs(&img, container);
		ck_assert_int_eq(keel_rootfs_add_bind(r, host, dest, 0, NULL), 0);
		plan = prepare(r);
		code = run_container(plan, 0, never_runs, NULL, &rep);
		ck_assert_msg(code == -1, "apply followed the symlink %s (code %d)", escapes[i], code);
		ck_assert_int_eq(rep.errnum, EXDEV);
		ck_assert_int_eq(rep.code, KEEL_ERROR_CHILD);
		ck_assert_msg(strstr(rep.msg, dest) && strstr(rep.msg, "leads out of the rootfs through a symlink"),
			      "unclear refusal: %s", rep.msg);
		/* nothing was created or mounted outside */
		ck_assert_int_eq(dir_entries(outside, 0), 0);
		ck_assert_int_eq(host_mounts_under(outside), 0);
		keel_mount_plan_free(plan);
		keel_rootfs_free(r);
	}
}
END_TEST

START_TEST(failed_setup_leaves_nothing_mounted)
{
	const char *host = kt_tmpdir();
	struct keel_mount_plan *plan;
	struct keel_child_report rep;
	char gone[4096];
	struct image img;
	keel_rootfs *r;
	int before_img, before_host;

	make_image(&img);
	snprintf(gone, sizeof(gone), "%s/gone", host);
	ck_assert_int_eq(mkdir(gone, 0755), 0);
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_defaults(r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_bind(r, gone, "/data", 0, NULL), 0);
	plan = prepare(r);
	/* the source disappears between prepare and apply: the overlay,
	 * /proc, /sys and /dev are mounted by then, the bind fails */
	ck_assert_int_eq(rmdir(gone), 0);
	before_img = host_mounts_under(img.dir);
	before_host = host_mounts_under(host);
	ck_assert_int_eq(run_container(plan, 0, never_runs, NULL, &rep), -1);
	ck_assert_int_eq(rep.errnum, ENOENT);
	ck_assert_msg(strstr(rep.msg, "bind") && strstr(rep.msg, gone) && strstr(rep.msg, "/data"),
		      "unclear failure: %s", rep.msg);
	ck_assert_int_eq(before_img, 0);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
	ck_assert_int_eq(host_mounts_under(host), before_host);
	/* the writable layer can still be removed: nothing holds it */
	ck_assert_int_eq(keel_rootfs_remove_upper(r, NULL), 0);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* ------------------------------------------------- usage and removal --- */

static int write_12345_bytes(void *arg)
{
	static char buf[12345];
	int fd;

	(void)arg;
	memset(buf, 'x', sizeof(buf));
	if (mkdir("/var/data", 0755) < 0)
		return bad(60, "mkdir /var/data");
	fd = open("/var/data/blob", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return bad(61, "write /var/data/blob");
	close(fd);
	/* a hard link is not counted twice */
	if (link("/var/data/blob", "/var/data/blob2") < 0)
		return bad(62, "link");
	return 0;
}

/*
 * What `du --apparent-size --bytes` counts for the regular files under a
 * directory, from lstat: every file's st_size, a hard-linked one once.
 * Computed here rather than with host tools, which the test VM's busybox
 * lacks (no bc, no find -printf). nftw has no user pointer: statics.
 */
static struct {
	dev_t dev;
	ino_t ino;
} seen_inodes[64];
static size_t n_seen_inodes;
static uint64_t tree_bytes;

static int add_file_size(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	size_t i;

	(void)path;
	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (st->st_nlink > 1) {
		for (i = 0; i < n_seen_inodes; i++)
			if (seen_inodes[i].dev == st->st_dev && seen_inodes[i].ino == st->st_ino)
				return 0;
		if (n_seen_inodes == sizeof(seen_inodes) / sizeof(seen_inodes[0]))
			return -1;
		seen_inodes[n_seen_inodes].dev = st->st_dev;
		seen_inodes[n_seen_inodes++].ino = st->st_ino;
	}
	tree_bytes += (uint64_t)st->st_size;
	return 0;
}

static uint64_t apparent_size_of_files(const char *dir)
{
	n_seen_inodes = 0;
	tree_bytes = 0;
	ck_assert_msg(nftw(dir, add_file_size, 16, FTW_PHYS) == 0, "walk %s: %s", dir, strerror(errno));
	return tree_bytes;
}

START_TEST(usage_counts_what_was_written_and_remove_upper_keeps_the_layers)
{
	struct keel_mount_plan *plan;
	keel_error *err = NULL;
	struct image img;
	keel_rootfs *r;
	uint64_t used = 1, l0, l1;

	make_image(&img);
	l0 = digest(img.l0);
	l1 = digest(img.l1);
	r = layered_rootfs(&img, "c");
	plan = prepare(r);
	ck_assert_int_eq(keel_rootfs_upper_usage(r, &used, NULL), 0);
	ck_assert_uint_eq(used, 0);
	run_ok(plan, write_12345_bytes, NULL);
	ck_assert_int_eq(keel_rootfs_upper_usage(r, &used, &err), 0);
	ck_assert_uint_eq(used, 12345);
	/* the same number `du --apparent-size` of the upper's files gives */
	ck_assert_uint_eq(apparent_size_of_files(path_in(img.dir, "c/upper")), 12345);

	ck_assert_int_eq(keel_rootfs_remove_upper(r, &err), 0);
	ck_assert_int_eq(access(path_in(img.dir, "c/upper"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.dir, "c/work"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.dir, "c/merged"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.dir, "c"), F_OK), 0); /* the base stays */
	ck_assert(digest(img.l0) == l0);
	ck_assert(digest(img.l1) == l1);
	/* removing twice is fine; usage of a removed layer says so */
	ck_assert_int_eq(keel_rootfs_remove_upper(r, NULL), 0);
	ck_assert_int_eq(keel_rootfs_upper_usage(r, &used, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "writable layer"));
	keel_error_free(err);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* ------------------------------------------------------------ rootless --- */

static int write_map(const char *file, const char *map)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, map, strlen(map));
	close(fd);
	return n == (ssize_t)strlen(map) ? 0 : -1;
}

/* As uid 65534: prepare, then in user, mount, PID, network and IPC
 * namespaces, with root mapped to 65534, mount the overlay and the
 * defaults (device nodes become binds of the host's), change things,
 * and finally remove the writable layer, still as 65534. */
static const char rootless_script[] =
	"echo rootless > /etc/made-here && rm /etc/doomed && test ! -e /etc/doomed && "
	/* an opaque directory: needs overlay's xattrs, userxattr in a user ns */
	"rm -r /etc/confdir && mkdir /etc/confdir && test -z \"$(ls /etc/confdir)\" && "
	"test -c /dev/null && echo x > /dev/null && test \"$(head -c 4 /dev/zero | wc -c)\" -eq 4 && "
	"test \"$(cat /proc/timer_list | wc -c)\" -eq 0 && test \"$(cat /proc/1/comm)\" = sh";

/*
 * The rootless run: the image, and whether the kernel refuses the
 * overlay's user.* xattrs on the writable layer's filesystem (then the
 * library must refuse to mount, with KEEL_ERROR_UNSUPPORTED).
 */
struct rootless {
	const struct image *img;
	int no_user_xattrs;
};

/* In the container's PID 1: the refusal, as the library must make it. */
static int unsupported_overlay(const struct keel_child_report *rep)
{
	if (rep->code != KEEL_ERROR_UNSUPPORTED || rep->errnum != EOPNOTSUPP ||
	    !strstr(rep->msg, "mount overlay on") || !strstr(rep->msg, "user.* extended attributes")) {
		fprintf(stderr, "rootless apply: not the expected refusal: code %d: %s\n", rep->code,
			report_text(rep));
		return 74;
	}
	return 0;
}

static int rootless_overlay(void *arg)
{
	const struct rootless *rl = arg;
	const struct image *img = rl->img;
	struct keel_mount_plan *plan = NULL;
	keel_error *err = NULL;
	keel_rootfs *r = NULL;
	struct stat st;
	int code = 0;
	pid_t pid;

	if (keel_rootfs_new(&r, NULL) < 0 || keel_rootfs_add_layer(r, img->l0, NULL) < 0 ||
	    keel_rootfs_add_layer(r, img->l1, NULL) < 0 || keel_rootfs_set_upper_base(r, img->base, NULL) < 0 ||
	    keel_rootfs_add_defaults(r, NULL) < 0)
		return 70;
	if (keel_mount_plan_prepare(r, &plan, &err) < 0) {
		fprintf(stderr, "rootless prepare: %s\n", keel_error_message(err));
		return 71;
	}
	pid = fork();
	if (pid == 0) {
		pid_t init;

		/* kt_as_nobody's setresuid made us non-dumpable, which makes
		 * /proc/self/uid_map root's: become dumpable again */
		if (prctl(PR_SET_DUMPABLE, 1) < 0 ||
		    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC) < 0)
			_exit(bad(72, "unshare"));
		if (write_map("/proc/self/uid_map", "0 65534 1") < 0 ||
		    write_map("/proc/self/setgroups", "deny") < 0 ||
		    write_map("/proc/self/gid_map", "0 65534 1") < 0)
			_exit(bad(73, "write id maps"));
		init = fork();
		if (init == 0) {
			struct keel_child_report rep = { 0 };

			if (keel_mount_plan_apply(plan, &rep) < 0) {
				if (rl->no_user_xattrs)
					_exit(unsupported_overlay(&rep));
				fprintf(stderr, "rootless apply: %s\n", report_text(&rep));
				_exit(74);
			}
			if (rl->no_user_xattrs)
				_exit(bad(80, "the overlay was mounted on a filesystem without user.* xattrs"));
			if (getuid() != 0)
				_exit(bad(75, "not root in the user namespace"));
			_exit(exec_sh((void *)rootless_script));
		}
		_exit(init < 0 ? 76 : wait_exit(init));
	}
	if (pid < 0 || (code = wait_exit(pid)) != 0)
		goto out;
	/* the parent's view, as the unprivileged user: what a rootless
	 * `keel ps -s` and `keel rm` would do */
	if (!rl->no_user_xattrs &&
	    (stat(path_in(img->base, "upper/etc/made-here"), &st) < 0 || st.st_uid != 65534))
		code = 77;
	else if (keel_rootfs_remove_upper(r, &err) < 0) {
		fprintf(stderr, "rootless remove: %s\n", keel_error_message(err));
		code = 78;
	}
out:
	keel_error_free(err);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
	return pid < 0 ? 79 : code;
}

/*
 * Whether the kernel refuses user.* xattrs on the filesystem of dir (tmpfs
 * before Linux 6.6 does), asked by setting one on dir itself.
 */
static int fs_lacks_user_xattrs(const char *dir)
{
	static const char name[] = "user.kt-probe";

	if (setxattr(dir, name, "1", 1, 0) == 0) {
		ck_assert_int_eq(removexattr(dir, name), 0);
		return 0;
	}
	ck_assert_msg(errno == EOPNOTSUPP, "probe: set %s on %s: %s", name, dir, strerror(errno));
	return 1;
}

START_TEST(rootless_overlay_in_a_user_namespace)
{
	struct rootless rl;
	struct image img;
	uint64_t l0, l1;
	int status;

	make_image(&img);
	sh("mkdir -p '%s/etc/confdir' && echo old > '%s/etc/confdir/a'", img.l1, img.l1);
	/* a rootless user owns the layers it unpacked (l1); the base layer
	 * stays root's, which the container can read but not change */
	sh("chown -R 65534:65534 '%s'", img.l1);
	l0 = digest(img.l0);
	l1 = digest(img.l1);
	ck_assert_int_eq(mkdir(img.base, 0755), 0);
	ck_assert_int_eq(chown(img.base, 65534, 65534), 0);
	/* In a user namespace overlayfs marks opaque directories with
	 * user.overlay.* xattrs: where the kernel has none for this
	 * filesystem, the library must refuse the overlay, clearly. */
	rl.img = &img;
	rl.no_user_xattrs = fs_lacks_user_xattrs(img.base);
	status = kt_as_nobody(rootless_overlay, &rl);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "rootless run failed: status 0x%x", status);
	/* removed by the unprivileged user, layers untouched, nothing mounted */
	ck_assert_int_eq(access(path_in(img.base, "upper"), F_OK), -1);
	ck_assert_int_eq(access(path_in(img.base, "work"), F_OK), -1);
	ck_assert(digest(img.l0) == l0);
	ck_assert(digest(img.l1) == l1);
	ck_assert_int_eq(host_mounts_under(img.dir), 0);
}
END_TEST

/* ------------------------------------------------------------- idmaps --- */

/* A user namespace mapping 0..65535 to 100000..165535, held by an fd. */
static int make_userns(void)
{
	char path[64];
	int go[2], fd;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		die_with_parent();
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(go[1], "u", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	kt_defer_kill(pid);
	ck_assert_int_eq(read(go[0], &c, 1), 1);
	close(go[0]);
	close(go[1]);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	ck_assert_int_eq(write_map(path, "0 100000 65536"), 0);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	ck_assert_int_eq(write_map(path, "0 100000 65536"), 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	kt_defer_close(fd);
	return fd;
}

static int owned_by_100000(void *arg)
{
	const char *const *paths = arg;
	struct stat st;

	for (; *paths; paths++)
		if (stat(*paths, &st) < 0 || st.st_uid != 100000 || st.st_gid != 100000)
			return bad(80, "%s is owned by %d:%d, expected 100000", *paths, (int)st.st_uid,
				   (int)st.st_gid);
	return 0;
}

/*
 * Whether the kernel can idmap a mount of the filesystem at path, asked
 * directly: clone the mount, set MOUNT_ATTR_IDMAP with userns_fd (which has
 * maps). EINVAL is the kernel's "this filesystem cannot" (tmpfs before
 * Linux 6.3), ENOSYS "this kernel cannot"; anything else fails the test.
 */
static int fs_can_idmap(const char *path, int userns_fd)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
	int fd, ret, e;

	fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0) {
		ck_assert_msg(errno == ENOSYS, "probe: open_tree %s: %s", path, strerror(errno));
		return 0;
	}
	ret = mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr));
	e = errno;
	close(fd);
	if (ret == 0)
		return 1;
	ck_assert_msg(e == EINVAL || e == ENOSYS, "probe: idmap %s: %s", path, strerror(e));
	return 0;
}

START_TEST(idmapped_bind_and_layers_show_mapped_owners)
{
	const char *host = kt_tmpdir();
	const char *const paths[] = { "/mnt/idm/owned-by-root", "/bin/busybox", "/etc/layer1", NULL };
	struct keel_mount_plan *plan = NULL;
	keel_features *f = NULL;
	keel_error *err = NULL;
	struct image img;
	keel_rootfs *r;
	struct stat st;
	int ret, userns, can;

	make_image(&img);
	write_file(path_in(host, "owned-by-root"), "x");
	r = layered_rootfs(&img, "c");
	ck_assert_int_eq(keel_rootfs_add_bind(r, host, "/mnt/idm", KEEL_MOUNT_IDMAP, &err), 0);
	/* without a user namespace the flag cannot work, and says why */
	ck_assert_int_eq(keel_mount_plan_prepare(r, &plan, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "keel_rootfs_set_idmap"));
	userns = make_userns();
	ck_assert_int_eq(keel_rootfs_set_idmap(r, userns, NULL), 0);
	keel_rootfs_set_idmap_layers(r, 1);

	ck_assert_int_eq(keel_features_probe(&f, NULL), 0);
	/* the kernel decides: idmapped mounts at all, then of these filesystems */
	can = keel_features_has(f, KEEL_FEATURE_IDMAPPED_MOUNTS) && fs_can_idmap(host, userns) &&
	      fs_can_idmap(img.l0, userns) && fs_can_idmap(img.l1, userns);
	ret = keel_mount_plan_prepare(r, &plan, &err);
	if (!can) {
		/* this kernel cannot: the error says so, no mount is made; the
		 * mapped-owner half cannot run, and the log says so */
		kt_skip("idmapped_bind_and_layers_show_mapped_owners (mapped owners)",
			"idmapped mounts unsupported by this kernel or on these filesystems; only the refusal was checked");
		ck_assert_msg(ret < 0, "prepare idmapped a mount the kernel cannot idmap");
		ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_UNSUPPORTED);
		ck_assert_ptr_nonnull(strstr(keel_error_message(err), "idmap"));
		ck_assert_ptr_null(plan);
		ck_assert_int_eq(host_mounts_under(img.dir), 0);
		ck_assert_int_eq(host_mounts_under(host), 0);
	} else {
		ck_assert_msg(ret == 0, "prepare: %s", keel_error_message(err));
		run_ok(plan, owned_by_100000, (void *)paths);
		/* on disk nothing changed owner */
		ck_assert_int_eq(stat(path_in(host, "owned-by-root"), &st), 0);
		ck_assert_int_eq(st.st_uid, 0);
		ck_assert_int_eq(host_mounts_under(img.dir), 0);
		ck_assert_int_eq(host_mounts_under(host), 0);
	}
	keel_features_free(f);
	keel_error_free(err);
	keel_mount_plan_free(plan);
	keel_rootfs_free(r);
}
END_TEST

/* ------------------------------------------------ pivot_root fallback --- */

/*
 * The caller itself runs in a chroot, "the jail": a host directory holding
 * rootfs/ (the busybox image), proc/, dev/null and a marker that lies
 * outside the rootfs. How the jail is entered decides what pivot_root says:
 *
 *   JAIL_ON_SHARED  the jail is a mount point whose parent mount is shared
 *                   (a bind under a shared tmpfs, as schroot makes them on
 *                   a systemd host): pivot_root refuses such a root with
 *                   EINVAL, so apply must take the MS_MOVE + chroot path;
 *   JAIL_PLAIN_DIR  the jail is a plain directory, not a mount point.
 *
 * All of it happens in a forked child that first unshares a mount and PID
 * namespace and makes its mounts private, so nothing can reach the host.
 */
enum jail_kind { JAIL_ON_SHARED = 1, JAIL_PLAIN_DIR = 2 };

struct jail {
	enum jail_kind kind;
	int drop_sys_chroot;   /* drop CAP_SYS_CHROOT (effective) before apply */
	const char *dir;       /* the jail's contents on the host */
	const char *shared;    /* JAIL_ON_SHARED: a tmpfs made shared ... */
	char mnt[4096];        /* ... and the jail bound at <shared>/jail */
	char devnull[4096];
};

static void make_jail(struct jail *j, enum jail_kind kind)
{
	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->dir = kt_tmpdir();
	j->shared = kt_tmpdir();
	snprintf(j->mnt, sizeof(j->mnt), "%s/jail", j->shared);
	snprintf(j->devnull, sizeof(j->devnull), "%s/dev/null", j->dir);
	sh("cp -a '%s' '%s/rootfs' && mkdir '%s/proc' '%s/dev' && touch '%s'", kt_rootfs(), j->dir, j->dir,
	   j->dir, j->devnull);
	write_file(path_in(j->dir, "outside-the-rootfs"), "the jail, not the container\n");
}

/* The library binds /dev/null over masked files and reaches its fds
 * through /proc/self/fd: a chroot it runs in needs both. */
static int enter_jail(const struct jail *j)
{
	const char *root = j->dir;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return bad(220, "make / rprivate");
	if (mount("/dev/null", j->devnull, NULL, MS_BIND, NULL) < 0)
		return bad(221, "bind /dev/null");
	if (j->kind == JAIL_ON_SHARED) {
		if (mount("tmpfs", j->shared, "tmpfs", 0, "size=64k") < 0 ||
		    mount(NULL, j->shared, NULL, MS_SHARED, NULL) < 0 || mkdir(j->mnt, 0755) < 0 ||
		    mount(j->dir, j->mnt, NULL, MS_BIND | MS_REC, NULL) < 0)
			return bad(222, "make the jail a mount point on a shared tmpfs");
		root = j->mnt;
	}
	if (chroot(root) < 0 || chdir("/") < 0)
		return bad(223, "chroot %s", root);
	return 0;
}

/*
 * What the kernel says to pivot_root here, in the state apply will have
 * made (mounts rslave, the rootfs bound onto itself): the errno, 0 if it
 * would pivot. Undone afterwards.
 */
static int pivot_root_errno(void)
{
	int e = 0;

	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	    mount("/rootfs", "/rootfs", NULL, MS_BIND | MS_REC, NULL) < 0 || chdir("/rootfs") < 0)
		return -1;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		e = errno;
	if (chdir("/") < 0 || umount2("/rootfs", MNT_DETACH) < 0)
		return -1;
	return e;
}

static int drop_cap_sys_chroot(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	data[CAP_TO_INDEX(CAP_SYS_CHROOT)].effective &= ~CAP_TO_MASK(CAP_SYS_CHROOT);
	return (int)syscall(SYS_capset, &hdr, data);
}

/* PID 1 of the jail's PID namespace: prepare and apply a plan for /rootfs
 * with the defaults, as a caller in that chroot would, then exec script. */
static int jail_init(const struct jail *j, const char *script, int report_fd)
{
	struct keel_child_report rep = { 0 };
	struct keel_mount_plan *plan = NULL;
	keel_rootfs *r = NULL;
	keel_error *err = NULL;
	int e, ret;

	if ((ret = enter_jail(j)) != 0)
		return ret;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return bad(224, "mount proc in the jail");
	if (j->kind == JAIL_ON_SHARED && (e = pivot_root_errno()) != EINVAL)
		return bad(225, "pivot_root in the jail gave %s, not EINVAL: the fallback would not run",
			   e < 0 ? "a failed probe" : strerror(e));
	if (keel_rootfs_new(&r, &err) < 0 || keel_rootfs_set_directory(r, "/rootfs", &err) < 0 ||
	    keel_rootfs_add_defaults(r, &err) < 0 || keel_mount_plan_prepare(r, &plan, &err) < 0)
		return bad(226, "prepare in the jail: %s", keel_error_message(err));
	if (j->drop_sys_chroot && drop_cap_sys_chroot() < 0)
		return bad(227, "drop CAP_SYS_CHROOT");
	if (keel_mount_plan_apply(plan, &rep) < 0)
		return write(report_fd, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 204 : 203;
	execl("/bin/sh", "sh", "-c", script, (char *)NULL);
	return bad(228, "exec /bin/sh");
}

/* Like run_container, from inside the jail: script's exit code, or -1 when
 * apply failed (then *rep holds the child's report). */
static int run_in_jail(const struct jail *j, const char *script, struct keel_child_report *rep)
{
	int fds[2];
	pid_t pid;
	ssize_t n;
	int code;

	memset(rep, 0, sizeof(*rep));
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t init;

		die_with_parent();
		close(fds[0]);
		if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0)
			_exit(bad(201, "unshare"));
		init = fork();
		if (init < 0)
			_exit(202);
		if (init == 0) {
			die_with_parent();
			_exit(jail_init(j, script, fds[1]));
		}
		close(fds[1]);
		_exit(wait_exit(init));
	}
	kt_defer_kill(pid);
	close(fds[1]);
	n = read(fds[0], rep, sizeof(*rep));
	close(fds[0]);
	code = wait_exit(pid);
	return n == (ssize_t)sizeof(*rep) ? -1 : code;
}

/* How many lines of the host's mountinfo name path, as mount point or as
 * the root of a bind: the test's mounts, or anything propagated from them. */
static int host_mounts_naming(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, path))
			n++;
	fclose(f);
	return n;
}

START_TEST(pivot_root_refused_falls_back_to_move_and_chroot)
{
	struct keel_child_report rep;
	char script[8192];
	struct jail j;
	int code;

	make_jail(&j, JAIL_ON_SHARED);
	ck_assert_int_eq(host_mounts_naming(j.dir), 0);
	ck_assert_int_eq(host_mounts_naming(j.shared), 0);
	snprintf(script, sizeof(script),
		 /* / is the image */
		 "test \"$(cat /etc/image-release)\" = 'from the image' || exit 10\n"
		 "test -x /bin/busybox && test -e /linuxrc || exit 11\n"
		 /* the jail and the host are out of sight: .. of / is /, and
		  * the root and cwd of PID 1 are the container's / */
		 "test \"$(stat -c %%d:%%i /..)\" = \"$(stat -c %%d:%%i /)\" || exit 12\n"
		 "cd /../../.. && test \"$(pwd)\" = / && test -e /linuxrc || exit 13\n"
		 "test ! -e /outside-the-rootfs && test ! -e /rootfs || exit 14\n"
		 "test ! -e '%s' && test ! -e '%s' || exit 15\n"
		 "test \"$(readlink /proc/1/root)\" = / && test \"$(readlink /proc/1/cwd)\" = / || exit 16\n"
		 /* the only mounts in sight are the container's: / and the defaults */
		 "test \"$(cut -d' ' -f5 /proc/self/mountinfo | grep -c '^/$')\" = 1 || exit 17\n"
		 "test -z \"$(cut -d' ' -f5 /proc/self/mountinfo | grep -v '^/$' | grep -v '^/proc' | "
		 "grep -v '^/sys' | grep -v '^/dev')\" || exit 18\n"
		 /* /proc is this PID namespace's: sh is PID 1, a few processes in all */
		 "test \"$(cat /proc/1/comm)\" = sh || exit 19\n"
		 "n=$(ps -o pid= | wc -l); test $n -ge 2 && test $n -le 5 || exit 20\n"
		 "test \"$(cat /proc/timer_list | wc -c)\" -eq 0 || exit 21\n",
		 j.dir, kt_rootfs());
	code = run_in_jail(&j, script, &rep);
	ck_assert_msg(code != -1, "apply in the jail failed: %s", report_text(&rep));
	ck_assert_msg(code == 0, "check in the container failed with code %d (see stderr)", code);
	/* nothing of the jail, its tmpfs or the container is left on the host */
	ck_assert_int_eq(host_mounts_naming(j.dir), 0);
	ck_assert_int_eq(host_mounts_naming(j.shared), 0);
}
END_TEST

START_TEST(failed_fallback_says_why_it_ran)
{
	struct keel_child_report rep;
	struct jail j;

	/* MS_MOVE works, chroot is refused */
	make_jail(&j, JAIL_ON_SHARED);
	j.drop_sys_chroot = 1;
	ck_assert_int_eq(run_in_jail(&j, "exit 99", &rep), -1);
	ck_assert_int_eq(rep.code, KEEL_ERROR_CHILD);
	ck_assert_int_eq(rep.errnum, EPERM);
	ck_assert_msg(strstr(rep.msg, "chroot into /rootfs") && strstr(rep.msg, "pivot_root refuses"),
		      "unclear failure: %s", report_text(&rep));
	ck_assert_int_eq(host_mounts_naming(j.dir), 0);
	ck_assert_int_eq(host_mounts_naming(j.shared), 0);
}
END_TEST

START_TEST(chroot_into_a_plain_directory_is_refused_clearly)
{
	struct keel_child_report rep;
	struct jail j;

	/* "/" is no mount point: its propagation cannot be made private, so
	 * apply stops first thing, before it mounts anything */
	make_jail(&j, JAIL_PLAIN_DIR);
	ck_assert_int_eq(run_in_jail(&j, "exit 99", &rep), -1);
	ck_assert_int_eq(rep.code, KEEL_ERROR_CHILD);
	ck_assert_int_eq(rep.errnum, EINVAL);
	ck_assert_msg(strstr(rep.msg, "make the mount tree") && strstr(rep.msg, "not a mount point") &&
		      strstr(rep.msg, "bind-mount the directory onto itself"),
		      "unclear failure: %s", report_text(&rep));
	ck_assert_int_eq(host_mounts_naming(j.dir), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount");
	TCase *api = kt_tcase("api", 30);
	TCase *run = kt_tcase("container", 120);
	/* host probes, outside the code under test (tests/host-probe.h) */
	const char *no_overlay = kt_missing_fs("overlay");
	/* the devices the defaults test opens inside (a v1 devices cgroup of
	 * the session would deny them there too) */
	const char *no_devices = kt_first_missing(
		kt_first_missing(kt_missing_device("/dev/zero", O_RDONLY), kt_missing_device("/dev/null", O_WRONLY)),
		kt_first_missing(kt_missing_device("/dev/full", O_WRONLY), kt_missing_device("/dev/ptmx", O_RDWR)));

	tcase_add_test(api, api_rejects_bad_input);
	tcase_add_test(api, prepare_rejects_what_cannot_work);
	suite_add_tcase(s, api);

	kt_add_test_needs(run, two_containers_share_layers_and_see_only_their_own, no_overlay);
	kt_add_test_needs(run, whiteout_hides_a_deleted_file_but_the_layer_keeps_it, no_overlay);
	kt_add_test_needs(run, readonly_rootfs_refuses_writes_with_erofs, no_overlay);
	kt_add_test_needs(run, defaults_mask_paths_and_show_only_the_containers_processes,
			  kt_first_missing(no_overlay, no_devices));
	kt_add_test_needs(run, masks_and_readonly_paths_inside_the_plans_own_mounts, no_overlay);
	kt_add_test_needs(run, mask_through_an_absolute_symlink_in_dev_is_refused, no_overlay);
	kt_add_test_needs(run, a_mount_over_procfs_hides_it_from_later_masks, no_overlay);
	kt_add_test_needs(run, mount_table_binds_and_tmpfs_with_flags, no_overlay);
	kt_add_test_needs(run, cgroup2_in_a_cgroup_namespace, no_overlay);
	kt_add_test_needs(run, symlink_escape_in_a_bind_destination_is_refused, no_overlay);
	kt_add_test_needs(run, failed_setup_leaves_nothing_mounted, no_overlay);
	kt_add_test_needs(run, usage_counts_what_was_written_and_remove_upper_keeps_the_layers, no_overlay);
	kt_add_test_needs(run, rootless_overlay_in_a_user_namespace,
			  kt_first_missing(no_overlay, kt_missing_userns(65534)));
	kt_add_test_needs(run, idmapped_bind_and_layers_show_mapped_owners,
			  kt_first_missing(no_overlay, kt_missing_userns(0)));
	tcase_add_test(run, pivot_root_refused_falls_back_to_move_and_chroot);
	tcase_add_test(run, failed_fallback_says_why_it_ran);
	tcase_add_test(run, chroot_into_a_plain_directory_is_refused_clearly);
	suite_add_tcase(s, run);
	return kt_run(s);
}
