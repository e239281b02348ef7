/*
 * keelrt: the OCI runtime command line (runc's), on libkeel.
 *
 *   keelrt [--root DIR] [--log FILE] [--log-format text|json] [--debug]
 *          [--systemd-cgroup] [--rootless true|false|auto] COMMAND ...
 *
 * This file: global options, logging, the helpers every command shares,
 * and the commands that only look at or signal a container (state, kill,
 * delete, ps, list, pause, resume, update, events, features, spec).
 * cli/keelrt-run.c has create, start, run and exec.
 *
 * Messages are runc's where callers parse them: containerd's shim looks
 * for "does not exist" and "container not running", conmon and podman for
 * "not running" and "no such process".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "keelrt.h"

struct rt rt = { .root = KEELRT_DEFAULT_ROOT };

/* ------------------------------------------------------------- logging --- */

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

static void log_line(const char *level, const char *msg)
{
	char when[64];
	struct timespec ts;
	struct tm tm;
	FILE *f;

	if (!rt.log)
		return;
	f = fopen(rt.log, "ae");
	if (!f)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (rt.log_json) {
		fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
		json_escape(f, msg);
		fprintf(f, "\",\"time\":\"%s\"}\n", when);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"", when, level);
		json_escape(f, msg);
		fputs("\"\n", f);
	}
	fclose(f);
}

int rt_fail(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line("error", msg);
	fprintf(stderr, "%s\n", msg);
	return 1;
}

int rt_fail_err(keel_error *err, const char *what)
{
	int ret = rt_fail("%s%s%s", what ? what : "", what ? ": " : "",
			  err ? keel_error_message(err) : "unknown error");

	keel_error_free(err);
	return ret;
}

void rt_debug(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (!rt.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line("debug", msg);
}

/* ------------------------------------------------------------- options --- */

static int set_opt(const struct rt_opt *o, const char *v)
{
	const char **nv;

	if (o->multi) {
		nv = realloc(*o->vals, (*o->n_vals + 1) * sizeof(char *));
		if (!nv)
			return rt_fail("out of memory");
		nv[(*o->n_vals)++] = v;
		*o->vals = nv;
	} else if (o->val) {
		*o->val = v;
	}
	return 0;
}

static const struct rt_opt *find_opt(const struct rt_opt *opts, const char *lng, size_t len, char shrt)
{
	for (; opts->lng; opts++)
		if ((lng && strlen(opts->lng) == len && strncmp(opts->lng, lng, len) == 0) || (shrt && opts->shrt == shrt))
			return opts;
	return NULL;
}

/* One option at argv[*i] ("--name", "--name=v", "-n v", "-n"). */
static int parse_one(int argc, char **argv, int *i, const struct rt_opt *opts)
{
	const char *a = argv[*i], *eq = NULL, *v = NULL;
	const struct rt_opt *o;

	if (a[1] == '-') {
		eq = strchr(a + 2, '=');
		o = find_opt(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0);
	} else {
		o = a[2] ? NULL : find_opt(opts, NULL, 0, a[1]);
	}
	if (!o)
		return rt_fail("flag provided but not defined: %s", a);
	if (!o->has_arg)
		return set_opt(o, eq ? eq + 1 : "1");
	if (eq)
		v = eq + 1;
	else if (*i + 1 < argc)
		v = argv[++*i];
	else
		return rt_fail("flag needs an argument: %s", a);
	return set_opt(o, v);
}

int rt_parse(int argc, char **argv, int *i, const struct rt_opt *opts, const char **pos, int max_pos, int stop_at_pos)
{
	int n = 0;

	for (; *i < argc; ++*i) {
		const char *a = argv[*i];

		if (strcmp(a, "--") == 0) {
			++*i;
			break;
		}
		if (a[0] == '-' && a[1] && !(stop_at_pos && n == max_pos)) {
			if (parse_one(argc, argv, i, opts))
				return 1;
			continue;
		}
		if (n == max_pos)
			break;
		pos[n++] = a;
		if (stop_at_pos && n == max_pos) {
			++*i;
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------- helpers --- */

int rt_load(const char *id, keel_container **out)
{
	keel_error *err = NULL;
	int ret;

	if (!id)
		return rt_fail("container id cannot be empty");
	ret = keel_container_load(out, id, rt.root, &err);
	if (ret == -ENOENT || ret == -EINVAL) {
		keel_error_free(err);
		return rt_fail("container \"%s\" does not exist", id);
	}
	if (ret < 0)
		return rt_fail_err(err, NULL);
	return 0;
}

static char *bundle_file(keel_container *c)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s/keelrt-bundle", keel_container_state_root(c), keel_container_id(c)) < 0)
		return NULL;
	return p;
}

int rt_save_bundle(keel_container *c, const char *bundle)
{
	char *p = bundle_file(c);
	FILE *f = p ? fopen(p, "we") : NULL;
	int ok = f && fputs(bundle, f) >= 0;

	if (f && fclose(f) != 0)
		ok = 0;
	free(p);
	return ok ? 0 : -1;
}

keel_oci *rt_load_oci(keel_container *c)
{
	char *p = bundle_file(c), *bundle;
	keel_oci *oci = NULL;
	size_t len = 0;

	bundle = p ? rt_read_file(p, &len) : NULL;
	free(p);
	if (bundle && keel_oci_load(&oci, bundle, NULL) < 0)
		oci = NULL;
	free(bundle);
	return oci;
}

int rt_write_pid_file(const char *path, pid_t pid)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return rt_fail("write pid file %s: %s", path, strerror(errno));
	fprintf(f, "%d", (int)pid);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return rt_fail("write pid file %s: %s", path, strerror(errno));
	}
	return 0;
}

int rt_send_console(const char *path, int master)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char name[] = "/dev/ptmx";
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return rt_fail("console socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = rt_fail("connect to console socket %s: %s", path, strerror(errno));
		goto out;
	}
	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		ret = rt_fail("send the terminal to console socket %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

char *rt_read_file(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			if (!(nb = realloc(buf, cap * 2 + 1))) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		if ((r = read(fd, buf + n, cap - n)) <= 0)
			break;
		n += (size_t)r;
	}
	if (fd != 0)
		close(fd);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/* ------------------------------------------------------ state commands --- */

static int cmd_state(int argc, char **argv, int i)
{
	static const struct rt_opt opts[] = { { 0 } };
	const char *id = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	keel_oci *oci;
	char *json = NULL;
	int ret;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 0) || rt_load(id, &c))
		return 1;
	oci = rt_load_oci(c);
	ret = keel_oci_state(c, oci, &json, &err);
	if (ret < 0)
		ret = rt_fail_err(err, NULL);
	else
		printf("%s\n", json);
	free(json);
	keel_container_free(c);
	keel_oci_free(oci);
	return ret ? 1 : 0;
}

static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "CHLD", SIGCHLD }, { "WINCH", SIGWINCH }, { "ABRT", SIGABRT },
		{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "SYS", SIGSYS }, { "URG", SIGURG },
	};
	char *end;
	long v;
	size_t k;

	v = strtol(s, &end, 10);
	if (*s && !*end)
		return v >= 1 && v <= 64 ? (int)v : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strcasecmp(s, names[k].name) == 0)
			return names[k].sig;
	return -1;
}

/* The state, quietly: -1 when it cannot be read. */
static int state_of(keel_container *c)
{
	int st = -1;

	if (keel_container_state(c, &st, NULL) < 0)
		return -1;
	return st;
}

static int cmd_kill(int argc, char **argv, int i)
{
	const char *all = NULL, *pos[2] = { NULL, "SIGTERM" };
	const struct rt_opt opts[] = { { "all", 'a', 0, &all }, { 0 } };
	keel_container *c = NULL;
	keel_error *err = NULL;
	int sig, ret = 0;

	if (rt_parse(argc, argv, &i, opts, pos, 2, 0))
		return 1;
	if ((sig = parse_signal(pos[1])) < 0)
		return rt_fail("unknown signal \"%s\"", pos[1]);
	if (rt_load(pos[0], &c))
		return 1;
	if (state_of(c) == KEEL_STATE_STOPPED)
		ret = rt_fail("container not running");
	else if (keel_container_kill(c, sig, all ? KEEL_KILL_ALL : 0, &err) < 0)
		ret = keel_error_code(err) == KEEL_ERROR_STATE ? (keel_error_free(err), rt_fail("container not running"))
							       : rt_fail_err(err, NULL);
	keel_container_free(c);
	return ret;
}

static int cmd_delete(int argc, char **argv, int i)
{
	const char *force = NULL, *id = NULL;
	const struct rt_opt opts[] = { { "force", 'f', 0, &force }, { 0 } };
	keel_container *c = NULL;
	keel_error *err = NULL;
	keel_oci *oci;
	int st, ret = 0;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 0))
		return 1;
	if (id && keel_container_load(&c, id, rt.root, NULL) < 0) /* gone: fine with --force, as in runc */
		return force ? 0 : rt_fail("container \"%s\" does not exist", id);
	if (!id)
		return rt_fail("container id cannot be empty");
	oci = rt_load_oci(c);
	if (oci)
		keel_oci_set_hooks(oci, c, NULL);
	st = state_of(c);
	if (st != KEEL_STATE_STOPPED && !force)
		ret = rt_fail("cannot delete container %s that is not stopped: %s", id, keel_container_state_name(st));
	else if (keel_container_delete(c, KEEL_DELETE_FORCE, &err) < 0)
		ret = rt_fail_err(err, NULL);
	keel_container_free(c);
	keel_oci_free(oci);
	return ret;
}

static int freeze(int argc, char **argv, int i, int on)
{
	static const struct rt_opt opts[] = { { 0 } };
	const char *id = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	int st, ret = 0;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 0) || rt_load(id, &c))
		return 1;
	st = state_of(c);
	if (on && st != KEEL_STATE_RUNNING)
		ret = rt_fail("container not running");
	else if (!on && st != KEEL_STATE_PAUSED)
		ret = rt_fail("container not paused");
	else if ((on ? keel_container_pause(c, &err) : keel_container_resume(c, &err)) < 0)
		ret = rt_fail_err(err, NULL);
	keel_container_free(c);
	return ret;
}

/* The pids of the container's cgroup, in a malloc'd array. */
static int cgroup_pids(keel_container *c, pid_t **out, size_t *n)
{
	keel_cgroup *cg = keel_container_cgroup(c);
	char *procs = NULL, *line, *save = NULL;
	pid_t *v = NULL, *nv;

	*n = 0;
	if (!cg || keel_cgroup_get_raw(cg, "cgroup.procs", &procs, NULL) < 0)
		return -1;
	for (line = strtok_r(procs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!(nv = realloc(v, (*n + 1) * sizeof(pid_t))))
			break;
		v = nv;
		v[(*n)++] = (pid_t)atoi(line);
	}
	free(procs);
	*out = v;
	return 0;
}

static int cmd_ps(int argc, char **argv, int i)
{
	const char *format = "table", *id = NULL;
	const struct rt_opt opts[] = { { "format", 'f', 1, &format }, { 0 } };
	keel_container *c = NULL;
	pid_t *pids = NULL;
	size_t n = 0, k;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 1) || rt_load(id, &c))
		return 1;
	if (cgroup_pids(c, &pids, &n) < 0) {
		keel_container_free(c);
		return rt_fail("container %s: cannot read the processes of its cgroup", id);
	}
	if (strcmp(format, "json") == 0) {
		printf("[");
		for (k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", (int)pids[k]);
		printf("]\n");
	} else {
		printf("PID\n");
		for (k = 0; k < n; k++)
			printf("%d\n", (int)pids[k]);
	}
	free(pids);
	keel_container_free(c);
	return 0;
}

static void list_one(const char *id, int json, int quiet, int first)
{
	keel_container *c = NULL;
	keel_oci *oci;
	char *state = NULL;

	if (quiet) {
		printf("%s\n", id);
		return;
	}
	if (keel_container_load(&c, id, rt.root, NULL) < 0)
		return;
	oci = rt_load_oci(c);
	if (json && keel_oci_state(c, oci, &state, NULL) == 0)
		printf("%s%s", first ? "" : ",", state);
	else if (!json)
		printf("%-24s %-8d %-10s %s\n", id, (int)keel_container_pid(c), keel_container_state_name(state_of(c)),
		       oci ? keel_oci_bundle(oci) : "");
	free(state);
	keel_oci_free(oci);
	keel_container_free(c);
}

static int cmd_list(int argc, char **argv, int i)
{
	const char *format = "table", *quiet = NULL;
	const struct rt_opt opts[] = { { "format", 'f', 1, &format }, { "quiet", 'q', 0, &quiet }, { 0 } };
	keel_error *err = NULL;
	char **ids = NULL;
	size_t n = 0, k;
	int json;

	if (rt_parse(argc, argv, &i, opts, NULL, 0, 0))
		return 1;
	if (keel_container_list(rt.root, &ids, &n, &err) < 0)
		return rt_fail_err(err, NULL);
	json = strcmp(format, "json") == 0;
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-24s %-8s %-10s %s\n", "ID", "PID", "STATUS", "BUNDLE");
	for (k = 0; k < n; k++)
		list_one(ids[k], json, quiet != NULL, k == 0);
	if (json)
		printf("]\n");
	keel_container_strv_free(ids);
	return 0;
}

/* ------------------------------------------------------------- update --- */

static int add_field(char *buf, size_t len, const char *obj, const char *key, const char *v, int quote)
{
	size_t used = strlen(buf);

	if (!v)
		return 0;
	return snprintf(buf + used, len - used, "%s\"%s\":{\"%s\":%s%s%s}", used > 1 ? "," : "", obj, key,
			quote ? "\"" : "", v, quote ? "\"" : "") >= (int)(len - used);
}

/* The flags of `runc update` as a resources object; one object per field
 * is fine: each is applied on its own. */
static int cmd_update(int argc, char **argv, int i)
{
	const char *res = NULL, *mem = NULL, *swap = NULL, *resv = NULL, *shares = NULL, *quota = NULL,
		   *period = NULL, *cpus = NULL, *mems = NULL, *pids = NULL, *blkio = NULL, *id = NULL;
	const struct rt_opt opts[] = {
		{ "resources", 'r', 1, &res }, { "memory", 'm', 1, &mem }, { "memory-swap", 0, 1, &swap },
		{ "memory-reservation", 0, 1, &resv }, { "cpu-shares", 0, 1, &shares }, { "cpu-quota", 0, 1, &quota },
		{ "cpu-period", 0, 1, &period }, { "cpuset-cpus", 0, 1, &cpus }, { "cpuset-mems", 0, 1, &mems },
		{ "pids-limit", 0, 1, &pids }, { "blkio-weight", 0, 1, &blkio }, { 0 },
	};
	char json[4096] = "{", *doc = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	size_t len = 0;
	int ret = 0;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 0))
		return 1;
	if (res) {
		if (!(doc = rt_read_file(res, &len)))
			return rt_fail("update: read %s: %s", res, strerror(errno));
	} else {
		if (mem && swap) {
			snprintf(json + 1, sizeof(json) - 1, "\"memory\":{\"limit\":%s,\"swap\":%s}", mem, swap);
			mem = swap = NULL;
		}
		if ((quota || period) && snprintf(json + strlen(json), sizeof(json) - strlen(json),
						  "%s\"cpu\":{\"quota\":%s,\"period\":%s}", strlen(json) > 1 ? "," : "",
						  quota ? quota : "-1", period ? period : "100000") < 0)
			return 1;
		if (add_field(json, sizeof(json), "memory", "limit", mem, 0) || add_field(json, sizeof(json), "memory", "reservation", resv, 0) ||
		    add_field(json, sizeof(json), "cpu", "shares", shares, 0) || add_field(json, sizeof(json), "cpu", "cpus", cpus, 1) ||
		    add_field(json, sizeof(json), "cpu", "mems", mems, 1) || add_field(json, sizeof(json), "pids", "limit", pids, 0) ||
		    add_field(json, sizeof(json), "blockIO", "weight", blkio, 0))
			return rt_fail("update: too many flags");
		strcat(json, "}");
	}
	if (rt_load(id, &c)) {
		free(doc);
		return 1;
	}
	if (keel_oci_update(c, doc ? doc : json, doc ? len : strlen(json), &err) < 0)
		ret = rt_fail_err(err, NULL);
	free(doc);
	keel_container_free(c);
	return ret;
}

/* --------------------------------------------------- documents & misc --- */

static int cmd_events(int argc, char **argv, int i)
{
	const char *stats = NULL, *interval = NULL, *id = NULL;
	const struct rt_opt opts[] = { { "stats", 0, 0, &stats }, { "interval", 0, 1, &interval }, { 0 } };
	keel_container *c = NULL;
	keel_cgroup *cg;
	uint64_t mem = 0, usage = 0, npids = 0, user = 0, sys = 0;

	if (rt_parse(argc, argv, &i, opts, &id, 1, 0))
		return 1;
	if (!stats)
		return rt_fail("events: only --stats is supported (no event stream)");
	if (rt_load(id, &c))
		return 1;
	cg = keel_container_cgroup(c);
	if (cg) {
		keel_cgroup_get_memory_current(cg, &mem, NULL);
		keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_USAGE_USEC, &usage, NULL);
		keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_USER_USEC, &user, NULL);
		keel_cgroup_get_cpu_stat(cg, KEEL_CGROUP_CPU_SYSTEM_USEC, &sys, NULL);
		keel_cgroup_get_pids_current(cg, &npids, NULL);
	}
	printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":{\"cpu\":{\"usage\":{\"total\":%llu,\"user\":%llu,"
	       "\"kernel\":%llu}},\"memory\":{\"usage\":{\"usage\":%llu}},\"pids\":{\"current\":%llu}}}\n",
	       id, (unsigned long long)usage * 1000, (unsigned long long)user * 1000, (unsigned long long)sys * 1000,
	       (unsigned long long)mem, (unsigned long long)npids);
	keel_container_free(c);
	return 0;
}

static int cmd_features(int argc, char **argv, int i)
{
	keel_error *err = NULL;
	char *json = NULL;

	(void)argc;
	(void)argv;
	(void)i;
	if (keel_oci_features(&json, &err) < 0)
		return rt_fail_err(err, NULL);
	printf("%s\n", json);
	free(json);
	return 0;
}

static int cmd_spec(int argc, char **argv, int i)
{
	const char *bundle = ".", *rootless = NULL;
	const struct rt_opt opts[] = { { "bundle", 'b', 1, &bundle }, { "rootless", 0, 0, &rootless }, { 0 } };
	keel_error *err = NULL;
	char path[PATH_MAX], *json = NULL;
	FILE *f;
	int fd;

	if (rt_parse(argc, argv, &i, opts, NULL, 0, 0))
		return 1;
	if (keel_oci_spec(rootless ? KEEL_OCI_SPEC_ROOTLESS : 0, &json, &err) < 0)
		return rt_fail_err(err, NULL);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		free(json);
		return errno == EEXIST ? rt_fail("File %s exists. Remove it first", path)
				       : rt_fail("write %s: %s", path, strerror(errno));
	}
	f = fdopen(fd, "w");
	fprintf(f, "%s\n", json);
	free(json);
	return fclose(f) == 0 ? 0 : rt_fail("write %s: %s", path, strerror(errno));
}

static int not_supported(int argc, char **argv, int i)
{
	(void)argc;
	(void)i;
	return rt_fail("%s is not supported", argv[i - 1]);
}

static int version(void)
{
	printf("keelrt version %s\nspec: 1.2.0\nlibkeel: %s\n", KEEL_VERSION_STRING, keel_version());
	return 0;
}

static int usage(FILE *f)
{
	fputs("usage: keelrt [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [OPTIONS] ID\n"
	      "commands: create start run exec state kill delete ps list pause resume update events\n"
	      "          features spec checkpoint restore; --version\n", f);
	return f == stderr ? 1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(int, char **, int);
} commands[] = {
	{ "create", cmd_create }, { "start", cmd_start }, { "run", cmd_run }, { "exec", cmd_exec },
	{ "state", cmd_state }, { "kill", cmd_kill }, { "delete", cmd_delete }, { "ps", cmd_ps },
	{ "list", cmd_list }, { "update", cmd_update }, { "events", cmd_events }, { "features", cmd_features },
	{ "spec", cmd_spec }, { "checkpoint", not_supported }, { "restore", not_supported },
};

static int run_command(int argc, char **argv, int i)
{
	size_t k;

	if (strcmp(argv[i], "pause") == 0 || strcmp(argv[i], "resume") == 0)
		return freeze(argc, argv, i + 1, argv[i][0] == 'p');
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(argc, argv, i + 1);
	return rt_fail("No help topic for '%s'", argv[i]);
}

int main(int argc, char **argv)
{
	const char *fmt = "text", *debug = NULL, *systemd = NULL, *rootless = NULL, *ver = NULL, *help = NULL;
	const struct rt_opt opts[] = {
		{ "root", 0, 1, &rt.root }, { "log", 0, 1, &rt.log }, { "log-format", 0, 1, &fmt },
		{ "debug", 0, 0, &debug }, { "systemd-cgroup", 0, 0, &systemd }, { "rootless", 0, 1, &rootless },
		{ "criu", 0, 1, NULL }, { "version", 'v', 0, &ver }, { "help", 'h', 0, &help }, { 0 },
	};
	int i = 1;

	if (rt_parse(argc, argv, &i, opts, NULL, 0, 0))
		return 1;
	rt.log_json = strcmp(fmt, "json") == 0;
	rt.debug = debug != NULL;
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "text") != 0)
		return rt_fail("invalid log format %s (text or json)", fmt);
	if (ver)
		return version();
	if (help)
		return usage(stdout);
	if (systemd)
		return rt_fail("systemd cgroup manager is not supported (no systemd on this host's path; use cgroupfs "
			       "paths in linux.cgroupsPath)");
	if (rt.root[0] != '/')
		return rt_fail("--root %s: must be an absolute path", rt.root);
	if (i >= argc)
		return usage(stderr);
	return run_command(argc, argv, i);
}
