/*
 * A fork bomb in a container with a pids limit: the limit holds, the
 * kernel counts the refused forks, and kill + delete leave nothing. Part
 * of tests/stress, but a Check suite so that tests/vm runs it (the host's
 * cgroup2 tree has no pids controller: there it is a named skip).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "../harness.h"
#include "util/fs.h"

#define PIDS_MAX 32

static char *cg2_mount;

static void force_delete(void *data)
{
	keel_container *c = data;

	keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	keel_container_free(c);
}

static uint64_t events_max(keel_cgroup *cg)
{
	char *text = NULL, *line;
	uint64_t n = 0;

	if (keel_cgroup_get_raw(cg, "pids.events", &text, NULL) < 0)
		return 0;
	if ((line = strstr(text, "max ")))
		n = strtoull(line + 4, NULL, 10);
	free(text);
	return n;
}

START_TEST(fork_bomb_is_held_by_the_pids_limit_and_cleaned_up)
{
	static const char *const bomb[] = { "/bin/sh", "-c", "f() { f | f & }; f; sleep 1000", NULL };
	const char *root = kt_tmpdir(), *id = kt_name("fb");
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	keel_container *c = NULL;
	keel_error *err = NULL;
	uint64_t cur = 0, peak = 0, refused = 0;
	char cgdir[4096];
	int i;

	ck_assert_msg(keel_container_new(&c, id, root, &err) == 0, "%s", keel_error_message(err));
	kt_defer_fn(force_delete, c);
	ck_assert_int_eq(keel_container_add_layer(c, kt_rootfs(), NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_defaults(keel_container_rootfs(c), NULL), 0);
	ck_assert_int_eq(keel_process_set_args(keel_container_process(c), bomb, NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(c), -1, -1, -1, NULL), 0);
	ck_assert_int_eq(keel_container_set_pids_max(c, PIDS_MAX, NULL), 0);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	snprintf(cgdir, sizeof(cgdir), "%s", keel_cgroup_path(keel_container_cgroup(c)));
	kt_defer_rmdir_cgroup(cgdir);

	/* until the kernel has refused forks for a while (or 20 s) */
	for (i = 0; i < 200 && refused < 100; i++) {
		nanosleep(&nap, NULL);
		ck_assert_int_eq(keel_cgroup_get_pids_current(keel_container_cgroup(c), &cur, NULL), 0);
		peak = cur > peak ? cur : peak;
		refused = events_max(keel_container_cgroup(c));
	}
	ck_assert_msg(peak <= PIDS_MAX, "pids.current reached %llu over pids.max %d", (unsigned long long)peak,
		      PIDS_MAX);
	ck_assert_msg(refused > 0, "pids.events max stayed 0: the bomb never hit the limit");
	printf("forkbomb: pids.current peaked at %llu of pids.max %d; %llu forks refused\n",
	       (unsigned long long)peak, PIDS_MAX, (unsigned long long)refused);
	fflush(stdout);

	ck_assert_msg(keel_container_kill(c, SIGKILL, KEEL_KILL_ALL, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_wait(c, 0, NULL, NULL, NULL), 1);
	ck_assert_msg(keel_container_delete(c, 0, &err) == 0, "%s", keel_error_message(err));
	ck_assert_msg(access(cgdir, F_OK) < 0, "cgroup %s left behind", cgdir);
}
END_TEST

/* Why the test cannot run here, or NULL: pids must be a controller of
 * the cgroup2 root (the library enables it down to the container). */
static const char *no_pids_controller(void)
{
	static char why[4200];
	char path[4096], ctrl[512] = "";
	FILE *f;

	if (keel_find_mount("cgroup2", &cg2_mount, NULL) < 0)
		return "no cgroup2 mount";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg2_mount);
	if ((f = fopen(path, "re"))) { /* not kt_read(): it asserts, and no test runs yet */
		if (!fgets(ctrl, sizeof(ctrl), f))
			ctrl[0] = '\0';
		fclose(f);
	}
	if (strstr(ctrl, "pids"))
		return NULL;
	snprintf(why, sizeof(why), "no pids controller in %s (a v1/v2 hybrid: tests/vm runs it)", path);
	return why;
}

int main(void)
{
	Suite *s = suite_create("stress-forkbomb");
	TCase *tc = kt_tcase("forkbomb", 120);

	kt_add_test_needs(tc, fork_bomb_is_held_by_the_pids_limit_and_cleaned_up, no_pids_controller());
	suite_add_tcase(s, tc);
	return kt_run(s);
}
