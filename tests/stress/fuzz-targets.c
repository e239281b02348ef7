/*
 * The fuzz targets: each feeds one input to one of libkeel's parsers of
 * text it does not control, and checks what it can check beyond "no
 * crash": the state file (a file a user or another program can tamper
 * with), id maps (ranges a caller passes), the cgroup interface files
 * (memory.stat, cpu.max, io.stat ...), the security profile a container
 * keeps for its execs (<id>/security), keel-run's command line.
 *
 * config.json / image manifests: no JSON parser is in the tree as this is
 * written; when one lands, its target is one more entry below (write the
 * input to a file, call the loader, free what it returns).
 *
 * Built into the library's core (tests link libkeel-core), so a target
 * may call the private parsers (src/state.h) as well as the public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include <keel.h>

#include "fuzz.h"
#include "ns.h"
#include "security.h"
#include "state.h"

/* A scratch directory for the whole process, removed at exit. */
static char scratch[256];

static void rm_tree(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", path);
}

static void remove_scratch(void)
{
	if (scratch[0])
		rm_tree(scratch);
}

static int make_scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0])
		return 0;
	snprintf(scratch, sizeof(scratch), "%s/keel-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		perror("fuzz: mkdtemp");
		scratch[0] = '\0';
		return -1;
	}
	atexit(remove_scratch);
	return 0;
}

static int write_all(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (done < size && (n = write(fd, data + done, size - done)) > 0)
		done += (size_t)n;
	close(fd);
	return done == size ? 0 : -1;
}

/* ------------------------------------------------------------- state -- */

static int state_init(void)
{
	char dir[300];

	if (make_scratch() < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/state-root", scratch);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/state-root/f", scratch);
	return mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * The private reader, then the public path a tool takes on the same file:
 * load, state, layers, exit code (read-only calls: nothing here signals or
 * deletes what a tampered file names).
 */
static int state_one(const uint8_t *data, size_t size)
{
	struct keel_cstate st = { 0 };
	keel_container *c = NULL;
	char root[300], dir[300], path[320], **layers = NULL;
	int state = 0, code, sig, ret = FUZZ_OK;

	snprintf(root, sizeof(root), "%s/state-root", scratch);
	snprintf(dir, sizeof(dir), "%s/f", root);
	snprintf(path, sizeof(path), "%s/state", dir);
	if (write_all(path, data, size) < 0)
		return FUZZ_OK;
	if (keel_state_read(dir, &st, NULL) == 0 && (st.status < KEEL_STATE_CREATING || st.status > KEEL_STATE_STOPPED)) {
		printf("state: read accepted status %d\n", st.status);
		ret = FUZZ_FINDING;
	}
	keel_cstate_clear(&st);
	if (keel_container_load(&c, "f", root, NULL) == 0) {
		keel_container_state(c, &state, NULL);
		if (keel_container_layers(c, &layers, NULL) == 0)
			keel_container_strv_free(layers);
		keel_container_exit_code(c, &code, &sig, NULL);
		keel_container_free(c);
	}
	return ret;
}

static const struct fuzz_seed state_seeds[] = {
	FUZZ_SEED("status=3\npid=1\npid_start_time=1\ncreated=1700000000\nstarted=1700000001\nnamespaces=127\n"
		  "upper_dir=/run/keel/f/layer\nkeep_upper=0\nlayer=/img/a\nlayer=/img/b\n"
		  "cgroup=/sys/fs/cgroup/unified/keel/f\nbridge=kbr0\nhost_veth=vkf0\n"),
	FUZZ_SEED("status=5\npid=0\nexit_code=3\nterm_signal=0\n"),
	FUZZ_SEED("status=1\n"),
	FUZZ_SEED("status=2\npid=2147483647\npid_start_time=18446744073709551615\nnet_host=/run/netns/x\n"),
	{ NULL, 0 }
};
static const char *const state_dict[] = {
	"status=", "pid=", "pid_start_time=", "created=", "started=", "exit_code=", "term_signal=",
	"namespaces=", "upper_dir=", "keep_upper=", "layer=", "cgroup=", "net_host=", "host_veth=",
	"bridge=", "\n", "=", "-1", "4294967296", "9223372036854775807", "-9223372036854775808",
	"0x10", " 1", "1 ", "/", "..", NULL
};

/* ----------------------------------------------------------- id maps -- */

struct map { unsigned in, out, count; };

static int overlaps(const struct keel_idmap *a, const struct keel_idmap *b)
{
	return (a->inside < b->inside + (unsigned long long)b->count &&
		b->inside < a->inside + (unsigned long long)a->count) ||
	       (a->outside < b->outside + (unsigned long long)b->count &&
		b->outside < a->outside + (unsigned long long)a->count);
}

/* Overlapping ranges the kernel would refuse at spawn (EINVAL on uid_map). */
static size_t count_overlaps(const struct keel_idmap *m, size_t n)
{
	size_t i, j, found = 0;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			found += (size_t)overlaps(&m[i], &m[j]);
	return found;
}

/*
 * The input is a list of 13-byte records: a type byte (even: uid, odd:
 * gid) and inside, outside, count as little-endian 32-bit numbers. Every
 * accepted range must be non-empty, not wrap, and there must be at most
 * KEEL_NS_MAX_MAPS of each. Overlaps are counted apart: accepting them
 * is a known defect (issue 22, validation: they fail only at spawn).
 */
static int idmap_one(const uint8_t *data, size_t size)
{
	keel_ns *ns = NULL;
	size_t i, overlap;
	int ret = FUZZ_OK;

	if (keel_ns_new(&ns, NULL) < 0)
		return FUZZ_OK;
	for (i = 0; i + 13 <= size; i += 13) {
		unsigned v[3];

		memcpy(v, data + i + 1, sizeof(v));
		if (data[i] & 1)
			keel_ns_add_gid_map(ns, v[0], v[1], v[2], NULL);
		else
			keel_ns_add_uid_map(ns, v[0], v[1], v[2], NULL);
	}
	for (i = 0; i < ns->n_uid_maps + ns->n_gid_maps; i++) {
		const struct keel_idmap *m = i < ns->n_uid_maps ? &ns->uid_maps[i] : &ns->gid_maps[i - ns->n_uid_maps];

		if (!m->count || m->inside + (unsigned long long)m->count > 4294967296ULL ||
		    m->outside + (unsigned long long)m->count > 4294967296ULL) {
			printf("idmap: accepted the range %u %u %u\n", m->inside, m->outside, m->count);
			ret = FUZZ_FINDING;
		}
	}
	if (ns->n_uid_maps > KEEL_NS_MAX_MAPS || ns->n_gid_maps > KEEL_NS_MAX_MAPS)
		ret = FUZZ_FINDING;
	overlap = count_overlaps(ns->uid_maps, ns->n_uid_maps) + count_overlaps(ns->gid_maps, ns->n_gid_maps);
	if (overlap && getenv("KEEL_FUZZ_STRICT_IDMAP")) {
		printf("idmap: accepted %zu overlapping range pairs\n", overlap);
		ret = FUZZ_FINDING;
	}
	keel_ns_free(ns);
	return ret;
}

static const struct fuzz_seed idmap_seeds[] = {
	FUZZ_SEED("\x00\x00\x00\x00\x00\xe8\x03\x00\x00\x01\x00\x00\x00"),
	FUZZ_SEED("\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00"
		  "\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00"),
	FUZZ_SEED("\x01\xff\xff\xff\xff\x00\x00\x00\x00\x01\x00\x00\x00"),
	{ NULL, 0 }
};

/* ----------------------------------------------------------- cgroups -- */

/*
 * A real cgroup is opened (keel_cgroup_open checks that it is on
 * cgroup2), then its directory fd is replaced by one on a scratch
 * directory whose files hold the input: every getter then parses what
 * the fuzzer wrote, as it would parse a kernel that answered oddly.
 */
static char cg_name[64], cg_mount[256];
static keel_cgroup *cg_held;

static void cgroup_cleanup(void)
{
	if (cg_held && getpid() == (pid_t)strtol(cg_name + 5, NULL, 10))
		keel_cgroup_remove(cg_held, 0, NULL);
	keel_cgroup_free(cg_held);
	cg_held = NULL;
}

static int cgroup_init(void)
{
	char *mount = NULL, dir[300];

	if (make_scratch() < 0 || keel_cgroup_mount_path(&mount, NULL) < 0)
		return -1;
	snprintf(cg_mount, sizeof(cg_mount), "%s", mount);
	free(mount);
	snprintf(cg_name, sizeof(cg_name), "kfuzz%d", (int)getpid());
	if (keel_cgroup_create(&cg_held, cg_name, cg_mount, NULL) < 0)
		return -1;
	atexit(cgroup_cleanup);
	snprintf(dir, sizeof(dir), "%s/cgroup", scratch);
	return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static const char *const cg_files[] = {
	"memory.max", "memory.high", "memory.low", "memory.swap.max", "memory.current", "memory.peak",
	"memory.stat", "memory.events", "cpu.max", "cpu.weight", "cpu.stat", "cpuset.cpus", "cpuset.mems",
	"pids.max", "pids.current", "io.max", "io.weight", "io.stat", "cgroup.events", "cgroup.procs",
	"cgroup.freeze", "cgroup.type", "cgroup.subtree_control", NULL
};

static void cg_getters(keel_cgroup *cg)
{
	uint64_t v, q, p;
	char *s = NULL;
	unsigned what;
	int i, flag;

	keel_cgroup_get_memory_max(cg, &v, NULL);
	keel_cgroup_get_memory_high(cg, &v, NULL);
	keel_cgroup_get_memory_low(cg, &v, NULL);
	keel_cgroup_get_memory_swap_max(cg, &v, NULL);
	keel_cgroup_get_memory_current(cg, &v, NULL);
	keel_cgroup_get_memory_peak(cg, &v, NULL);
	keel_cgroup_get_memory_stat(cg, "anon", &v, NULL);
	keel_cgroup_get_cpu_max(cg, &q, &p, NULL);
	keel_cgroup_get_cpu_weight(cg, &v, NULL);
	keel_cgroup_get_pids_max(cg, &v, NULL);
	keel_cgroup_get_pids_current(cg, &v, NULL);
	if (keel_cgroup_get_cpuset_cpus(cg, &s, NULL) == 0)
		free(s);
	if (keel_cgroup_get_cpuset_mems(cg, &s, NULL) == 0)
		free(s);
	if (keel_cgroup_get_raw(cg, "memory.stat", &s, NULL) == 0)
		free(s);
	for (i = 1; i <= 6; i++) {
		keel_cgroup_get_memory_event(cg, (keel_cgroup_memory_event)i, &v, NULL);
		keel_cgroup_get_cpu_stat(cg, (keel_cgroup_cpu_stat)i, &v, NULL);
		keel_cgroup_get_io_stat(cg, 8, 0, (keel_cgroup_io_stat)i, &v, NULL);
	}
	for (i = 1; i <= 4; i++)
		keel_cgroup_get_io_max(cg, 8, 0, (keel_cgroup_io_limit)i, &v, NULL);
	keel_cgroup_get_io_weight(cg, 8, 0, &v, NULL);
	keel_cgroup_is_populated(cg, &flag, NULL);
	keel_cgroup_is_frozen(cg, &flag, NULL);
	if (keel_cgroup_events_fd(cg, NULL) >= 0)
		keel_cgroup_events_read(cg, &what, NULL);
}

static int cgroup_one(const uint8_t *data, size_t size)
{
	static const char controllers[] = "cpuset cpu io memory hugetlb pids rdma misc\n";
	keel_cgroup *cg = NULL;
	char dir[300], path[400];
	int i, fd;

	snprintf(dir, sizeof(dir), "%s/cgroup", scratch);
	for (i = 0; cg_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, cg_files[i]);
		write_all(path, data, size);
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	write_all(path, (const uint8_t *)controllers, sizeof(controllers) - 1);
	if (keel_cgroup_open(&cg, cg_name, cg_mount, NULL) < 0)
		return FUZZ_OK;
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && dup2(fd, keel_cgroup_fd(cg)) >= 0)
		cg_getters(cg);
	if (fd >= 0)
		close(fd);
	keel_cgroup_free(cg);
	return FUZZ_OK;
}

static const struct fuzz_seed cgroup_seeds[] = {
	FUZZ_SEED("max\n"), FUZZ_SEED("1073741824\n"), FUZZ_SEED("100000 100000\n"), FUZZ_SEED("max 100000\n"),
	FUZZ_SEED("0-3\n"), FUZZ_SEED("100\n"),
	FUZZ_SEED("anon 4096\nfile 8192\nkernel 0\nsock 0\nshmem 0\n"),
	FUZZ_SEED("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n"),
	FUZZ_SEED("usage_usec 100\nuser_usec 50\nsystem_usec 50\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n"),
	FUZZ_SEED("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n259:0 rbytes=9\n"),
	FUZZ_SEED("8:0 rbps=max wbps=1048576 riops=max wiops=100\n"), FUZZ_SEED("default 100\n8:0 200\n"),
	FUZZ_SEED("populated 1\nfrozen 0\n"), FUZZ_SEED("1\n2\n3\n"),
	{ NULL, 0 }
};
static const char *const cgroup_dict[] = {
	"max", "8:0 ", "rbytes=", "wbytes=", "rios=", "wios=", "dbytes=", "dios=", "rbps=", "wbps=",
	"riops=", "wiops=", "default ", "populated ", "frozen ", "oom ", "oom_kill ", "usage_usec ",
	"nr_throttled ", "anon ", "\n", " ", "18446744073709551615", "18446744073709551616", "-1", NULL
};

/* -------------------------------------------------- security profile -- */

/*
 * <id>/security, which a loaded handle reads for its execs: parse, and if
 * it parsed, format and parse again: the second text must be the first
 * format's (what is read back is what was written).
 */
static int profile_one(const uint8_t *data, size_t size)
{
	keel_security *a = NULL, *b = NULL;
	char *text = malloc(size + 1), *one = NULL, *two = NULL;
	int ret = FUZZ_OK;

	if (!text || keel_security_new(&a, NULL) < 0 || keel_security_new(&b, NULL) < 0)
		goto out;
	memcpy(text, data, size);
	text[size] = '\0';
	if (keel_security_profile_parse(a, text, NULL) < 0)
		goto out;
	one = keel_security_profile_format(a);
	if (one && keel_security_profile_parse(b, one, NULL) < 0) {
		printf("security-profile: its own output does not parse: %s\n", one);
		ret = FUZZ_FINDING;
	} else if (one && (two = keel_security_profile_format(b)) && strcmp(one, two)) {
		printf("security-profile: not read back as written: %s / %s\n", one, two);
		ret = FUZZ_FINDING;
	}
out:
	free(one);
	free(two);
	free(text);
	keel_security_free(a);
	keel_security_free(b);
	return ret;
}

static const struct fuzz_seed profile_seeds[] = {
	FUZZ_SEED("caps=a80425fb a80425fb a80425fb 0 0\nkeep_caps=0\nno_new_privs=1\n"),
	FUZZ_SEED("caps=1ffffffffff 0 0 0 0\nkeep_caps=1\nno_new_privs=0\nrlimit=7 1024 4096\n"
		  "apparmor=docker-default\nselinux=system_u:system_r:container_t:s0\n"),
	{ NULL, 0 }
};
static const char *const profile_dict[] = {
	"caps=", "keep_caps=", "no_new_privs=", "rlimit=", "apparmor=", "selinux=", "\n", " ", "=",
	"ffffffffffffffff", "10000000000000000", "18446744073709551615", "16", "-1", NULL
};

/* ---------------------------------------------------- keel-run options -- */

/*
 * keel-run's command line: the input's lines are its arguments, then
 * "-- /bin/true". It runs with a scratch state root. A signal is a crash;
 * a container left behind by a run that failed (status 125) is a finding,
 * and so is one that keel-rm -f cannot remove afterwards.
 */
static char run_root[300];
static const char *keel_run, *keel_rm;

static int options_init(void)
{
	keel_run = getenv("KEEL_STRESS_KEEL_RUN");
	keel_rm = getenv("KEEL_STRESS_KEEL_RM");
	if (!keel_run || !keel_rm) {
		fprintf(stderr, "fuzz: keel-run-options needs KEEL_STRESS_KEEL_RUN and KEEL_STRESS_KEEL_RM\n");
		return -1;
	}
	if (make_scratch() < 0)
		return -1;
	snprintf(run_root, sizeof(run_root), "%s/run-root", scratch);
	return mkdir(run_root, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

#define MAX_ARGS 24

static int run_tool(char *const argv[], int quiet)
{
	int status = 0, fd;
	pid_t pid = fork();

	if (pid == 0) {
		setenv("KEEL_STATE_ROOT", run_root, 1);
		if (quiet && (fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
		}
		alarm(20);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

/* Remove every container in the scratch root; the number that stay. */
static int clean_run_root(int *left_after_rm)
{
	struct dirent *e;
	DIR *d = opendir(run_root);
	int left = 0;

	*left_after_rm = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *argv[] = { (char *)keel_rm, "-f", e->d_name, NULL };
		char path[600];

		if (e->d_name[0] == '.')
			continue;
		left++;
		run_tool(argv, 1);
		snprintf(path, sizeof(path), "%s/%s", run_root, e->d_name);
		if (access(path, F_OK) == 0) {
			printf("keel-run-options: keel-rm -f cannot remove '%s'\n", e->d_name);
			(*left_after_rm)++;
			rm_tree(path);
		}
	}
	closedir(d);
	return left;
}

static int options_one(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 4], *copy = malloc(size + 1), *line, *save = NULL;
	int n = 0, status, left, stuck, ret = FUZZ_OK;

	if (!copy)
		return FUZZ_OK;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[n++] = (char *)keel_run;
	for (line = strtok_r(copy, "\n", &save); line && n < MAX_ARGS; line = strtok_r(NULL, "\n", &save))
		argv[n++] = line;
	argv[n++] = "--";
	argv[n++] = "/bin/true";
	argv[n] = NULL;
	status = run_tool(argv, 1);
	if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) != SIGALRM) {
		printf("keel-run-options: keel-run died of signal %d\n", WTERMSIG(status));
		fflush(stdout);
		free(copy);
		raise(WTERMSIG(status)); /* a crash of keel-run is a crash of this input */
	}
	left = clean_run_root(&stuck);
	if (left && WIFEXITED(status) && WEXITSTATUS(status) == 125) {
		printf("keel-run-options: a failed run (125) left %d container(s)\n", left);
		ret = FUZZ_FINDING;
	}
	if (stuck)
		ret = FUZZ_FINDING;
	free(copy);
	return ret;
}

static const struct fuzz_seed options_seeds[] = {
	FUZZ_SEED("--rm"), FUZZ_SEED("--rm\n--memory\n64m"), FUZZ_SEED("--rm\n--user\n65534:65534"),
	FUZZ_SEED("--rm\n--cpus\n0.5"), FUZZ_SEED("--rm\n--pids\n10"), FUZZ_SEED("--rm\n--hostname\nbox"),
	FUZZ_SEED("--rm\n-e\nA=B\n--read-only"), FUZZ_SEED("--rm\n--seccomp\nnone\n--cap-drop\nCHOWN"),
	FUZZ_SEED("--rm\n--cap-add\nSYS_ADMIN"), FUZZ_SEED("--rm\n-v\n/tmp:/mnt:ro"), FUZZ_SEED("--rm\n--rootfs="),
	FUZZ_SEED("--rm\n--name\nkfz1"),
	{ NULL, 0 }
};
static const char *const options_dict[] = {
	"--rm\n", "--memory\n", "--pids\n", "--cpus\n", "--user\n", "--hostname\n", "--name\n", "--rootfs\n",
	"--layer\n", "--seccomp\n", "--cap-add\n", "--cap-drop\n", "--read-only\n", "-e\n", "-v\n", "-t\n",
	"--rootfs=", "--user=", "--memory=", "4294967296", "18446744073709551615", "17179869184g", "-1", ":",
	"0.001", "1e9", "nan", "/", "..", "ALL", "\n", NULL
};

/* ------------------------------------------------------------- table -- */

const struct fuzz_target fuzz_targets[] = {
	{ "state", state_init, state_one, state_seeds, state_dict, 4096 },
	{ "idmap", NULL, idmap_one, idmap_seeds, NULL, 13 * 400 },
	{ "cgroup", cgroup_init, cgroup_one, cgroup_seeds, cgroup_dict, 2048 },
	{ "security-profile", NULL, profile_one, profile_seeds, profile_dict, 8192 },
	{ "keel-run-options", options_init, options_one, options_seeds, options_dict, 512 },
	{ NULL, NULL, NULL, NULL, NULL, 0 }
};

const struct fuzz_target *fuzz_target_find(const char *name)
{
	const struct fuzz_target *t;

	for (t = fuzz_targets; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}
