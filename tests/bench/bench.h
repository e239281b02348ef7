/*
 * The libkeel benchmark: what a candidate is, and the helpers candidates share.
 *
 * keel-bench (bench.c) times container starts of several *candidates*
 * side by side: the plain-C floor (floor.c), bubblewrap, crun and runc
 * (oci.c), and later libkeel itself. A candidate is a row in a table of
 * function pointers; the runner owns timing, interleaving, statistics,
 * cgroup/mount bookkeeping and the report, and a candidate only knows how
 * to start one container and wait for it to exit (struct bench_candidate),
 * or how to start many sleeping ones and delete them all
 * (struct bench_conc). See tests/bench/README.md, "Adding a candidate".
 *
 * Only standard C and libc: the bench must not depend on the library it
 * measures, so the libkeel candidates live in their own file added later.
 */
#ifndef KEEL_BENCH_H
#define KEEL_BENCH_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* What every candidate may use; set up once by the runner, read-only after. */
struct bench_env {
	const char *rootfs;	/* absolute path of the busybox rootfs */
	const char *workdir;	/* scratch directory of this run, removed at the end */
	const char *runid;	/* short unique tag of this run, e.g. "kb4711" */
	const char *cgroup2;	/* mount point of cgroup2, e.g. /sys/fs/cgroup/unified */
	const char *cgroup_parent; /* absolute path of this run's cgroup2 parent
				    * (made and removed by the runner), or NULL
				    * when cgroup2 is not available */
	const char *self_dir;	/* directory of the keel-bench binary (finds keel-floor) */
	int verbose;
};

/* One start-to-exit, as the candidate measured it. The runner takes the
 * wall time around run_once() itself and adds its own CPU time. */
struct bench_sample {
	struct rusage child;	/* wait4() rusage of the process the candidate waited for */
	int has_child_rss;	/* child.ru_maxrss is the candidate's own peak RSS
				 * (a subprocess), not a copy of the runner */
};

/*
 * A start-to-exit candidate.
 *
 * setup(): once, before the first round. Returns 0, or -errno and writes a
 * reason into why (the candidate is then reported as SKIPPED with it, e.g.
 * "crun not found"). *state is passed back to the other calls.
 * run_once(): start one container running /bin/true, wait for it to exit
 * and delete whatever it created (cgroup, state); seq is unique within the
 * run (use it in names). Returns 0, or -errno with a reason in why; the
 * runner then stops using this candidate and reports the reason.
 * leftovers(): after the last round, find and remove anything the candidate
 * left behind; returns how many objects it had to remove (0 = clean) and
 * describes them in what.
 * teardown(): free state.
 */
struct bench_candidate {
	const char *name;	/* column name: "floor", "crun", "keel" ... */
	const char *what;	/* one line: what this candidate does */
	int (*setup)(const struct bench_env *env, void **state, char *why, size_t len);
	int (*run_once)(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len);
	int (*leftovers)(void *state, char *what, size_t len);
	void (*teardown)(void *state);
};

/*
 * A concurrency candidate: n containers alive at once from one rootfs,
 * each running /bin/sleep.
 *
 * setup(): once per candidate and size n (max containers that will be started).
 * start(): start container i and return only once its process has exec'd
 * the sleeper; *pid receives the host pid of that process (the runner reads
 * its memory from /proc). Returns 0 or -errno with why.
 * start() is called from several threads at once (-j, one per CPU by
 * default), each with its own i: it must be thread-safe.
 * stop_all(): kill, reap and delete every container started so far
 * (also after a partial start). Returns 0 or -errno with why.
 * leftovers(): as for bench_candidate, after stop_all().
 */
struct bench_conc {
	const char *name;
	const char *what;
	int (*setup)(const struct bench_env *env, unsigned n, void **state, char *why, size_t len);
	int (*start)(void *state, unsigned i, pid_t *pid, char *why, size_t len);
	int (*stop_all)(void *state, char *why, size_t len);
	int (*leftovers)(void *state, char *what, size_t len);
	void (*teardown)(void *state);
};

/* Candidate tables, one per file. */
extern const struct bench_candidate floor_candidates[];	/* floor-bench.c */
extern const struct bench_conc floor_conc;		/* floor-bench.c */
extern const struct bench_candidate oci_candidates[];	/* oci.c */

/* --- helpers (bench.c) --- */

/* fork+exec argv in directory cwd (NULL: the current one), stdin from
 * /dev/null, stdout into the file out (truncated; NULL: into log), stderr
 * appended to the file log (NULL: /dev/null); wait4 for it and fill *ru
 * (NULL allowed). Returns the wait status (>= 0) or -errno when it could
 * not be started. */
int bench_spawn_wait(const char *cwd, char *const argv[], const char *out,
		     const char *log, struct rusage *ru);

/* bench_spawn_wait(), and a failure or a non-zero exit becomes -errno or
 * -EIO with a reason in why that quotes the last line of the log. */
int bench_run_tool(const char *cwd, char *const argv[], const char *out,
		   const char *log, struct rusage *ru, char *why, size_t len);

/* The mount points of every cgroup hierarchy (v1 and v2) from
 * /proc/self/mountinfo, at most max; returns how many. */
int bench_cgroup_mounts(char mounts[][256], int max);

/* The absolute path of an executable found in $PATH, or NULL; malloc'd. */
char *bench_which(const char *prog);

/* Write a whole string to a file (create/truncate). 0 or -errno. */
int bench_write_file(const char *path, const char *s);

/* rmdir a cgroup directory and any empty children below it, depth first.
 * Returns the number of directories removed, or -errno. */
int bench_rmdir_tree(const char *path);

#define BENCH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
