/*
 * Resource updates of a running container (issue 20, item 5):
 * keel_resources, keel_container_update(), keel_container_resources().
 *
 * Every update is checked twice: in the cgroup's files (what the kernel
 * has) and in the state read back by keel_container_load() in a fresh
 * handle (what another process learns). The controller files need a pure
 * cgroup-v2 tree, so those tests are named skips on this hybrid host and
 * run in tests/vm; the core limits (cgroup.max.depth), the device filter
 * and every refusal run here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "cgroup-device.h"
#include "state.h"
#include "util/fs.h"
#include "harness.h"
#include "host-probe.h"

static char *cg2_mount;

/* ---------------------------------------------------------------- helpers -- */

/* A container on the busybox rootfs running argv, deleted at cleanup. */
static keel_container *new_container(const char *id, const char *root, const char *const argv[])
{
	keel_container *c = NULL;
	keel_error *err = NULL;

	kt_defer_container(id, root, 1);
	ck_assert_msg(keel_container_new(&c, id, root, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_add_layer(c, kt_rootfs(), NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_defaults(keel_container_rootfs(c), NULL), 0);
	ck_assert_int_eq(keel_process_set_args(keel_container_process(c), argv, NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(c), -1, -1, 2, NULL), 0);
	return c;
}

static const char *const sleeper[] = { "/bin/sleep", "1000", NULL };

/* The running container c, made and started. */
static keel_container *running(const char *id, const char *root)
{
	keel_container *c = new_container(id, root, sleeper);
	keel_error *err = NULL;

	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	return c;
}

/* A file of the container's cgroup, without its final newline. */
static const char *cg_file(keel_container *c, const char *file)
{
	static char text[4][1024];
	static int next;
	char path[4096], *s, *nl;

	snprintf(path, sizeof(path), "%s/%s", keel_cgroup_path(keel_container_cgroup(c)), file);
	s = kt_read(path);
	ck_assert_msg(s != NULL, "read %s: %s", path, strerror(errno));
	next = (next + 1) % 4;
	snprintf(text[next], sizeof(text[next]), "%s", s);
	if ((nl = strrchr(text[next], '\n')) && !nl[1])
		*nl = '\0';
	return text[next];
}

/* What the state of id records for file, read by a fresh handle (NULL:
 * nothing). The n-th entry for file with n > 0. */
static const char *recorded_nth(const char *id, const char *root, const char *file, int n)
{
	static char value[512];
	keel_container *c = NULL;
	keel_resources *r = NULL;
	keel_error *err = NULL;
	const char *f, *v;
	const char *found = NULL;
	size_t i;

	ck_assert_msg(keel_container_load(&c, id, root, &err) == 0, "%s", keel_error_message(err));
	ck_assert_msg(keel_container_resources(c, &r, &err) == 0, "%s", keel_error_message(err));
	for (i = 0; keel_resources_get(r, i, &f, &v) == 0; i++)
		if (!strcmp(f, file) && n-- == 0) {
			snprintf(value, sizeof(value), "%s", v);
			found = value;
			break;
		}
	keel_resources_free(r);
	keel_container_free(c);
	return found;
}

static const char *recorded(const char *id, const char *root, const char *file)
{
	return recorded_nth(id, root, file, 0);
}

static size_t recorded_count(const char *id, const char *root)
{
	keel_container *c = NULL;
	keel_resources *r = NULL;
	const char *f, *v;
	size_t i;

	ck_assert_int_eq(keel_container_load(&c, id, root, NULL), 0);
	ck_assert_int_eq(keel_container_resources(c, &r, NULL), 0);
	for (i = 0; keel_resources_get(r, i, &f, &v) == 0; i++)
		;
	keel_resources_free(r);
	keel_container_free(c);
	return i;
}

static void assert_error_has(keel_error *err, const char *a, const char *b)
{
	const char *m = keel_error_message(err);

	ck_assert_msg(m && strstr(m, a) && (!b || strstr(m, b)), "expected '%s'%s%s in: %s", a, b ? " and " : "",
		      b ? b : "", m ? m : "(no error)");
}

/* Which of the controllers in list the cgroup2 root does not offer, as a
 * skip reason written into why (the caller's, kept until exit), or NULL:
 * the probe of the controller tests. */
static const char *missing_controllers(const char *list, char *why, size_t why_len)
{
	char path[4096], *text, word[32];
	const char *p;
	size_t n;

	if (!cg2_mount && keel_find_mount("cgroup2", &cg2_mount, NULL) < 0)
		return "no cgroup2 mount";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg2_mount);
	text = NULL;
	if (keel_read_file_at(AT_FDCWD, path, &text, NULL, NULL) < 0)
		return "cannot read the cgroup2 root's cgroup.controllers";
	for (p = list; *p; p += n + (p[n] == ' ')) {
		n = strcspn(p, " ");
		snprintf(word, sizeof(word), " %.*s ", (int)n, p);
		snprintf(path, sizeof(path), " %.*s ", (int)strcspn(text, "\n"), text);
		if (!strstr(path, word)) {
			snprintf(why, why_len, "cgroup2 at %s has no %.*s controller (hybrid host: runs in tests/vm)",
				 cg2_mount, (int)n, p);
			free(text);
			return why;
		}
	}
	free(text);
	return NULL;
}

/* ---------------------------------------------------------- the values -- */

START_TEST(setters_check_values_and_replace_by_identity)
{
	keel_resources *r = NULL;
	keel_device_rules *rules = NULL;
	keel_error *err = NULL;
	const char *f, *v;

	keel_resources_free(NULL);
	ck_assert_int_eq(keel_resources_new(NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);

	ck_assert_int_eq(keel_resources_set_memory_max(r, (uint64_t)-5, &err), -EINVAL);
	assert_error_has(err, "memory.max", "-5 is negative");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_resources_set_memory_max(r, 100, &err), -EINVAL);
	assert_error_has(err, "memory.max", "too small");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_resources_set_memory_high(r, (uint64_t)-2, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_memory_swap_max(r, (uint64_t)-1 - 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_pids_max(r, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_cpu_weight(r, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_cpu_weight(r, 10001, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_cpu_max(r, 10, 100000, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_cpu_max(r, 50000, 10, &err), -EINVAL);
	assert_error_has(err, "cpu.max", "period 10 us");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_resources_set_io_weight(r, 4095, 1048575, 100, &err), -ENODEV);
	assert_error_has(err, "io.weight", "no block device 4095:1048575");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_resources_set_io_max(r, 4095, 1048575, KEEL_CGROUP_IO_RBPS, 1 << 20, NULL), -ENODEV);
	ck_assert_int_eq(keel_resources_set_io_max(r, 1, 3, (keel_cgroup_io_limit)99, 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_io_weight(r, 0, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_cpuset_cpus(r, "0-a", &err), -EINVAL);
	assert_error_has(err, "cpuset.cpus", "'0-a'");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_resources_set_cpuset_mems(r, "", NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_cpuset_mems(r, NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.procs", "1", &err), -EINVAL);
	assert_error_has(err, "cgroup.procs", "not a resource controller's file");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.kill", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_value(r, "memory../max", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_value(r, "memory.", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_value(r, "memory.max", "1\nmax", NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_value(r, "memory.max", "", NULL), -EINVAL);
	ck_assert_int_eq(keel_resources_set_device_rules(r, NULL, NULL), -EINVAL);
	/* nothing refused went in */
	ck_assert_int_eq(keel_resources_get(r, 0, &f, &v), -ENOENT);
	ck_assert_int_eq(keel_resources_get_device_rules(r, &rules, NULL), -ENOENT);

	/* what is accepted, in order; the same file again replaces */
	ck_assert_int_eq(keel_resources_set_memory_max(r, 64 << 20, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpu_max(r, KEEL_CGROUP_MAX, 100000, NULL), 0);
	ck_assert_int_eq(keel_resources_set_memory_max(r, KEEL_CGROUP_MAX, NULL), 0);
	ck_assert_int_eq(keel_resources_set_io_weight(r, 0, 0, 300, NULL), 0);
	ck_assert_int_eq(keel_resources_set_memory_swap_max(r, 0, NULL), 0);
	ck_assert_int_eq(keel_resources_set_memory_high(r, 32 << 20, NULL), 0);
	ck_assert_int_eq(keel_resources_set_pids_max(r, 10, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpu_weight(r, 10000, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpuset_cpus(r, "0-1,3", NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpuset_mems(r, "0", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "io.max", "1:3 rbps=10", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "io.max", "1:3 wbps=20", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "io.max", "1:3 rbps=30", NULL), 0); /* replaces rbps=10 */
	ck_assert_int_eq(keel_resources_set_value(r, "hugetlb.2MB.max", "0", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.depth", "2", NULL), 0);
	{
		static const char *const want[][2] = {
			{ "memory.max", "max" }, { "cpu.max", "max 100000" }, { "io.weight", "default 300" },
			{ "memory.swap.max", "0" }, { "memory.high", "33554432" }, { "pids.max", "10" },
			{ "cpu.weight", "10000" }, { "cpuset.cpus", "0-1,3" }, { "cpuset.mems", "0" },
			{ "io.max", "1:3 rbps=30" }, { "io.max", "1:3 wbps=20" }, { "hugetlb.2MB.max", "0" },
			{ "cgroup.max.depth", "2" },
		};
		size_t i;

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			ck_assert_int_eq(keel_resources_get(r, i, &f, &v), 0);
			ck_assert_str_eq(f, want[i][0]);
			ck_assert_str_eq(v, want[i][1]);
		}
		ck_assert_int_eq(keel_resources_get(r, i, &f, &v), -ENOENT);
	}
	ck_assert_int_eq(keel_resources_get(NULL, 0, &f, &v), -EINVAL);

	ck_assert_int_eq(keel_device_rules_new(&rules, NULL), 0);
	ck_assert_int_eq(keel_device_rules_add_string(rules, 1, "c 1:3 rw", NULL), 0);
	ck_assert_int_eq(keel_resources_set_device_rules(r, rules, NULL), 0);
	keel_device_rules_free(rules);
	rules = NULL;
	ck_assert_int_eq(keel_resources_get_device_rules(r, &rules, NULL), 0);
	{
		size_t n = 0;
		const struct keel_device_rule *got = keel_device_rules_get(rules, &n);

		ck_assert_uint_eq(n, 1);
		ck_assert(got[0].allow && got[0].type == KEEL_DEVICE_CHAR && got[0].major == 1 && got[0].minor == 3 &&
			  got[0].access == (KEEL_DEVICE_READ | KEEL_DEVICE_WRITE));
	}
	keel_device_rules_free(rules);
	keel_resources_free(r);
}
END_TEST

/* ----------------------------------------------------------- the state -- */

static void write_state_text(const char *dir, const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(state_records_resources_and_reads_them_strictly)
{
	static const char *const bad[] = {
		"status=4\nresource=cgroup.procs 1\n",          /* not a resource */
		"status=4\nresource=memory.max\n",              /* no value */
		"status=4\nresource=memory.max \n",             /* empty value */
		"status=4\nresource=nosuch.max 1\n",            /* no such controller */
		"status=4\ndevice_rule=allow c 1:3 rwm\n",      /* a rule before its count */
		"status=4\ndevice_rules=2\ndevice_rule=allow c 1:3 rwm\n",  /* one short */
		"status=4\ndevice_rules=1\ndevice_rule=allow c 1:3 rwm\ndevice_rule=allow c 1:5 rwm\n",
		"status=4\ndevice_rules=1\ndevice_rule=maybe c 1:3 rwm\n",
		"status=4\ndevice_rules=1\ndevice_rule=allow x 1:3 rwm\n",
		"status=4\ndevice_rules=1\ndevice_rules=1\ndevice_rule=allow c 1:3 rwm\n",
		"status=4\ndevice_rules=-1\n", "status=4\ndevice_rules=5000\n",
	};
	const char *dir = kt_tmpdir();
	struct keel_cstate st = { 0 }, back = { 0 };
	char *res[] = { "memory.max 67108864", "io.max 8:0 rbps=1048576", NULL };
	char *rules[] = { "allow c 1:3 rwm", "deny a *:* m", NULL };
	keel_error *err = NULL;
	size_t i;

	st.status = KEEL_STATE_RUNNING;
	st.resources = res;
	st.has_device_rules = 1;
	st.device_rules = rules;
	ck_assert_msg(keel_state_write(dir, &st, &err) == 0, "%s", keel_error_message(err));
	ck_assert_msg(keel_state_read(dir, &back, &err) == 0, "%s", keel_error_message(err));
	ck_assert_ptr_nonnull(back.resources);
	ck_assert_str_eq(back.resources[0], "memory.max 67108864");
	ck_assert_str_eq(back.resources[1], "io.max 8:0 rbps=1048576");
	ck_assert_ptr_null(back.resources[2]);
	ck_assert_int_eq(back.has_device_rules, 1);
	ck_assert_str_eq(back.device_rules[0], "allow c 1:3 rwm");
	ck_assert_str_eq(back.device_rules[1], "deny a *:* m");
	ck_assert_ptr_null(back.device_rules[2]);
	keel_cstate_clear(&back);
	ck_assert(strstr(kt_read(strcat(strcpy((char[4096]){ 0 }, dir), "/state")),
			 "resource=memory.max 67108864\nresource=io.max 8:0 rbps=1048576\ndevice_rules=2\n"
			 "device_rule=allow c 1:3 rwm\ndevice_rule=deny a *:* m\n"));

	/* an empty filter (deny all) is recorded as such, not as "none" */
	st.resources = NULL;
	st.device_rules = NULL;
	ck_assert_int_eq(keel_state_write(dir, &st, NULL), 0);
	ck_assert_int_eq(keel_state_read(dir, &back, NULL), 0);
	ck_assert_int_eq(back.has_device_rules, 1);
	ck_assert_ptr_null(back.device_rules);
	keel_cstate_clear(&back);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_state_text(dir, bad[i]);
		ck_assert_msg(keel_state_read(dir, &back, &err) == -EIO, "accepted: %s", bad[i]);
		assert_error_has(err, "state", NULL);
		keel_error_free(err);
		err = NULL;
	}
}
END_TEST

/* ------------------------------------------------------ natively, too -- */

/* cgroup.max.depth is a core file every cgroup2 has: the whole path of an
 * update (check, write, record, read back elsewhere) runs on this host. */
START_TEST(core_limit_update_is_written_and_recorded)
{
	const char *root = kt_tmpdir(), *id = kt_name("uc");
	keel_container *c = running(id, root), *other = NULL;
	keel_resources *r = NULL;
	keel_error *err = NULL;
	char path[4096];

	ck_assert_str_eq(cg_file(c, "cgroup.max.depth"), "max");
	ck_assert_ptr_null(recorded(id, root, "cgroup.max.depth"));
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.depth", "3", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.descendants", "7", NULL), 0);
	ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
	keel_resources_free(r);
	ck_assert_str_eq(cg_file(c, "cgroup.max.depth"), "3");
	ck_assert_str_eq(cg_file(c, "cgroup.max.descendants"), "7");
	ck_assert_str_eq(recorded(id, root, "cgroup.max.depth"), "3");
	ck_assert_str_eq(recorded(id, root, "cgroup.max.descendants"), "7");
	snprintf(path, sizeof(path), "%s/%s/state", root, id);
	ck_assert_ptr_nonnull(strstr(kt_read(path), "resource=cgroup.max.depth 3\n"));

	/* from a loaded handle: the later value replaces the recorded one */
	ck_assert_int_eq(keel_container_load(&other, id, root, NULL), 0);
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.depth", "5", NULL), 0);
	ck_assert_msg(keel_container_update(other, r, &err) == 0, "%s", keel_error_message(err));
	keel_resources_free(r);
	keel_container_free(other);
	ck_assert_str_eq(cg_file(c, "cgroup.max.depth"), "5");
	ck_assert_str_eq(recorded(id, root, "cgroup.max.depth"), "5");
	ck_assert_uint_eq(recorded_count(id, root), 2);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

START_TEST(bad_updates_change_nothing)
{
	const char *root = kt_tmpdir(), *id = kt_name("ub");
	static const char *const quick[] = { "/bin/true", NULL };
	keel_container *c = running(id, root), *fresh = NULL, *done;
	keel_resources *r = NULL;
	keel_error *err = NULL;
	int st = 0;

	ck_assert_int_eq(keel_container_update(NULL, r, NULL), -EINVAL);
	ck_assert_int_eq(keel_container_update(c, NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_container_resources(c, NULL, NULL), -EINVAL);

	/* a file the cgroup cannot have: refused before cgroup.max.depth,
	 * which comes first, is written */
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.depth", "2", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "memory.nosuchfile", "1", NULL), 0);
	ck_assert_int_lt(keel_container_update(c, r, &err), 0);
	assert_error_has(err, "nothing was changed", NULL);
	ck_assert_msg(strstr(keel_error_message(err), "memory"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	keel_resources_free(r);
	ck_assert_str_eq(cg_file(c, "cgroup.max.depth"), "max");
	ck_assert_ptr_null(recorded(id, root, "cgroup.max.depth"));

	/* a value the kernel refuses, after one it took: put back */
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.depth", "2", NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.descendants", "-7", NULL), 0);
	ck_assert_int_lt(keel_container_update(c, r, &err), 0);
	assert_error_has(err, "cgroup.max.descendants", "'-7'");
	assert_error_has(err, "nothing was changed", NULL);
	keel_error_free(err);
	err = NULL;
	keel_resources_free(r);
	ck_assert_str_eq(cg_file(c, "cgroup.max.depth"), "max");
	ck_assert_str_eq(cg_file(c, "cgroup.max.descendants"), "max");
	ck_assert_uint_eq(recorded_count(id, root), 0);

	/* a container that has exited: refused, its state untouched */
	ck_assert_int_eq(keel_container_kill(c, SIGKILL, KEEL_KILL_ALL, NULL), 0);
	ck_assert_int_eq(keel_container_wait(c, 0, NULL, NULL, NULL), 1);
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_value(r, "cgroup.max.depth", "2", NULL), 0);
	ck_assert_int_eq(keel_container_load(&fresh, id, root, NULL), 0);
	ck_assert_int_eq(keel_container_update(fresh, r, &err), -EINVAL);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_STATE);
	assert_error_has(err, "container is stopped", "nothing was changed");
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_container_state(fresh, &st, NULL), 0);
	ck_assert_int_eq(st, KEEL_STATE_STOPPED);
	ck_assert_uint_eq(recorded_count(id, root), 0);
	keel_container_free(fresh);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);

	/* never created: no state to record in */
	done = new_container(kt_name("un"), root, quick);
	ck_assert_int_eq(keel_container_update(done, r, &err), -EINVAL);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_STATE);
	keel_error_free(err);
	keel_resources_free(r);
	keel_container_free(done);
}
END_TEST

/* ---------------------------------------------------------- the devices -- */

/* Run sh -c script in the container (an exec) and return its output. */
static const char *exec_output(keel_container *c, const char *script)
{
	static char buf[1024];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	size_t len = 0;
	ssize_t n;
	int out[2];

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(keel_process_new(&p, NULL), 0);
	ck_assert_int_eq(keel_process_set_args(p, argv, NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, out[1], out[1], NULL), 0);
	ck_assert_msg(keel_container_exec(c, p, &child, &err) == 0, "%s", keel_error_message(err));
	close(out[1]);
	while (len < sizeof(buf) - 1 && (n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(out[0]);
	ck_assert_int_eq(keel_child_wait(child, 0, NULL, NULL, NULL), 1);
	keel_child_free(child);
	keel_process_free(p);
	return buf;
}

/* in a subshell: a failed redirection of ':' (a special built-in) ends the shell */
#define OPEN_FULL "if (: > /dev/full) 2>/dev/null; then echo open-ok; else echo open-denied; fi"

/* The defaults without /dev/full (c 1:7), or with it. */
static keel_device_rules *rules_with_full(int with)
{
	keel_device_rules *rules = NULL;

	ck_assert_int_eq(keel_device_rules_new(&rules, NULL), 0);
	ck_assert_int_eq(keel_device_rules_add_defaults(rules, NULL), 0);
	if (!with)
		ck_assert_int_eq(keel_device_rules_add_string(rules, 0, "c 1:7 rwm", NULL), 0);
	return rules;
}

static void update_rules(keel_container *c, keel_device_rules *rules)
{
	keel_resources *r = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_device_rules(r, rules, NULL), 0);
	ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
	keel_resources_free(r);
}

START_TEST(device_rules_update_is_enforced_and_recorded)
{
	const char *root = kt_tmpdir(), *id = kt_name("ud");
	keel_container *c = running(id, root), *fresh = NULL;
	keel_device_rules *rules = NULL, *back = NULL;
	keel_resources *r = NULL;
	const struct keel_device_rule *got;
	const char *out;
	char path[4096];
	size_t n = 0;

	ck_assert_str_eq(exec_output(c, OPEN_FULL), "open-ok\n");
	rules = rules_with_full(0);
	update_rules(c, rules);
	ck_assert_str_eq(exec_output(c, OPEN_FULL), "open-denied\n");
	out = exec_output(c, "cat /dev/full 2>&1");
	ck_assert_msg(strstr(out, "/dev/full': Operation not permitted"), "%s", out);
	ck_assert_str_eq(exec_output(c, "if : > /dev/null; then echo null-ok; fi"), "null-ok\n");

	/* a fresh handle finds the filter in the state, rule for rule */
	snprintf(path, sizeof(path), "%s/%s/state", root, id);
	ck_assert_ptr_nonnull(strstr(kt_read(path), "device_rules=12\n"));
	ck_assert_ptr_nonnull(strstr(kt_read(path), "device_rule=deny c 1:7 rwm\n"));
	ck_assert_int_eq(keel_container_load(&fresh, id, root, NULL), 0);
	ck_assert_int_eq(keel_container_resources(fresh, &r, NULL), 0);
	ck_assert_int_eq(keel_resources_get_device_rules(r, &back, NULL), 0);
	got = keel_device_rules_get(back, &n);
	ck_assert_uint_eq(n, 12);
	ck_assert(!got[11].allow && got[11].type == KEEL_DEVICE_CHAR && got[11].major == 1 && got[11].minor == 7 &&
		  got[11].access == KEEL_DEVICE_RWM);
	ck_assert(got[0].allow && got[0].major == KEEL_DEVICE_ANY && got[0].access == KEEL_DEVICE_MKNOD);
	keel_device_rules_free(back);
	keel_resources_free(r);
	keel_device_rules_free(rules);

	/* and back, from the loaded handle */
	rules = rules_with_full(1);
	update_rules(fresh, rules);
	keel_device_rules_free(rules);
	ck_assert_str_eq(exec_output(c, OPEN_FULL), "open-ok\n");
	ck_assert_ptr_nonnull(strstr(kt_read(path), "device_rules=11\n"));
	ck_assert_ptr_null(strstr(kt_read(path), "device_rule=deny"));
	keel_container_free(fresh);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

/* ------------------------------------------------ controllers (tests/vm) -- */

START_TEST(controller_update_is_written_and_recorded)
{
	const char *root = kt_tmpdir(), *id = kt_name("uv");
	keel_container *c = running(id, root);
	keel_resources *r = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_memory_max(r, 64 << 20, NULL), 0);
	ck_assert_int_eq(keel_resources_set_memory_high(r, 48 << 20, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpu_weight(r, 250, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpu_max(r, 50000, 100000, NULL), 0);
	ck_assert_int_eq(keel_resources_set_pids_max(r, 20, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpuset_cpus(r, "0", NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpuset_mems(r, "0", NULL), 0);
	ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
	keel_resources_free(r);

	ck_assert_str_eq(cg_file(c, "memory.max"), "67108864");
	ck_assert_str_eq(cg_file(c, "memory.high"), "50331648");
	ck_assert_str_eq(cg_file(c, "cpu.weight"), "250");
	ck_assert_str_eq(cg_file(c, "cpu.max"), "50000 100000");
	ck_assert_str_eq(cg_file(c, "pids.max"), "20");
	ck_assert_str_eq(cg_file(c, "cpuset.cpus"), "0");
	ck_assert_str_eq(cg_file(c, "cpuset.mems"), "0");
	ck_assert_str_eq(recorded(id, root, "memory.max"), "67108864");
	ck_assert_str_eq(recorded(id, root, "memory.high"), "50331648");
	ck_assert_str_eq(recorded(id, root, "cpu.weight"), "250");
	ck_assert_str_eq(recorded(id, root, "cpu.max"), "50000 100000");
	ck_assert_str_eq(recorded(id, root, "pids.max"), "20");
	ck_assert_str_eq(recorded(id, root, "cpuset.cpus"), "0");
	ck_assert_str_eq(recorded(id, root, "cpuset.mems"), "0");

	/* swap is a file only with swap accounting in the kernel */
	if (access(strcat(strcpy((char[4096]){ 0 }, keel_cgroup_path(keel_container_cgroup(c))), "/memory.swap.max"),
		   F_OK) == 0) {
		ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
		ck_assert_int_eq(keel_resources_set_memory_swap_max(r, 0, NULL), 0);
		ck_assert_int_eq(keel_resources_set_memory_max(r, KEEL_CGROUP_MAX, NULL), 0);
		ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
		keel_resources_free(r);
		ck_assert_str_eq(cg_file(c, "memory.swap.max"), "0");
		ck_assert_str_eq(recorded(id, root, "memory.swap.max"), "0");
		ck_assert_str_eq(cg_file(c, "memory.max"), "max");
		ck_assert_str_eq(recorded(id, root, "memory.max"), "max");
	} else {
		printf("NOTE: %s: no memory.swap.max (no swap accounting): swap not checked\n", id);
		fflush(stdout);
	}
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

START_TEST(refused_controller_write_is_put_back)
{
	const char *root = kt_tmpdir(), *id = kt_name("ur");
	keel_container *c = running(id, root);
	keel_resources *r = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_pids_max(r, 50, NULL), 0);
	ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
	keel_resources_free(r);

	/* pids.max and cpu.max are taken, then a CPU the machine lacks is not */
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_pids_max(r, 9, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpu_max(r, 20000, 100000, NULL), 0);
	ck_assert_int_eq(keel_resources_set_cpuset_cpus(r, "4000", NULL), 0);
	ck_assert_int_lt(keel_container_update(c, r, &err), 0);
	assert_error_has(err, "cpuset.cpus", "'4000'");
	assert_error_has(err, "nothing was changed", NULL);
	keel_error_free(err);
	keel_resources_free(r);
	ck_assert_str_eq(cg_file(c, "pids.max"), "50");
	ck_assert_str_eq(cg_file(c, "cpu.max"), "max 100000");
	ck_assert_str_eq(recorded(id, root, "pids.max"), "50");
	ck_assert_ptr_null(recorded(id, root, "cpu.max"));
	ck_assert_ptr_null(recorded(id, root, "cpuset.cpus"));
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

/* io.max on the brd ramdisk the VM loads (/dev/ram0), per limit. */
START_TEST(io_update_is_written_and_recorded)
{
	const char *root = kt_tmpdir(), *id = kt_name("ui");
	keel_container *c = running(id, root);
	keel_resources *r = NULL;
	keel_error *err = NULL;
	unsigned major = 0, minor = 0;
	char want[64];

	ck_assert_int_eq(sscanf(kt_read("/sys/block/ram0/dev"), "%u:%u", &major, &minor), 2);
	ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
	ck_assert_int_eq(keel_resources_set_io_max(r, major, minor, KEEL_CGROUP_IO_WBPS, 1 << 20, NULL), 0);
	ck_assert_int_eq(keel_resources_set_io_max(r, major, minor, KEEL_CGROUP_IO_RIOPS, 500, NULL), 0);
	ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
	keel_resources_free(r);
	snprintf(want, sizeof(want), "%u:%u rbps=max wbps=1048576 riops=500 wiops=max", major, minor);
	ck_assert_str_eq(cg_file(c, "io.max"), want);
	snprintf(want, sizeof(want), "%u:%u wbps=1048576", major, minor);
	ck_assert_str_eq(recorded_nth(id, root, "io.max", 0), want);
	snprintf(want, sizeof(want), "%u:%u riops=500", major, minor);
	ck_assert_str_eq(recorded_nth(id, root, "io.max", 1), want);

	/* io.weight, where the kernel has it (iocost or BFQ) */
	if (access(strcat(strcpy((char[4096]){ 0 }, keel_cgroup_path(keel_container_cgroup(c))), "/io.weight"),
		   F_OK) == 0) {
		ck_assert_int_eq(keel_resources_new(&r, NULL), 0);
		ck_assert_int_eq(keel_resources_set_io_weight(r, 0, 0, 400, NULL), 0);
		ck_assert_msg(keel_container_update(c, r, &err) == 0, "%s", keel_error_message(err));
		keel_resources_free(r);
		ck_assert_msg(strstr(cg_file(c, "io.weight"), "default 400"), "%s", cg_file(c, "io.weight"));
		ck_assert_str_eq(recorded(id, root, "io.weight"), "default 400");
	} else {
		printf("NOTE: %s: no io.weight in this kernel: io weight not checked\n", id);
		fflush(stdout);
	}
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
}
END_TEST

/* --------------------------------------------------------------- suite -- */

static const char *missing_file(const char *path, const char *why)
{
	return access(path, F_OK) == 0 ? NULL : why;
}

static Suite *update_suite(void)
{
	static char why_ctl[256], why_io[256]; /* skip reasons live until exit */
	const char *no_overlay = kt_missing_fs("overlay");
	const char *no_full = kt_missing_device("/dev/full", O_WRONLY);
	const char *no_ctl =
		kt_first_missing(no_overlay, missing_controllers("memory cpu pids cpuset", why_ctl, sizeof(why_ctl)));
	const char *no_io = kt_first_missing(kt_first_missing(no_overlay, missing_controllers("io", why_io, sizeof(why_io))),
					     missing_file("/sys/block/ram0/dev", "no /dev/ram0 (brd not loaded)"));
	Suite *s = suite_create("update");
	TCase *tc = kt_tcase("values", 30);

	tcase_add_test(tc, setters_check_values_and_replace_by_identity);
	tcase_add_test(tc, state_records_resources_and_reads_them_strictly);
	suite_add_tcase(s, tc);

	tc = kt_tcase("native", 60);
	kt_add_test_needs(tc, core_limit_update_is_written_and_recorded, no_overlay);
	kt_add_test_needs(tc, bad_updates_change_nothing, no_overlay);
	kt_add_test_needs(tc, device_rules_update_is_enforced_and_recorded, kt_first_missing(no_overlay, no_full));
	suite_add_tcase(s, tc);

	tc = kt_tcase("controllers", 60);
	kt_add_test_needs(tc, controller_update_is_written_and_recorded, no_ctl);
	kt_add_test_needs(tc, refused_controller_write_is_put_back, no_ctl);
	kt_add_test_needs(tc, io_update_is_written_and_recorded, no_io);
	suite_add_tcase(s, tc);
	return s;
}

static void remove_default_keel_parent(void)
{
	char *parent = NULL, path[4096];

	if (keel_cgroup_default_parent(&parent, NULL) == 0) {
		snprintf(path, sizeof(path), "%s/keel", parent);
		rmdir(path);
	}
	free(parent);
}

int main(void)
{
	int failed;

	if (keel_find_mount("cgroup2", &cg2_mount, NULL) < 0) {
		fprintf(stderr, "test-update: no cgroup2 mount\n");
		return 77;
	}
	failed = kt_run(update_suite());
	remove_default_keel_parent();
	return failed;
}
