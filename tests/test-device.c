/*
 * Device access (issue 16): the cgroup2 BPF device filter, host devices
 * given to a container, and CDI specs.
 *
 * Every check opens device nodes for real, from a process inside the
 * filtered cgroup, and asserts on the kernel's answer (EPERM from the
 * filter, success otherwise); the programs attached are read back with
 * BPF_PROG_QUERY. The devices used exist on every Linux machine: /dev/null,
 * /dev/zero, /dev/full, /dev/net/tun (10:200), /dev/fuse (10:229), and a
 * loop device made with losetup. main() first opens each of them outside
 * any container: a session inside a cgroup v1 devices hierarchy that
 * already refuses one gets a named skip, not a false failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "cdi.h"
#include "cgroup-device.h"
#include "util/fs.h"
#include "harness.h"

static char *cg2_mount;
static char last_parent[4096]; /* the cgroup parent of the last new_container() */
static char loop_dev[64];   /* made by main() with losetup, or "" */
static char loop_img[256];

/* ------------------------------------------------------------ helpers -- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The ids of the device programs attached to the cgroup at path itself. */
static int attached(const char *path, uint32_t *ids, uint32_t max)
{
	union bpf_attr attr;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = max;
	ck_assert_msg(sys_bpf(BPF_PROG_QUERY, &attr) == 0, "BPF_PROG_QUERY %s: %s", path, strerror(errno));
	close(fd);
	return (int)attr.query.prog_cnt;
}

/* Whether a program with this id still exists anywhere in the kernel. */
static int prog_exists(uint32_t id)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd >= 0)
		close(fd);
	return fd >= 0 || errno != ENOENT;
}

/* A fresh cgroup under the cgroup2 root for this test (removed at cleanup). */
static const char *test_cgroup(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", cg2_mount, kt_name("dv"));
	ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
	kt_defer_rmdir_cgroup(path);
	return path;
}

/* A container on the busybox rootfs (as a layer), its cgroup under a test
 * cgroup, running /bin/sh -c script with stdout and stderr on a pipe:
 * out[0] is ours to read, out[1] ours to close once it ran. */
static keel_container *new_container(const char *script, int out[2])
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	const char *id = kt_name("dc"), *root = kt_tmpdir();
	keel_container *c = NULL;
	keel_error *err = NULL;

	ck_assert_msg(keel_container_new(&c, id, root, &err) == 0, "%s", keel_error_message(err));
	snprintf(last_parent, sizeof(last_parent), "%s", test_cgroup());
	ck_assert_int_eq(keel_container_set_cgroup_parent(c, last_parent, NULL), 0);
	kt_defer_container(id, root, 0); /* its cgroup is under the test's, which goes after it */
	ck_assert_int_eq(keel_container_add_layer(c, kt_rootfs(), NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_defaults(keel_container_rootfs(c), NULL), 0);
	ck_assert_int_eq(keel_process_set_args(keel_container_process(c), argv, NULL), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	kt_defer_close(out[0]);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(c), -1, out[1], out[1], NULL), 0);
	return c;
}

/* Everything written to fd until EOF. */
static char *read_all(int fd)
{
	static char buf[8192];
	size_t used = 0;
	ssize_t n;

	while (used < sizeof(buf) - 1 && (n = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	return buf;
}

/* Per device, "(exec 3<>DEV) && echo DEV:ok": the output says for each
 * node whether open() passed, or busybox sh's "can't open DEV: <why>"
 * ("can't create" for <>). */
#define OPEN_RW(dev) "(exec 3<>" dev ") 2>&1 && echo " dev ":ok; "
#define OPEN_RD(dev) "(exec 3<" dev ") 2>&1 && echo " dev ":ok; "
#define DENIED(dev) dev ": Operation not permitted"

typedef void (*setup_fn)(keel_container *c, void *data);

/* Run script in a new container, configured by setup (may be NULL), to
 * its end, delete it, and return what it printed. */
static char *run_script(const char *script, setup_fn setup, void *data)
{
	keel_container *c;
	keel_error *err = NULL;
	int out[2], code = -1;

	c = new_container(script, out);
	if (setup)
		setup(c, data);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_wait(c, 0, &code, NULL, NULL), 1);
	close(out[1]);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
	return read_all(out[0]);
}

/* The library frees an error left in *err before it sets a new one. */
#define FREE_ERR() (keel_error_free(err), err = NULL)

#define ASSERT_HAS(out, what) ck_assert_msg(strstr(out, what), "expected \"%s\" in:\n%s", what, out)

/* -------------------------------------------------------------- rules -- */

START_TEST(rules_are_parsed_and_bad_ones_are_clear_errors)
{
	static const char *const bad[] = { "c 10 rwm", "x 1:3 r", "c 1:3", "c 1:3 rwx", "c 1:3 rr", "c -1:3 r",
					   "c 4096:0 r", "c 1:1048576 r", "c  1:3 r", "", "c 1:3 r ", "c *:3" };
	struct keel_device_rule r;
	keel_device_rules *rules = NULL;
	keel_error *err = NULL;
	size_t i, n;

	ck_assert_int_eq(keel_device_rule_parse("c 10:200 rwm", 1, &r, NULL), 0);
	ck_assert(r.type == KEEL_DEVICE_CHAR && r.major == 10 && r.minor == 200 && r.access == KEEL_DEVICE_RWM);
	ck_assert_int_eq(keel_device_rule_parse("b 8:* r", 0, &r, NULL), 0);
	ck_assert(r.type == KEEL_DEVICE_BLOCK && r.major == 8 && r.minor == KEEL_DEVICE_ANY && !r.allow);
	ck_assert_int_eq(keel_device_rule_parse("a *:* mw", 1, &r, NULL), 0);
	ck_assert(r.major == KEEL_DEVICE_ANY && r.access == (KEEL_DEVICE_MKNOD | KEEL_DEVICE_WRITE));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(keel_device_rule_parse(bad[i], 1, &r, &err) == -EINVAL, "'%s' was accepted", bad[i]);
		ck_assert_msg(strstr(keel_error_message(err), "expected TYPE MAJOR:MINOR ACCESS"), "%s",
			      keel_error_message(err));
		FREE_ERR();
	}
	ck_assert_int_eq(keel_device_rules_new(&rules, NULL), 0);
	ck_assert_int_eq(keel_device_rules_add(rules, 1, (keel_device_type)'x', 1, 3, 1, &err), -EINVAL);
	FREE_ERR();
	ck_assert_int_eq(keel_device_rules_add(rules, 1, KEEL_DEVICE_CHAR, 1, 3, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_device_rules_add(rules, 1, KEEL_DEVICE_CHAR, 5000, 3, 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_device_rules_add_string(rules, 1, "c 1:3", NULL), -EINVAL);
	keel_device_rules_get(rules, &n);
	ck_assert_uint_eq(n, 0); /* nothing half-added */
	ck_assert_int_eq(keel_device_rules_add_defaults(rules, NULL), 0);
	keel_device_rules_get(rules, &n);
	ck_assert_uint_eq(n, 11);
	keel_device_rules_free(rules);
	keel_device_rules_free(NULL);
}
END_TEST

/* ------------------------------------------------- the filter itself -- */

/* A child in the cgroup at path opens each device and reports errno. */
static void opens_in_cgroup(const char *cg, const char *const *devs, int *errs, size_t n)
{
	int go[2], res[2], status;
	char procs[4096], pid_s[16];
	pid_t pid;
	size_t i;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(res), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		for (i = 0; i < n; i++) {
			int fd = open(devs[i], O_RDWR | O_CLOEXEC), e = fd < 0 ? errno : 0;
			if (fd >= 0)
				close(fd);
			if (write(res[1], &e, sizeof(e)) != sizeof(e))
				_exit(1);
		}
		_exit(0);
	}
	kt_defer_kill(pid);
	close(go[0]);
	close(res[1]);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	ck_assert_int_eq(keel_write_file_at(AT_FDCWD, procs, pid_s, NULL), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(read(res[0], &errs[i], sizeof(errs[i])), sizeof(errs[i]));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(go[1]);
	close(res[0]);
}

START_TEST(the_program_allows_the_list_and_denies_the_rest)
{
	const char *const devs[] = { "/dev/null", "/dev/full", "/dev/net/tun" };
	uint32_t ids[8], first;
	keel_device_rules *rules = NULL, *narrow = NULL;
	keel_cgroup *cg = NULL;
	keel_error *err = NULL;
	const char *path = test_cgroup();
	int errs[3];

	ck_assert_int_eq(keel_cgroup_open(&cg, "", path, NULL), 0);
	ck_assert_int_eq(keel_device_rules_new(&rules, NULL), 0);
	ck_assert_int_eq(keel_device_rules_add_defaults(rules, NULL), 0);
	ck_assert_msg(keel_cgroup_set_devices(cg, rules, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(attached(path, ids, 8), 1);
	first = ids[0];
	/* The same list again: the same program, nothing new attached. */
	ck_assert_int_eq(keel_cgroup_set_devices(cg, rules, NULL), 0);
	ck_assert_int_eq(attached(path, ids, 8), 1);
	ck_assert_uint_eq(ids[0], first);
	opens_in_cgroup(path, devs, errs, 3);
	ck_assert_int_eq(errs[0], 0);
	ck_assert_int_eq(errs[1], 0);
	ck_assert_int_eq(errs[2], EPERM);

	/* A later deny overrides an earlier allow; the replacement is one program. */
	ck_assert_int_eq(keel_device_rules_copy(&narrow, rules, NULL), 0);
	ck_assert_int_eq(keel_device_rules_add_string(narrow, 0, "c 1:7 w", NULL), 0);
	ck_assert_int_eq(keel_device_rules_add_string(narrow, 1, "c 10:200 rw", NULL), 0);
	ck_assert_msg(keel_cgroup_set_devices(cg, narrow, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(attached(path, ids, 8), 1);
	ck_assert_uint_ne(ids[0], first);
	opens_in_cgroup(path, devs, errs, 3);
	ck_assert_int_eq(errs[0], 0);
	ck_assert_int_eq(errs[1], 0); /* "w" alone does not match an rw open: the earlier allow decides */
	ck_assert_int_eq(errs[2], 0);
	ck_assert_int_eq(keel_device_rules_add_string(narrow, 0, "c 1:7 rw", NULL), 0);
	ck_assert_int_eq(keel_cgroup_set_devices(cg, narrow, NULL), 0);
	opens_in_cgroup(path, devs, errs, 3);
	ck_assert_int_eq(errs[1], EPERM);

	ck_assert_int_eq(keel_cgroup_clear_devices(cg, NULL), 0);
	ck_assert_int_eq(attached(path, ids, 8), 0);
	opens_in_cgroup(path, devs, errs, 3);
	ck_assert_int_eq(errs[2], 0);
	keel_device_rules_free(narrow);
	keel_device_rules_free(rules);
	keel_cgroup_free(cg);
}
END_TEST

/* --------------------------------------------------------- containers -- */

START_TEST(a_container_opens_the_default_list_and_nothing_else)
{
	char *out = run_script(OPEN_RW("/dev/null") OPEN_RW("/dev/zero") OPEN_RW("/dev/full") OPEN_RD("/dev/urandom")
			       "mknod /dev/m1 c 1 1 && echo mknod:ok; " OPEN_RW("/dev/m1")
			       "mknod /dev/t c 10 200; " OPEN_RW("/dev/t")
			       "mknod /dev/b b 7 0 && echo mknod-b:ok; " OPEN_RD("/dev/b"),
			       NULL, NULL);

	ASSERT_HAS(out, "/dev/null:ok");
	ASSERT_HAS(out, "/dev/zero:ok");
	ASSERT_HAS(out, "/dev/full:ok");
	ASSERT_HAS(out, "/dev/urandom:ok");
	ASSERT_HAS(out, "mknod:ok");      /* c *:* m */
	ASSERT_HAS(out, DENIED("/dev/m1")); /* /dev/mem: not in the list */
	ASSERT_HAS(out, DENIED("/dev/t"));
	ASSERT_HAS(out, "mknod-b:ok");    /* b *:* m */
	ASSERT_HAS(out, DENIED("/dev/b"));
}
END_TEST

static void add_tun_and_rule(keel_container *c, void *data)
{
	keel_error *err = NULL;

	(void)data;
	ck_assert_msg(keel_container_add_device(c, "/dev/net/tun", NULL, NULL, &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_msg(keel_container_add_device(c, "/dev/full", "/dev/myfull", "r", &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_msg(keel_container_add_device_rule(c, "c 10:229 r", &err) == 0, "%s", keel_error_message(err));
}

START_TEST(an_added_device_works_and_its_neighbour_does_not)
{
	struct stat st;
	char *out;

	ck_assert_int_eq(stat("/dev/net/tun", &st), 0);
	out = run_script("ls -ln /dev/net/tun /dev/myfull; " OPEN_RW("/dev/net/tun")
			 "mknod /dev/fuse2 c 10 229; " OPEN_RD("/dev/fuse2") OPEN_RW("/dev/fuse2")
			 "mknod /dev/n c 10 201; " OPEN_RW("/dev/n")
			 OPEN_RD("/dev/myfull"),
			 add_tun_and_rule, NULL);
	/* made with the host's type, numbers, mode and owner */
	ASSERT_HAS(out, "crw-------    1 0        0          10, 200");
	ASSERT_HAS(out, "/dev/net/tun:ok");
	ASSERT_HAS(out, "/dev/fuse2:ok");        /* the raw rule, read */
	ASSERT_HAS(out, DENIED("/dev/fuse2"));   /* ... but not write */
	ASSERT_HAS(out, DENIED("/dev/n"));       /* the neighbour of tun */
	ASSERT_HAS(out, "/dev/myfull:ok");
}
END_TEST

static void add_loop(keel_container *c, void *data)
{
	keel_error *err = NULL;

	(void)data;
	ck_assert_msg(keel_container_add_device(c, loop_dev, "/dev/xdisk", "r", &err) == 0, "%s",
		      keel_error_message(err));
}

START_TEST(a_block_device_is_given_with_its_access)
{
	char script[1024];
	struct stat st;
	char *out;

	ck_assert_int_eq(stat(loop_dev, &st), 0);
	snprintf(script, sizeof(script), "ls -ln /dev/xdisk; " OPEN_RD("/dev/xdisk") OPEN_RW("/dev/xdisk")
		 "mknod /dev/nb b %u %u; " OPEN_RD("/dev/nb"), major(st.st_rdev), minor(st.st_rdev) + 1);
	out = run_script(script, add_loop, NULL);
	ASSERT_HAS(out, "brw");
	ASSERT_HAS(out, "/dev/xdisk:ok");
	ASSERT_HAS(out, DENIED("/dev/xdisk"));
	ASSERT_HAS(out, DENIED("/dev/nb"));
}
END_TEST

/* Exec "open /dev/full for rw" in a running container: its output. */
static char *exec_open_full(keel_container *c)
{
	const char *argv[] = { "/bin/sh", "-c", OPEN_RW("/dev/full") OPEN_RW("/dev/null"), NULL };
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	int out[2];

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(keel_process_new(&p, NULL), 0);
	ck_assert_int_eq(keel_process_set_args(p, argv, NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, out[1], out[1], NULL), 0);
	ck_assert_msg(keel_container_exec(c, p, &child, &err) == 0, "%s", keel_error_message(err));
	close(out[1]);
	ck_assert_int_eq(keel_child_wait(child, 0, NULL, NULL, NULL), 1);
	keel_child_free(child);
	keel_process_free(p);
	kt_defer_close(out[0]);
	return strdup(read_all(out[0]));
}

START_TEST(rules_changed_on_a_running_container_take_effect)
{
	keel_device_rules *rules = NULL;
	keel_container *c, *other = NULL;
	keel_error *err = NULL;
	char cg[4096], *before, *after;
	uint32_t ids[8], first;
	int out[2];

	c = new_container("exec sleep 1000", out);
	close(out[1]);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	snprintf(cg, sizeof(cg), "%s", keel_cgroup_path(keel_container_cgroup(c)));
	ck_assert_int_eq(attached(cg, ids, 8), 1);
	first = ids[0];
	before = exec_open_full(c);
	ASSERT_HAS(before, "/dev/full:ok");

	/* From another process's point of view: a loaded handle. */
	ck_assert_int_eq(keel_container_load(&other, keel_container_id(c), keel_container_state_root(c), NULL), 0);
	ck_assert_int_eq(keel_device_rules_new(&rules, NULL), 0);
	ck_assert_int_eq(keel_device_rules_add_string(rules, 1, "c 1:3 rwm", NULL), 0);
	ck_assert_msg(keel_container_set_device_rules(other, rules, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(attached(cg, ids, 8), 1);
	ck_assert_uint_ne(ids[0], first);
	after = exec_open_full(c);
	ASSERT_HAS(after, DENIED("/dev/full"));
	ASSERT_HAS(after, "/dev/null:ok");
	/* configuration calls of the create kind are refused after create */
	ck_assert_int_eq(keel_container_add_device_rule(other, "c 1:7 rwm", &err), -EINVAL);
	FREE_ERR();
	free(before);
	free(after);
	keel_device_rules_free(rules);
	keel_container_free(other);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

START_TEST(the_program_goes_with_the_container)
{
	keel_container *c;
	keel_error *err = NULL;
	uint32_t ids[8];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int out[2], i, code;

	c = new_container("exit 0", out);
	close(out[1]);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(attached(keel_cgroup_path(keel_container_cgroup(c)), ids, 8), 1);
	ck_assert(prog_exists(ids[0]));
	ck_assert_int_eq(keel_container_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(keel_container_delete(c, 0, NULL), 0);
	keel_container_free(c);
	/* The kernel releases a removed cgroup's programs from a work queue. */
	for (i = 0; i < 500 && prog_exists(ids[0]); i++)
		nanosleep(&ts, NULL);
	ck_assert_msg(!prog_exists(ids[0]), "device program %u still exists after delete", ids[0]);
}
END_TEST

/* In a user namespace mknod is refused: the host's node is bound instead,
 * and the filter still applies to it. */
START_TEST(in_a_user_namespace_the_host_node_is_bound)
{
	const char *argv[] = { "/bin/sh", "-c", "cat /proc/self/uid_map; " OPEN_RW("/dev/net/tun") OPEN_RW("/dev/full")
			       "grep -c ' /dev/net/tun ' /proc/self/mountinfo", NULL };
	const char *id = kt_name("dc"), *root = kt_tmpdir();
	keel_container *c = NULL;
	keel_error *err = NULL;
	int out[2], code = -1;
	char *text;

	ck_assert_int_eq(keel_container_new(&c, id, root, NULL), 0);
	ck_assert_int_eq(keel_container_set_cgroup_parent(c, test_cgroup(), NULL), 0);
	kt_defer_container(id, root, 0);
	/* a directory rootfs: overlayfs in a user namespace needs user xattrs */
	ck_assert_int_eq(keel_rootfs_set_directory(keel_container_rootfs(c), kt_rootfs(), NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_defaults(keel_container_rootfs(c), NULL), 0);
	ck_assert_int_eq(keel_container_set_namespaces(c, KEEL_NS_USER | KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_UTS |
						       KEEL_NS_IPC | KEEL_NS_NET, NULL), 0);
	ck_assert_int_eq(keel_process_set_args(keel_container_process(c), argv, NULL), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	kt_defer_close(out[0]);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(c), -1, out[1], out[1], NULL), 0);
	ck_assert_msg(keel_container_add_device(c, "/dev/net/tun", NULL, "rw", &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_add_device_rule(c, "c 1:7 r", NULL), 0);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_wait(c, 0, &code, NULL, NULL), 1);
	close(out[1]);
	text = read_all(out[0]);
	ASSERT_HAS(text, "/dev/net/tun:ok");
	ASSERT_HAS(text, "/dev/full:ok"); /* the default list allows rwm on 1:7 */
	ck_assert_msg(strstr(text, "\n1\n"), "the host's tun is not bound in the container:\n%s", text);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

/* Drop CAP_SYS_ADMIN and CAP_BPF from the effective set of this process. */
static int drop_bpf_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	d[CAP_BPF / 32].effective &= ~(1u << (CAP_BPF % 32));
	return (int)syscall(SYS_capset, &h, d);
}

START_TEST(create_fails_closed_and_names_the_opt_out)
{
	keel_container *c;
	keel_error *err = NULL;
	char cg[8192], msg[1024] = "";
	int out[2], p[2], status;
	pid_t pid;

	c = new_container("exit 0", out);
	snprintf(cg, sizeof(cg), "%s/%s", last_parent, keel_container_id(c));
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (drop_bpf_caps() < 0)
			_exit(2);
		if (keel_container_create(c, &err) == 0)
			_exit(0);
		if (write(p[1], keel_error_message(err), strlen(keel_error_message(err))) < 0)
			_exit(3);
		_exit(1);
	}
	close(p[1]);
	msg[read(p[0], msg, sizeof(msg) - 1) > 0 ? strlen(msg) : 0] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d: %s", status, msg);
	ASSERT_HAS(msg, "no device filter can be attached");
	ASSERT_HAS(msg, "KEEL_DEVICES_UNFILTERED");
	ASSERT_HAS(msg, "--no-device-filter");
	ASSERT_HAS(msg, "CAP_BPF");
	/* nothing left: no state directory, no cgroup */
	snprintf(msg, sizeof(msg), "%s/%s", keel_container_state_root(c), keel_container_id(c));
	ck_assert_msg(access(msg, F_OK) < 0 && errno == ENOENT, "%s is left", msg);
	ck_assert_msg(access(cg, F_OK) < 0 && errno == ENOENT, "cgroup %s is left", cg);
	close(p[0]);
	close(out[1]);
	keel_container_free(c);
}
END_TEST

static void unfiltered(keel_container *c, void *data)
{
	(void)data;
	ck_assert_int_eq(keel_container_set_device_filter(c, KEEL_DEVICES_UNFILTERED, NULL), 0);
	ck_assert_int_eq(keel_container_set_device_filter(c, 7, NULL), -EINVAL);
}

START_TEST(the_opt_out_attaches_nothing)
{
	char *out = run_script("mknod /dev/t c 10 200; " OPEN_RW("/dev/t") "cat /proc/self/cgroup", unfiltered, NULL);

	ASSERT_HAS(out, "/dev/t:ok");
}
END_TEST

/* ---------------------------------------------------------------- CDI -- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A spec for ordinary devices, as a GPU vendor would write one for a GPU:
 * spec-level env and a hook, device-level nodes, mounts and env. */
static const char *write_spec(const char *dir, const char *hook_out)
{
	static char spec[8192];
	char path[4096], data[4096];

	snprintf(data, sizeof(data), "%s/data.txt", dir);
	write_file(data, "cdi-mounted\n");
	snprintf(spec, sizeof(spec),
		 "{ \"cdiVersion\": \"0.6.0\", \"kind\": \"keel.test/dev\",\n"
		 "  \"containerEdits\": { \"env\": [ \"KT_SPEC=spec-level\" ],\n"
		 "     \"hooks\": [ { \"hookName\": \"createRuntime\", \"path\": \"/bin/sh\",\n"
		 "                   \"args\": [ \"sh\", \"-c\", \"cat > %s\" ] } ] },\n"
		 "  \"devices\": [\n"
		 "    { \"name\": \"tun\", \"containerEdits\": {\n"
		 "        \"deviceNodes\": [ { \"path\": \"/dev/net/tun\", \"permissions\": \"rw\" } ],\n"
		 "        \"mounts\": [ { \"hostPath\": \"%s\", \"containerPath\": \"/opt/cdi.txt\",\n"
		 "                       \"options\": [ \"ro\", \"nosuid\", \"nodev\", \"bind\" ] } ],\n"
		 "        \"env\": [ \"KT_DEV=tun\" ] } },\n"
		 "    { \"name\": \"disk\", \"containerEdits\": {\n"
		 "        \"deviceNodes\": [ { \"path\": \"/dev/cdidisk\", \"hostPath\": \"%s\", \"type\": \"b\",\n"
		 "                           \"fileMode\": 384, \"uid\": 7, \"gid\": 8 } ] } }\n"
		 "  ] }\n", hook_out, data, loop_dev[0] ? loop_dev : "/dev/null");
	snprintf(path, sizeof(path), "%s/keel-test.json", dir);
	write_file(path, spec);
	return dir;
}

struct cdi_case {
	keel_cdi_registry *reg;
	const char *name;
};

static void apply_cdi(keel_container *c, void *data)
{
	struct cdi_case *cc = data;
	keel_error *err = NULL;

	ck_assert_msg(keel_cdi_registry_apply(cc->reg, cc->name, c, &err) == 0, "%s", keel_error_message(err));
}

START_TEST(a_cdi_device_gets_its_nodes_mounts_env_and_hooks)
{
	const char *dir = kt_tmpdir(), *dirs[] = { NULL, "/nonexistent/cdi", NULL };
	struct cdi_case cc = { NULL, "keel.test/dev=tun" };
	char hook_out[4096], **names = NULL, *out, *state;
	keel_error *err = NULL;

	snprintf(hook_out, sizeof(hook_out), "%s/hook-state.json", dir);
	dirs[0] = write_spec(dir, hook_out);
	ck_assert_msg(keel_cdi_registry_new(&cc.reg, dirs, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_cdi_registry_devices(cc.reg, &names, NULL), 0);
	ck_assert_str_eq(names[0], "keel.test/dev=disk");
	ck_assert_str_eq(names[1], "keel.test/dev=tun");
	ck_assert_ptr_null(names[2]);
	keel_container_strv_free(names);

	out = run_script(OPEN_RW("/dev/net/tun") "mknod /dev/n c 10 201; " OPEN_RW("/dev/n")
			 "cat /opt/cdi.txt; echo spec=$KT_SPEC dev=$KT_DEV; echo x > /opt/cdi.txt",
			 apply_cdi, &cc);
	ASSERT_HAS(out, "/dev/net/tun:ok");
	ASSERT_HAS(out, DENIED("/dev/n"));
	ASSERT_HAS(out, "cdi-mounted");
	ASSERT_HAS(out, "spec=spec-level dev=tun");
	ASSERT_HAS(out, "Read-only file system");
	state = kt_read(hook_out);
	ck_assert_msg(state && strstr(state, "\"status\":\"creating\"") && strstr(state, "\"pid\":"),
		      "hook state: %s", state ? state : "(none)");
	keel_cdi_registry_free(cc.reg);
}
END_TEST

START_TEST(a_cdi_block_node_gets_the_specs_mode_and_owner)
{
	const char *dir = kt_tmpdir(), *dirs[] = { NULL, NULL };
	struct cdi_case cc = { NULL, "keel.test/dev=disk" };
	char hook_out[4096], *out;
	keel_error *err = NULL;

	snprintf(hook_out, sizeof(hook_out), "%s/hook-state.json", dir);
	dirs[0] = write_spec(dir, hook_out);
	ck_assert_msg(keel_cdi_registry_new(&cc.reg, dirs, &err) == 0, "%s", keel_error_message(err));
	out = run_script("ls -ln /dev/cdidisk; " OPEN_RW("/dev/cdidisk"), apply_cdi, &cc);
	ASSERT_HAS(out, "brw-------    1 7        8");
	ASSERT_HAS(out, "/dev/cdidisk:ok");
	keel_cdi_registry_free(cc.reg);
}
END_TEST

START_TEST(cdi_errors_say_what_and_where)
{
	const char *dir = kt_tmpdir(), *dirs[] = { dir, NULL }, *rel[] = { "etc/cdi", NULL };
	keel_cdi_registry *reg = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	char path[4096];

	write_spec(dir, "/dev/null");
	ck_assert_int_eq(keel_cdi_registry_new(&reg, dirs, NULL), 0);
	ck_assert_int_eq(keel_container_new(&c, kt_name("dc"), kt_tmpdir(), NULL), 0);
	ck_assert_int_eq(keel_cdi_registry_apply(reg, "keel.test/dev=gpu0", c, &err), -ENOENT);
	ASSERT_HAS(keel_error_message(err), "CDI device keel.test/dev=gpu0 not found (known: keel.test/dev=disk, "
			 "keel.test/dev=tun)");
	FREE_ERR();
	ck_assert_int_eq(keel_cdi_registry_apply(reg, "gpu0", c, &err), -EINVAL);
	ASSERT_HAS(keel_error_message(err), "vendor.com/class=name");
	FREE_ERR();
	keel_container_free(c);
	keel_cdi_registry_free(reg);
	reg = NULL;

	ck_assert_int_eq(keel_cdi_registry_new(&reg, rel, NULL), -EINVAL);
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	write_file(path, "{ \"cdiVersion\": \"0.6.0\", \"kind\": \"keel.test/dev\", \"devices\": [ "
			 "{ \"name\": \"x\", \"containerEdits\": { \"deviceNodes\": [ { \"hostPath\": \"/dev/null\" } ] } } ] }");
	ck_assert_int_eq(keel_cdi_registry_new(&reg, dirs, &err), -EINVAL);
	ASSERT_HAS(keel_error_message(err), "bad.json: devices[0].deviceNodes[0]: path is missing");
	FREE_ERR();
	write_file(path, "{ \"cdiVersion\": \"0.6.0\", \"kind\": \"nodomain\", \"devices\": [] }");
	ck_assert_int_eq(keel_cdi_registry_new(&reg, dirs, &err), -EINVAL);
	ASSERT_HAS(keel_error_message(err), "bad.json: kind: missing or not vendor.com/class");
	FREE_ERR();
	write_file(path, "{ \"cdiVersion\": ");
	ck_assert_int_eq(keel_cdi_registry_new(&reg, dirs, &err), -EINVAL);
	ASSERT_HAS(keel_error_message(err), "bad.json");
	FREE_ERR();
	ck_assert_ptr_null(reg);
}
END_TEST

START_TEST(cdi_names_are_checked)
{
	size_t kl;
	const char *name;

	ck_assert_int_eq(keel_cdi_parse_name("nvidia.com/gpu=0", &kl, &name), 0);
	ck_assert_uint_eq(kl, 14);
	ck_assert_str_eq(name, "0");
	ck_assert_int_eq(keel_cdi_parse_name("nvidia.com/gpu=all", &kl, &name), 0);
	ck_assert_int_eq(keel_cdi_parse_name("nvidia.com/gpu", &kl, &name), -EINVAL);
	ck_assert_int_eq(keel_cdi_parse_name("nvidia.com=0", &kl, &name), -EINVAL);
	ck_assert_int_eq(keel_cdi_parse_name("/gpu=0", &kl, &name), -EINVAL);
	ck_assert_int_eq(keel_cdi_parse_name("nvidia.com/gpu=", &kl, &name), -EINVAL);
	ck_assert_int_eq(keel_cdi_parse_name("nvidia.com/g pu=0", &kl, &name), -EINVAL);
	ck_assert_int_eq(keel_cdi_parse_name(NULL, &kl, &name), -EINVAL);
}
END_TEST

/* ----------------------------------------------------------- the probes -- */

/* NULL when this session can open path read-write, else why not. */
static const char *probe_open(const char *path)
{
	static char why[8][160];
	static int next;
	char *w = why[next++ % 8];
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	snprintf(w, sizeof(why[0]), "the host refuses to open %s here: %s (a cgroup v1 devices hierarchy, or "
		 "no such device)", path, strerror(errno));
	return w;
}

/* NULL when a BPF device program can be attached to a new cgroup here. */
static const char *probe_bpf(void)
{
	static char why[256];
	keel_device_rules *r = NULL;
	keel_error *err = NULL;
	int fd;

	if (!cg2_mount)
		return "no cgroup2 mount";
	keel_device_rules_new(&r, NULL);
	keel_device_rules_add_defaults(r, NULL);
	fd = keel_device_rules_prog_fd(r, &err);
	if (fd < 0)
		snprintf(why, sizeof(why), "%s", keel_error_message(err));
	FREE_ERR();
	keel_device_rules_free(r);
	return fd < 0 ? why : NULL;
}

/* A loop device on a small image, detached and removed at exit. */
static const char *make_loop(void)
{
	char cmd[1024];
	FILE *f;

	snprintf(loop_img, sizeof(loop_img), "/tmp/keel-test-device-%d.img", (int)getpid());
	snprintf(cmd, sizeof(cmd), "truncate -s 1M %s && losetup -f --show %s 2>/dev/null", loop_img, loop_img);
	f = popen(cmd, "r");
	if (!f || !fgets(loop_dev, sizeof(loop_dev), f))
		loop_dev[0] = '\0';
	if (f)
		pclose(f);
	loop_dev[strcspn(loop_dev, "\n")] = '\0';
	return loop_dev[0] ? probe_open(loop_dev) : "losetup could not make a loop device";
}

static void drop_loop(void)
{
	char cmd[512];

	if (loop_dev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", loop_dev);
		if (system(cmd) != 0)
			fprintf(stderr, "test-device: %s failed\n", cmd);
	}
	if (loop_img[0])
		unlink(loop_img);
}

static const char *first_of(const char *a, const char *b)
{
	return a ? a : b;
}

static Suite *device_suite(void)
{
	Suite *s = suite_create("device");
	const char *bpf, *tun, *fuse, *loop, *full;
	TCase *tc;

	keel_find_mount("cgroup2", &cg2_mount, NULL);
	bpf = probe_bpf();
	full = first_of(bpf, probe_open("/dev/full"));
	tun = first_of(full, probe_open("/dev/net/tun"));
	fuse = first_of(tun, probe_open("/dev/fuse"));
	loop = first_of(bpf, make_loop());

	tc = kt_tcase("rules", 30);
	tcase_add_test(tc, rules_are_parsed_and_bad_ones_are_clear_errors);
	tcase_add_test(tc, cdi_names_are_checked);
	tcase_add_test(tc, cdi_errors_say_what_and_where);
	suite_add_tcase(s, tc);

	tc = kt_tcase("filter", 60);
	kt_add_test_needs(tc, the_program_allows_the_list_and_denies_the_rest, tun);
	kt_add_test_needs(tc, a_container_opens_the_default_list_and_nothing_else, tun);
	kt_add_test_needs(tc, an_added_device_works_and_its_neighbour_does_not, fuse);
	kt_add_test_needs(tc, a_block_device_is_given_with_its_access, loop);
	kt_add_test_needs(tc, rules_changed_on_a_running_container_take_effect, full);
	kt_add_test_needs(tc, the_program_goes_with_the_container, bpf);
	kt_add_test_needs(tc, create_fails_closed_and_names_the_opt_out, bpf);
	kt_add_test_needs(tc, the_opt_out_attaches_nothing, tun);
	kt_add_test_needs(tc, in_a_user_namespace_the_host_node_is_bound, tun);
	kt_add_test_needs(tc, a_cdi_device_gets_its_nodes_mounts_env_and_hooks, tun);
	kt_add_test_needs(tc, a_cdi_block_node_gets_the_specs_mode_and_owner, loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int failed;

	failed = kt_run(device_suite());
	drop_loop();
	free(cg2_mount);
	return failed;
}
