/*
 * The candidates users would pick instead of libkeel: crun, runc (OCI
 * runtimes, each run as `<tool> run` on a bundle) and bubblewrap.
 *
 * The bundle: each runtime writes its own default config.json (`crun spec`,
 * `runc spec`), which jq then patches to run /bin/true like the other
 * candidates: process.args ["/bin/true"], terminal false, root.path the
 * shared busybox rootfs (writable, like the floor's bind mount), the /sys
 * and /sys/fs/cgroup mounts removed (no candidate mounts sysfs), a fixed
 * absolute cgroupsPath so the bench knows where the cgroups go, and the
 * floor's deny-list seccomp profile. Kept from the default: pid, network,
 * ipc, uts and mount namespaces, /proc, the tmpfs /dev with devpts, shm and
 * mqueue, masked and read-only paths, hostname, the 3 default
 * capabilities, noNewPrivileges, RLIMIT_NOFILE and the devices rule.
 *
 * Containers run one after another, so one cgroupsPath per runtime is
 * enough: `run` makes it and removes it when the container exits. On this
 * hybrid host crun's cgroupfs manager works because the runner made
 * cgroup.controllers look empty in its own private mount namespace
 * (bench.c, hybrid_workaround()); crun-nocg is crun with
 * --cgroup-manager=disabled, the configuration the issue was measured with.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "floor.h"

struct oci_state {
	const struct bench_env *env;
	const char *name;
	char *tool;		/* absolute path of crun, runc or bwrap */
	int nocg;		/* crun --cgroup-manager=disabled */
	char bundle[4096];
	char log[4096];
	char cgname[256];	/* cgroupsPath, without the leading / */
};

static struct oci_state *state_new(const struct bench_env *env, const char *name,
				   const char *prog, char *why, size_t len)
{
	struct oci_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->env = env;
	st->name = name;
	/* a path (keelrt, from this build) or a name found in PATH */
	st->tool = strchr(prog, '/') ? (access(prog, X_OK) == 0 ? strdup(prog) : NULL) : bench_which(prog);
	if (!st->tool && strchr(prog, '/')) {
		snprintf(why, len, "%s is not built (make cli/keelrt)", prog);
		free(st);
		return NULL;
	}
	if (!st->tool) {
		snprintf(why, len, "%s not found in PATH (apt-get install %s)", prog,
			 strcmp(prog, "bwrap") ? prog : "bubblewrap");
		free(st);
		return NULL;
	}
	snprintf(st->log, sizeof(st->log), "%s/%s.log", env->workdir, name);
	snprintf(st->bundle, sizeof(st->bundle), "%s/bundle-%s", env->workdir, name);
	snprintf(st->cgname, sizeof(st->cgname), "%s-%s", env->runid, name);
	return st;
}

static void oci_teardown(void *state)
{
	struct oci_state *st = state;

	if (st)
		free(st->tool);
	free(st);
}

/* `<tool> spec` in the bundle directory, then jq patches it (see top). */
static int make_bundle(struct oci_state *st, char *why, size_t len)
{
	char spec[4096], patched[4096], deny[1024], cgpath[300];
	char *jq = bench_which("jq");
	size_t off = 0;
	int i, ret;

	if (!jq)
		return snprintf(why, len, "jq not found in PATH (apt-get install jq)"), -ENOENT;
	if (mkdir(st->bundle, 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(why, len, "mkdir %s: %s", st->bundle, strerror(errno));
		goto out;
	}
	off += snprintf(deny + off, sizeof(deny) - off, "[");
	for (i = 0; floor_seccomp_denied[i]; i++)
		off += snprintf(deny + off, sizeof(deny) - off, "%s\"%s\"", i ? "," : "",
				floor_seccomp_denied[i]);
	snprintf(deny + off, sizeof(deny) - off, "]");
	snprintf(cgpath, sizeof(cgpath), "/%s", st->cgname);
	snprintf(spec, sizeof(spec), "%s/config.json", st->bundle);
	snprintf(patched, sizeof(patched), "%s/config.json.new", st->bundle);
	unlink(spec);
	{
		char *argv[] = { st->tool, "spec", NULL };

		ret = bench_run_tool(st->bundle, argv, NULL, st->log, NULL, why, len);
		if (ret)
			goto out;
	}
	{
		char *argv[] = { jq, "--arg", "root", (char *)st->env->rootfs, "--arg", "cg", cgpath,
			"--argjson", "deny", deny,
			".process.args = [\"/bin/true\"] | .process.terminal = false"
			" | .root.path = $root | .root.readonly = false"
			" | .mounts |= map(select(.destination | startswith(\"/sys\") | not))"
			" | .linux.cgroupsPath = $cg"
			" | .linux.seccomp = {defaultAction: \"SCMP_ACT_ALLOW\","
			"   syscalls: [{names: $deny, action: \"SCMP_ACT_ERRNO\"}]}",
			spec, NULL };

		ret = bench_run_tool(NULL, argv, patched, st->log, NULL, why, len);
		if (ret)
			goto out;
	}
	if (rename(patched, spec)) {
		ret = -errno;
		snprintf(why, len, "rename %s: %s", patched, strerror(errno));
	}
out:
	free(jq);
	return ret;
}

static int runtime_setup(const struct bench_env *env, const char *name, const char *prog,
			 int nocg, void **state, char *why, size_t len)
{
	struct oci_state *st = state_new(env, name, prog, why, len);
	int ret;

	if (!st)
		return -ENOENT;
	st->nocg = nocg;
	ret = make_bundle(st, why, len);
	if (ret) {
		oci_teardown(st);
		return ret;
	}
	*state = st;
	return 0;
}

static int crun_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	return runtime_setup(env, "crun", "crun", 0, state, why, len);
}

static int crun_nocg_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	return runtime_setup(env, "crun-nocg", "crun", 1, state, why, len);
}

static int runc_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	return runtime_setup(env, "runc", "runc", 0, state, why, len);
}

/* keelrt, this build's OCI runtime (cli/keelrt), on the same bundle recipe */
static int keelrt_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	char path[4096], libs[4096];

	/* The binary itself, not libtool's wrapper script (which costs more
	 * than a whole container start): it finds libkeel.so.1 in .libs. */
	snprintf(path, sizeof(path), "%s/../../cli/.libs/keelrt", env->self_dir);
	snprintf(libs, sizeof(libs), "%s/../../.libs", env->self_dir);
	if (access(path, X_OK) == 0)
		setenv("LD_LIBRARY_PATH", libs, 1);
	else
		snprintf(path, sizeof(path), "%s/../../cli/keelrt", env->self_dir);
	return runtime_setup(env, "keelrt", path, 0, state, why, len);
}

static void container_id(const struct oci_state *st, unsigned seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%s-%u", st->env->runid, st->name, seq);
}

/* `run` in the foreground: create, start, wait, delete (state and cgroup). */
static int runtime_run_once(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len)
{
	struct oci_state *st = state;
	char id[300];
	char *argv[8];
	int n = 0;

	container_id(st, seq, id, sizeof(id));
	argv[n++] = st->tool;
	if (st->nocg)
		argv[n++] = "--cgroup-manager=disabled";
	argv[n++] = "run";
	argv[n++] = "--bundle";
	argv[n++] = st->bundle;
	argv[n++] = id;
	argv[n] = NULL;
	s->has_child_rss = 1;
	return bench_run_tool(NULL, argv, NULL, st->log, &s->child, why, len);
}

/* Delete containers of this run still in the runtime's state directory. */
static int delete_stale(struct oci_state *st, char *what, size_t len, size_t *off)
{
	const char *statedir = strstr(st->tool, "keelrt") ? "/run/keelrt"
			       : strstr(st->tool, "crun") ? "/run/crun" : "/run/runc";
	char prefix[300];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "%s-%s-", st->env->runid, st->name);
	d = opendir(statedir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *argv[] = { st->tool, "delete", "--force", de->d_name, NULL };
		char why[256];

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		found++;
		bench_run_tool(NULL, argv, NULL, st->log, NULL, why, sizeof(why));
		*off += snprintf(what + *off, len - *off, "%scontainer %s/%s",
				 *off ? ", " : "", statedir, de->d_name);
		if (*off >= len)
			*off = len - 1;
	}
	closedir(d);
	return found;
}

/* The runtime's cgroupsPath, in every cgroup hierarchy (v1 and v2). */
static int remove_stale_cgroups(struct oci_state *st, char *what, size_t len, size_t *off)
{
	char mounts[32][256], path[600];
	int n = bench_cgroup_mounts(mounts, 32), i, found = 0;

	for (i = 0; i < n; i++) {
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", mounts[i], st->cgname);
		if (stat(path, &sb))
			continue;
		found++;
		bench_rmdir_tree(path);
		*off += snprintf(what + *off, len - *off, "%scgroup %s", *off ? ", " : "", path);
		if (*off >= len)
			*off = len - 1;
	}
	return found;
}

static int runtime_leftovers(void *state, char *what, size_t len)
{
	struct oci_state *st = state;
	size_t off = 0;
	int n;

	what[0] = '\0';
	n = delete_stale(st, what, len, &off);
	return n + remove_stale_cgroups(st, what, len, &off);
}

/* bubblewrap: the same namespaces, the rootfs bound on /, /proc and its own
 * minimal /dev. No cgroup, no seccomp filter, no capability changes: it has
 * no way to make a cgroup, and the others are options we leave at default. */
static int bwrap_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	struct oci_state *st = state_new(env, "bwrap", "bwrap", why, len);

	if (!st)
		return -ENOENT;
	*state = st;
	return 0;
}

static int bwrap_run_once(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len)
{
	struct oci_state *st = state;
	char *argv[] = { st->tool, "--unshare-pid", "--unshare-net", "--unshare-ipc",
		"--unshare-uts", "--bind", (char *)st->env->rootfs, "/", "--proc", "/proc",
		"--dev", "/dev", "/bin/true", NULL };

	(void)seq;
	s->has_child_rss = 1;
	return bench_run_tool(NULL, argv, NULL, st->log, &s->child, why, len);
}

static int bwrap_leftovers(void *state, char *what, size_t len)
{
	(void)state;
	(void)what;
	(void)len;
	return 0;	/* bwrap keeps no state and makes no cgroup */
}

const struct bench_candidate oci_candidates[] = {
	{ "bwrap", "bwrap --unshare-{pid,net,ipc,uts} --bind ROOTFS / --proc /proc --dev /dev",
	  bwrap_setup, bwrap_run_once, bwrap_leftovers, oci_teardown },
	{ "crun", "crun run, patched `crun spec`, cgroupfs manager on the v1 hierarchies",
	  crun_setup, runtime_run_once, runtime_leftovers, oci_teardown },
	{ "crun-nocg", "crun --cgroup-manager=disabled run, same bundle as crun",
	  crun_nocg_setup, runtime_run_once, runtime_leftovers, oci_teardown },
	{ "runc", "runc run, patched `runc spec`, cgroupfs manager on the v1 hierarchies",
	  runc_setup, runtime_run_once, runtime_leftovers, oci_teardown },
	{ "keelrt", "keelrt run (this build's OCI runtime), patched `keelrt spec`, cgroup v2, BPF device rules",
	  keelrt_setup, runtime_run_once, runtime_leftovers, oci_teardown },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
