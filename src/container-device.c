/*
 * container-device: what a container may do with devices (issue 16).
 *
 *   keel_container_set_device_filter()   filtered (the default) or not
 *   keel_container_set_device_rules()    the base rules (default: OCI's list)
 *   keel_container_add_device()          a host node, made in the container
 *   keel_container_add_device_rule()     a raw "c 10:200 rwm" on top
 *
 * Everything is recorded on the handle before create. At create,
 * keel_container_devices_setup() (called by container.c right after the
 * cgroup is made, before the init is cloned into it) builds the rule list
 *
 *     base (or the defaults) + one allow per node + the raw rules
 *
 * attaches it to the cgroup, and appends the nodes to the rootfs's mount
 * table, so the child makes them from the prepared mount plan. A container
 * that cannot be filtered fails to create, with the reason and the opt-out
 * in the message: it never runs unfiltered by accident.
 *
 * Program hooks (CDI's "hooks") are run here too, by posix_spawn, with the
 * OCI state JSON on their stdin.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "container-device.h"
#include "error.h"
#include "mount.h"
#include "state.h"
#include "util/str.h"

#define OPT_OUT "keel_container_set_device_filter(c, KEEL_DEVICES_UNFILTERED), or keel-run --no-device-filter"

/* ------------------------------------------------------ configuration -- */

static struct keel_container_devices *devices_of(keel_container *c, keel_error **err)
{
	if (!c->devices && !(c->devices = calloc(1, sizeof(*c->devices))))
		keel_error_sys(err, ENOMEM, "container %s: devices", c->id);
	return c->devices;
}

static int before_create(keel_container *c, const char *what, keel_error **err)
{
	int ret = container_only_before_create(c, what, err);

	if (ret < 0)
		return ret;
	return devices_of(c, err) ? 0 : -ENOMEM;
}

KEEL_PUBLIC int keel_container_set_device_filter(keel_container *c, int mode, keel_error **err)
{
	int ret = before_create(c, "set device filter", err);

	if (ret < 0)
		return ret;
	if (mode != KEEL_DEVICES_FILTERED && mode != KEEL_DEVICES_UNFILTERED)
		return keel_error_invalid(err, "container %s: set device filter: unknown mode %d", c->id, mode);
	c->devices->unfiltered = mode == KEEL_DEVICES_UNFILTERED;
	return 0;
}

/* After create: the running container's filter becomes rules, at once,
 * and is recorded in its state (keel_container_update()), so that a
 * process that loads the container later knows the filter it has. */
static int set_live_rules(keel_container *c, keel_device_rules *rules, keel_error **err)
{
	keel_resources *r = NULL;
	int ret;

	if ((ret = keel_resources_new(&r, err)) == 0 && (ret = keel_resources_set_device_rules(r, rules, err)) == 0)
		ret = keel_container_update(c, r, err);
	keel_resources_free(r);
	return ret;
}

KEEL_PUBLIC int keel_container_set_device_rules(keel_container *c, keel_device_rules *rules, keel_error **err)
{
	keel_device_rules *copy = NULL;
	int ret;

	if (!c || !rules)
		return keel_error_invalid(err, "set device rules: %s is NULL", c ? "rules" : "container");
	if (c->loaded || c->created)
		return set_live_rules(c, rules, err);
	if ((ret = before_create(c, "set device rules", err)) < 0)
		return ret;
	/* Load into the caller's list first: every container given the same
	 * list then shares its program (the copy dups the fd). */
	if ((ret = keel_device_rules_prog_fd(rules, err)) < 0)
		return keel_error_wrap(err, ret, "container %s: set device rules", c->id);
	if ((ret = keel_device_rules_copy(&copy, rules, err)) < 0)
		return ret;
	keel_device_rules_free(c->devices->base);
	c->devices->base = copy;
	return 0;
}

static int dup_strv(char ***out, char *const *v)
{
	size_t n = 0, i;

	*out = NULL;
	if (!v)
		return 0;
	while (v[n])
		n++;
	if (!(*out = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (!((*out)[i] = strdup(v[i])))
			return -ENOMEM;
	return 0;
}

static void node_clear(struct keel_device_node *n)
{
	free(n->host);
	free(n->dest);
	n->host = n->dest = NULL;
}

int keel_container_add_device_node(keel_container *c, const struct keel_device_node *node, keel_error **err)
{
	struct keel_container_devices *d;
	struct keel_device_node *grown, copy = *node;
	int ret;

	if ((ret = before_create(c, "add device", err)) < 0)
		return ret;
	d = c->devices;
	if (!node->dest || node->dest[0] != '/' || strstr(node->dest, "/../") || !strcmp(node->dest, "/"))
		return keel_error_invalid(err, "container %s: add device %s: container path '%s' is not an absolute "
					  "path without '..'", c->id, node->host, node->dest ? node->dest : "");
	copy.host = strdup(node->host);
	copy.dest = strdup(node->dest);
	grown = realloc(d->nodes, (d->n_nodes + 1) * sizeof(*grown));
	if (!copy.host || !copy.dest || !grown) {
		if (grown)
			d->nodes = grown;
		node_clear(&copy);
		return keel_error_sys(err, ENOMEM, "container %s: add device %s", c->id, node->host);
	}
	d->nodes = grown;
	d->nodes[d->n_nodes++] = copy;
	return 0;
}

int keel_device_node_from_host(const char *host, struct keel_device_node *node, keel_error **err)
{
	struct stat st;

	if (!host || host[0] != '/')
		return keel_error_invalid(err, "device '%s': not an absolute path", host ? host : "");
	if (stat(host, &st) < 0)
		return keel_error_sys(err, errno, "device %s", host);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return keel_error_invalid(err, "device %s: not a character or block device", host);
	node->host = (char *)host;
	node->block = S_ISBLK(st.st_mode);
	node->major = major(st.st_rdev);
	node->minor = minor(st.st_rdev);
	node->mode = st.st_mode & 07777;
	node->has_owner = 1;
	node->uid = st.st_uid;
	node->gid = st.st_gid;
	node->access = KEEL_DEVICE_RWM;
	return 0;
}

KEEL_PUBLIC int keel_container_add_device(keel_container *c, const char *host_path, const char *container_path,
					  const char *access, keel_error **err)
{
	struct keel_device_node node = { 0 };
	int ret;

	if ((ret = before_create(c, "add device", err)) < 0)
		return ret;
	if ((ret = keel_device_node_from_host(host_path, &node, err)) < 0)
		return keel_error_wrap(err, ret, "container %s: add device", c->id);
	if (access && keel_device_access_parse(access, &node.access) < 0)
		return keel_error_invalid(err, "container %s: add device %s: access '%s' is not letters from "
					  "'rwm'", c->id, host_path, access);
	node.dest = (char *)(container_path ? container_path : host_path);
	return keel_container_add_device_node(c, &node, err);
}

KEEL_PUBLIC int keel_container_add_device_rule(keel_container *c, const char *rule, keel_error **err)
{
	struct keel_container_devices *d;
	struct keel_device_rule parsed, *grown;
	int ret;

	if ((ret = before_create(c, "add device rule", err)) < 0)
		return ret;
	if ((ret = keel_device_rule_parse(rule, 1, &parsed, err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	d = c->devices;
	if (!(grown = realloc(d->extra, (d->n_extra + 1) * sizeof(*grown))))
		return keel_error_sys(err, ENOMEM, "container %s: add device rule", c->id);
	d->extra = grown;
	d->extra[d->n_extra++] = parsed;
	return 0;
}

int keel_container_add_exec_hook(keel_container *c, int point, const char *path, char *const *args,
				 char *const *env, keel_error **err)
{
	struct keel_container_devices *d;
	struct keel_exec_hook h = { .point = point }, *grown;
	int ret;

	if ((ret = before_create(c, "add hook", err)) < 0)
		return ret;
	if (point < KEEL_HOOK_CREATE_RUNTIME || point > KEEL_HOOK_POSTSTOP || !path || path[0] != '/')
		return keel_error_invalid(err, "container %s: hook %s: needs an absolute path and a known point",
					  c->id, path ? path : "(null)");
	d = c->devices;
	h.path = strdup(path);
	if (!h.path || dup_strv(&h.args, args) < 0 || dup_strv(&h.env, env) < 0 ||
	    !(grown = realloc(d->hooks, (d->n_hooks + 1) * sizeof(*grown)))) {
		free(h.path);
		keel_strv_free(h.args);
		keel_strv_free(h.env);
		return keel_error_sys(err, ENOMEM, "container %s: hook %s", c->id, path);
	}
	d->hooks = grown;
	d->hooks[d->n_hooks++] = h;
	return 0;
}

void keel_container_devices_free(struct keel_container_devices *d)
{
	size_t i;

	if (!d)
		return;
	keel_device_rules_free(d->base);
	free(d->extra);
	for (i = 0; i < d->n_nodes; i++)
		node_clear(&d->nodes[i]);
	free(d->nodes);
	for (i = 0; i < d->n_hooks; i++) {
		free(d->hooks[i].path);
		keel_strv_free(d->hooks[i].args);
		keel_strv_free(d->hooks[i].env);
	}
	free(d->hooks);
	free(d);
}

/* --------------------------------------------------------------- create -- */

/* The list to attach: the base alone when nothing is added (its program
 * is loaded already), else base + nodes + raw rules in a new list. */
static int build_rules(struct keel_container_devices *d, keel_device_rules **out, int *owned, keel_error **err)
{
	keel_device_rules *r = NULL;
	size_t i;
	int ret;

	*owned = 0;
	if (d && d->base && !d->n_nodes && !d->n_extra) {
		*out = d->base;
		return 0;
	}
	ret = d && d->base ? keel_device_rules_copy(&r, d->base, err) : keel_device_rules_new(&r, err);
	if (ret == 0 && !(d && d->base))
		ret = keel_device_rules_add_defaults(r, err);
	for (i = 0; d && ret == 0 && i < d->n_nodes; i++)
		ret = keel_device_rules_add(r, 1, d->nodes[i].block ? KEEL_DEVICE_BLOCK : KEEL_DEVICE_CHAR,
					    d->nodes[i].major, d->nodes[i].minor, d->nodes[i].access, err);
	for (i = 0; d && ret == 0 && i < d->n_extra; i++)
		ret = keel_device_rules_add(r, 1, d->extra[i].type, d->extra[i].major, d->extra[i].minor,
					    d->extra[i].access, err);
	if (ret < 0) {
		keel_device_rules_free(r);
		return ret;
	}
	*out = r;
	*owned = 1;
	return 0;
}

static int attach_filter(keel_container *c, keel_error **err)
{
	keel_device_rules *rules = NULL;
	int owned, ret;

	if ((ret = build_rules(c->devices, &rules, &owned, err)) < 0)
		return ret;
	ret = keel_cgroup_set_devices(c->cgroup, rules, err);
	if (owned)
		keel_device_rules_free(rules);
	if (ret < 0)
		return keel_error_wrap(err, ret, "no device filter can be attached, so the container is not made "
				       "(to run it without one: " OPT_OUT ")");
	return 0;
}

int keel_container_devices_setup(keel_container *c, keel_error **err)
{
	struct keel_container_devices *d = c->devices;
	const struct keel_device_node *n;
	size_t i;
	int ret;

	for (i = 0; d && i < d->n_nodes; i++) {
		n = &d->nodes[i];
		ret = keel_rootfs_add_device_node(c->rootfs, n->host, n->dest, n->block, n->major, n->minor, n->mode,
						  n->has_owner, n->uid, n->gid, err);
		if (ret < 0)
			return keel_error_wrap(err, ret, "device %s", n->host);
	}
	if (d && d->unfiltered)
		return 0;
	if (!c->cgroup)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "no cgroup to attach a device filter to "
					"(to run without one: " OPT_OUT ")");
	return attach_filter(c, err);
}

/* ---------------------------------------------------------------- hooks -- */

int keel_container_devices_has_hooks(const keel_container *c)
{
	return c->devices && c->devices->n_hooks > 0;
}

/* The OCI state, for a hook's stdin, with the status OCI gives each point
 * (keel_container_run() marks the state running before its init execs).
 * Ids are [A-Za-z0-9_.-] and the state directory a path we made: no
 * escaping needed. */
static void state_json(const keel_container *c, int point, char *buf, size_t len)
{
	static const char *const status[] = { "", "creating", "creating", "created", "running", "stopped" };

	snprintf(buf, len, "{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"%s\",\"pid\":%d,\"bundle\":\"%s\"}",
		 c->id, status[point], (int)c->st.pid, c->dir);
}

static int run_one(keel_container *c, const struct keel_exec_hook *h, keel_error **err)
{
	char *const empty[] = { NULL };
	char *argv0[] = { h->path, NULL };
	posix_spawn_file_actions_t fa;
	char state[1024];
	int sv[2], status, ret;
	pid_t pid;

	state_json(c, h->point, state, sizeof(state));
	/* A socket rather than a pipe: send(MSG_NOSIGNAL) to a hook that
	 * exits without reading cannot raise SIGPIPE in the caller. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return keel_error_sys(err, errno, "hook %s: socketpair", h->path);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[0], 0);
	ret = posix_spawn(&pid, h->path, &fa, NULL, h->args ? h->args : argv0, h->env ? h->env : empty);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[0]);
	if (ret != 0) {
		close(sv[1]);
		return keel_error_sys(err, ret, "hook %s", h->path);
	}
	/* The state fits in the socket's buffer: this never blocks. */
	(void)send(sv[1], state, strlen(state), MSG_NOSIGNAL);
	close(sv[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return keel_error_sys(err, errno, "hook %s: wait", h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return keel_error_plain(err, KEEL_ERROR_SYSTEM, EIO, "hook %s: killed by signal %d", h->path,
					WTERMSIG(status));
	return keel_error_plain(err, KEEL_ERROR_SYSTEM, EIO, "hook %s: exited with %d", h->path,
				WEXITSTATUS(status));
}

int keel_container_devices_run_hooks(keel_container *c, int point, keel_error **err)
{
	size_t i;
	int ret;

	for (i = 0; c->devices && i < c->devices->n_hooks; i++)
		if (c->devices->hooks[i].point == point && (ret = run_one(c, &c->devices->hooks[i], err)) < 0)
			return ret;
	return 0;
}
