/*
 * libkeel's bench candidates (see tests/bench/README.md for the table).
 *
 * Start to exit of /bin/true from the busybox rootfs, full isolation: pid,
 * mount, uts, ipc (and net) namespaces, pivot_root, keel_rootfs_add_defaults()
 * (/proc, /sys, the default /dev, masked and read-only paths), the default
 * capabilities, no_new_privs, the default seccomp profile, a hostname and a
 * cgroup of its own under the run's cgroup parent:
 *
 * - keel:          through the public API, in the runner's process. The
 *                  default seccomp profile is made ONCE and attached to every
 *                  container (the library keeps its compiled BPF per filter);
 *                  so is the default device rule list (its loaded BPF
 *                  device program is shared: each start only attaches it).
 * - keel-run:      the example CLI (`keel-run --rm --seccomp default`), fork +
 *                  exec, for its own peak RSS. Its cgroup lands under the
 *                  parent of the cgroup it runs in, so the fork moves itself
 *                  into <run parent>/krun first (a process we started).
 * - keel-nonet:    keel without a network namespace.
 * - keel-veth:     keel + an eth0 on a bridge; the bridge and the host ends
 *                  live in a network namespace the bench makes (bind-mounted
 *                  in its scratch dir, inside the runner's private mount
 *                  namespace), never in the host's.
 * - keel-overlay3: keel on an overlay of 3 read-only layers (the busybox
 *                  rootfs and two small ones) + a fresh writable layer.
 * - keel-nodev:    keel without a device filter (KEEL_DEVICES_UNFILTERED):
 *                  keel - keel-nodev is what the filter costs a start.
 * - keel-devload:  keel with the library's own default device rules, which
 *                  it compiles and loads (BPF_PROG_LOAD) at every create,
 *                  instead of one list loaded once and shared.
 * - keel-rootless: keel in a user namespace, created by a helper process
 *                  running as uid/gid 65534, with a cgroup parent delegated
 *                  to 65534 (made and removed here).
 *
 * And the concurrency run: n keel containers running /bin/sleep at once.
 *
 * Everything a container makes is deleted by keel_container_delete(); the
 * leftovers() functions check the state root, the cgroups and the host's
 * mount table for anything that was not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/sched.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "bench.h"

#define NOBODY 65534
#define BENCH_NS (KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_UTS | KEEL_NS_IPC)

enum variant { V_FULL, V_NONET, V_VETH, V_OVERLAY, V_ROOTLESS, V_EXT4, V_NODEV, V_DEVLOAD };

struct kstate {
	const struct bench_env *env;
	enum variant v;
	keel_seccomp *filter;		/* the default profile, made once */
	keel_device_rules *devices;	/* the default device rules, loaded once */
	char state_root[4096];		/* /run/keel-bench-<runid>-<variant> */
	char cg_parent[4096];		/* where the container cgroups go */
	char netns[4096];		/* V_VETH: bind mount of the bench's netns */
	char layers[3][4096];		/* V_OVERLAY */
	char tag[32];			/* container id prefix */
	/* V_ROOTLESS: a helper running as 65534, driven over two pipes */
	char rl_dir[4096];		/* its state root, owned by 65534 */
	pid_t helper;
	int to_helper, from_helper;
	/* concurrency */
	const char *const *argv;
	unsigned n;
	keel_container **cs;
};

static const char *const true_argv[] = { "/bin/true", NULL };
static const char *const sleep_argv[] = { "/bin/sleep", "3600", NULL };

/* Turn a libkeel error into the runner's reason, and free it. */
static int fail(keel_error *err, int ret, const char *what, char *why, size_t len)
{
	snprintf(why, len, "%s: %s", what, err ? keel_error_message(err) : strerror(-ret));
	keel_error_free(err);
	return ret < 0 ? ret : -EIO;
}

/* ------------------------------------------------------ one container --- */

/* Configure and run one container; *out gets it, running. */
static int keel_start(struct kstate *st, const char *id, const char *const *argv, keel_seccomp *filter,
		      keel_container **out, keel_error **err)
{
	unsigned ns = BENCH_NS;
	keel_container *c = NULL;
	keel_rootfs *r;
	int ret, i;

	if (st->v != V_NONET)
		ns |= KEEL_NS_NET;
	if (st->v == V_ROOTLESS)
		ns |= KEEL_NS_USER;
	ret = keel_container_new(&c, id, st->v == V_ROOTLESS ? st->rl_dir : st->state_root, err);
	if (ret < 0)
		return ret;
	r = keel_container_rootfs(c);
	if (st->v == V_OVERLAY) {
		for (i = 0; i < 3 && ret == 0; i++)
			ret = keel_container_add_layer(c, st->layers[i], err);
	} else {
		ret = keel_rootfs_set_directory(r, st->env->rootfs, err);
	}
	if (ret == 0)
		ret = keel_rootfs_add_defaults(r, err);
	if (ret == 0)
		ret = keel_process_set_args(keel_container_process(c), argv, err);
	/* A container's environment, not the runner's: the floor's PATH only
	 * (keel-run sets PATH, HOME and HOSTNAME; Docker PATH and HOSTNAME). */
	if (ret == 0)
		ret = keel_process_clearenv(keel_container_process(c), err);
	if (ret == 0)
		ret = keel_process_setenv(keel_container_process(c), "PATH", "/bin:/sbin:/usr/bin:/usr/sbin", err);
	if (ret == 0)
		ret = keel_security_set_seccomp(keel_container_security(c), filter, err);
	if (ret == 0)
		ret = keel_container_set_namespaces(c, ns, err);
	/* 65534 cannot load BPF programs: a rootless container opts out. */
	if (ret == 0 && (st->v == V_NODEV || st->v == V_ROOTLESS))
		ret = keel_container_set_device_filter(c, KEEL_DEVICES_UNFILTERED, err);
	else if (ret == 0 && st->v != V_DEVLOAD)
		ret = keel_container_set_device_rules(c, st->devices, err);
	if (ret == 0)
		ret = keel_container_set_hostname(c, "kb", err);
	if (ret == 0)
		ret = keel_container_set_cgroup_parent(c, st->cg_parent, err);
	if (ret == 0 && st->v == V_VETH)
		ret = keel_container_set_network_host(c, st->netns, err);
	if (ret == 0 && st->v == V_VETH)
		ret = keel_container_set_network(c, "kbr0", "10.89.0.2/16", "10.89.0.1", err);
	if (ret == 0)
		ret = keel_container_run(c, err);
	if (ret < 0) {
		keel_container_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* Start /bin/true, wait for it, delete it: one round. */
static int keel_round(struct kstate *st, unsigned seq, keel_error **err)
{
	keel_container *c = NULL;
	char id[64];
	int ret, code = -1, sig = 0;

	snprintf(id, sizeof(id), "%s-%u", st->tag, seq);
	ret = keel_start(st, id, true_argv, st->filter, &c, err);
	if (ret < 0)
		return ret;
	ret = keel_container_wait(c, 0, &code, &sig, err);
	if (ret >= 0 && (code != 0 || sig != 0)) {
		ret = -EIO;
		keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	} else if (ret >= 0) {
		ret = keel_container_delete(c, 0, err);
	} else {
		keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	}
	keel_container_free(c);
	return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------- setup --- */

static int mkdirs(const char *path, char *why, size_t len)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		return snprintf(why, len, "mkdir %s: %s", path, strerror(errno)), -errno;
	return 0;
}

/* A network namespace of our own, kept alive by a bind mount on a file in
 * the scratch dir: a child unshares it and we bind its /proc/PID/ns/net.
 * The runner lives in a private mount namespace, so the host never sees
 * the bind; the host's root network namespace is never touched. */
static int make_netns(struct kstate *st, char *why, size_t len)
{
	char src[64], c;
	int p[2], q[2], fd, ret = 0;
	pid_t pid;

	snprintf(st->netns, sizeof(st->netns), "%s/netns-veth", st->env->workdir);
	fd = open(st->netns, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return snprintf(why, len, "create %s: %s", st->netns, strerror(errno)), -errno;
	close(fd);
	if (pipe2(p, O_CLOEXEC) || pipe2(q, O_CLOEXEC))
		return snprintf(why, len, "pipe: %s", strerror(errno)), -errno;
	pid = fork();
	if (pid < 0)
		return snprintf(why, len, "fork: %s", strerror(errno)), -errno;
	if (pid == 0) {
		close(p[0]);
		close(q[1]); /* or the read below never sees EOF */
		c = unshare(CLONE_NEWNET) ? 'e' : 'k';
		if (write(p[1], &c, 1) != 1 || read(q[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	close(q[0]);
	if (read(p[0], &c, 1) != 1 || c != 'k') {
		ret = -EIO;
		snprintf(why, len, "unshare(CLONE_NEWNET) in a child failed");
	} else {
		snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)pid);
		if (mount(src, st->netns, NULL, MS_BIND, NULL)) {
			ret = -errno;
			snprintf(why, len, "bind %s on %s: %s", src, st->netns, strerror(errno));
		}
	}
	close(q[1]);
	close(p[0]);
	waitpid(pid, NULL, 0);
	if (ret)
		unlink(st->netns), st->netns[0] = '\0';
	return ret;
}

/* Two small layers on top of the busybox rootfs: a file each, and the
 * upper one hides one of the lower's. */
static int make_layers(struct kstate *st, char *why, size_t len)
{
	char p[4200];
	int i, ret;

	snprintf(st->layers[0], sizeof(st->layers[0]), "%s", st->env->rootfs);
	for (i = 1; i < 3; i++) {
		snprintf(st->layers[i], sizeof(st->layers[i]), "%s/layer%d", st->env->workdir, i);
		snprintf(p, sizeof(p), "%s/etc", st->layers[i]);
		if ((ret = mkdirs(st->layers[i], why, len)) || (ret = mkdirs(p, why, len)))
			return ret;
		snprintf(p, sizeof(p), "%s/etc/layer%d", st->layers[i], i);
		if ((ret = bench_write_file(p, "a layer\n")))
			return snprintf(why, len, "write %s: %s", p, strerror(-ret)), ret;
	}
	return 0;
}

/* --- rootless: a helper process as 65534, one round per request --- */

struct rl_reply {
	int ret;
	struct rusage ru;	/* the helper's own and its children's CPU during the round */
	char why[512];
};

static void ru_add(struct rusage *to, const struct rusage *a, const struct rusage *b, int sign)
{
	long us = (b->ru_utime.tv_sec - a->ru_utime.tv_sec) * 1000000L + (b->ru_utime.tv_usec - a->ru_utime.tv_usec);
	long ss = (b->ru_stime.tv_sec - a->ru_stime.tv_sec) * 1000000L + (b->ru_stime.tv_usec - a->ru_stime.tv_usec);

	us = to->ru_utime.tv_sec * 1000000L + to->ru_utime.tv_usec + sign * us;
	ss = to->ru_stime.tv_sec * 1000000L + to->ru_stime.tv_usec + sign * ss;
	to->ru_utime.tv_sec = us / 1000000L;
	to->ru_utime.tv_usec = us % 1000000L;
	to->ru_stime.tv_sec = ss / 1000000L;
	to->ru_stime.tv_usec = ss % 1000000L;
}

static void helper_loop(struct kstate *st, int in, int out)
{
	struct rusage s0, s1, c0, c1;
	struct rl_reply rep;
	keel_error *err = NULL;
	unsigned seq;

	while (read(in, &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
		memset(&rep, 0, sizeof(rep));
		getrusage(RUSAGE_SELF, &s0);
		getrusage(RUSAGE_CHILDREN, &c0);
		rep.ret = keel_round(st, seq, &err);
		getrusage(RUSAGE_SELF, &s1);
		getrusage(RUSAGE_CHILDREN, &c1);
		ru_add(&rep.ru, &s0, &s1, 1);
		ru_add(&rep.ru, &c0, &c1, 1);
		if (rep.ret < 0)
			fail(err, rep.ret, "rootless container", rep.why, sizeof(rep.why));
		err = NULL;
		if (write(out, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			break;
	}
	_exit(0);
}

/* Ask the helper for one round; its CPU time goes into *ru. */
static int rootless_round(struct kstate *st, unsigned seq, struct rusage *ru, char *why, size_t len)
{
	struct rl_reply rep;

	if (write(st->to_helper, &seq, sizeof(seq)) != (ssize_t)sizeof(seq) ||
	    read(st->from_helper, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		return snprintf(why, len, "rootless helper died"), -EPIPE;
	if (ru)
		*ru = rep.ru;
	if (rep.ret < 0)
		snprintf(why, len, "%s", rep.why);
	return rep.ret;
}

/* Delegate a cgroup to 65534 as systemd does: the directory and the files
 * a delegatee writes (cgroup.procs, cgroup.threads, cgroup.subtree_control). */
static int delegate_cgroup(const char *dir, char *why, size_t len)
{
	static const char *const files[] = { "", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control" };
	char p[4200];
	size_t i;

	if (mkdir(dir, 0755))
		return snprintf(why, len, "mkdir cgroup %s: %s", dir, strerror(errno)), -errno;
	for (i = 0; i < BENCH_ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s%s", dir, files[i]);
		if (chown(p, NOBODY, NOBODY))
			return snprintf(why, len, "chown %s to %d: %s", p, NOBODY, strerror(errno)), -errno;
	}
	return 0;
}

/* The helper: put itself in the delegated cgroup (so that the common
 * ancestor of its cgroup and its containers' is one 65534 may write),
 * drop to 65534 for good, then serve rounds. */
static int start_helper(struct kstate *st, char *why, size_t len)
{
	int req[2], rep[2], ready[2];
	char procs[4200], c;
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", st->cg_parent);
	if (pipe2(req, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) || pipe2(ready, O_CLOEXEC))
		return snprintf(why, len, "pipe: %s", strerror(errno)), -errno;
	pid = fork();
	if (pid < 0)
		return snprintf(why, len, "fork: %s", strerror(errno)), -errno;
	if (pid == 0) {
		char self[32];

		close(req[1]);
		close(rep[0]);
		close(ready[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(self, sizeof(self), "%d", (int)getpid());
		c = 'k';
		if (bench_write_file(procs, self))
			c = 'c';
		else if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			c = 'u';
		if (write(ready[1], &c, 1) != 1 || c != 'k')
			_exit(1);
		close(ready[1]);
		helper_loop(st, req[0], rep[1]);
	}
	close(req[0]);
	close(rep[1]);
	close(ready[1]);
	st->helper = pid;
	st->to_helper = req[1];
	st->from_helper = rep[0];
	if (read(ready[0], &c, 1) != 1 || c != 'k') {
		close(ready[0]);
		return snprintf(why, len, "rootless helper: %s",
				c == 'c' ? "cannot enter the delegated cgroup" : "cannot become uid 65534"), -EIO;
	}
	close(ready[0]);
	return 0;
}

static void keel_teardown(void *state);

static int keel_prepare(struct kstate *st, const struct bench_env *env, enum variant v, char *why, size_t len)
{
	static const char *const names[] = { "full", "nonet", "veth", "ovl", "rl", "ext4", "nodev", "devld" };
	keel_error *err = NULL;
	int ret;

	st->env = env;
	st->v = v;
	st->to_helper = st->from_helper = -1;
	snprintf(st->tag, sizeof(st->tag), "%s-%s", env->runid, names[v]);
	/* In /run like the default state root (/run/keel): a tmpfs (the
	 * runner mounts one there). keel-ext4: on the scratch dir's
	 * filesystem, the root ext4 where this VM's real /run is. */
	if (v == V_EXT4)
		snprintf(st->state_root, sizeof(st->state_root), "%s/state-%s", env->workdir, names[v]);
	else
		snprintf(st->state_root, sizeof(st->state_root), "/run/keel-bench-%s-%s", env->runid, names[v]);
	snprintf(st->cg_parent, sizeof(st->cg_parent), "%s/%s", env->cgroup_parent, names[v]);
	ret = keel_seccomp_new_default(&st->filter, &err);
	if (ret < 0)
		return fail(err, ret, "default seccomp profile", why, len);
	if ((ret = keel_device_rules_new(&st->devices, &err)) < 0 ||
	    (ret = keel_device_rules_add_defaults(st->devices, &err)) < 0)
		return fail(err, ret, "default device rules", why, len);
	if (v != V_ROOTLESS && ((ret = mkdirs(st->cg_parent, why, len)) || (ret = mkdirs(st->state_root, why, len))))
		return ret;
	if (v == V_VETH && (ret = make_netns(st, why, len)))
		return ret;
	if (v == V_OVERLAY && (ret = make_layers(st, why, len)))
		return ret;
	if (v == V_ROOTLESS) {
		char tmpl[] = "/run/keel-bench-rl.XXXXXX";

		if (!mkdtemp(tmpl))
			return snprintf(why, len, "mkdtemp: %s", strerror(errno)), -errno;
		snprintf(st->rl_dir, sizeof(st->rl_dir), "%s", tmpl);
		if (chown(st->rl_dir, NOBODY, NOBODY))
			return snprintf(why, len, "chown %s: %s", st->rl_dir, strerror(errno)), -errno;
		if ((ret = delegate_cgroup(st->cg_parent, why, len)) || (ret = start_helper(st, why, len)))
			return ret;
		/* One trial round: a rootless start that cannot work at all
		 * is reported as SKIPPED with libkeel's reason, not timed. */
		if ((ret = rootless_round(st, 0, NULL, why, len)))
			return ret;
	}
	return 0;
}

/* The runner calls teardown only after a successful setup: undo here. */
static int keel_setup_variant(const struct bench_env *env, enum variant v, void **state, char *why, size_t len)
{
	struct kstate *st;
	int ret;

	*state = NULL;
	if (!env->cgroup_parent)
		return snprintf(why, len, "no cgroup2 mount"), -ENOTSUP;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = keel_prepare(st, env, v, why, len);
	if (ret) {
		keel_teardown(st);
		return ret;
	}
	*state = st;
	return 0;
}

static int setup_full(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_FULL, state, why, len);
}

static int setup_nonet(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_NONET, state, why, len);
}

static int setup_veth(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_VETH, state, why, len);
}

static int setup_overlay(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_OVERLAY, state, why, len);
}

static int setup_ext4(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_EXT4, state, why, len);
}

static int setup_nodev(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_NODEV, state, why, len);
}

static int setup_devload(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_DEVLOAD, state, why, len);
}

static int setup_rootless(const struct bench_env *env, void **state, char *why, size_t len)
{
	return keel_setup_variant(env, V_ROOTLESS, state, why, len);
}

/* --------------------------------------------------------- run, check --- */

static int keel_run_once(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len)
{
	struct kstate *st = state;
	struct rusage c0, c1;
	keel_error *err = NULL;
	int ret;

	s->has_child_rss = 0;
	if (st->v == V_ROOTLESS)
		return rootless_round(st, seq + 1, &s->child, why, len); /* 0 was the trial */
	/* The init is our child, reaped by keel_container_wait(): its CPU
	 * time shows in RUSAGE_CHILDREN. */
	getrusage(RUSAGE_CHILDREN, &c0);
	ret = keel_round(st, seq, &err);
	getrusage(RUSAGE_CHILDREN, &c1);
	ru_add(&s->child, &c0, &c1, 1);
	if (ret < 0)
		return fail(err, ret, "container", why, len);
	return 0;
}

static void append(char *what, size_t len, size_t *off, const char *kind, const char *path)
{
	if (*off < len)
		*off += snprintf(what + *off, len - *off, "%s%s %s", *off ? ", " : "", kind, path);
}

/* Count (and remove) the entries of a directory: state dirs or cgroups. */
static int sweep_dir(const char *dir, int cgroups, char *what, size_t len, size_t *off)
{
	char path[4400];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (cgroups && de->d_type != DT_DIR))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n++;
		append(what, len, off, cgroups ? "cgroup" : "state", path);
		if (cgroups) {
			bench_rmdir_tree(path);
		} else {
			char *argv[] = { "/bin/rm", "-rf", path, NULL };

			bench_spawn_wait(NULL, argv, NULL, NULL, NULL);
		}
	}
	closedir(d);
	return n;
}

/* Mounts of the host's (our) mount table under a path: there must be none
 * (every container mount lives in the container's own mount namespace). */
static int sweep_mounts(const char *under, char *what, size_t len, size_t *off)
{
	char line[8192], mp[4096];
	size_t ul = strlen(under);
	int n = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !strncmp(mp, under, ul) &&
		    (mp[ul] == '/' || !mp[ul])) {
			n++;
			append(what, len, off, "mount", mp);
		}
	fclose(f);
	return n;
}

static int keel_leftovers(void *state, char *what, size_t len)
{
	struct kstate *st = state;
	size_t off = 0;
	int n;

	n = sweep_dir(st->v == V_ROOTLESS ? st->rl_dir : st->state_root, 0, what, len, &off);
	n += sweep_dir(st->cg_parent, 1, what, len, &off);
	n += sweep_mounts(st->v == V_ROOTLESS ? st->rl_dir : st->state_root, what, len, &off);
	return n;
}

static void keel_teardown(void *state)
{
	struct kstate *st = state;

	if (!st)
		return;
	if (st->helper > 0) {
		close(st->to_helper); /* the helper reads EOF and exits */
		close(st->from_helper);
		waitpid(st->helper, NULL, 0);
	}
	if (st->netns[0]) {
		umount2(st->netns, MNT_DETACH);
		unlink(st->netns);
	}
	if (st->rl_dir[0]) {
		char *argv[] = { "/bin/rm", "-rf", st->rl_dir, NULL };

		bench_spawn_wait(NULL, argv, NULL, NULL, NULL);
	}
	rmdir(st->cg_parent);
	rmdir(st->state_root);
	free(st->cs);
	keel_seccomp_free(st->filter);
	keel_device_rules_free(st->devices);
	free(st);
}

/* ------------------------------------------------------------ keel-run --- */

struct run_state {
	const struct bench_env *env;
	char prog[4096], libdir[4096], log[4096], state_root[4096];
	char cg_self[4096];	/* where keel-run itself runs: <parent>/krun */
	char cg_keel[4096];	/* where its containers' cgroups go: <parent>/keel */
	int cg_self_fd;		/* krun, for CLONE_INTO_CGROUP */
};

/* keel-run as built: with a shared libkeel, examples/keel-run is a libtool
 * wrapper script; run the real program (.libs/keel-run) with the build's
 * library instead, or the script would be what we measure. */
static int run_setup(const struct bench_env *env, void **state, char *why, size_t len)
{
	struct run_state *st;
	int ret;

	if (!env->cgroup_parent)
		return snprintf(why, len, "no cgroup2 mount"), -ENOTSUP;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	*state = st;
	st->env = env;
	snprintf(st->prog, sizeof(st->prog), "%s/../../examples/.libs/keel-run", env->self_dir);
	snprintf(st->libdir, sizeof(st->libdir), "%s/../../.libs", env->self_dir);
	if (access(st->prog, X_OK)) {
		snprintf(st->prog, sizeof(st->prog), "%s/../../examples/keel-run", env->self_dir);
		st->libdir[0] = '\0';
	}
	if (access(st->prog, X_OK)) {
		snprintf(why, len, "%s: %s (make examples/keel-run)", st->prog, strerror(errno));
		free(st);
		*state = NULL;
		return -ENOENT;
	}
	snprintf(st->log, sizeof(st->log), "%s/keel-run.log", env->workdir);
	snprintf(st->state_root, sizeof(st->state_root), "/run/keel-bench-%s-run", env->runid);
	snprintf(st->cg_self, sizeof(st->cg_self), "%s/krun", env->cgroup_parent);
	snprintf(st->cg_keel, sizeof(st->cg_keel), "%s/keel", env->cgroup_parent);
	if ((ret = mkdirs(st->cg_self, why, len))) {
		free(st);
		*state = NULL;
		return ret;
	}
	st->cg_self_fd = open(st->cg_self, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->cg_self_fd < 0) {
		ret = -errno;
		snprintf(why, len, "open %s: %s", st->cg_self, strerror(errno));
		rmdir(st->cg_self);
		free(st);
		*state = NULL;
	}
	return ret;
}

/* fork(), but born in krun: moving a process into a cgroup afterwards
 * (a write to cgroup.procs) waits for an RCU grace period on this kernel,
 * several milliseconds that are the bench's doing, not keel-run's. */
static pid_t fork_into(int cgroup_fd)
{
	struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				   .cgroup = (uint64_t)cgroup_fd };

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* keel-run's environment: the runner's, with KEEL_STATE_ROOT and (for a
 * shared build) LD_LIBRARY_PATH set. Built before the fork, so that the
 * child calls nothing but open, dup2 and execve: a setenv() there would
 * malloc in a copy of the runner's heap, which counts in keel-run's peak
 * RSS (the kernel keeps the pre-exec peak) and grows with what the other
 * candidates left in that heap. */
static char **run_env(struct run_state *st, char *root_var, char *lib_var)
{
	extern char **environ;
	size_t n = 0, i, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "KEEL_STATE_ROOT=", 16) &&
		    (!st->libdir[0] || strncmp(environ[i], "LD_LIBRARY_PATH=", 16)))
			env[k++] = environ[i];
	env[k++] = root_var;
	if (st->libdir[0])
		env[k++] = lib_var;
	env[k] = NULL;
	return env;
}

static int run_run_once(void *state, unsigned seq, struct bench_sample *s, char *why, size_t len)
{
	struct run_state *st = state;
	char name[64], root_var[4200], lib_var[4200];
	char *argv[] = { st->prog, "--rm", "--seccomp", "default", "--rootfs", (char *)st->env->rootfs,
			 "--name", name, "--hostname", "kb", "--", "/bin/true", NULL };
	char **env;
	int status, fd;
	pid_t pid;

	snprintf(name, sizeof(name), "%s-run-%u", st->env->runid, seq);
	snprintf(root_var, sizeof(root_var), "KEEL_STATE_ROOT=%s", st->state_root);
	snprintf(lib_var, sizeof(lib_var), "LD_LIBRARY_PATH=%s", st->libdir);
	if (!(env = run_env(st, root_var, lib_var)))
		return snprintf(why, len, "out of memory"), -ENOMEM;
	s->has_child_rss = 1;
	pid = fork_into(st->cg_self_fd);
	if (pid < 0) {
		free(env);
		return snprintf(why, len, "clone3 into %s: %s", st->cg_self, strerror(errno)), -errno;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		fd = open(st->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		execve(st->prog, argv, env);
		_exit(127);
	}
	free(env);
	if (wait4(pid, &status, 0, &s->child) != pid)
		return snprintf(why, len, "wait4: %s", strerror(errno)), -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return snprintf(why, len, "keel-run ended with status 0x%x (see %s)", status, st->log), -EIO;
	return 0;
}

static int run_leftovers(void *state, char *what, size_t len)
{
	struct run_state *st = state;
	size_t off = 0;
	int n;

	n = sweep_dir(st->state_root, 0, what, len, &off);
	n += sweep_dir(st->cg_keel, 1, what, len, &off);
	n += sweep_mounts(st->state_root, what, len, &off);
	return n;
}

static void run_teardown(void *state)
{
	struct run_state *st = state;

	if (!st)
		return;
	close(st->cg_self_fd);
	rmdir(st->cg_keel);
	rmdir(st->cg_self);
	rmdir(st->state_root);
	free(st);
}

const struct bench_candidate keel_candidates[] = {
	{ "keel", "libkeel in-process: pid+mnt+uts+ipc+net, defaults, caps, seccomp, cgroup",
	  setup_full, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-run", "the keel-run example CLI, --rm --seccomp default (fork+exec, own RSS)",
	  run_setup, run_run_once, run_leftovers, run_teardown },
	{ "keel-nonet", "keel without a network namespace",
	  setup_nonet, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-veth", "keel + eth0: veth on a bridge in a netns the bench made",
	  setup_veth, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-overlay3", "keel on an overlay of 3 layers + a writable layer",
	  setup_overlay, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-rootless", "keel + user namespace, created by uid 65534 in a delegated cgroup",
	  setup_rootless, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-ext4", "keel with its state on this VM's root ext4 (no journal), where the real /run is",
	  setup_ext4, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-nodev", "keel without a device filter (KEEL_DEVICES_UNFILTERED)",
	  setup_nodev, keel_run_once, keel_leftovers, keel_teardown },
	{ "keel-devload", "keel with the default device rules compiled and loaded at every create",
	  setup_devload, keel_run_once, keel_leftovers, keel_teardown },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* ------------------------------------------------------- concurrency --- */

static int conc_setup(const struct bench_env *env, unsigned n, void **state, char *why, size_t len)
{
	struct kstate *st;
	int ret = keel_setup_variant(env, V_FULL, state, why, len);

	if (ret)
		return ret;
	st = *state;
	st->argv = sleep_argv;
	st->n = n;
	snprintf(st->tag, sizeof(st->tag), "%s-c%u", env->runid, n);
	st->cs = calloc(n, sizeof(*st->cs));
	if (!st->cs) {
		keel_teardown(st);
		*state = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Called from several threads at once: each container gets its own copy
 * of the default profile (a handle is used by one thread at a time), as
 * an orchestrator configuring containers in parallel would. */
static int conc_start(void *state, unsigned i, pid_t *pid, char *why, size_t len)
{
	struct kstate *st = state;
	keel_seccomp *filter = NULL;
	keel_error *err = NULL;
	char id[64];
	int ret;

	if (i >= st->n)
		return snprintf(why, len, "container %u beyond the %u set up", i, st->n), -EINVAL;
	snprintf(id, sizeof(id), "%s-%u", st->tag, i);
	ret = keel_seccomp_new_default(&filter, &err);
	if (ret == 0)
		ret = keel_start(st, id, st->argv, filter, &st->cs[i], &err);
	keel_seccomp_free(filter);
	if (ret < 0)
		return fail(err, ret, id, why, len);
	*pid = keel_container_pid(st->cs[i]);
	return 0;
}

/* SIGKILL every init first, so they die in parallel; then delete each:
 * KEEL_DELETE_FORCE reaps the init, removes the cgroup and the state dir
 * (as the floor: kill all, then waitpid + rmdir each). */
static int conc_stop_all(void *state, char *why, size_t len)
{
	struct kstate *st = state;
	keel_error *err = NULL;
	unsigned i;
	int ret = 0, r;

	for (i = 0; i < st->n; i++)
		if (st->cs[i])
			keel_container_kill(st->cs[i], SIGKILL, 0, NULL);
	for (i = 0; i < st->n; i++) {
		if (!st->cs[i])
			continue;
		r = keel_container_delete(st->cs[i], KEEL_DELETE_FORCE, &err);
		if (r < 0 && !ret)
			ret = fail(err, r, keel_container_id(st->cs[i]), why, len);
		else
			keel_error_free(err);
		err = NULL;
		keel_container_free(st->cs[i]);
		st->cs[i] = NULL;
	}
	return ret;
}

const struct bench_conc keel_conc = {
	"keel", "keel containers running /bin/sleep, one cgroup each (in-process)",
	conc_setup, conc_start, conc_stop_all, keel_leftovers, keel_teardown,
};
