/*
 * keelrt create, start, run and exec: the commands that make processes.
 *
 * create returns once the container's init waits before its execve (on
 * libkeel's start FIFO), with the pid file written; the init is then our
 * child only until we exit, after which the caller's subreaper (conmon,
 * containerd's shim) adopts it, as with runc. start tells it to exec.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "keelrt.h"

struct create_opts {
	const char *bundle, *pid_file, *console, *preserve, *no_pivot, *no_keyring, *detach, *keep;
};

/* The config.json of the bundle onto a new container. */
static int make_container(const struct create_opts *o, const char *id, keel_container **c, keel_oci **oci)
{
	keel_error *err = NULL;
	int ret;

	if (!id)
		return rt_fail("container id cannot be empty");
	if (keel_oci_load(oci, o->bundle, &err) < 0)
		return rt_fail_err(err, NULL);
	ret = keel_container_new(c, id, rt.root, &err);
	if (ret == 0)
		ret = keel_oci_configure(*oci, *c, &err);
	if (ret == 0 && o->preserve)
		ret = keel_process_set_preserve_fds(keel_container_process(*c), (unsigned)atoi(o->preserve), &err);
	if (ret < 0)
		return rt_fail_err(err, NULL);
	return 0;
}

static void set_size(keel_oci *oci, int master)
{
	struct winsize ws = { 0 };
	unsigned rows, cols;

	if (master >= 0 && keel_oci_console_size(oci, &rows, &cols)) {
		ws.ws_row = (unsigned short)rows;
		ws.ws_col = (unsigned short)cols;
		ioctl(master, TIOCSWINSZ, &ws);
	}
}

/* After create: the terminal to the console socket, the bundle, the pid file. */
static int after_create(const struct create_opts *o, keel_container *c, keel_oci *oci)
{
	int master = keel_container_tty_fd(c);

	if (master >= 0 && !o->console && o->detach)
		return rt_fail("cannot allocate tty if keelrt will detach without setting console socket");
	if (master >= 0) {
		set_size(oci, master);
		if (o->console && rt_send_console(o->console, master))
			return 1;
	}
	if (rt_save_bundle(c, keel_oci_bundle(oci)) < 0)
		return rt_fail("container %s: cannot record its bundle", keel_container_id(c));
	if (o->pid_file && rt_write_pid_file(o->pid_file, keel_container_pid(c)))
		return 1;
	return 0;
}

static void undo(keel_container *c)
{
	keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
}

static const struct rt_opt *create_opts(struct create_opts *o, int with_run)
{
	static struct rt_opt v[12];
	const struct rt_opt common[] = {
		{ "bundle", 'b', 1, &o->bundle }, { "pid-file", 0, 1, &o->pid_file },
		{ "console-socket", 0, 1, &o->console }, { "preserve-fds", 0, 1, &o->preserve },
		{ "no-pivot", 0, 0, &o->no_pivot }, { "no-new-keyring", 0, 0, &o->no_keyring },
		{ "detach", 'd', 0, &o->detach }, { "keep", 0, 0, &o->keep }, { "no-subreaper", 0, 0, NULL },
		{ 0 },
	};
	size_t k, n = 0;

	for (k = 0; common[k].lng; k++)
		if (with_run || (strcmp(common[k].lng, "detach") && strcmp(common[k].lng, "keep") &&
				 strcmp(common[k].lng, "no-subreaper")))
			v[n++] = common[k];
	memset(&v[n], 0, sizeof(v[n]));
	return v;
}

int cmd_create(int argc, char **argv, int i)
{
	struct create_opts o = { .bundle = "." };
	const char *id = NULL;
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	int ret = 1;

	if (rt_parse(argc, argv, &i, create_opts(&o, 0), &id, 1, 0))
		return 1;
	o.detach = "create"; /* create always detaches */
	if (make_container(&o, id, &c, &oci))
		goto out;
	if (keel_container_create(c, &err) < 0) {
		ret = keel_error_code(err) == KEEL_ERROR_EXISTS && strstr(keel_error_message(err), " exists in ")
			      ? (keel_error_free(err), rt_fail("container with id exists: %s", id))
			      : rt_fail_err(err, NULL);
		goto out;
	}
	if ((ret = after_create(&o, c, oci)))
		undo(c);
out:
	keel_container_free(c);
	keel_oci_free(oci);
	return ret;
}

int cmd_start(int argc, char **argv, int i)
{
	static const struct rt_opt opts[] = { { 0 } };
	const char *id = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	keel_oci *oci;
	int st = 0, ret = 0;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 0) || rt_load(id, &c))
		return 1;
	oci = rt_load_oci(c);
	if (oci)
		keel_oci_set_hooks(oci, c, NULL);
	keel_container_state(c, &st, NULL);
	if (st == KEEL_STATE_STOPPED)
		ret = rt_fail("cannot start a container that has stopped");
	else if (st != KEEL_STATE_CREATED)
		ret = rt_fail("cannot start an already running container");
	else if (keel_container_start(c, &err) < 0)
		ret = rt_fail_err(err, NULL);
	keel_container_free(c);
	keel_oci_free(oci);
	return ret;
}

/* ------------------------------------------------------ foreground run --- */

static volatile pid_t forward_to;

static void forward(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static void forward_signals(pid_t pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	size_t k;

	forward_to = pid;
	sigemptyset(&sa.sa_mask);
	for (k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		sigaction(sigs[k], &sa, NULL);
}

/* Copy between our stdio and the pty master until the program closes it. */
static void proxy_tty(int master)
{
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = master, .events = POLLIN } };
	char buf[4096];
	ssize_t n;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(master, buf, sizeof(buf));
			if (n <= 0)
				return;
			if (write(1, buf, (size_t)n) < 0)
				return;
		}
		if (p[0].revents & POLLIN) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0)
				p[0].fd = -1;
			else if (write(master, buf, (size_t)n) < 0)
				return;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			p[0].fd = -1;
		}
	}
}

static int exit_status(int code, int sig)
{
	return sig ? 128 + sig : code;
}

static int run_foreground(const struct create_opts *o, keel_container *c)
{
	keel_error *err = NULL;
	int code = 0, sig = 0, master = keel_container_tty_fd(c);

	forward_signals(keel_container_pid(c));
	if (master >= 0 && !o->console)
		proxy_tty(master);
	if (keel_container_wait(c, 0, &code, &sig, &err) < 0)
		return rt_fail_err(err, NULL);
	if (!o->keep && keel_container_delete(c, KEEL_DELETE_FORCE, &err) < 0)
		rt_fail_err(err, NULL);
	return exit_status(code, sig);
}

int cmd_run(int argc, char **argv, int i)
{
	struct create_opts o = { .bundle = "." };
	const char *id = NULL;
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	int ret = 1;

	if (rt_parse(argc, argv, &i, create_opts(&o, 1), &id, 1, 0) || make_container(&o, id, &c, &oci))
		goto out;
	if (keel_container_run(c, &err) < 0) {
		ret = keel_error_code(err) == KEEL_ERROR_EXISTS && strstr(keel_error_message(err), " exists in ")
			      ? (keel_error_free(err), rt_fail("container with id exists: %s", id))
			      : rt_fail_err(err, NULL);
		goto out;
	}
	if ((ret = after_create(&o, c, oci))) {
		undo(c);
		goto out;
	}
	ret = o.detach ? 0 : run_foreground(&o, c);
out:
	keel_container_free(c);
	keel_oci_free(oci);
	return ret;
}

/* ---------------------------------------------------------------- exec --- */

struct exec_opts {
	const char *process, *tty, *console, *pid_file, *detach, *cwd, *user, *nnp, *preserve;
	const char **env, **caps, **gids;
	size_t n_env, n_caps, n_gids;
};

/* -u UID[:GID] and -g GID... (numbers: the container's names are not ours to read). */
static int set_user(keel_process *p, const struct exec_opts *x, keel_error **err)
{
	unsigned uid = 0, gid = 0;
	gid_t groups[64];
	size_t k;

	if (x->user) {
		if (sscanf(x->user, "%u:%u", &uid, &gid) < 1)
			return rt_fail("exec: --user %s: only numeric UID[:GID] is supported", x->user);
		if (keel_process_set_user(p, uid, gid, err) < 0)
			return -1;
	}
	for (k = 0; k < x->n_gids && k < 64; k++)
		groups[k] = (gid_t)atoi(x->gids[k]);
	if (x->n_gids && keel_process_set_groups(p, x->n_gids < 64 ? x->n_gids : 64, groups, err) < 0)
		return -1;
	return 0;
}

static int customize(keel_process *p, keel_security *sec, const struct exec_opts *x, char **args,
		     keel_error **err)
{
	size_t k;
	char *eq;

	if (args[0] && keel_process_set_args(p, (const char *const *)args, err) < 0)
		return -1;
	if (x->tty && keel_process_set_tty(p, 1, err) < 0)
		return -1;
	if (x->cwd && keel_process_set_cwd(p, x->cwd, err) < 0)
		return -1;
	for (k = 0; k < x->n_env; k++) {
		char *kv = strdup(x->env[k]);

		if (!kv || !(eq = strchr(kv, '='))) {
			free(kv);
			return rt_fail("exec: --env %s: not NAME=VALUE", x->env[k]);
		}
		*eq = '\0';
		if (keel_process_setenv(p, kv, eq + 1, err) < 0) {
			free(kv);
			return -1;
		}
		free(kv);
	}
	for (k = 0; k < x->n_caps; k++)
		if (keel_security_cap_set(sec, KEEL_CAPSET_ALL, x->caps[k], 1, err) < 0)
			return -1;
	if (x->nnp)
		keel_security_set_no_new_privs(sec, 1);
	if (x->preserve && keel_process_set_preserve_fds(p, (unsigned)atoi(x->preserve), err) < 0)
		return -1;
	return set_user(p, x, err);
}

static int exec_process(keel_container *c, keel_oci *oci, const struct exec_opts *x, char **args,
			keel_process **p)
{
	keel_security *sec = NULL;
	keel_error *err = NULL;
	char *json = NULL;
	size_t len = 0;
	int ret;

	if (x->process && !(json = rt_read_file(x->process, &len)))
		return rt_fail("exec: read process file %s: %s", x->process, strerror(errno));
	if (!json && !args[0]) {
		return rt_fail("exec: no command given (arguments or --process)");
	}
	ret = keel_oci_process(oci, json, len, p, &sec, &err);
	free(json);
	if (ret < 0)
		return rt_fail_err(err, "exec");
	ret = customize(*p, sec, x, args, &err);
	if (ret < 0)
		return rt_fail_err(err, "exec");
	(void)c;
	return ret;
}

static int after_exec(const struct exec_opts *x, keel_child *child)
{
	int code = 0, sig = 0, master = keel_child_tty_fd(child);
	keel_error *err = NULL;

	if (master >= 0 && x->console && rt_send_console(x->console, master))
		return 1;
	if (x->pid_file && rt_write_pid_file(x->pid_file, keel_child_pid(child)))
		return 1;
	if (x->detach)
		return 0;
	forward_signals(keel_child_pid(child));
	if (master >= 0 && !x->console)
		proxy_tty(master);
	if (keel_child_wait(child, 0, &code, &sig, &err) < 0)
		return rt_fail_err(err, "exec");
	return exit_status(code, sig);
}

int cmd_exec(int argc, char **argv, int i)
{
	struct exec_opts x = { 0 };
	const struct rt_opt opts[] = {
		{ "process", 'p', 1, &x.process }, { "tty", 't', 0, &x.tty }, { "console-socket", 0, 1, &x.console },
		{ "pid-file", 0, 1, &x.pid_file }, { "detach", 'd', 0, &x.detach }, { "cwd", 0, 1, &x.cwd },
		{ "env", 'e', 1, NULL, 1, &x.env, &x.n_env }, { "user", 'u', 1, &x.user },
		{ "cap", 'c', 1, NULL, 1, &x.caps, &x.n_caps }, { "additional-gids", 'g', 1, NULL, 1, &x.gids, &x.n_gids },
		{ "no-new-privs", 0, 0, &x.nnp }, { "preserve-fds", 0, 1, &x.preserve },
		{ "process-label", 0, 1, NULL }, { "apparmor", 0, 1, NULL }, { 0 },
	};
	const char *id = NULL;
	keel_container *c = NULL;
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	keel_oci *oci = NULL;
	int st = 0, ret = 1;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 1) || rt_load(id, &c))
		goto out;
	if (!(oci = rt_load_oci(c))) {
		ret = rt_fail("container %s: its bundle's config.json cannot be read", id);
		goto out;
	}
	keel_container_state(c, &st, NULL);
	if (st != KEEL_STATE_RUNNING) {
		ret = rt_fail(st == KEEL_STATE_STOPPED ? "cannot exec in a stopped container"
						       : "cannot exec in a container that is not running");
		goto out;
	}
	if ((ret = exec_process(c, oci, &x, argv + i, &p)))
		goto out;
	if (keel_container_exec(c, p, &child, &err) < 0) {
		ret = rt_fail_err(err, NULL);
		goto out;
	}
	ret = after_exec(&x, child);
out:
	keel_child_free(child);
	keel_process_free(p);
	keel_container_free(c);
	keel_oci_free(oci);
	free(x.env);
	free(x.caps);
	free(x.gids);
	return ret;
}
