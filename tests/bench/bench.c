/*
 * keel-bench: how fast does a container start, side by side with what
 * users would pick instead.
 *
 *   keel-bench [-n ROUNDS] [-w WARMUP] [-c SIZES] [-o NAMES] [-S] [-C] [-v] ROOTFS
 *
 * Start to exit: every candidate (floor-bench.c, oci.c, later libkeel)
 * starts a container running /bin/true and waits for it to exit and be
 * deleted. Candidates take turns, each round in a new order (A B C D,
 * C A D B, ...), for ROUNDS rounds after WARMUP unrecorded ones, so that
 * the load of a shared machine, and the kernel work one candidate leaves
 * behind, fall on all of them alike. Each start is timed with CLOCK_MONOTONIC around
 * the candidate's run_once(); its CPU time is the runner's own (getrusage
 * RUSAGE_SELF, for in-process candidates and fork/exec) plus the wait4
 * rusage of what the candidate started (with the descendants it reaped).
 * The report gives median, p90, p99 and max latency, mean CPU per start,
 * peak RSS of subprocess candidates, and ratios against the reference
 * (keel when it is there, else floor-full), both ratio of medians and the
 * median of the per-round (paired) ratios.
 *
 * Concurrency (-c 100,1000): n containers sleeping at once from one rootfs;
 * time to start them all, what they cost in memory beyond the processes
 * themselves (/proc/meminfo MemAvailable delta minus the processes' Pss),
 * time to delete them all, and a check that nothing is left.
 *
 * Setting up (and undoing at exit): a scratch directory, a cgroup2 parent
 * for the run, and a private mount namespace for this process in which,
 * on a hybrid cgroup host, cgroup.controllers of the cgroup2 mount is
 * covered by an empty file so crun accepts the host. That mount lives and
 * dies with this process's namespace; the host's mount table never changes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ================================================= candidate tables === */

/*
 * LIBKEEL CANDIDATES GO HERE. The integrator adds, in a new file
 * tests/bench/keel-bench-keel.c (linked with libkeel), a table
 *	const struct bench_candidate keel_candidates[] = {
 *		{ "keel", ... },     // through the library, in-process
 *		{ "keel-run", ... }, // the example CLI, fork+exec
 *		{ NULL } };
 *	const struct bench_conc keel_conc = { "keel", ... };
 * builds keel-bench with -DBENCH_WITH_KEEL, and the rows below pick them up.
 * The runner makes "keel" the reference of every ratio when it is present.
 */
#ifdef BENCH_WITH_KEEL
extern const struct bench_candidate keel_candidates[];
extern const struct bench_conc keel_conc;
#endif

static const struct bench_candidate *const candidate_tables[] = {
	floor_candidates,
#ifdef BENCH_WITH_KEEL
	keel_candidates,
#endif
	oci_candidates,
};

static const struct bench_conc *const conc_candidates[] = {
	&floor_conc,
#ifdef BENCH_WITH_KEEL
	&keel_conc,
#endif
};

/* ============================================================ helpers === */

static int open_or_null(const char *path, int flags)
{
	return open(path ? path : "/dev/null", flags | O_CLOEXEC, 0644);
}

int bench_spawn_wait(const char *cwd, char *const argv[], const char *out,
		     const char *log, struct rusage *ru)
{
	struct rusage dummy;
	int status, errfd, outfd, infd;
	pid_t pid;

	infd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	errfd = open_or_null(log, O_WRONLY | O_CREAT | O_APPEND);
	outfd = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : errfd;
	if (infd < 0 || errfd < 0 || outfd < 0) {
		int e = errno;

		close(infd);
		close(errfd);
		if (out)
			close(outfd);
		return -e;
	}
	pid = fork();
	if (pid == 0) {
		if (dup2(infd, 0) < 0 || dup2(outfd, 1) < 0 || dup2(errfd, 2) < 0)
			_exit(126);
		if (cwd && chdir(cwd))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(infd);
	close(errfd);
	if (out)
		close(outfd);
	if (pid < 0)
		return -errno;
	while (wait4(pid, &status, 0, ru ? ru : &dummy) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

/* The last non-empty line of a log, for error messages. */
static void log_tail(const char *log, char *buf, size_t len)
{
	char line[512];
	FILE *f;

	buf[0] = '\0';
	if (!log || !(f = fopen(log, "re")))
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line);
		}
	fclose(f);
}

int bench_run_tool(const char *cwd, char *const argv[], const char *out,
		   const char *log, struct rusage *ru, char *why, size_t len)
{
	int status = bench_spawn_wait(cwd, argv, out, log, ru);
	char tail[400];

	if (status < 0)
		return snprintf(why, len, "%s: %s", argv[0], strerror(-status)), status;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	log_tail(log, tail, sizeof(tail));
	if (WIFEXITED(status))
		snprintf(why, len, "%s %s exited with %d%s%s%s%s", argv[0], argv[1] ? argv[1] : "",
			 WEXITSTATUS(status), tail[0] ? ": " : "", tail,
			 log ? " (log " : "", log ? log : "");
	else
		snprintf(why, len, "%s %s killed by signal %d", argv[0], argv[1] ? argv[1] : "",
			 WTERMSIG(status));
	if (log && tail[0] && WIFEXITED(status))
		strncat(why, ")", len - strlen(why) - 1);
	return -EIO;
}

char *bench_which(const char *prog)
{
	const char *path = getenv("PATH");
	char *dirs, *dir, *save = NULL, buf[4096];

	if (strchr(prog, '/'))
		return access(prog, X_OK) ? NULL : strdup(prog);
	dirs = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", dir, prog);
		if (access(buf, X_OK) == 0) {
			free(dirs);
			return strdup(buf);
		}
	}
	free(dirs);
	return NULL;
}

int bench_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t n = strlen(s);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, n) != (ssize_t)n)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

static int rmdir_count;

static int rmdir_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP && rmdir(path) == 0)
		rmdir_count++;
	return 0;
}

int bench_rmdir_tree(const char *path)
{
	rmdir_count = 0;
	if (nftw(path, rmdir_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) && errno != ENOENT)
		return -errno;
	return rmdir_count;
}

int bench_cgroup_mounts(char mounts[][256], int max)
{
	char line[4096], mnt[256], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		/* fields: id parent major:minor root mountpoint ... - fstype */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(fstype, "cgroup") || !strcmp(fstype, "cgroup2"))
			snprintf(mounts[n++], 256, "%s", mnt);
	}
	fclose(f);
	return n;
}

/* The cgroup2 mount point, or "" when there is none. */
static void find_cgroup2(char *buf, size_t len)
{
	char line[4096], mnt[256], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");

		if (sep && sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1 &&
		    sscanf(sep + 3, "%63s", fstype) == 1 && !strcmp(fstype, "cgroup2")) {
			snprintf(buf, len, "%s", mnt);
			break;
		}
	}
	fclose(f);
}

static double ts_ms(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static double tv_ms(const struct timeval *t)
{
	return t->tv_sec * 1e3 + t->tv_usec / 1e3;
}

static double ru_cpu_ms(const struct rusage *r)
{
	return tv_ms(&r->ru_utime) + tv_ms(&r->ru_stime);
}

/* ======================================================= environment === */

struct runner {
	struct bench_env env;
	char rootfs[4096], workdir[4096], runid[16], cgroup2[256], parent[512], self_dir[4096];
	unsigned rounds, warmup;
	unsigned sizes[8], nsizes;
	unsigned jobs;		/* threads starting containers in the concurrency run */
	const char *only;
	int no_seq, no_conc;
	int failed;		/* something the run should exit non-zero for */
};

/* crun 1.8 refuses a host whose cgroup2 tree lists controllers next to v1
 * ("cgroups in hybrid mode not supported"). In a mount namespace of our
 * own, with every mount private (so nothing propagates to the host), an
 * empty file bound over cgroup.controllers makes the tree look empty. */
static int hybrid_workaround(struct runner *r)
{
	char ctl[600], empty[4200], buf[256];
	ssize_t n;
	int fd;

	if (unshare(CLONE_NEWNS))
		return fprintf(stderr, "keel-bench: unshare(CLONE_NEWNS): %s\n", strerror(errno)), -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return fprintf(stderr, "keel-bench: make / rprivate: %s\n", strerror(errno)), -1;
	if (!r->cgroup2[0] || !strcmp(r->cgroup2, "/sys/fs/cgroup"))
		return 0;	/* no cgroup2, or a pure v2 host: nothing to hide */
	snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", r->cgroup2);
	fd = open(ctl, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? 0 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (n <= 1)
		return 0;
	snprintf(empty, sizeof(empty), "%s/empty-cgroup.controllers", r->workdir);
	if (bench_write_file(empty, "") ||
	    mount(empty, ctl, NULL, MS_BIND, NULL))
		return fprintf(stderr, "keel-bench: bind an empty file over %s: %s\n",
			       ctl, strerror(errno)), -1;
	if (r->env.verbose)
		fprintf(stderr, "keel-bench: hybrid host: %s hidden in a private mount namespace\n", ctl);
	return 0;
}

/*
 * /run as on a standard Debian host: a tmpfs, in our private mount
 * namespace only (it dies with it). Every candidate keeps its state there:
 * keel under /run/keel-bench-*, keel-run in /run/keel-bench-*-run, crun in
 * /run/crun, runc in /run/runc. On this project's VMs the real /run is a
 * directory of the root ext4, which has no journal: there ext4 skips every
 * inode deleted in the last 1-6 minutes when it allocates one
 * (recently_deleted()), so a state directory made and removed per
 * container costs more with every container started before it. The
 * keel-ext4 candidate keeps its state on that filesystem, to show it.
 */
static int run_on_tmpfs(struct runner *r)
{
	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"))
		return fprintf(stderr, "keel-bench: mount a tmpfs on /run (private): %s\n", strerror(errno)), -1;
	if (r->env.verbose)
		fprintf(stderr, "keel-bench: /run is a tmpfs in the private mount namespace\n");
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int env_setup(struct runner *r, const char *rootfs, const char *argv0)
{
	char tmpl[] = "/tmp/keel-bench.XXXXXX", exe[4096];
	ssize_t n;

	if (!realpath(rootfs, r->rootfs))
		return fprintf(stderr, "keel-bench: rootfs %s: %s\n", rootfs, strerror(errno)), -1;
	snprintf(exe, sizeof(exe), "%s/bin/true", r->rootfs);
	if (access(exe, X_OK))
		return fprintf(stderr, "keel-bench: rootfs %s has no /bin/true (make it with tests/mkrootfs.sh)\n",
			       r->rootfs), -1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		snprintf(exe, sizeof(exe), "%s", argv0);
	else
		exe[n] = '\0';
	snprintf(r->self_dir, sizeof(r->self_dir), "%s", dirname(exe));
	if (!mkdtemp(tmpl))
		return fprintf(stderr, "keel-bench: mkdtemp: %s\n", strerror(errno)), -1;
	snprintf(r->workdir, sizeof(r->workdir), "%s", tmpl);
	snprintf(r->runid, sizeof(r->runid), "kb%d", (int)getpid());
	find_cgroup2(r->cgroup2, sizeof(r->cgroup2));
	if (r->cgroup2[0]) {
		snprintf(r->parent, sizeof(r->parent), "%s/keel-bench-%s", r->cgroup2, r->runid);
		if (mkdir(r->parent, 0755)) {
			fprintf(stderr, "keel-bench: mkdir cgroup %s: %s (no cgroup candidates)\n",
				r->parent, strerror(errno));
			r->parent[0] = '\0';
		}
	}
	if (hybrid_workaround(r) || run_on_tmpfs(r))
		return -1;
	r->env.rootfs = r->rootfs;
	r->env.workdir = r->workdir;
	r->env.runid = r->runid;
	r->env.cgroup2 = r->cgroup2[0] ? r->cgroup2 : NULL;
	r->env.cgroup_parent = r->parent[0] ? r->parent : NULL;
	r->env.self_dir = r->self_dir;
	return 0;
}

static void env_teardown(struct runner *r)
{
	if (r->parent[0] && bench_rmdir_tree(r->parent) >= 0) {
		struct stat sb;

		if (stat(r->parent, &sb) == 0) {
			fprintf(stderr, "keel-bench: LEFT BEHIND: cgroup %s is not empty\n", r->parent);
			r->failed = 1;
		}
	}
	if (r->workdir[0])
		nftw(r->workdir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int selected(const struct runner *r, const char *name)
{
	const char *p = r->only;
	size_t n = strlen(name);

	if (!p)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == r->only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* ===================================================== start to exit === */

struct series {
	const struct bench_candidate *c;
	void *state;
	char why[512];		/* set when skipped or failed */
	int active, failed;
	unsigned n;
	double *ms, *cpu_ms;
	long maxrss_kib;	/* -1: not a subprocess */
	int leftovers;
	char left_what[512];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n-1]. */
static double pct(const double *v, unsigned n, double p)
{
	unsigned k;

	if (!n)
		return 0;
	k = (unsigned)(p / 100.0 * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static double median_of(const double *v, unsigned n)
{
	double *s = malloc(n * sizeof(*s)), m;

	if (!s || !n) {
		free(s);
		return 0;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static int sample_once(struct series *s, unsigned seq, int record)
{
	struct bench_sample smp;
	struct timespec t0, t1;
	struct rusage a, b;
	int ret;

	memset(&smp, 0, sizeof(smp));
	getrusage(RUSAGE_SELF, &a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = s->c->run_once(s->state, seq, &smp, s->why, sizeof(s->why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &b);
	if (ret) {
		s->active = 0;
		s->failed = 1;
		return ret;
	}
	if (!record)
		return 0;
	s->ms[s->n] = ts_ms(&t0, &t1);
	s->cpu_ms[s->n] = ru_cpu_ms(&b) - ru_cpu_ms(&a) + ru_cpu_ms(&smp.child);
	if (smp.has_child_rss && smp.child.ru_maxrss > s->maxrss_kib)
		s->maxrss_kib = smp.child.ru_maxrss;
	s->n++;
	return 0;
}

static void print_seq_report(struct runner *r, struct series *ss, unsigned ns)
{
	struct series *ref = NULL;
	unsigned i, k;

	for (i = 0; i < ns && !ref; i++)
		if (ss[i].n && !strcmp(ss[i].c->name, "keel"))
			ref = &ss[i];
	for (i = 0; i < ns && !ref; i++)
		if (ss[i].n && !strcmp(ss[i].c->name, "floor-full"))
			ref = &ss[i];

	printf("\n== start to exit of /bin/true: %u interleaved rounds (+%u warm-up), ms ==\n",
	       r->rounds, r->warmup);
	printf("%-11s %5s %8s %8s %8s %8s %9s %8s %9s %8s\n", "candidate", "n", "median", "p90",
	       "p99", "max", "cpu/start", "peakRSS", "x", "paired");
	printf("%-11s %5s %8s %8s %8s %8s %9s %8s %9s %8s\n", "", "", "", "", "", "", "mean",
	       "MiB", ref ? ref->c->name : "-", "x");
	for (i = 0; i < ns; i++) {
		struct series *s = &ss[i];
		double *v, cpu = 0, med, paired[4096];
		char rss[16] = "-", x[16] = "-", px[16] = "-";
		unsigned np = 0;

		if (!s->n) {
			printf("%-11s %s: %s\n", s->c->name, s->failed ? "FAILED" : "SKIPPED", s->why);
			continue;
		}
		v = malloc(s->n * sizeof(*v));
		if (!v)
			continue;
		memcpy(v, s->ms, s->n * sizeof(*v));
		qsort(v, s->n, sizeof(*v), cmp_double);
		for (k = 0; k < s->n; k++)
			cpu += s->cpu_ms[k];
		med = median_of(s->ms, s->n);
		if (s->maxrss_kib >= 0)
			snprintf(rss, sizeof(rss), "%.2f", s->maxrss_kib / 1024.0);
		if (ref) {
			snprintf(x, sizeof(x), "%.2f", med / median_of(ref->ms, ref->n));
			/* paired: the same round of both, while both were running */
			for (k = 0; k < s->n && k < ref->n && np < BENCH_ARRAY_SIZE(paired); k++)
				paired[np++] = s->ms[k] / ref->ms[k];
			snprintf(px, sizeof(px), "%.2f", median_of(paired, np));
		}
		printf("%-11s %5u %8.3f %8.3f %8.3f %8.3f %9.3f %8s %9s %8s%s\n", s->c->name, s->n,
		       med, pct(v, s->n, 90), pct(v, s->n, 99), v[s->n - 1], cpu / s->n, rss, x, px,
		       s->failed ? "  (stopped early)" : "");
		free(v);
	}
	if (ref) {
		printf("\nratios (median %s / median other; < 1 means %s is faster):", ref->c->name,
		       ref->c->name);
		for (i = 0; i < ns; i++)
			if (ss[i].n && &ss[i] != ref)
				printf(" %s/%s %.3f", ref->c->name, ss[i].c->name,
				       median_of(ref->ms, ref->n) / median_of(ss[i].ms, ss[i].n));
		printf("\n");
	}
	for (i = 0; i < ns; i++) {
		if (ss[i].failed)
			printf("FAILED %s: %s\n", ss[i].c->name, ss[i].why);
		if (ss[i].leftovers)
			printf("LEFT BEHIND by %s (now removed): %s\n", ss[i].c->name, ss[i].left_what);
	}
	printf("\ncandidates:\n");
	for (i = 0; i < ns; i++)
		printf("  %-11s %s\n", ss[i].c->name, ss[i].c->what);
}

/*
 * The order of one round: a new permutation every round (Fisher-Yates
 * over xorshift64 with a fixed seed, so that runs are repeatable). In a
 * fixed order the candidate that follows crun, runc or keel-veth always
 * pays for the kernel work they leave behind (network namespaces and
 * veths torn down on the other CPU); shuffled, that cost falls on every
 * candidate alike.
 */
static void shuffle_round(unsigned *order, unsigned n, uint64_t *rng)
{
	unsigned i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; i > 1; i--) {
		*rng ^= *rng << 13;
		*rng ^= *rng >> 7;
		*rng ^= *rng << 17;
		j = (unsigned)(*rng % i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

static void run_sequential(struct runner *r)
{
	struct series ss[32];
	unsigned ns = 0, t, i, round, seq = 0, order[32];
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	memset(ss, 0, sizeof(ss));
	for (t = 0; t < BENCH_ARRAY_SIZE(candidate_tables); t++)
		for (i = 0; candidate_tables[t][i].name && ns < BENCH_ARRAY_SIZE(ss); i++)
			if (selected(r, candidate_tables[t][i].name))
				ss[ns++].c = &candidate_tables[t][i];
	for (i = 0; i < ns; i++) {
		struct series *s = &ss[i];

		s->maxrss_kib = -1;
		s->ms = calloc(r->rounds, sizeof(double));
		s->cpu_ms = calloc(r->rounds, sizeof(double));
		if (!s->ms || !s->cpu_ms) {
			snprintf(s->why, sizeof(s->why), "out of memory");
			continue;
		}
		if (s->c->setup(&r->env, &s->state, s->why, sizeof(s->why)) == 0)
			s->active = 1;
		else if (r->env.verbose)
			fprintf(stderr, "keel-bench: %s skipped: %s\n", s->c->name, s->why);
	}
	for (round = 0; round < r->warmup + r->rounds; round++) {
		shuffle_round(order, ns, &rng);
		for (t = 0; t < ns; t++) {
			struct series *s = &ss[order[t]];

			if (s->active && sample_once(s, seq++, round >= r->warmup))
				fprintf(stderr, "keel-bench: %s failed: %s\n", s->c->name, s->why);
		}
	}
	for (i = 0; i < ns; i++) {
		struct series *s = &ss[i];

		if (!s->state)
			continue;
		s->leftovers = s->c->leftovers(s->state, s->left_what, sizeof(s->left_what));
		if (s->leftovers || s->failed)
			r->failed = 1;
	}
	print_seq_report(r, ss, ns);
	for (i = 0; i < ns; i++) {
		if (ss[i].state)
			ss[i].c->teardown(ss[i].state);
		free(ss[i].ms);
		free(ss[i].cpu_ms);
	}
}

/* ======================================================= concurrency === */

/* A /proc/meminfo field in KiB, or -1. */
static long meminfo(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Kernel memory that namespaces, mounts and processes cost. */
static long kernel_kib(void)
{
	return meminfo("Slab") + meminfo("KernelStack") + meminfo("PageTables");
}

/* Pss of a process in KiB (its fair share of the pages it maps), or 0. */
static long pss_kib(pid_t pid)
{
	char path[64], line[256];
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Pss:", 4)) {
			v = strtol(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* One of the threads that start the containers of a concurrency run:
 * containers first, first + step, ... until one fails anywhere. */
struct conc_worker {
	const struct bench_conc *c;
	void *state;
	unsigned n, first, step;
	pid_t *pids;
	atomic_int *stop;
	int ret;
	char why[512];
	pthread_t thread;
};

static void *conc_work(void *arg)
{
	struct conc_worker *w = arg;
	unsigned i;

	for (i = w->first; i < w->n && !atomic_load(w->stop); i += w->step) {
		w->ret = w->c->start(w->state, i, &w->pids[i], w->why, sizeof(w->why));
		if (w->ret) {
			atomic_store(w->stop, 1);
			break;
		}
	}
	return NULL;
}

/* Start containers 0..n-1 from jobs threads; 0, or the first failure
 * (its reason in why). */
static int conc_start_all(const struct bench_conc *c, void *state, unsigned n, unsigned jobs, pid_t *pids,
			  char *why, size_t len)
{
	struct conc_worker w[16];
	atomic_int stop = 0;
	unsigned j, made;
	int ret = 0;

	if (jobs > BENCH_ARRAY_SIZE(w))
		jobs = BENCH_ARRAY_SIZE(w);
	for (made = 0; made < jobs; made++) {
		w[made] = (struct conc_worker){ c, state, n, made, jobs, pids, &stop, 0, "", 0 };
		if (jobs == 1) {
			conc_work(&w[made]);
		} else if (pthread_create(&w[made].thread, NULL, conc_work, &w[made])) {
			atomic_store(&stop, 1);
			ret = -EAGAIN;
			snprintf(why, len, "pthread_create failed");
			break;
		}
	}
	/* w[0..made) ran: join them and keep the first failure */
	for (j = 0; j < made; j++) {
		if (jobs > 1)
			pthread_join(w[j].thread, NULL);
		if (w[j].ret && !ret) {
			ret = w[j].ret;
			snprintf(why, len, "%s", w[j].why);
		}
	}
	return ret;
}

static void run_conc_one(struct runner *r, const struct bench_conc *c, unsigned n)
{
	long avail0, avail1, avail2, kern0, kern1, pss = 0;
	struct timespec t0, t1, t2, t3;
	char why[512] = "", what[512] = "";
	unsigned i, started = 0;
	void *state = NULL;
	pid_t *pids;
	int ret, left;

	pids = calloc(n, sizeof(*pids));
	if (!pids)
		return;
	ret = c->setup(&r->env, n, &state, why, sizeof(why));
	if (ret) {
		printf("%-11s %6u  SKIPPED: %s\n", c->name, n, why);
		free(pids);
		return;
	}
	avail0 = meminfo("MemAvailable");
	kern0 = kernel_kib();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = conc_start_all(c, state, n, r->jobs, pids, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	avail1 = meminfo("MemAvailable");
	kern1 = kernel_kib();
	for (i = 0; i < n; i++)
		if (pids[i] > 0) {
			pss += pss_kib(pids[i]);
			started++;
		}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (c->stop_all(state, what, sizeof(what))) {
		printf("%-11s %6u  FAILED to delete: %s\n", c->name, n, what);
		r->failed = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t3);
	what[0] = '\0';
	left = c->leftovers(state, what, sizeof(what));
	avail2 = meminfo("MemAvailable");
	c->teardown(state);
	if (ret) {
		printf("%-11s %6u  FAILED after %u started: %s\n", c->name, n, started, why);
		r->failed = 1;
	} else {
		long delta = avail0 - avail1;

		printf("%-11s %6u %2u %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f %s\n", c->name, n, r->jobs,
		       ts_ms(&t0, &t1), ts_ms(&t0, &t1) * 1e3 / n,
		       delta / 1024.0, (double)(delta - pss) / n, (double)(kern1 - kern0) / n,
		       (double)pss / n, ts_ms(&t2, &t3), left ? "NO" : "yes");
	}
	if (left) {
		printf("LEFT BEHIND by %s (now removed): %s\n", c->name, what);
		r->failed = 1;
	}
	if (r->env.verbose)
		fprintf(stderr, "keel-bench: %s x%u: MemAvailable %ld -> %ld -> %ld KiB\n",
			c->name, n, avail0, avail1, avail2);
	free(pids);
}

static void run_concurrency(struct runner *r)
{
	unsigned i, k;

	printf("\n== concurrency: n containers sleeping at once from one rootfs, started by j threads ==\n");
	printf("%-11s %6s %2s %9s %9s %9s %9s %9s %9s %10s %s\n", "candidate", "n", "j", "start all",
	       "per ctr", "MemAvail", "beyond", "kernel", "Pss", "delete all", "clean");
	printf("%-11s %6s %2s %9s %9s %9s %9s %9s %9s %10s\n", "", "", "", "ms", "us", "delta MiB",
	       "KiB/ctr", "KiB/ctr", "KiB/ctr", "ms");
	for (i = 0; i < BENCH_ARRAY_SIZE(conc_candidates); i++) {
		if (!selected(r, conc_candidates[i]->name))
			continue;
		for (k = 0; k < r->nsizes; k++)
			run_conc_one(r, conc_candidates[i], r->sizes[k]);
	}
	printf("beyond = (MemAvailable drop - Pss of the container processes) / n: the\n"
	       "namespaces, mounts, cgroups and page tables; kernel = Slab+KernelStack+PageTables\n"
	       "growth / n. Both are host-wide figures, noisy on a shared machine.\n");
}

/* ============================================================== main === */

static int usage(void)
{
	fprintf(stderr,
		"usage: keel-bench [-n ROUNDS] [-w WARMUP] [-c SIZES] [-j JOBS] [-o NAMES] [-S] [-C] [-v] ROOTFS\n"
		"  -n ROUNDS  recorded interleaved rounds of start-to-exit (default 100)\n"
		"  -w WARMUP  unrecorded rounds first (default 5)\n"
		"  -c SIZES   concurrency sizes, comma-separated (default 100,1000)\n"
		"  -j JOBS    threads starting containers in the concurrency run (default: CPUs)\n"
		"  -o NAMES   only these candidates, comma-separated\n"
		"  -S         skip the start-to-exit run;  -C  skip the concurrency run\n"
		"  ROOTFS     the busybox rootfs (tests/rootfs in the build dir)\n");
	return 2;
}

static int parse_sizes(struct runner *r, char *arg)
{
	char *tok, *save = NULL;

	r->nsizes = 0;
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (r->nsizes == BENCH_ARRAY_SIZE(r->sizes) || !isdigit((unsigned char)tok[0]))
			return -1;
		r->sizes[r->nsizes++] = (unsigned)strtoul(tok, NULL, 10);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct runner r;
	char def_sizes[] = "100,1000";
	int opt;

	r.rounds = 100;
	r.warmup = 5;
	r.jobs = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? (unsigned)sysconf(_SC_NPROCESSORS_ONLN) : 1;
	parse_sizes(&r, def_sizes);
	while ((opt = getopt(argc, argv, "n:w:c:j:o:SCvh")) != -1) {
		switch (opt) {
		case 'n': r.rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': r.warmup = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': if (parse_sizes(&r, optarg)) return usage(); break;
		case 'j': r.jobs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'o': r.only = optarg; break;
		case 'S': r.no_seq = 1; break;
		case 'C': r.no_conc = 1; break;
		case 'v': r.env.verbose = 1; break;
		default: return usage();
		}
	}
	if (optind != argc - 1 || r.rounds == 0 || r.rounds > 4096 || r.jobs == 0 || r.jobs > 16)
		return usage();
	if (geteuid() != 0) {
		fprintf(stderr, "keel-bench: run as root (namespaces, cgroups, crun and runc need it)\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (env_setup(&r, argv[optind], argv[0])) {
		env_teardown(&r);
		return 1;
	}
	printf("keel-bench: rootfs %s, cgroup parent %s, %ld CPUs\n", r.rootfs,
	       r.parent[0] ? r.parent : "(none)", sysconf(_SC_NPROCESSORS_ONLN));
	if (!r.no_seq)
		run_sequential(&r);
	if (!r.no_conc)
		run_concurrency(&r);
	env_teardown(&r);
	return r.failed ? 1 : 0;
}
