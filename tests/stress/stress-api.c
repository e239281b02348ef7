/*
 * stress-api: the stress suite's program on libkeel's public API (it links
 * the shared library, as a user's program does). tests/stress/stress.sh
 * drives it; each subcommand prints "key=value" lines on stdout.
 *
 *   life ROOT ID ROOTFS PROBE_LAYER
 *        one whole lifecycle: create (overlay of ROOTFS and PROBE_LAYER
 *        under a fresh writable layer), start (init: sleep 1), exec `true`
 *        and wait for it, kill, wait, delete. The fault runs kill -9 this
 *        process at a random point of it.
 *   delete ROOT ID
 *        keel_container_load() + keel_container_delete(KEEL_DELETE_FORCE):
 *        the API's own way to clean up what a killed creator left.
 *   soak ROOT ROOTFS N [BRIDGE CIDR]
 *        N create/start/wait/delete cycles of `true` (with a veth on BRIDGE
 *        when given); prints the fds and RSS of this process after a
 *        warm-up and at the end, and the cycles that failed.
 *   cwd ROOT ID ROOTFS PROBE_LAYER CWD [exec]
 *        run `stress-probe climb` with the working directory CWD, as the
 *        init or (with "exec") as a process exec'd into a running
 *        container; prints result=contained|escaped|refused.
 *   load-null ROOT ROOTFS
 *        keel_container_load(NULL, id, ...) for the id of an existing
 *        (created) container, in a child: exits 0 when it returned
 *        -EINVAL, 1 for another value, 128+N when the child died of N.
 */
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <keel.h>

static int fail(const char *what, keel_error *err)
{
	printf("error=%s: %s\n", what, err ? keel_error_message(err) : "?");
	keel_error_free(err);
	return 1;
}

/* A container with the init argv on ROOTFS (+ an extra read-only layer,
 * both under a fresh writable layer in the state directory). */
static int make(keel_container **c, const char *root, const char *id, const char *rootfs, const char *layer,
		const char *const *argv, keel_error **err)
{
	int ret;

	*c = NULL;
	ret = keel_container_new(c, id, root, err);
	if (ret == 0)
		ret = keel_container_add_layer(*c, rootfs, err);
	if (ret == 0 && layer)
		ret = keel_container_add_layer(*c, layer, err);
	if (ret == 0)
		ret = keel_rootfs_add_defaults(keel_container_rootfs(*c), err);
	if (ret == 0)
		ret = keel_process_set_args(keel_container_process(*c), argv, err);
	return ret;
}

static int life(const char *root, const char *id, const char *rootfs, const char *layer)
{
	static const char *const init[] = { "/bin/sleep", "1", NULL };
	static const char *const run_true[] = { "/bin/true", NULL };
	keel_container *c = NULL;
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	int code, sig;

	if (make(&c, root, id, rootfs, layer, init, &err) < 0 || keel_container_create(c, &err) < 0)
		return fail("create", err);
	printf("phase=created\n");
	if (keel_container_start(c, &err) < 0)
		return fail("start", err);
	if (keel_process_new(&p, &err) < 0 || keel_process_set_args(p, run_true, &err) < 0 ||
	    keel_container_exec(c, p, &child, &err) < 0 || keel_child_wait(child, 0, &code, &sig, &err) < 0)
		return fail("exec", err);
	keel_child_free(child);
	keel_process_free(p);
	if (keel_container_kill(c, SIGKILL, 0, &err) < 0 || keel_container_wait(c, 0, &code, &sig, &err) < 0)
		return fail("kill", err);
	if (keel_container_delete(c, 0, &err) < 0)
		return fail("delete", err);
	keel_container_free(c);
	printf("phase=deleted\n");
	return 0;
}

static int force_delete(const char *root, const char *id)
{
	keel_container *c = NULL;
	keel_error *err = NULL;

	if (keel_container_load(&c, id, root, &err) < 0)
		return fail("load", err);
	if (keel_container_delete(c, KEEL_DELETE_FORCE, &err) < 0) {
		keel_container_free(c);
		return fail("delete", err);
	}
	keel_container_free(c);
	printf("deleted=%s\n", id);
	return 0;
}

/* ---------------------------------------------------------------- soak -- */

static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = atol(line + 6);
	fclose(f);
	return kib;
}

/* One create/start/wait/delete of `true`; 0 or -1 (message printed). */
static int cycle(const char *root, const char *rootfs, long i, const char *bridge, const char *cidr)
{
	static const char *const argv[] = { "/bin/true", NULL };
	keel_container *c = NULL;
	keel_error *err = NULL;
	char id[64];
	int code = -1, sig = 0, ret;

	snprintf(id, sizeof(id), "ks%d-%ld", (int)getpid(), i);
	ret = keel_container_new(&c, id, root, &err);
	if (ret == 0)
		ret = keel_rootfs_set_directory(keel_container_rootfs(c), rootfs, &err);
	/* Under valgrind: no masked and read-only paths, which the child
	 * sets with mount_setattr(), a system call valgrind 3.19 lacks. */
	if (ret == 0 && !getenv("KEEL_STRESS_NO_DEFAULTS"))
		ret = keel_rootfs_add_defaults(keel_container_rootfs(c), &err);
	if (ret == 0)
		ret = keel_process_set_args(keel_container_process(c), argv, &err);
	if (ret == 0 && bridge)
		ret = keel_container_set_network(c, bridge, cidr, NULL, &err);
	if (ret == 0)
		ret = keel_container_run(c, &err);
	if (ret == 0)
		ret = keel_container_wait(c, 0, &code, &sig, &err) < 0 ? -1 : 0;
	if (ret == 0 && (code != 0 || sig != 0)) {
		printf("cycle %ld: exit %d signal %d\n", i, code, sig);
		ret = -1;
	}
	if (keel_container_delete(c, KEEL_DELETE_FORCE, ret < 0 ? NULL : &err) < 0 && ret == 0)
		ret = -1;
	if (ret < 0 && err)
		printf("cycle %ld: %s\n", i, keel_error_message(err));
	keel_error_free(err);
	keel_container_free(c);
	return ret < 0 ? -1 : 0;
}

#define WARMUP 5

static int soak(const char *root, const char *rootfs, long n, const char *bridge, const char *cidr)
{
	long i, failed = 0, fds0 = 0, rss0 = 0;

	for (i = 0; i < n + WARMUP; i++) {
		if (i == WARMUP) { /* after the lazy dlopens and first allocations */
			fds0 = count_fds();
			rss0 = rss_kib();
		}
		if (cycle(root, rootfs, i, bridge, cidr) < 0)
			failed++;
	}
	printf("cycles=%ld\nfailed=%ld\nfds_start=%ld\nfds_end=%ld\nrss_start_kib=%ld\nrss_end_kib=%ld\n", n,
	       failed, fds0, count_fds(), rss0, rss_kib());
	return failed ? 1 : 0;
}

/* ----------------------------------------------------------------- cwd -- */

static int cwd_init(const char *root, const char *id, const char *rootfs, const char *layer, const char *cwd)
{
	static const char *const argv[] = { "/stress-probe", "climb", NULL };
	keel_container *c = NULL;
	keel_error *err = NULL;
	int code = -1, sig = 0, ret;

	ret = make(&c, root, id, rootfs, layer, argv, &err);
	if (ret == 0)
		ret = keel_process_set_cwd(keel_container_process(c), cwd, &err);
	if (ret == 0)
		ret = keel_container_run(c, &err);
	if (ret == 0)
		ret = keel_container_wait(c, 0, &code, &sig, &err);
	if (ret < 0)
		printf("result=refused\nmessage=%s\n", keel_error_message(err));
	else
		printf("result=%s\n", code == 0 ? "contained" : code == 1 ? "escaped" : "refused");
	keel_error_free(err);
	keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	keel_container_free(c);
	return 0;
}

static int cwd_exec(const char *root, const char *id, const char *rootfs, const char *layer, const char *cwd)
{
	static const char *const init[] = { "/bin/sleep", "30", NULL };
	static const char *const argv[] = { "/stress-probe", "climb", NULL };
	keel_container *c = NULL;
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	int code = -1, sig = 0, ret;

	ret = make(&c, root, id, rootfs, layer, init, &err);
	if (ret == 0)
		ret = keel_container_run(c, &err);
	if (ret < 0)
		return fail("run", err);
	ret = keel_process_new(&p, &err);
	if (ret == 0)
		ret = keel_process_set_args(p, argv, &err);
	if (ret == 0)
		ret = keel_process_set_cwd(p, cwd, &err);
	if (ret == 0)
		ret = keel_container_exec(c, p, &child, &err);
	if (ret == 0)
		ret = keel_child_wait(child, 0, &code, &sig, &err);
	if (ret < 0)
		printf("result=refused\nmessage=%s\n", keel_error_message(err));
	else
		printf("result=%s\n", code == 0 ? "contained" : code == 1 ? "escaped" : "refused");
	keel_error_free(err);
	keel_child_free(child);
	keel_process_free(p);
	keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	keel_container_free(c);
	return 0;
}

static int load_null(const char *root, const char *rootfs)
{
	static const char *const argv[] = { "/bin/true", NULL };
	keel_container *c = NULL;
	keel_error *err = NULL;
	char id[64];
	int status = 0;
	pid_t pid;

	snprintf(id, sizeof(id), "ksnull%d", (int)getpid());
	if (make(&c, root, id, rootfs, NULL, argv, &err) < 0 || keel_container_create(c, &err) < 0)
		return fail("create", err);
	pid = fork();
	if (pid == 0)
		_exit(keel_container_load(NULL, id, root, NULL) == -EINVAL ? 0 : 1);
	waitpid(pid, &status, 0);
	keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	keel_container_free(c);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && !strcmp(argv[1], "life"))
		return life(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 4 && !strcmp(argv[1], "delete"))
		return force_delete(argv[2], argv[3]);
	if ((argc == 5 || argc == 7) && !strcmp(argv[1], "soak"))
		return soak(argv[2], argv[3], atol(argv[4]), argc == 7 ? argv[5] : NULL, argc == 7 ? argv[6] : NULL);
	if (argc == 7 && !strcmp(argv[1], "cwd"))
		return cwd_init(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if (argc == 8 && !strcmp(argv[1], "cwd") && !strcmp(argv[7], "exec"))
		return cwd_exec(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if (argc == 4 && !strcmp(argv[1], "load-null"))
		return load_null(argv[2], argv[3]);
	fprintf(stderr, "usage: see the comment at the top of tests/stress/stress-api.c\n");
	return 2;
}
