/*
 * The floor's bench candidates (see floor.c for the floor itself):
 *
 * - floor, floor-cg, floor-full: start to exit of /bin/true, timed in the
 *   runner's own process, without and with a cgroup, minimal or with what
 *   the OCI default config asks (floor.h);
 * - floor-exec: floor-full through the keel-floor program, fork+exec, so
 *   its peak RSS is its own (the floor for the keel-run CLI);
 * - the concurrency run: n floor-full containers sleeping at once, each in
 *   its own cgroup under the run's cgroup parent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "floor.h"

/* ------------------------------------------------- start-to-exit runs --- */

struct floor_state {
	const struct bench_env *env;
	enum floor_level level;
	int cgroup;		/* each container gets its own cgroup */
	int no_net;		/* no network namespace */
	int share_vm;		/* clone sharing our memory (floor-vm) */
	const void *seccomp;	/* FLOOR_KEEL: libkeel's default profile */
	char *const *argv;
	/* concurrency run */
	unsigned n;
	pid_t *pids;
};

static int floor_setup(const struct bench_env *env, enum floor_level level, int cgroup,
		       void **state, char *why, size_t len)
{
	struct floor_state *st;

	if (cgroup && !env->cgroup_parent)
		return snprintf(why, len, "no cgroup2 mount"), -ENOTSUP;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->env = env;
	st->level = level;
	st->cgroup = cgroup;
	*state = st;
	return 0;
}

static int setup_min(const struct bench_env *env, void **state, char *why, size_t len)
{
	return floor_setup(env, FLOOR_MIN, 0, state, why, len);
}

static int setup_min_cg(const struct bench_env *env, void **state, char *why, size_t len)
{
	return floor_setup(env, FLOOR_MIN, 1, state, why, len);
}

static int setup_full(const struct bench_env *env, void **state, char *why, size_t len)
{
	return floor_setup(env, FLOOR_FULL, 1, state, why, len);
}

static int setup_full_vm(const struct bench_env *env, void **state, char *why, size_t len)
{
	int ret = floor_setup(env, FLOOR_FULL, 1, state, why, len);

	if (ret == 0)
		((struct floor_state *)*state)->share_vm = 1;
	return ret;
}

static int setup_full_nonet(const struct bench_env *env, void **state, char *why, size_t len)
{
	int ret = floor_setup(env, FLOOR_FULL, 1, state, why, len);

	if (ret == 0)
		((struct floor_state *)*state)->no_net = 1;
	return ret;
}

#ifdef BENCH_WITH_KEEL
/* libkeel's default seccomp profile as the library loads it: the
 * precompiled program (src/security-seccomp-default.c, built into this
 * program too) flattened the way libkeel flattens it. */
#include <linux/filter.h>
#include "security-seccomp.h"

static struct sock_fprog keel_prog;

static int setup_keel(const struct bench_env *env, void **state, char *why, size_t len)
{
	int ret;

	if (keel_seccomp_default_len == 0)
		return snprintf(why, len, "this build has no precompiled default seccomp profile"), -ENOTSUP;
	ret = floor_setup(env, FLOOR_KEEL, 1, state, why, len);
	if (ret == 0) {
		keel_prog.filter = (struct sock_filter *)keel_seccomp_default_bpf;
		keel_prog.len = (unsigned short)keel_seccomp_default_len;
		((struct floor_state *)*state)->seccomp = &keel_prog;
	}
	return ret;
}
#endif

static void cgroup_path(const struct floor_state *st, char prefix, unsigned seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%c%u", st->env->cgroup_parent, prefix, seq);
}

/* Make the container's cgroup and open it for CLONE_INTO_CGROUP. */
static int cgroup_make(const char *path, char *why, size_t len)
{
	int fd;

	if (mkdir(path, 0755))
		return snprintf(why, len, "mkdir cgroup %s: %s", path, strerror(errno)), -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(why, len, "open cgroup %s: %s", path, strerror(e));
		rmdir(path);
		return -e;
	}
	return fd;
}

static int floor_run_once(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len)
{
	static char *const true_argv[] = { "/bin/true", NULL };
	struct floor_state *st = state;
	struct floor_plan plan = { st->env->rootfs, st->level, -1, true_argv, st->no_net, st->seccomp,
				   st->share_vm };
	char cg[4096];
	int status, ret = 0;
	pid_t pid;

	if (st->cgroup) {
		cgroup_path(st, 's', seq, cg, sizeof(cg));
		plan.cgroup_fd = cgroup_make(cg, why, len);
		if (plan.cgroup_fd < 0)
			return plan.cgroup_fd;
	}
	pid = floor_spawn(&plan, why, len);
	if (pid < 0) {
		ret = pid;
	} else if (wait4(pid, &status, 0, &s->child) != pid) {
		ret = -errno;
		snprintf(why, len, "wait4: %s", strerror(errno));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = -EIO;
		snprintf(why, len, "/bin/true ended with status 0x%x", status);
	}
	s->has_child_rss = 0;
	if (st->cgroup) {
		close(plan.cgroup_fd);
		if (rmdir(cg) && !ret) {
			ret = -errno;
			snprintf(why, len, "rmdir cgroup %s: %s", cg, strerror(errno));
		}
	}
	return ret;
}

/* Everything the floor makes lives under the run's cgroup parent: any
 * directory still there is a leftover; remove it and say so. */
static int floor_leftovers(void *state, char *what, size_t len)
{
	struct floor_state *st = state;
	char path[4096];
	struct dirent *de;
	size_t off = 0;
	int n = 0;
	DIR *d;

	if (!st->env->cgroup_parent || !(d = opendir(st->env->cgroup_parent)))
		return 0;
	while ((de = readdir(d))) {
		/* the floor's own cgroups only: s<seq>, x<seq>, c<i>; other
		 * candidates keep their directories here until teardown */
		if (de->d_type != DT_DIR || !strchr("scx", de->d_name[0]) || !de->d_name[1] ||
		    strspn(de->d_name + 1, "0123456789") != strlen(de->d_name + 1))
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", st->env->cgroup_parent, de->d_name);
		bench_rmdir_tree(path);
		if (off < len)
			off += snprintf(what + off, len - off, "%scgroup %s", off ? ", " : "", path);
	}
	closedir(d);
	return n;
}

static void floor_teardown(void *state)
{
	struct floor_state *st = state;

	if (st)
		free(st->pids);
	free(st);
}

/* The same FLOOR_FULL start through the keel-floor program: a fork+exec of
 * a small C launcher, so its peak RSS is its own; the floor for keel-run. */
struct exec_state {
	const struct bench_env *env;
	char prog[4096];
	char log[4096];
};

static int exec_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	struct exec_state *st;

	if (!env->cgroup_parent)
		return snprintf(why, len, "no cgroup2 mount"), -ENOTSUP;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->env = env;
	snprintf(st->prog, sizeof(st->prog), "%s/keel-floor", env->self_dir);
	snprintf(st->log, sizeof(st->log), "%s/keel-floor.log", env->workdir);
	if (access(st->prog, X_OK)) {
		snprintf(why, len, "%s: %s (make tests/bench/keel-floor)", st->prog, strerror(errno));
		free(st);
		return -ENOENT;
	}
	*state = st;
	return 0;
}

static int exec_run_once(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len)
{
	struct exec_state *st = state;
	char cg[4096];
	char *argv[] = { st->prog, "--full", "--cgroup", cg, (char *)st->env->rootfs, "/bin/true", NULL };

	snprintf(cg, sizeof(cg), "%s/x%u", st->env->cgroup_parent, seq);
	s->has_child_rss = 1;
	return bench_run_tool(NULL, argv, NULL, st->log, &s->child, why, len);
}

static int exec_leftovers(void *state, char *what, size_t len)
{
	struct exec_state *st = state;
	struct floor_state fs = { .env = st->env };

	return floor_leftovers(&fs, what, len);
}

static void exec_teardown(void *state)
{
	free(state);
}

const struct bench_candidate floor_candidates[] = {
	{ "floor", "clone3 pid+mnt+uts+ipc+net, bind rootfs, pivot_root, exec (in-process)",
	  setup_min, floor_run_once, floor_leftovers, floor_teardown },
	{ "floor-cg", "floor + CLONE_INTO_CGROUP into a new cgroup2, rmdir after (in-process)",
	  setup_min_cg, floor_run_once, floor_leftovers, floor_teardown },
	{ "floor-full", "floor-cg + /proc, OCI /dev, hostname, rlimit, caps, nnp, seccomp (in-process)",
	  setup_full, floor_run_once, floor_leftovers, floor_teardown },
	{ "floor-vm", "floor-full, cloned sharing the runner's memory (CLONE_VM|CLONE_VFORK) as keel does",
	  setup_full_vm, floor_run_once, floor_leftovers, floor_teardown },
	{ "floor-nonet", "floor-full without a network namespace (the floor of keel-nonet)",
	  setup_full_nonet, floor_run_once, floor_leftovers, floor_teardown },
	{ "floor-exec", "floor-full through the keel-floor program (fork+exec, own RSS)",
	  exec_setup, exec_run_once, exec_leftovers, exec_teardown },
#ifdef BENCH_WITH_KEEL
	{ "floor-keel", "floor-full + what keel's defaults add: ro sysfs, masked/ro paths, lo up, its seccomp",
	  setup_keel, floor_run_once, floor_leftovers, floor_teardown },
#endif
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* ------------------------------------------------------- concurrency --- */

static int conc_setup(const struct bench_env *env, unsigned n, void **state, char *why, size_t len)
{
	static char *const sleep_argv[] = { "/bin/sleep", "3600", NULL };
	struct floor_state *st;
	int ret;

	ret = floor_setup(env, FLOOR_FULL, 1, state, why, len);
	if (ret)
		return ret;
	st = *state;
	st->argv = sleep_argv;
	st->n = n;
	st->pids = calloc(n, sizeof(pid_t));
	if (!st->pids) {
		free(st);
		return -ENOMEM;
	}
	return 0;
}

static int conc_start(void *state, unsigned i, pid_t *pid, char *why, size_t len)
{
	struct floor_state *st = state;
	struct floor_plan plan = { st->env->rootfs, st->level, -1, st->argv, 0, NULL, 0 };
	char cg[4096];
	pid_t p;

	if (i >= st->n)
		return snprintf(why, len, "container %u beyond the %u set up", i, st->n), -EINVAL;
	cgroup_path(st, 'c', i, cg, sizeof(cg));
	plan.cgroup_fd = cgroup_make(cg, why, len);
	if (plan.cgroup_fd < 0)
		return plan.cgroup_fd;
	p = floor_spawn(&plan, why, len);
	close(plan.cgroup_fd);
	if (p < 0) {
		rmdir(cg);
		return p;
	}
	st->pids[i] = p; /* threads start different i: no shared counter */
	*pid = p;
	return 0;
}

/* Kill all first, so they die in parallel, then reap and remove cgroups. */
static int conc_stop_all(void *state, char *why, size_t len)
{
	struct floor_state *st = state;
	char cg[4096];
	unsigned i;
	int ret = 0;

	for (i = 0; i < st->n; i++)
		if (st->pids[i] > 0)
			kill(st->pids[i], SIGKILL);
	for (i = 0; i < st->n; i++) {
		if (st->pids[i] <= 0)
			continue;
		while (waitpid(st->pids[i], NULL, 0) < 0 && errno == EINTR)
			;
		cgroup_path(st, 'c', i, cg, sizeof(cg));
		if (rmdir(cg) && !ret) {
			ret = -errno;
			snprintf(why, len, "rmdir cgroup %s: %s", cg, strerror(errno));
		}
		st->pids[i] = 0;
	}
	return ret;
}

const struct bench_conc floor_conc = {
	"floor-full", "floor-full containers running /bin/sleep, one cgroup each",
	conc_setup, conc_start, conc_stop_all, floor_leftovers, floor_teardown,
};
