/*
 * keel-run: a small `docker run` on libkeel.
 *
 *   keel-run [options] -- CMD [ARG...]
 *   keel-run [options] --image IMAGE [-- CMD [ARG...]]
 *   keel-run [options] IMAGE [CMD [ARG...]]    (IMAGE: a name the store knows)
 *
 * The image is either a directory (--rootfs, by default the busybox root
 * filesystem the build made) used as is, or read-only layers (--layer,
 * repeatable, lowest first) under a fresh writable layer. The exit status
 * is Docker's: the command's own; 125 when the container cannot be set
 * up; 126 when the command cannot be run; 127 when it does not exist.
 *
 * What each option becomes in libkeel calls:
 *   --rootfs DIR          keel_rootfs_set_directory()
 *   --layer DIR           keel_container_add_layer()
 *   --image REF           keel_image_open() + keel_image_apply() (layers, Cmd, Env ...)
 *   --store DIR           keel_image_store_open() ($KEEL_IMAGE_STORE, or the default)
 *   --name ID             keel_container_new()
 *   --hostname NAME       keel_container_set_hostname()
 *   --stop-signal SIG     keel_container_set_stop_signal() (over the image's StopSignal)
 *   --memory 64m          keel_container_set_memory_max()
 *   --pids N              keel_container_set_pids_max()
 *   --cpus 0.5            keel_container_set_cpu_max()
 *   --net BR:ADDR/PREFIX  keel_container_set_network()
 *   -p [IP:]HOST:CTR[/udp] keel_container_add_port()
 *   --masquerade          keel_container_set_masquerade()
 *   --dns ADDR            keel_container_add_dns()
 *   --dns-search DOMAIN   keel_container_add_dns_search()
 *   --add-host NAME:ADDR  keel_container_add_host()
 *   --cap-add/--cap-drop  keel_security_cap_add() / _drop()
 *   --seccomp default     keel_seccomp_new_default() + keel_security_set_seccomp()
 *   --user UID[:GID]      keel_process_set_user()
 *   --read-only           keel_rootfs_set_readonly()
 *   -v HOST:DEST[:ro]     keel_rootfs_add_bind()
 *   -e KEY=VALUE          keel_process_setenv()
 *   -t                    keel_process_set_tty()
 *   -d                    a monitor process keeps the container, we print its id;
 *                         its output goes to its log (keel_container_set_log())
 *   --rm                  keel_container_delete() once it ended
 *   --device HOST[:DEST][:rwm]      keel_container_add_device()
 *   --device vendor.com/class=name  keel_cdi_registry_apply() (CDI: /etc/cdi, /var/run/cdi,
 *                         or the directories in $KEEL_CDI_DIRS, colon-separated)
 *   --device-cgroup-rule 'c 10:200 rwm'   keel_container_add_device_rule()
 *   --no-device-filter    keel_container_set_device_filter(KEEL_DEVICES_UNFILTERED)
 *   --userns, --no-userns keel_container_set_namespaces(... | KEEL_NS_USER) + keel_ns_add_uid_map()
 *                         (by default when not root; see rootless.c, and "Rootless" in the README)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <keel.h>

#include "common.h"
#include "rootless.h"

/* The build tree's busybox rootfs is the default image only for a
 * keel-run that runs from that build tree (make check, the demo): an
 * installed one has no default and asks for an image. */
#ifndef KEEL_BUILD_DIR
#define KEEL_BUILD_DIR ""
#endif

#define MAX_LIST 64

enum { USERNS_AUTO, USERNS_ON, USERNS_OFF };

struct options {
	const char *rootfs, *name, *hostname, *net, *seccomp, *user, *image, *store;
	const char *layers[MAX_LIST], *volumes[MAX_LIST], *env[MAX_LIST];
	const char *cap_add[MAX_LIST], *cap_drop[MAX_LIST];
	const char *ports[MAX_LIST], *dns[MAX_LIST], *dns_search[MAX_LIST], *add_hosts[MAX_LIST];
	const char *devices[MAX_LIST], *device_rules[MAX_LIST];
	int n_layers, n_volumes, n_env, n_cap_add, n_cap_drop, n_ports, n_dns, n_dns_search, n_add_hosts;
	int n_devices, n_device_rules;
	int masquerade, no_device_filter;
	uint64_t memory, pids, cpu_quota;
	int read_only, tty, detach, rm;
	int stop_signal; /* --stop-signal, 0: the image's or SIGTERM */
	int userns; /* USERNS_AUTO (when not root), USERNS_ON (--userns), USERNS_OFF (--no-userns) */
	char *const *argv;
};

static const char *prog = "keel-run";
static volatile pid_t forward_to; /* the init, for signals we receive */

/* 1 if this program's executable lies under the build tree it was built
 * in (libtool runs it from examples/.libs there). */
static int running_from_build_tree(void)
{
	char exe[PATH_MAX];
	size_t n = strlen(KEEL_BUILD_DIR);
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len <= 0 || n == 0)
		return 0;
	exe[len] = '\0';
	return strncmp(exe, KEEL_BUILD_DIR, n) == 0 && exe[n] == '/';
}

/* The image when none is given: $KEEL_ROOTFS, else the build tree's
 * busybox rootfs when running from the build tree, else none. */
static const char *default_rootfs(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("KEEL_ROOTFS");

	if (env && *env)
		return env;
	if (!running_from_build_tree())
		return NULL;
	snprintf(dir, sizeof(dir), "%s/tests/rootfs", KEEL_BUILD_DIR);
	return dir;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [options] -- CMD [ARG...]\n"
		"       %s [options] --image IMAGE [-- CMD [ARG...]]   (or IMAGE [CMD...]: a name the store knows)\n"
		"  --rootfs DIR        the image as a plain directory (default: $KEEL_ROOTFS; in the build tree,\n"
		"                      its busybox rootfs)\n"
		"  --layer DIR         an image layer, repeatable, lowest first: overlay + a fresh writable layer\n"
		"  --image REF         an image of the store (name[:tag] or digest); CMD replaces its Cmd\n"
		"  --store DIR         the image store (default: $KEEL_IMAGE_STORE, /var/lib/keel for root)\n"
		"  --name ID           the container's id (default: random)\n"
		"  --hostname NAME     its hostname (default: the id)\n"
		"  --stop-signal SIG   the signal keel-kill --stop sends first: a name (TERM, SIGUSR1,\n"
		"                      SIGRTMIN+3) or a number (default: the image's StopSignal, or TERM)\n"
		"  --memory SIZE       memory limit, with a k, m or g suffix\n"
		"  --pids N            at most N processes\n"
		"  --cpus FRACTION     CPU limit, 0.5 is half a CPU\n"
		"  --net BR:ADDR/LEN   eth0 on bridge BR (made if missing); without it: lo only\n"
		"  -p [IP:]HOST:CTR[/udp]  publish a port (needs --net), repeatable\n"
		"  --masquerade        outbound access for the bridge's subnet (forwarding is not changed)\n"
		"  --dns ADDR, --dns-search DOMAIN, --add-host NAME:ADDR   /etc/resolv.conf and /etc/hosts\n"
		"  --cap-add NAME, --cap-drop NAME   change the default capabilities\n"
		"  --seccomp default|none            the seccomp profile (default: default, as docker run)\n"
		"  --user UID[:GID]    run as this user\n"
		"  --read-only         a read-only root filesystem\n"
		"  -v HOST:DEST[:ro]   bind mount a host path\n"
		"  -e KEY=VALUE        set an environment variable\n"
		"  -t                  a pseudo-terminal\n"
		"  -d                  run in the background and print the id\n"
		"  --rm                delete the container when it ends\n"
		"  --device HOST[:DEST][:rwm]        give the container a host device node\n"
		"  --device VENDOR/CLASS=NAME        a CDI device (specs in /etc/cdi, /var/run/cdi, $KEEL_CDI_DIRS)\n"
		"  --device-cgroup-rule 'c 10:200 rwm'  allow more devices (no node is made)\n"
		"  --no-device-filter  no device filter (for rootless use; any reachable node opens)\n"
		"  --userns            a user namespace: the caller is root inside, its /etc/subuid and\n"
		"                      /etc/subgid range follows (the default when not root)\n"
		"  --no-userns         no user namespace (root only; the default for root)\n"
		"Not root, keel-run is rootless as podman run: a user namespace, state in\n"
		"$XDG_RUNTIME_DIR/keel, the cgroup under a cgroup2 directory delegated to the user or none\n"
		"(then no --memory, --pids, --cpus), no device filter, and no --net, -p, --masquerade,\n"
		"--device or --device-cgroup-rule.\n"
		"State goes to $KEEL_STATE_ROOT, or /run/keel (root), or $XDG_RUNTIME_DIR/keel.\n", prog, prog);
}

static int add_to(const char **list, int *n, const char *v)
{
	if (*n >= MAX_LIST) {
		fprintf(stderr, "%s: too many values for one option (at most %d)\n", prog, MAX_LIST);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

enum { O_ROOTFS = 256, O_LAYER, O_NAME, O_HOSTNAME, O_MEMORY, O_PIDS, O_CPUS, O_NET,
       O_CAP_ADD, O_CAP_DROP, O_SECCOMP, O_USER, O_READ_ONLY, O_RM, O_DNS, O_DNS_SEARCH, O_ADD_HOST,
       O_MASQUERADE, O_DEVICE, O_DEVICE_RULE, O_NO_DEVICE_FILTER, O_IMAGE, O_STORE,
       O_USERNS, O_NO_USERNS, O_STOP_SIGNAL };

static const struct option longopts[] = {
	{ "rootfs", 1, 0, O_ROOTFS }, { "layer", 1, 0, O_LAYER }, { "name", 1, 0, O_NAME },
	{ "hostname", 1, 0, O_HOSTNAME }, { "memory", 1, 0, O_MEMORY }, { "pids", 1, 0, O_PIDS },
	{ "cpus", 1, 0, O_CPUS }, { "net", 1, 0, O_NET }, { "cap-add", 1, 0, O_CAP_ADD },
	{ "cap-drop", 1, 0, O_CAP_DROP }, { "seccomp", 1, 0, O_SECCOMP }, { "user", 1, 0, O_USER },
	{ "read-only", 0, 0, O_READ_ONLY }, { "rm", 0, 0, O_RM }, { "help", 0, 0, 'h' },
	{ "dns", 1, 0, O_DNS }, { "dns-search", 1, 0, O_DNS_SEARCH }, { "add-host", 1, 0, O_ADD_HOST },
	{ "masquerade", 0, 0, O_MASQUERADE }, { "publish", 1, 0, 'p' },
	{ "device", 1, 0, O_DEVICE }, { "device-cgroup-rule", 1, 0, O_DEVICE_RULE },
	{ "no-device-filter", 0, 0, O_NO_DEVICE_FILTER },
	{ "image", 1, 0, O_IMAGE }, { "store", 1, 0, O_STORE },
	{ "userns", 0, 0, O_USERNS }, { "no-userns", 0, 0, O_NO_USERNS },
	{ "stop-signal", 1, 0, O_STOP_SIGNAL },
	{ 0, 0, 0, 0 }
};
#define SHORTOPTS "+v:e:p:tdh"

/* What one option does; -1 (with a message) when its value is wrong. */
static int take_option(struct options *o, int opt, const char *arg)
{
	const char *end;

	switch (opt) {
	case O_ROOTFS: o->rootfs = arg; break;
	case O_LAYER: return add_to(o->layers, &o->n_layers, arg);
	case O_IMAGE: o->image = arg; break;
	case O_STORE: o->store = arg; break;
	case O_NAME: o->name = arg; break;
	case O_HOSTNAME: o->hostname = arg; break;
	case O_NET: o->net = arg; break;
	case O_SECCOMP: o->seccomp = arg; break;
	case O_USER: o->user = arg; break;
	case O_READ_ONLY: o->read_only = 1; break;
	case O_RM: o->rm = 1; break;
	case O_NO_DEVICE_FILTER: o->no_device_filter = 1; break;
	case O_USERNS: o->userns = USERNS_ON; break;
	case O_NO_USERNS: o->userns = USERNS_OFF; break;
	case O_DEVICE: return add_to(o->devices, &o->n_devices, arg);
	case O_DEVICE_RULE: return add_to(o->device_rules, &o->n_device_rules, arg);
	case 't': o->tty = 1; break;
	case 'd': o->detach = 1; break;
	case 'v': return add_to(o->volumes, &o->n_volumes, arg);
	case 'e': return add_to(o->env, &o->n_env, arg);
	case 'p': return add_to(o->ports, &o->n_ports, arg);
	case O_DNS: return add_to(o->dns, &o->n_dns, arg);
	case O_DNS_SEARCH: return add_to(o->dns_search, &o->n_dns_search, arg);
	case O_ADD_HOST: return add_to(o->add_hosts, &o->n_add_hosts, arg);
	case O_MASQUERADE: o->masquerade = 1; break;
	case O_CAP_ADD: return add_to(o->cap_add, &o->n_cap_add, arg);
	case O_CAP_DROP: return add_to(o->cap_drop, &o->n_cap_drop, arg);
	case O_MEMORY:
		if (kx_parse_size(arg, &o->memory) < 0) {
			fprintf(stderr, "%s: --memory %s: not a size from 1 byte to 16 EiB (use 64m, 1g ...)\n", prog,
				arg);
			return -1;
		}
		break;
	case O_PIDS:
		o->pids = kx_to_u64(arg, &end);
		if (*end || end == arg || o->pids == 0) {
			fprintf(stderr, "%s: --pids %s: not a positive number\n", prog, arg);
			return -1;
		}
		break;
	case O_CPUS:
		o->cpu_quota = kx_parse_cpus(arg);
		if (!o->cpu_quota) {
			fprintf(stderr, "%s: --cpus %s: not a number of CPUs (0.01 to 1024)\n", prog, arg);
			return -1;
		}
		break;
	case O_STOP_SIGNAL:
		if ((o->stop_signal = kx_parse_signal(arg)) < 0) {
			fprintf(stderr, "%s: --stop-signal %s: not a signal (a name such as TERM, SIGUSR1 or "
				"SIGRTMIN+3, or a number from 1 to 64)\n", prog, arg);
			return -1;
		}
		break;
	case 'h': usage(stdout); exit(0);
	default: usage(stderr); return -1;
	}
	return 0;
}

/*
 * The common forms, read without getopt_long(): "--name VALUE",
 * "--name=VALUE" and "--flag" with a long option's full name, "-v VALUE",
 * "-vVALUE", "-td", up to the first operand or "--". These mean the same to
 * getopt_long(), whose code (with its error messages) is then not run, nor
 * mapped in. Returns the index of the first operand, or 0 at the first
 * argument it does not read exactly like getopt_long() would (an
 * abbreviation, an unknown option, a missing value), which means: start
 * over with getopt_long(). On -1 the option's value was wrong (said).
 */
static int parse_common(int argc, char **argv, struct options *o)
{
	const struct option *lo;
	const char *a, *eq, *val;
	int i, opt;
	size_t len;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' || !a[1])
			return i;
		if (!strcmp(a, "--"))
			return i + 1;
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			for (lo = longopts; lo->name; lo++)
				if (strlen(lo->name) == len && !strncmp(lo->name, a + 2, len))
					break;
			if (!lo->name || (lo->has_arg && !eq && i + 1 >= argc) || (!lo->has_arg && eq))
				return 0;
			val = !lo->has_arg ? NULL : eq ? eq + 1 : argv[++i];
			if (take_option(o, lo->val, val) < 0)
				return -1;
			continue;
		}
		for (a++; *a; a++) {
			opt = *a;
			if (opt == 'v' || opt == 'e' || opt == 'p') {
				if (!a[1] && i + 1 >= argc)
					return 0;
				if (take_option(o, opt, a[1] ? a + 1 : argv[++i]) < 0)
					return -1;
				break;
			}
			if (opt != 't' && opt != 'd' && opt != 'h')
				return 0;
			if (take_option(o, opt, NULL) < 0)
				return -1;
		}
	}
	return i;
}

static int parse_with_getopt(int argc, char **argv, struct options *o)
{
	int opt;

	while ((opt = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1)
		if (take_option(o, opt, optarg) < 0)
			return -1;
	return optind;
}

/* The image store's directory: --store, $KEEL_IMAGE_STORE, or NULL (the library's default). */
static const char *store_root(const struct options *o)
{
	const char *env = getenv("KEEL_IMAGE_STORE");

	return o->store ? o->store : env && *env ? env : NULL;
}

/*
 * Whether the first operand names an image of an existing store (then
 * `keel-run busybox echo hi` runs the image). A store that does not
 * exist is not made just to look: keel-run's old form (a command in the
 * default rootfs) stays what it was.
 */
static int image_known(const struct options *o, const char *ref)
{
	char path[PATH_MAX];
	const char *root = store_root(o);
	keel_image_store *s = NULL;
	keel_image *img = NULL;
	int ok;

	if (ref[0] == '/' || ref[0] == '.')
		return 0;
	snprintf(path, sizeof(path), "%s/names.json", root ? root : geteuid() == 0 ? "/var/lib/keel" : "");
	if ((!root && geteuid() != 0) || access(path, F_OK) < 0)
		return 0;
	ok = keel_image_store_open(&s, root, NULL) == 0 && keel_image_open(&img, s, ref, NULL) == 0;
	keel_image_free(img);
	keel_image_store_free(s);
	return ok;
}

/* Not root: what only root can do gets a clear refusal here, instead of
 * the EPERM of a netlink or mknod call deep in create. */
static int refuse_privileged(const struct options *o)
{
	const char *opt = o->net ? "--net" : o->n_ports ? "-p" : o->masquerade ? "--masquerade"
			: o->n_devices ? "--device" : o->n_device_rules ? "--device-cgroup-rule" : NULL;

	if (o->userns == USERNS_OFF) {
		fprintf(stderr, "%s: --no-userns needs root: without root, a container needs a user namespace\n", prog);
		return -1;
	}
	if (!opt)
		return 0;
	fprintf(stderr, "%s: %s needs root (not available rootless: %s)\n", prog, opt,
		o->net || o->n_ports || o->masquerade
			? "a rootless container has only lo, since wiring a host bridge, veth and nftables needs "
			  "CAP_NET_ADMIN on the host"
			: "device nodes and device filters (BPF programs) need CAP_MKNOD and CAP_BPF on the host");
	return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int first = parse_common(argc, argv, o);

	if (first < 0)
		return -1;
	if (first == 0) { /* the general case, from the start */
		memset(o, 0, sizeof(*o));
		first = parse_with_getopt(argc, argv, o);
		if (first < 0)
			return -1;
	}
	/* `keel-run busybox CMD`, but never `keel-run -- CMD`: after "--" comes a command. */
	if (!o->image && !o->rootfs && !o->n_layers && first < argc && strcmp(argv[first - 1], "--") &&
	    image_known(o, argv[first]))
		o->image = argv[first++];
	if (first >= argc && !o->image) {
		fprintf(stderr, "%s: no command given\n", prog);
		usage(stderr);
		return -1;
	}
	if (o->rootfs && !*o->rootfs) {
		fprintf(stderr, "%s: --rootfs: the directory is empty\n", prog);
		return -1;
	}
	if (o->image && (o->n_layers || o->rootfs)) {
		fprintf(stderr, "%s: --image excludes --rootfs and --layer (the image is the root filesystem)\n", prog);
		return -1;
	}
	if (o->n_layers && o->rootfs) {
		fprintf(stderr, "%s: --rootfs and --layer exclude each other (the layers are the image)\n", prog);
		return -1;
	}
	if (!o->image && !o->n_layers && !o->rootfs && !(o->rootfs = default_rootfs())) {
		fprintf(stderr, "%s: no image given: use --rootfs DIR (a root filesystem directory), "
			"--layer DIR (image layers, lowest first), --image REF (an image of the store) "
			"or set $KEEL_ROOTFS\n", prog);
		return -1;
	}
	if (o->seccomp && strcmp(o->seccomp, "default") && strcmp(o->seccomp, "none")) {
		fprintf(stderr, "%s: --seccomp %s: use default or none\n", prog, o->seccomp);
		return -1;
	}
	if (geteuid() != 0 && refuse_privileged(o) < 0)
		return -1;
	o->argv = argv + first;
	return 0;
}

/* An absolute path for a host path given on the command line; it is not
 * checked here, so a missing one is reported by libkeel in its own words. */
static const char *absolute(const char *path)
{
	static char bufs[MAX_LIST + 1][PATH_MAX * 2];
	static int next;
	char cwd[PATH_MAX], *buf;

	size_t n, m;

	if (path[0] == '/' || next > MAX_LIST || !getcwd(cwd, sizeof(cwd)))
		return path;
	buf = bufs[next++];
	/* "cwd/path", cut to the buffer as snprintf would (not with it: see
	 * kx_to_u64() in common.c) */
	n = strlen(cwd);
	memcpy(buf, cwd, n);
	buf[n++] = '/';
	m = strnlen(path, sizeof(bufs[0]) - 1 - n);
	memcpy(buf + n, path, m);
	buf[n + m] = '\0';
	return buf;
}

/* Docker's convention: the gateway is the first address of the subnet. */
static void gateway_for(const char *cidr, char *gw, size_t size)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr a;
	const char *slash = strchr(cidr, '/');
	int prefix = slash ? atoi(slash + 1) : 32;
	uint32_t host, mask;

	gw[0] = '\0';
	if (!slash || (size_t)(slash - cidr) >= sizeof(addr) || prefix < 1 || prefix > 30)
		return;
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		return;
	mask = htonl(~0u << (32 - prefix));
	host = ntohl((a.s_addr & mask)) + 1;
	if (htonl(host) == a.s_addr)
		return; /* the container is the gateway itself: no default route */
	a.s_addr = htonl(host);
	inet_ntop(AF_INET, &a, gw, (socklen_t)size);
}

static int configure_rootfs(keel_container *c, const struct options *o, keel_error **err)
{
	keel_rootfs *r = keel_container_rootfs(c);
	int i, ret = 0;

	for (i = 0; i < o->n_layers && ret == 0; i++)
		ret = keel_container_add_layer(c, absolute(o->layers[i]), err);
	if (!o->n_layers && !o->image)
		ret = keel_rootfs_set_directory(r, absolute(o->rootfs), err);
	if (ret == 0)
		ret = keel_rootfs_add_defaults(r, err);
	keel_rootfs_set_readonly(r, o->read_only);
	for (i = 0; i < o->n_volumes && ret == 0; i++) {
		char spec[PATH_MAX * 2], *dest, *mode;
		unsigned flags = 0;
		size_t len;

		len = strnlen(o->volumes[i], sizeof(spec) - 1);
		memcpy(spec, o->volumes[i], len);
		spec[len] = '\0';
		dest = strchr(spec, ':');
		if (!dest) {
			fprintf(stderr, "%s: -v %s: use HOST:DEST[:ro]\n", prog, o->volumes[i]);
			return -EINVAL;
		}
		*dest++ = '\0';
		mode = strchr(dest, ':');
		if (mode) {
			*mode++ = '\0';
			if (strcmp(mode, "ro") && strcmp(mode, "rw")) {
				fprintf(stderr, "%s: -v %s: the mode is ro or rw\n", prog, o->volumes[i]);
				return -EINVAL;
			}
			flags = strcmp(mode, "ro") ? 0 : KEEL_MOUNT_RDONLY;
		}
		ret = keel_rootfs_add_bind(r, absolute(spec), dest, flags | KEEL_MOUNT_RECURSIVE, err);
	}
	return ret;
}

/* The image's layers, command, Env, WorkingDir and User; what follows
 * (-e, --user) overrides them. */
static int apply_image(keel_container *c, const struct options *o, keel_error **err)
{
	keel_image_store *s = NULL;
	keel_image *img = NULL;
	int ret;

	if ((ret = keel_image_store_open(&s, store_root(o), err)) == 0 &&
	    (ret = keel_image_open(&img, s, o->image, err)) == 0)
		ret = keel_image_apply(s, img, c, (const char *const *)o->argv, err);
	keel_image_free(img);
	keel_image_store_free(s);
	return ret;
}

static int configure_process(keel_container *c, const struct options *o, keel_error **err)
{
	keel_process *p = keel_container_process(c);
	char *key, *value;
	int i, ret;

	if ((!o->image && (ret = keel_process_set_args(p, (const char *const *)o->argv, err)) < 0) ||
	    (ret = keel_process_clearenv(p, err)) < 0 ||
	    (ret = keel_process_setenv(p, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				       err)) < 0 ||
	    (ret = keel_process_setenv(p, "HOME", "/root", err)) < 0 ||
	    (ret = keel_process_set_cwd(p, "/", err)) < 0)
		return ret;
	if (o->image && (ret = apply_image(c, o, err)) < 0)
		return ret;
	if (o->tty && ((ret = keel_process_setenv(p, "TERM", getenv("TERM") ? getenv("TERM") : "xterm", err)) < 0 ||
		       (ret = keel_process_set_tty(p, 1, err)) < 0))
		return ret;
	/* -d: the output goes to the container's log (keel-logs reads it) */
	if (o->detach && !o->tty && (ret = keel_container_set_log(c, 0, err)) < 0)
		return ret;
	for (i = 0; i < o->n_env; i++) {
		key = strdup(o->env[i]);
		if (!key)
			return -ENOMEM;
		value = strchr(key, '=');
		if (value)
			*value++ = '\0';
		else
			value = getenv(key); /* -e KEY: take it from our environment, as docker does */
		ret = value ? keel_process_setenv(p, key, value, err) : 0;
		free(key);
		if (ret < 0)
			return ret;
	}
	if (o->user) {
		const char *why;
		uid_t uid;
		gid_t gid;

		if (kx_parse_ids(o->user, &uid, &gid, &why) < 0) {
			fprintf(stderr, "%s: --user %s: %s\n", prog, o->user, why);
			return -EINVAL;
		}
		ret = keel_process_set_user(p, uid, gid, err);
	}
	return ret;
}

static int configure_security(keel_container *c, const struct options *o, keel_error **err)
{
	keel_security *sec = keel_container_security(c);
	keel_seccomp *filter = NULL;
	int i, ret = 0;

	for (i = 0; i < o->n_cap_add && ret == 0; i++)
		ret = keel_security_cap_add(sec, o->cap_add[i], err);
	for (i = 0; i < o->n_cap_drop && ret == 0; i++)
		ret = keel_security_cap_drop(sec, o->cap_drop[i], err);
	/* like docker run, the default profile unless --seccomp none */
	if (ret == 0 && (!o->seccomp || !strcmp(o->seccomp, "default"))) {
		ret = keel_seccomp_new_default(&filter, err);
		if (ret == 0)
			ret = keel_security_set_seccomp(sec, filter, err);
		keel_seccomp_free(filter);
	}
	return ret;
}

/* -p, --dns, --dns-search, --add-host. */
static int configure_names(keel_container *c, const struct options *o, keel_error **err)
{
	char name[256];
	const char *colon;
	int i, ret = 0;

	for (i = 0; ret == 0 && i < o->n_ports; i++)
		ret = keel_container_add_port(c, o->ports[i], err);
	for (i = 0; ret == 0 && i < o->n_dns; i++)
		ret = keel_container_add_dns(c, o->dns[i], err);
	for (i = 0; ret == 0 && i < o->n_dns_search; i++)
		ret = keel_container_add_dns_search(c, o->dns_search[i], err);
	for (i = 0; ret == 0 && i < o->n_add_hosts; i++) {
		colon = strchr(o->add_hosts[i], ':');
		if (!colon || (size_t)(colon - o->add_hosts[i]) >= sizeof(name)) {
			fprintf(stderr, "%s: --add-host %s: use NAME:ADDR\n", prog, o->add_hosts[i]);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(colon - o->add_hosts[i]), o->add_hosts[i]);
		ret = keel_container_add_host(c, name, colon + 1, err);
	}
	return ret;
}

/* "HOST[:DEST][:ACCESS]", as docker run --device: a last part made only
 * of r, w and m is the access. */
static int add_host_device(keel_container *c, const char *arg, keel_error **err)
{
	char spec[PATH_MAX * 2], *dest = NULL, *access = NULL, *colon;
	size_t len = strnlen(arg, sizeof(spec) - 1);

	memcpy(spec, arg, len);
	spec[len] = '\0';
	if ((colon = strrchr(spec, ':')) && colon[1] && strspn(colon + 1, "rwm") == strlen(colon + 1)) {
		*colon = '\0';
		access = colon + 1;
	}
	if ((colon = strchr(spec, ':'))) {
		*colon = '\0';
		dest = colon + 1;
	}
	return keel_container_add_device(c, absolute(spec), dest && *dest ? dest : NULL, access, err);
}

/* The CDI registry, read once: $KEEL_CDI_DIRS (colon-separated) or the defaults. */
static int add_cdi_device(keel_container *c, const char *name, keel_cdi_registry **reg, keel_error **err)
{
	static char dirs_buf[PATH_MAX * 4];
	const char *dirs[17], *env = getenv("KEEL_CDI_DIRS");
	char *p;
	int n = 0, ret;

	if (!*reg) {
		if (env && *env) {
			snprintf(dirs_buf, sizeof(dirs_buf), "%s", env);
			for (p = strtok(dirs_buf, ":"); p && n < 16; p = strtok(NULL, ":"))
				dirs[n++] = p;
			dirs[n] = NULL;
		}
		if ((ret = keel_cdi_registry_new(reg, env && *env ? dirs : NULL, err)) < 0)
			return ret;
	}
	return keel_cdi_registry_apply(*reg, name, c, err);
}

static int configure_devices(keel_container *c, const struct options *o, keel_error **err)
{
	keel_cdi_registry *reg = NULL;
	int i, ret = 0;

	if (o->no_device_filter)
		ret = keel_container_set_device_filter(c, KEEL_DEVICES_UNFILTERED, err);
	for (i = 0; i < o->n_devices && ret == 0; i++)
		ret = o->devices[i][0] != '/' && strchr(o->devices[i], '=') ? add_cdi_device(c, o->devices[i], &reg, err)
									      : add_host_device(c, o->devices[i], err);
	for (i = 0; i < o->n_device_rules && ret == 0; i++)
		ret = keel_container_add_device_rule(c, o->device_rules[i], err);
	keel_cdi_registry_free(reg);
	return ret;
}

/*
 * The user namespace (not root, or --userns) and, not root, the cgroup
 * and device filter a rootless container can have: see rootless.c.
 */
static int configure_userns(keel_container *c, const struct options *o, keel_error **err)
{
	int ret;

	if (o->userns == USERNS_OFF || (o->userns == USERNS_AUTO && geteuid() == 0))
		return 0;
	if ((ret = kx_userns_configure(c, prog, err)) < 0 || geteuid() == 0)
		return ret;
	/* BPF device programs need CAP_BPF on the host: rootless has none. */
	if ((ret = keel_container_set_device_filter(c, KEEL_DEVICES_UNFILTERED, err)) < 0)
		return ret;
	if (kx_rootless_cgroup(c, prog, o->memory || o->pids || o->cpu_quota, err) < 0)
		return -EPERM;
	return 0;
}

static int configure(keel_container *c, const struct options *o, keel_error **err)
{
	char bridge[32], gw[INET_ADDRSTRLEN];
	const char *addr;
	int ret;

	if ((ret = configure_userns(c, o, err)) < 0 || (ret = configure_rootfs(c, o, err)) < 0 || (ret = configure_process(c, o, err)) < 0 ||
	    (ret = configure_security(c, o, err)) < 0 || (ret = configure_devices(c, o, err)) < 0)
		return ret;
	if ((ret = keel_container_set_hostname(c, o->hostname ? o->hostname : keel_container_id(c), err)) < 0)
		return ret;
	/* after configure_process(), which applied the image: ours wins over its StopSignal */
	if (o->stop_signal && (ret = keel_container_set_stop_signal(c, o->stop_signal, err)) < 0)
		return ret;
	if (o->memory && (ret = keel_container_set_memory_max(c, o->memory, err)) < 0)
		return ret;
	if (o->pids && (ret = keel_container_set_pids_max(c, o->pids, err)) < 0)
		return ret;
	if (o->cpu_quota && (ret = keel_container_set_cpu_max(c, o->cpu_quota, 100000, err)) < 0)
		return ret;
	if (o->net) {
		addr = strchr(o->net, ':');
		if (!addr || addr == o->net || (size_t)(addr - o->net) >= sizeof(bridge)) {
			fprintf(stderr, "%s: --net %s: use BRIDGE:ADDR/PREFIX\n", prog, o->net);
			return -EINVAL;
		}
		snprintf(bridge, sizeof(bridge), "%.*s", (int)(addr - o->net), o->net);
		gateway_for(++addr, gw, sizeof(gw));
		ret = keel_container_set_network(c, bridge, addr, gw[0] ? gw : NULL, err);
	}
	if (ret == 0 && o->masquerade)
		ret = keel_container_set_masquerade(c, 1, err);
	return ret < 0 ? ret : configure_names(c, o, err);
}

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig); /* async-signal-safe */
}

/* Create and start the container; on failure, returns the exit code. */
static int start(const struct options *o, const char *id, keel_container **out)
{
	keel_container *c = NULL;
	keel_error *err = NULL;

	if (keel_container_new(&c, id, kx_state_root(), &err) < 0)
		return kx_fail(prog, err);
	if (configure(c, o, &err) < 0 || keel_container_run(c, &err) < 0) {
		keel_container_free(c);
		return err ? kx_fail(prog, err) : EXIT_SETUP;
	}
	*out = c;
	return 0;
}

/* Wait for the container to end, delete it with --rm, give its status. */
static int finish(const struct options *o, keel_container *c)
{
	keel_error *err = NULL;
	int code = -1, sig = 0, status;

	if (keel_container_tty_fd(c) >= 0)
		kx_relay_tty(keel_container_tty_fd(c));
	if (keel_container_wait(c, 0, &code, &sig, &err) < 0) {
		status = kx_fail(prog, err);
		err = NULL;
	} else {
		status = kx_status(code, sig);
	}
	if (o->rm && keel_container_delete(c, KEEL_DELETE_FORCE, &err) < 0)
		kx_fail(prog, err);
	keel_container_free(c);
	return status;
}

static int run_foreground(const struct options *o, const char *id)
{
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	keel_container *c = NULL;
	int ret;

	ret = start(o, id, &c);
	if (ret)
		return ret;
	forward_to = keel_container_pid(c);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return finish(o, c);
}

/*
 * -d: a monitor process, in its own session, creates the container and
 * stays its parent, so that it can record the exit code (and honour --rm)
 * when the container ends. It reports to us over a pipe: "ok" then we print
 * the id; otherwise it writes the error as keel-run would and exits with
 * the code we then exit with.
 */
static int run_detached(const struct options *o, const char *id)
{
	keel_container *c = NULL;
	char buf[4096];
	int fds[2], devnull, status, ret;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("keel-run: pipe");
		return EXIT_SETUP;
	}
	pid = fork();
	if (pid < 0) {
		perror("keel-run: fork");
		return EXIT_SETUP;
	}
	if (pid == 0) {
		close(fds[0]);
		setsid();
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO); /* errors go to the waiting keel-run */
		ret = start(o, id, &c);
		if (ret)
			_exit(ret);
		if (write(fds[1], "ok\n", 3) != 3)
			_exit(EXIT_SETUP);
		dup2(devnull, STDERR_FILENO); /* now let keel-run go */
		close(fds[1]);
		_exit(finish(o, c) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while (len < sizeof(buf) - 1 && (n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	buf[len] = '\0';
	/* notes (rootless.c) may come before the "ok": they are passed on */
	if (len >= 3 && !strcmp(buf + len - 3, "ok\n") && (len == 3 || buf[len - 4] == '\n')) {
		fwrite(buf, 1, len - 3, stderr);
		printf("%s\n", id);
		return 0;
	}
	fputs(buf, stderr);
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		return WEXITSTATUS(status);
	return EXIT_SETUP;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	unsigned char rnd[6];
	char random_id[2 * sizeof(rnd) + 1];
	const char *id = NULL;
	size_t i;

	if (parse_options(argc, argv, &o) < 0 || kx_check_state_root(prog) < 0)
		return EXIT_SETUP;
	id = o.name;
	if (!id) { /* like Docker: a random hex id */
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			perror("keel-run: getrandom");
			return EXIT_SETUP;
		}
		for (i = 0; i < sizeof(rnd); i++) {
			random_id[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
			random_id[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
		}
		random_id[2 * sizeof(rnd)] = '\0';
		id = random_id;
	}
	return o.detach ? run_detached(&o, id) : run_foreground(&o, id);
}
