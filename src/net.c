/*
 * net: bridges, veth pairs, addresses and routes over rtnetlink (libnl-3).
 *
 * The central object is a keel_netns: one netlink socket that lives in one
 * network namespace. A netlink socket stays bound to the namespace in which
 * it was created, so we create it from a short-lived helper thread that
 * setns()es into the target namespace, connects, and exits. The caller's
 * thread never changes namespace (safe for Go and other multithreaded
 * callers), and every later request on the handle reaches the right
 * namespace from whichever thread makes it. The handle also keeps a dup of
 * the namespace fd: it pins the namespace and is what IFLA_NET_NS_FD needs
 * when a link is moved into it.
 *
 * Requests go straight to the kernel (rtnl_link_get_kernel and friends);
 * there is no long-lived libnl cache to go stale, and no global state.
 * libnl folds kernel errnos into its own NLE_* codes and loses some on the
 * way (ENETUNREACH becomes "failure"), so each socket has an error callback
 * that records the kernel's errno and its extended-ack text ("mtu less than
 * device minimum") for the error message.
 *
 * Every public function locks the handle: one nl_sock must not be used by
 * two threads at once.
 *
 * libnl is not linked: libkeel opens libnl-3 and libnl-route-3 with dlopen
 * the first time a keel_netns is opened (util/dl.h), so that a program that
 * never configures a network does not map them (keel-run: ~0.7 MiB of its
 * peak RSS). The functions used are listed once, in NL_FUNCTIONS, and
 * called through the table `nl` as nl.rtnl_link_alloc(); the compiler still
 * checks every call against libnl's own prototypes (typeof). `nl` is the
 * one piece of global state here: filled once under pthread_once, read-only
 * after. Every function that takes a keel_netns may use it without a
 * check, because a handle exists only once the load has succeeded. A
 * missing library is an error of the open call ("cannot load
 * libnl-route-3.so.200: ..."), never a crash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <netinet/ether.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "error.h"
#include "net.h"
#include "util/dl.h"
#include "util/syscall.h"

#define KEEL_IFNAME_MAX 15  /* IFNAMSIZ - 1 */

struct keel_netns {
	struct nl_sock *sk;
	int nsfd;                 /* our own dup, O_CLOEXEC */
	pthread_mutex_t lock;
	int kernel_errno;         /* last error the kernel sent on sk, 0 if none */
	char kernel_msg[160];     /* its extended-ack text, "" if none */
	char what[48];            /* "netns of pid 123", for messages */
};

/* ------------------------------------------------------- libnl, lazily --- */

#define NL3_SONAME "libnl-3.so.200"          /* the soname of every libnl 3.2+ */
#define ROUTE_SONAME "libnl-route-3.so.200"

/* Every libnl function this file calls, by the library that defines it. */
#define NL_FUNCTIONS(NL3, ROUTE) \
	NL3(nl_addr_build) NL3(nl_addr_get_binary_addr) NL3(nl_addr_get_len) \
	NL3(nl_addr_put) NL3(nl_addr_set_prefixlen) NL3(nl_cache_free) \
	NL3(nl_cache_get_first) NL3(nl_cache_get_next) NL3(nl_connect) NL3(nl_geterror) \
	NL3(nl_socket_alloc) NL3(nl_socket_free) NL3(nl_socket_get_fd) \
	NL3(nl_socket_modify_err_cb) \
	ROUTE(rtnl_addr_add) ROUTE(rtnl_addr_alloc) ROUTE(rtnl_addr_alloc_cache) \
	ROUTE(rtnl_addr_delete) ROUTE(rtnl_addr_get_family) ROUTE(rtnl_addr_get_ifindex) \
	ROUTE(rtnl_addr_get_local) ROUTE(rtnl_addr_get_prefixlen) ROUTE(rtnl_addr_put) \
	ROUTE(rtnl_addr_set_family) ROUTE(rtnl_addr_set_flags) ROUTE(rtnl_addr_set_ifindex) \
	ROUTE(rtnl_addr_set_local) ROUTE(rtnl_addr_set_prefixlen) ROUTE(rtnl_link_add) \
	ROUTE(rtnl_link_alloc) ROUTE(rtnl_link_change) ROUTE(rtnl_link_delete) \
	ROUTE(rtnl_link_get_addr) ROUTE(rtnl_link_get_flags) ROUTE(rtnl_link_get_ifindex) \
	ROUTE(rtnl_link_get_kernel) ROUTE(rtnl_link_get_mtu) ROUTE(rtnl_link_get_stat) \
	ROUTE(rtnl_link_get_type) ROUTE(rtnl_link_put) ROUTE(rtnl_link_set_addr) \
	ROUTE(rtnl_link_set_flags) ROUTE(rtnl_link_set_master) ROUTE(rtnl_link_set_mtu) \
	ROUTE(rtnl_link_set_name) ROUTE(rtnl_link_set_ns_fd) ROUTE(rtnl_link_set_type) \
	ROUTE(rtnl_link_unset_flags) ROUTE(rtnl_link_veth_alloc) \
	ROUTE(rtnl_link_veth_get_peer) ROUTE(rtnl_link_veth_release) ROUTE(rtnl_route_add) \
	ROUTE(rtnl_route_add_nexthop) ROUTE(rtnl_route_alloc) ROUTE(rtnl_route_delete) \
	ROUTE(rtnl_route_nh_alloc) ROUTE(rtnl_route_nh_set_gateway) \
	ROUTE(rtnl_route_nh_set_ifindex) ROUTE(rtnl_route_put) ROUTE(rtnl_route_set_dst) \
	ROUTE(rtnl_route_set_family) ROUTE(rtnl_route_set_protocol) \
	ROUTE(rtnl_route_set_scope) ROUTE(rtnl_route_set_table) ROUTE(rtnl_route_set_type)

/* The table: one pointer per function, of the function's own type. */
static struct nl_api {
#define NL_SLOT(f) typeof(&f) f;
	NL_FUNCTIONS(NL_SLOT, NL_SLOT)
#undef NL_SLOT
} nl;

#define NL_SYM(f) { #f, offsetof(struct nl_api, f) },
#define NL_SKIP(f)
static const struct keel_dl_sym nl3_syms[] = { NL_FUNCTIONS(NL_SYM, NL_SKIP) };
static const struct keel_dl_sym route_syms[] = { NL_FUNCTIONS(NL_SKIP, NL_SYM) };
#undef NL_SYM
#undef NL_SKIP

/* libnl-route-3 needs libnl-3: open it first, so a missing libnl-3 is
 * reported under its own name. */
KEEL_DL_ONCE(nl_lib, nl, { NL3_SONAME, nl3_syms, KEEL_DL_N_OF(nl3_syms) },
	     { ROUTE_SONAME, route_syms, KEEL_DL_N_OF(route_syms) })

/* Load libnl if this is the first use; what fails is "<what>: network: why". */
static int nl_ready(const char *what, keel_error **err)
{
	int status = nl_lib_ready();

	if (status < 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -status, "open %s: network: %s", what,
					nl_lib.why);
	return 0;
}

/* ------------------------------------------------------------ errors --- */

int keel_nl_errno(int nlerr)
{
	static const struct { int nle, err; } table[] = {
		{ NLE_EXIST, EEXIST },          { NLE_OBJ_NOTFOUND, ENOENT },
		{ NLE_NODEV, ENODEV },          { NLE_PERM, EPERM },
		{ NLE_INVAL, EINVAL },          { NLE_NOMEM, ENOMEM },
		{ NLE_BUSY, EBUSY },            { NLE_OPNOTSUPP, EOPNOTSUPP },
		{ NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_NOADDR, EADDRNOTAVAIL },
		{ NLE_RANGE, ERANGE },          { NLE_AGAIN, EAGAIN },
		{ NLE_INTR, EINTR },            { NLE_BAD_SOCK, EBADF },
		{ NLE_NOACCESS, EACCES },       { NLE_MSGSIZE, EMSGSIZE },
		{ NLE_MSG_TRUNC, EMSGSIZE },    { NLE_IMMUTABLE, EPERM },
		{ NLE_MISSING_ATTR, EINVAL },   { NLE_AF_MISMATCH, EAFNOSUPPORT },
		{ NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
		{ NLE_MSGTYPE_NOSUPPORT, EOPNOTSUPP },
	};
	size_t i;

	if (nlerr < 0)
		nlerr = -nlerr;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].nle == nlerr)
			return table[i].err;
	return EIO;
}

/*
 * Records what the kernel said about a failed request, before libnl turns
 * it into an NLE_* code. With NETLINK_EXT_ACK the error message carries
 * attributes after the (possibly capped) copy of our request; the one we
 * want is NLMSGERR_ATTR_MSG, the kernel's own explanation.
 */
static int record_kernel_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	keel_netns *ns = arg;
	struct nlmsghdr *hdr = (struct nlmsghdr *)e - 1;
	size_t off, end = hdr->nlmsg_len;

	(void)nla;
	ns->kernel_errno = -e->error;
	ns->kernel_msg[0] = '\0';
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*e));
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	while (off + sizeof(struct nlattr) <= end) {
		struct nlattr *a = (struct nlattr *)((char *)hdr + off);

		if (a->nla_len < sizeof(*a) || off + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			snprintf(ns->kernel_msg, sizeof(ns->kernel_msg), "%.*s",
				 (int)(a->nla_len - sizeof(*a)), (char *)(a + 1));
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return NL_STOP;
}

/*
 * Fail a request on ns: "<op> in <netns> (kernel: <text>): <strerror>".
 * nlerr is what libnl returned; the errno is the kernel's when it sent one.
 */
static int KEEL_PRINTF(4, 5) net_fail(keel_netns *ns, keel_error **err, int nlerr, const char *fmt, ...)
{
	char op[384], why[220] = "";
	int errnum = ns->kernel_errno ? ns->kernel_errno : keel_nl_errno(nlerr);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op, sizeof(op), fmt, ap);
	va_end(ap);
	if (ns->kernel_msg[0])
		snprintf(why, sizeof(why), " (kernel: %s)", ns->kernel_msg);
	else if (!ns->kernel_errno && errnum == EIO)
		snprintf(why, sizeof(why), " (libnl: %s)", nl.nl_geterror(nlerr));
	return keel_error_set(err, keel_error_code_for_errno(errnum), errnum, "%s in %s%s", op, ns->what, why);
}

static void begin(keel_netns *ns)
{
	pthread_mutex_lock(&ns->lock);
	ns->kernel_errno = 0;
	ns->kernel_msg[0] = '\0';
}

static int end(keel_netns *ns, int ret)
{
	pthread_mutex_unlock(&ns->lock);
	return ret;
}

/* --------------------------------------------------------- validation --- */

/* The kernel's dev_valid_name(), said in the user's words. */
static int check_name(const char *name, const char *op, keel_error **err)
{
	if (!name || !*name)
		return keel_error_invalid(err, "%s: link name is empty", op);
	if (strlen(name) > KEEL_IFNAME_MAX)
		return keel_error_invalid(err, "%s: link name '%s' is longer than %d characters (IFNAMSIZ)",
					  op, name, KEEL_IFNAME_MAX);
	if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n\r\v\f"))
		return keel_error_invalid(err, "%s: link name '%s' is not valid (no '/', ':', whitespace, '.' or '..')",
					  op, name);
	return 0;
}

static int check_handle(const keel_netns *ns, const char *op, keel_error **err)
{
	if (!ns)
		return keel_error_invalid(err, "%s: no network namespace handle (NULL)", op);
	return 0;
}

struct ip {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
	int len;                  /* 4 or 16 */
	int prefixlen;
};

/* Parse "10.0.0.2/24", "fd00::2/64" or, when with_prefix is 0, a bare
 * address. A missing prefix means a host prefix. */
static int parse_ip(const char *s, int with_prefix, struct ip *ip)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t n = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
	char *endp;
	long plen;

	if (!s || n == 0 || n >= sizeof(addr) || (slash && !with_prefix))
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, addr, ip->bytes) == 1) {
		ip->family = AF_INET;
		ip->len = 4;
	} else if (inet_pton(AF_INET6, addr, ip->bytes) == 1) {
		ip->family = AF_INET6;
		ip->len = 16;
	} else {
		return -EINVAL;
	}
	ip->prefixlen = ip->len * 8;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		plen = strtol(slash + 1, &endp, 10);
		if (errno || *endp || plen < 0 || plen > ip->len * 8)
			return -EINVAL;
		ip->prefixlen = (int)plen;
	}
	return 0;
}

static struct nl_addr *ip_to_nl(const struct ip *ip)
{
	struct nl_addr *a = nl.nl_addr_build(ip->family, ip->bytes, ip->len);

	if (a)
		nl.nl_addr_set_prefixlen(a, ip->prefixlen);
	return a;
}

static int bad_addr(keel_error **err, const char *op, const char *what, const char *s, const char *want)
{
	return keel_error_invalid(err, "%s: %s '%s' does not parse (want %s)", op, what, s ? s : "(null)", want);
}

/* -------------------------------------------------------------- open --- */

struct connect_job {
	int nsfd;
	struct nl_sock *sk;
	int setns_errno;
	int nlerr;
};

/* Runs in a throwaway thread: enter the namespace, create the socket there. */
static void *connect_in_netns(void *arg)
{
	struct connect_job *job = arg;

	if (setns(job->nsfd, CLONE_NEWNET) < 0) {
		job->setns_errno = errno;
		return NULL;
	}
	job->nlerr = nl.nl_connect(job->sk, NETLINK_ROUTE);
	return NULL;
}

static int connect_there(keel_netns *ns, int same_thread, keel_error **err)
{
	struct connect_job job = { .nsfd = ns->nsfd };
	sigset_t all, old;
	pthread_t t;
	int one = 1, r;

	ns->sk = nl.nl_socket_alloc();
	if (!ns->sk)
		return keel_error_sys(err, ENOMEM, "open %s: allocate netlink socket", ns->what);
	job.sk = ns->sk;
	if (same_thread) {
		job.nlerr = nl.nl_connect(ns->sk, NETLINK_ROUTE);
	} else {
		/* The helper must not run the caller's signal handlers while it
		 * sits in another namespace: it starts with all signals blocked. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&t, NULL, connect_in_netns, &job);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (r)
			return keel_error_sys(err, r, "open %s: start helper thread", ns->what);
		pthread_join(t, NULL);
		if (job.setns_errno)
			return keel_error_sys(err, job.setns_errno, "open %s: enter namespace", ns->what);
	}
	if (job.nlerr < 0) {
		int e = keel_nl_errno(job.nlerr);
		return keel_error_sys(err, e, "open %s: connect rtnetlink socket (libnl: %s)",
				      ns->what, nl.nl_geterror(job.nlerr));
	}
	/* Ask for the kernel's own explanation with each error (best effort). */
	setsockopt(nl.nl_socket_get_fd(ns->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	nl.nl_socket_modify_err_cb(ns->sk, NL_CB_CUSTOM, record_kernel_error, ns);
	return 0;
}

/* Take ownership of nsfd (already ours, CLOEXEC) and build the handle. */
static int netns_new(keel_netns **out, int nsfd, int same_thread, const char *what, keel_error **err)
{
	keel_netns *ns;
	int r, type;

	type = ioctl(nsfd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(nsfd);
		return keel_error_invalid(err, "open %s: not a network namespace", what);
	}
	if ((r = nl_ready(what, err)) < 0) {
		close(nsfd);
		return r;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns) {
		close(nsfd);
		return keel_error_sys(err, ENOMEM, "open %s", what);
	}
	ns->nsfd = nsfd;
	snprintf(ns->what, sizeof(ns->what), "%s", what);
	pthread_mutex_init(&ns->lock, NULL);
	r = connect_there(ns, same_thread, err);
	if (r < 0) {
		keel_netns_free(ns);
		return r;
	}
	*out = ns;
	return 0;
}

KEEL_PUBLIC int keel_netns_open_current(keel_netns **out, keel_error **err)
{
	int fd;

	if (!out)
		return keel_error_invalid(err, "open current netns: out is NULL");
	*out = NULL;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "open current netns: open /proc/thread-self/ns/net");
	/* Already in the namespace: connect from this thread, no helper. */
	return netns_new(out, fd, 1, "the caller's netns", err);
}

KEEL_PUBLIC int keel_netns_open_fd(keel_netns **out, int fd, keel_error **err)
{
	char what[48];
	int dup;

	snprintf(what, sizeof(what), "netns fd %d", fd);
	if (!out)
		return keel_error_invalid(err, "open %s: out is NULL", what);
	*out = NULL;
	if (fd < 0)
		return keel_error_sys(err, EBADF, "open %s", what);
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0)
		return keel_error_sys(err, errno, "open %s", what);
	return netns_new(out, dup, 0, what, err);
}

static int open_proc_netns(pid_t pid, const char *what, keel_error **err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ESRCH,
				      "open %s: the process is gone (no %s)", what, path);
	if (fd < 0)
		return keel_error_sys(err, errno, "open %s: open %s", what, path);
	return fd;
}

KEEL_PUBLIC int keel_netns_open_pid(keel_netns **out, pid_t pid, keel_error **err)
{
	char what[48];
	int fd;

	snprintf(what, sizeof(what), "netns of pid %d", (int)pid);
	if (!out)
		return keel_error_invalid(err, "open %s: out is NULL", what);
	*out = NULL;
	if (pid <= 0)
		return keel_error_invalid(err, "open %s: pid must be > 0", what);
	fd = open_proc_netns(pid, what, err);
	if (fd < 0)
		return fd;
	return netns_new(out, fd, 0, what, err);
}

/* The pid behind a pidfd, from /proc/self/fdinfo ("Pid: -1" once it exited). */
static int pidfd_pid(int pidfd, pid_t *pid)
{
	char path[64], line[128];
	FILE *f;
	int found = 0, v;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &v) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		return -EINVAL;
	if (v <= 0)
		return -ESRCH;
	*pid = v;
	return 0;
}

KEEL_PUBLIC int keel_netns_open_pidfd(keel_netns **out, int pidfd, keel_error **err)
{
	char what[48];
	pid_t pid = 0;
	int fd, r;

	snprintf(what, sizeof(what), "netns of pidfd %d", pidfd);
	if (!out)
		return keel_error_invalid(err, "open %s: out is NULL", what);
	*out = NULL;
	if (pidfd < 0)
		return keel_error_sys(err, EBADF, "open %s", what);
	r = pidfd_pid(pidfd, &pid);
	if (r == -ESRCH)
		return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ESRCH, "open %s: the process has exited", what);
	if (r == -EINVAL)
		return keel_error_invalid(err, "open %s: fd %d is not a pidfd", what, pidfd);
	if (r < 0)
		return keel_error_sys(err, -r, "open %s: read /proc/self/fdinfo/%d", what, pidfd);
	snprintf(what, sizeof(what), "netns of pid %d", (int)pid);
	fd = open_proc_netns(pid, what, err);
	if (fd < 0)
		return fd;
	/* The pid may have been recycled between the two steps: if the pidfd's
	 * process is still alive now, the namespace we opened is its own. */
	if (keel_sys_pidfd_send_signal(pidfd, 0, NULL, 0) < 0) {
		r = errno;
		close(fd);
		return keel_error_set(err, r == ESRCH ? KEEL_ERROR_NOT_FOUND : KEEL_ERROR_SYSTEM, r,
				      "open %s: the process has exited", what);
	}
	return netns_new(out, fd, 0, what, err);
}

KEEL_PUBLIC void keel_netns_free(keel_netns *ns)
{
	if (!ns)
		return;
	if (ns->sk)
		nl.nl_socket_free(ns->sk);  /* closes the socket */
	if (ns->nsfd >= 0)
		close(ns->nsfd);
	pthread_mutex_destroy(&ns->lock);
	free(ns);
}

/* -------------------------------------------------------------- links --- */

/* Fetch a link by name from the kernel; ENODEV, naming it, when absent.
 * The caller holds the lock and drops *out with rtnl_link_put(). */
static int link_get(keel_netns *ns, const char *name, const char *op, struct rtnl_link **out, keel_error **err)
{
	int r = nl.rtnl_link_get_kernel(ns->sk, 0, name, out);

	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
		return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENODEV, "%s: no link named %s in %s",
				      op, name, ns->what);
	if (r < 0)
		return net_fail(ns, err, r, "%s: look up link %s", op, name);
	return 0;
}

static int link_is_bridge(struct rtnl_link *link)
{
	const char *type = nl.rtnl_link_get_type(link);

	return type && !strcmp(type, "bridge");
}

/* Apply the attributes set in changes to the link called name. */
static int link_change(keel_netns *ns, const char *name, struct rtnl_link *changes, const char *op, keel_error **err)
{
	struct rtnl_link *link = NULL;
	int r;

	r = link_get(ns, name, op, &link, err);
	if (r < 0)
		return r;
	r = nl.rtnl_link_change(ns->sk, link, changes, 0);
	nl.rtnl_link_put(link);
	if (r < 0)
		return net_fail(ns, err, r, "%s", op);
	return 0;
}

static int exists_locked(keel_netns *ns, const char *name, const char *op, keel_error **err)
{
	struct rtnl_link *link = NULL;
	int r = nl.rtnl_link_get_kernel(ns->sk, 0, name, &link);

	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
		return 0;
	if (r < 0)
		return net_fail(ns, err, r, "%s: look up link %s", op, name);
	nl.rtnl_link_put(link);
	return 1;
}

static int link_exists_error(keel_netns *ns, const char *name, const char *op, keel_error **err)
{
	return keel_error_set(err, KEEL_ERROR_EXISTS, EEXIST, "%s: a link named %s exists already in %s",
			      op, name, ns->what);
}

KEEL_PUBLIC int keel_net_bridge_create(keel_netns *ns, const char *name, keel_error **err)
{
	char op[64];
	struct rtnl_link *link;
	int r;

	snprintf(op, sizeof(op), "create bridge %.20s", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	link = nl.rtnl_link_alloc();
	if (!link)
		return keel_error_sys(err, ENOMEM, "%s", op);
	nl.rtnl_link_set_name(link, name);
	r = nl.rtnl_link_set_type(link, "bridge");
	begin(ns);
	if (r >= 0)
		r = nl.rtnl_link_add(ns->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r == -NLE_EXIST)
		r = link_exists_error(ns, name, op, err);
	else if (r < 0)
		r = net_fail(ns, err, r, "%s", op);
	nl.rtnl_link_put(link);
	return end(ns, r);
}

/* Delete the link called name; with bridge_only, refuse anything else. */
static int delete_link(keel_netns *ns, const char *name, int bridge_only, keel_error **err)
{
	char op[64];
	struct rtnl_link *link = NULL;
	int r;

	snprintf(op, sizeof(op), "delete %s %.20s", bridge_only ? "bridge" : "link", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	begin(ns);
	r = link_get(ns, name, op, &link, err);
	if (r < 0)
		return end(ns, r);
	if (bridge_only && !link_is_bridge(link)) {
		r = keel_error_invalid(err, "%s: link %s in %s is a %s, not a bridge", op, name, ns->what,
				       nl.rtnl_link_get_type(link) ? nl.rtnl_link_get_type(link) : "device");
	} else {
		r = nl.rtnl_link_delete(ns->sk, link);
		if (r < 0)
			r = net_fail(ns, err, r, "%s", op);
	}
	nl.rtnl_link_put(link);
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_bridge_delete(keel_netns *ns, const char *name, keel_error **err)
{
	return delete_link(ns, name, 1, err);
}

KEEL_PUBLIC int keel_net_link_exists(keel_netns *ns, const char *name, keel_error **err)
{
	const char *op = "look up link";
	int r;

	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	begin(ns);
	return end(ns, exists_locked(ns, name, op, err));
}

KEEL_PUBLIC int keel_net_link_find(keel_netns *ns, const char *name, int *ifindex, keel_error **err)
{
	const char *op = "find link";
	struct rtnl_link *link = NULL;
	int r;

	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	if (!ifindex)
		return keel_error_invalid(err, "%s %s: ifindex is NULL", op, name);
	begin(ns);
	r = link_get(ns, name, op, &link, err);
	if (r == 0) {
		*ifindex = nl.rtnl_link_get_ifindex(link);
		nl.rtnl_link_put(link);
	}
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_link_delete(keel_netns *ns, const char *name, keel_error **err)
{
	return delete_link(ns, name, 0, err);
}

int keel_net_veth_release(keel_netns *host, const char *name, keel_error **err)
{
	keel_error *e = NULL;
	int r = keel_net_link_delete(host, name, &e);

	if (r == -ENODEV) {
		keel_error_free(e);
		return 0;
	}
	if (r < 0 && err)
		*err = e;
	else
		keel_error_free(e);
	return r;
}

/* Set or clear IFF_UP. */
static int set_updown(keel_netns *ns, const char *name, int up, keel_error **err)
{
	char op[64];
	struct rtnl_link *chg;
	int r;

	snprintf(op, sizeof(op), "bring link %.20s %s", name ? name : "", up ? "up" : "down");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	if (!(chg = nl.rtnl_link_alloc()))
		return keel_error_sys(err, ENOMEM, "%s", op);
	if (up)
		nl.rtnl_link_set_flags(chg, IFF_UP);
	else
		nl.rtnl_link_unset_flags(chg, IFF_UP);
	begin(ns);
	r = link_change(ns, name, chg, op, err);
	nl.rtnl_link_put(chg);
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_link_set_up(keel_netns *ns, const char *name, keel_error **err)
{
	return set_updown(ns, name, 1, err);
}

KEEL_PUBLIC int keel_net_link_set_down(keel_netns *ns, const char *name, keel_error **err)
{
	return set_updown(ns, name, 0, err);
}

KEEL_PUBLIC int keel_net_link_set_mtu(keel_netns *ns, const char *name, unsigned mtu, keel_error **err)
{
	char op[80];
	struct rtnl_link *chg;
	int r;

	snprintf(op, sizeof(op), "set MTU %u on link %.20s", mtu, name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	if (mtu == 0)
		return keel_error_invalid(err, "%s: MTU must be > 0", op);
	if (!(chg = nl.rtnl_link_alloc()))
		return keel_error_sys(err, ENOMEM, "%s", op);
	nl.rtnl_link_set_mtu(chg, mtu);
	begin(ns);
	r = link_change(ns, name, chg, op, err);
	nl.rtnl_link_put(chg);
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_link_set_mac(keel_netns *ns, const char *name, const char *mac, keel_error **err)
{
	char op[80];
	struct ether_addr ea;
	struct rtnl_link *chg;
	struct nl_addr *a;
	unsigned v[6];
	char tail;
	int r, i;

	snprintf(op, sizeof(op), "set MAC address of link %.20s", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	/* Exactly six two-digit hex groups: ether_aton() also takes "a:b:c:d:e:f". */
	if (!mac || strlen(mac) != 17 ||
	    sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return bad_addr(err, op, "MAC address", mac, "aa:bb:cc:dd:ee:ff");
	for (i = 0; i < 6; i++)
		ea.ether_addr_octet[i] = (unsigned char)v[i];
	if (ea.ether_addr_octet[0] & 1)
		return keel_error_invalid(err, "%s: %s is a multicast address (low bit of the first byte set)", op, mac);
	if (!(chg = nl.rtnl_link_alloc()))
		return keel_error_sys(err, ENOMEM, "%s", op);
	if (!(a = nl.nl_addr_build(AF_LLC, ea.ether_addr_octet, 6))) {
		nl.rtnl_link_put(chg);
		return keel_error_sys(err, ENOMEM, "%s", op);
	}
	nl.rtnl_link_set_addr(chg, a);
	nl.nl_addr_put(a);
	begin(ns);
	r = link_change(ns, name, chg, op, err);
	nl.rtnl_link_put(chg);
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_link_set_master(keel_netns *ns, const char *name, const char *bridge, keel_error **err)
{
	char op[80];
	struct rtnl_link *br = NULL, *chg;
	int r, master = 0;

	if (bridge)
		snprintf(op, sizeof(op), "attach link %.20s to bridge %.20s", name ? name : "", bridge);
	else
		snprintf(op, sizeof(op), "detach link %.20s from its bridge", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0 ||
	    (bridge && (r = check_name(bridge, op, err)) < 0))
		return r;
	if (!(chg = nl.rtnl_link_alloc()))
		return keel_error_sys(err, ENOMEM, "%s", op);
	begin(ns);
	if (bridge) {
		r = link_get(ns, bridge, op, &br, err);
		if (r < 0)
			goto out;
		if (!link_is_bridge(br)) {
			r = keel_error_invalid(err, "%s: link %s in %s is not a bridge", op, bridge, ns->what);
			goto out;
		}
		master = nl.rtnl_link_get_ifindex(br);
	}
	nl.rtnl_link_set_master(chg, master);
	r = link_change(ns, name, chg, op, err);
out:
	if (br)
		nl.rtnl_link_put(br);
	nl.rtnl_link_put(chg);
	return end(ns, r);
}

/* "kv" or "kp" and 8 random hex digits: 10 characters, unique enough that
 * a clash (which veth_create retries) is rare. */
static void gen_name(char *buf, size_t size, const char *prefix)
{
	unsigned int v = 0;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (unsigned)ts.tv_nsec ^ ((unsigned)gettid() << 16) ^ (unsigned)ts.tv_sec;
	}
	snprintf(buf, size, "%s%08x", prefix, v);
}

/*
 * Create a veth pair in ns. With peer_ns (another namespace), the peer is
 * created there directly, as `ip link add ... peer name eth0 netns X` does:
 * moving a link between namespaces afterwards waits for an RCU grace
 * period in the kernel (tens of milliseconds), creating it in place does not.
 */
static int veth_create(keel_netns *ns, const char *name, keel_netns *peer_ns, const char *peer_name,
		       char **name_out, char **peer_out, const char *op, keel_error **err)
{
	char n1[IFNAMSIZ], n2[IFNAMSIZ];
	struct rtnl_link *link = NULL, *peer;
	int r = 0, tries;

	if (name && peer_name && !strcmp(name, peer_name) && !peer_ns)
		return keel_error_invalid(err, "%s: both ends have the same name", op);
	begin(ns);
	for (tries = 0; tries < 8; tries++) {
		if (name)
			snprintf(n1, sizeof(n1), "%s", name);
		else
			gen_name(n1, sizeof(n1), "kv");
		if (peer_name)
			snprintf(n2, sizeof(n2), "%s", peer_name);
		else
			gen_name(n2, sizeof(n2), "kp");
		if (!(link = nl.rtnl_link_veth_alloc())) {
			r = keel_error_sys(err, ENOMEM, "%s", op);
			break;
		}
		nl.rtnl_link_set_name(link, n1);
		/* libnl >= 3.2.28 hands out a reference to the peer: drop it. */
		peer = nl.rtnl_link_veth_get_peer(link);
		nl.rtnl_link_set_name(peer, n2);
		if (peer_ns)
			nl.rtnl_link_set_ns_fd(peer, peer_ns->nsfd);
		nl.rtnl_link_put(peer);
		r = nl.rtnl_link_add(ns->sk, link, NLM_F_CREATE | NLM_F_EXCL);
		nl.rtnl_link_veth_release(link);
		link = NULL;
		if (r != -NLE_EXIST)
			break;
		/* A clash: retry only if a generated name was the culprit. A
		 * peer made in another namespace always has its name given. */
		if ((name || exists_locked(ns, n1, op, NULL) != 1) &&
		    (peer_name || exists_locked(ns, n2, op, NULL) != 1))
			break;
	}
	if (r == -NLE_EXIST) {
		if (exists_locked(ns, n1, op, NULL) == 1 || !peer_ns)
			r = link_exists_error(ns, exists_locked(ns, n1, op, NULL) == 1 ? n1 : n2, op, err);
		else
			r = link_exists_error(peer_ns, n2, op, err);
	} else if (r < 0 && r != -ENOMEM) {
		r = net_fail(ns, err, r, "%s", op);
	}
	if (r == 0 && name_out && !(*name_out = strdup(n1)))
		r = -ENOMEM;
	if (r == 0 && peer_out && !(*peer_out = strdup(n2)))
		r = -ENOMEM;
	if (r == -ENOMEM && !(err && *err)) {
		/* Could not report the names: do not leave an unknown pair behind. */
		struct rtnl_link *l = NULL;

		if (nl.rtnl_link_get_kernel(ns->sk, 0, n1, &l) == 0) {
			nl.rtnl_link_delete(ns->sk, l);
			nl.rtnl_link_put(l);
		}
		if (name_out) {
			free(*name_out);
			*name_out = NULL;
		}
		r = keel_error_sys(err, ENOMEM, "%s", op);
	}
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_veth_create(keel_netns *ns, const char *name, const char *peer_name,
				     char **name_out, char **peer_out, keel_error **err)
{
	char op[80];
	int r;

	snprintf(op, sizeof(op), "create veth pair %.20s/%.20s", name ? name : "(generated)",
		 peer_name ? peer_name : "(generated)");
	if ((r = check_handle(ns, op, err)) < 0 || (name && (r = check_name(name, op, err)) < 0) ||
	    (peer_name && (r = check_name(peer_name, op, err)) < 0))
		return r;
	return veth_create(ns, name, NULL, peer_name, name_out, peer_out, op, err);
}

KEEL_PUBLIC int keel_net_link_move(keel_netns *ns, const char *name, keel_netns *target,
				   const char *new_name, keel_error **err)
{
	char op[128];
	struct rtnl_link *chg;
	int r;

	if (!new_name)
		new_name = "eth0";
	snprintf(op, sizeof(op), "move link %.20s to %s as %.20s", name ? name : "",
		 target ? target->what : "(null)", new_name);
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_handle(target, op, err)) < 0 ||
	    (r = check_name(name, op, err)) < 0 || (r = check_name(new_name, op, err)) < 0)
		return r;
	/* The kernel moves first and renames after: a name clash in the
	 * target would leave the link moved under its old name. Check first. */
	if (target != ns) {
		begin(target);
		r = exists_locked(target, new_name, op, err);
		if (r == 1)
			r = link_exists_error(target, new_name, op, err);
		end(target, 0);
		if (r < 0)
			return r;
	}
	if (!(chg = nl.rtnl_link_alloc()))
		return keel_error_sys(err, ENOMEM, "%s", op);
	nl.rtnl_link_set_ns_fd(chg, target->nsfd);
	nl.rtnl_link_set_name(chg, new_name);
	begin(ns);
	r = link_change(ns, name, chg, op, err);
	if (r == -EEXIST)
		r = link_exists_error(target, new_name, op, err);
	nl.rtnl_link_put(chg);
	return end(ns, r);
}

/* ---------------------------------------------------------- addresses --- */

static int addr_op(keel_netns *ns, const char *name, const char *cidr, int add, keel_error **err)
{
	char op[128];
	struct rtnl_link *link = NULL;
	struct rtnl_addr *a = NULL;
	struct nl_addr *local = NULL;
	struct ip ip;
	int r;

	snprintf(op, sizeof(op), "%s address %.50s %s link %.20s", add ? "add" : "delete",
		 cidr ? cidr : "(null)", add ? "to" : "from", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	if (parse_ip(cidr, 1, &ip) < 0)
		return bad_addr(err, op, "address", cidr, "10.0.0.2/24 or fd00::2/64");
	if (!(a = nl.rtnl_addr_alloc()) || !(local = ip_to_nl(&ip))) {
		r = keel_error_sys(err, ENOMEM, "%s", op);
		goto out_free;
	}
	begin(ns);
	r = link_get(ns, name, op, &link, err);
	if (r < 0)
		goto out;
	nl.rtnl_addr_set_ifindex(a, nl.rtnl_link_get_ifindex(link));
	nl.rtnl_addr_set_family(a, ip.family);
	nl.rtnl_addr_set_local(a, local);
	nl.rtnl_addr_set_prefixlen(a, ip.prefixlen);
	if (add) {
		/* Usable at once, as a container expects of its own interface. */
		if (ip.family == AF_INET6)
			nl.rtnl_addr_set_flags(a, IFA_F_NODAD);
		r = nl.rtnl_addr_add(ns->sk, a, NLM_F_EXCL);
	} else {
		r = nl.rtnl_addr_delete(ns->sk, a, 0);
	}
	if (r == -NLE_EXIST)
		r = keel_error_set(err, KEEL_ERROR_EXISTS, EEXIST, "%s: link %s has address %s already in %s",
				   op, name, cidr, ns->what);
	else if (!add && r < 0 && (ns->kernel_errno == EADDRNOTAVAIL || r == -NLE_NOADDR))
		r = keel_error_set(err, KEEL_ERROR_NOT_FOUND, EADDRNOTAVAIL, "%s: link %s has no address %s in %s",
				   op, name, cidr, ns->what);
	else if (r < 0)
		r = net_fail(ns, err, r, "%s", op);
out:
	end(ns, 0);
	if (link)
		nl.rtnl_link_put(link);
out_free:
	if (local)
		nl.nl_addr_put(local);
	if (a)
		nl.rtnl_addr_put(a);
	return r;
}

KEEL_PUBLIC int keel_net_addr_add(keel_netns *ns, const char *name, const char *cidr, keel_error **err)
{
	return addr_op(ns, name, cidr, 1, err);
}

KEEL_PUBLIC int keel_net_addr_del(keel_netns *ns, const char *name, const char *cidr, keel_error **err)
{
	return addr_op(ns, name, cidr, 0, err);
}

KEEL_PUBLIC void keel_net_strv_free(char **strv)
{
	char **p;

	if (!strv)
		return;
	for (p = strv; *p; p++)
		free(*p);
	free(strv);
}

KEEL_PUBLIC int keel_net_addr_list(keel_netns *ns, const char *name, char ***out, keel_error **err)
{
	char op[64], buf[INET6_ADDRSTRLEN + 8], text[INET6_ADDRSTRLEN];
	struct rtnl_link *link = NULL;
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	char **v = NULL, **nv;
	size_t n = 0;
	int r, ifindex;

	snprintf(op, sizeof(op), "list addresses of link %.20s", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	if (!out)
		return keel_error_invalid(err, "%s: out is NULL", op);
	*out = NULL;
	begin(ns);
	r = link_get(ns, name, op, &link, err);
	if (r < 0)
		return end(ns, r);
	ifindex = nl.rtnl_link_get_ifindex(link);
	nl.rtnl_link_put(link);
	r = nl.rtnl_addr_alloc_cache(ns->sk, &cache);
	if (r < 0) {
		r = net_fail(ns, err, r, "%s", op);
		return end(ns, r);
	}
	if (!(v = calloc(1, sizeof(*v))))
		goto nomem;
	for (obj = nl.nl_cache_get_first(cache); obj; obj = nl.nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj;
		struct nl_addr *local = nl.rtnl_addr_get_local(a);
		int fam = nl.rtnl_addr_get_family(a);

		if (nl.rtnl_addr_get_ifindex(a) != ifindex || !local || (fam != AF_INET && fam != AF_INET6))
			continue;
		if (!inet_ntop(fam, nl.nl_addr_get_binary_addr(local), text, sizeof(text)))
			continue;
		snprintf(buf, sizeof(buf), "%s/%d", text, nl.rtnl_addr_get_prefixlen(a));
		if (!(nv = realloc(v, (n + 2) * sizeof(*v))))
			goto nomem;
		v = nv;
		if (!(v[n] = strdup(buf)))
			goto nomem;
		v[++n] = NULL;
	}
	nl.nl_cache_free(cache);
	*out = v;
	return end(ns, 0);
nomem:
	nl.nl_cache_free(cache);
	keel_net_strv_free(v);
	return end(ns, keel_error_sys(err, ENOMEM, "%s", op));
}

/* ------------------------------------------------------------- routes --- */

static int route_op(keel_netns *ns, const char *dst, const char *gateway, const char *ifname,
		    int add, keel_error **err)
{
	char op[160];
	struct rtnl_route *route = NULL;
	struct rtnl_nexthop *nh = NULL;
	struct rtnl_link *link = NULL;
	struct nl_addr *d = NULL, *g = NULL;
	struct ip dip, gip;
	int r, is_default;

	snprintf(op, sizeof(op), "%s route %.50s%s%.50s%s%.20s", add ? "add" : "delete",
		 dst ? dst : "(null)", gateway ? " via " : "", gateway ? gateway : "",
		 ifname ? " dev " : "", ifname ? ifname : "");
	if ((r = check_handle(ns, op, err)) < 0 || (ifname && (r = check_name(ifname, op, err)) < 0))
		return r;
	if (gateway && parse_ip(gateway, 0, &gip) < 0)
		return bad_addr(err, op, "gateway", gateway, "an address such as 10.0.0.1 or fd00::1");
	is_default = dst && !strcmp(dst, "default");
	if (is_default) {
		memset(&dip, 0, sizeof(dip));
		dip.family = gateway ? gip.family : AF_INET;
		dip.len = dip.family == AF_INET ? 4 : 16;
		dip.prefixlen = 0;
	} else if (parse_ip(dst, 1, &dip) < 0) {
		return bad_addr(err, op, "destination", dst, "\"default\" or a prefix such as 10.1.0.0/16");
	}
	if (gateway && gip.family != dip.family)
		return keel_error_invalid(err, "%s: destination and gateway are of different families", op);
	if (add && !gateway && !ifname)
		return keel_error_invalid(err, "%s: give a gateway, a link, or both", op);
	if (!(route = nl.rtnl_route_alloc()) || !(d = ip_to_nl(&dip)) || (gateway && !(g = ip_to_nl(&gip)))) {
		r = keel_error_sys(err, ENOMEM, "%s", op);
		goto out_free;
	}
	begin(ns);
	nl.rtnl_route_set_family(route, (uint8_t)dip.family);
	nl.rtnl_route_set_table(route, RT_TABLE_MAIN);
	nl.rtnl_route_set_type(route, RTN_UNICAST);
	if ((r = nl.rtnl_route_set_dst(route, d)) < 0) {
		r = net_fail(ns, err, r, "%s", op);
		goto out;
	}
	if (add) {
		nl.rtnl_route_set_protocol(route, RTPROT_BOOT);
		nl.rtnl_route_set_scope(route, gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	} else {
		nl.rtnl_route_set_protocol(route, RTPROT_UNSPEC);
		nl.rtnl_route_set_scope(route, RT_SCOPE_NOWHERE);  /* match any scope */
	}
	if (ifname || g) {
		if (ifname && (r = link_get(ns, ifname, op, &link, err)) < 0)
			goto out;
		if (!(nh = nl.rtnl_route_nh_alloc())) {
			r = keel_error_sys(err, ENOMEM, "%s", op);
			goto out;
		}
		if (link)
			nl.rtnl_route_nh_set_ifindex(nh, nl.rtnl_link_get_ifindex(link));
		if (g)
			nl.rtnl_route_nh_set_gateway(nh, g);
		nl.rtnl_route_add_nexthop(route, nh);  /* the route owns nh now */
	}
	r = add ? nl.rtnl_route_add(ns->sk, route, NLM_F_EXCL) : nl.rtnl_route_delete(ns->sk, route, 0);
	if (r == -NLE_EXIST)
		r = keel_error_set(err, KEEL_ERROR_EXISTS, EEXIST, "%s: the route exists already in %s", op, ns->what);
	else if (!add && r == -NLE_OBJ_NOTFOUND)
		r = keel_error_set(err, KEEL_ERROR_NOT_FOUND, ESRCH, "%s: no such route in %s", op, ns->what);
	else if (r < 0)
		r = net_fail(ns, err, r, "%s", op);
out:
	end(ns, 0);
	if (link)
		nl.rtnl_link_put(link);
out_free:
	if (d)
		nl.nl_addr_put(d);
	if (g)
		nl.nl_addr_put(g);
	if (route)
		nl.rtnl_route_put(route);
	return r;
}

KEEL_PUBLIC int keel_net_route_add(keel_netns *ns, const char *dst, const char *gateway,
				   const char *ifname, keel_error **err)
{
	return route_op(ns, dst, gateway, ifname, 1, err);
}

KEEL_PUBLIC int keel_net_route_del(keel_netns *ns, const char *dst, const char *gateway,
				   const char *ifname, keel_error **err)
{
	return route_op(ns, dst, gateway, ifname, 0, err);
}

/* ---------------------------------------------------------- read-back --- */

KEEL_PUBLIC int keel_net_link_state(keel_netns *ns, const char *name, int *up, int *running,
				    unsigned *mtu, char **mac, keel_error **err)
{
	char op[64];
	struct rtnl_link *link = NULL;
	struct nl_addr *a;
	unsigned flags;
	int r;

	snprintf(op, sizeof(op), "read state of link %.20s", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	begin(ns);
	r = link_get(ns, name, op, &link, err);
	if (r < 0)
		return end(ns, r);
	flags = nl.rtnl_link_get_flags(link);
	if (up)
		*up = !!(flags & IFF_UP);
	/*
	 * Carrier is IFF_LOWER_UP: what the driver set, at once (a veth turns
	 * it on for both ends when the second one comes up). Not IFF_RUNNING:
	 * that is the RFC 2863 operstate, which the kernel's deferred linkwatch
	 * work recomputes later; until it has run, a new veth whose peer is
	 * down has operstate "unknown" and reads as running (seen on 6.1).
	 */
	if (running)
		*running = (flags & IFF_UP) && (flags & IFF_LOWER_UP);
	if (mtu)
		*mtu = nl.rtnl_link_get_mtu(link);
	if (mac) {
		char buf[18] = "";
		const unsigned char *b;

		a = nl.rtnl_link_get_addr(link);
		if (a && nl.nl_addr_get_len(a) == 6) {
			b = nl.nl_addr_get_binary_addr(a);
			snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
				 b[0], b[1], b[2], b[3], b[4], b[5]);
		}
		if (!(*mac = strdup(buf)))
			r = keel_error_sys(err, ENOMEM, "%s", op);
	}
	nl.rtnl_link_put(link);
	return end(ns, r);
}

KEEL_PUBLIC int keel_net_link_stats(keel_netns *ns, const char *name, uint64_t *rx_bytes,
				    uint64_t *tx_bytes, uint64_t *rx_packets, uint64_t *tx_packets,
				    keel_error **err)
{
	char op[64];
	struct rtnl_link *link = NULL;
	int r;

	snprintf(op, sizeof(op), "read counters of link %.20s", name ? name : "");
	if ((r = check_handle(ns, op, err)) < 0 || (r = check_name(name, op, err)) < 0)
		return r;
	begin(ns);
	r = link_get(ns, name, op, &link, err);
	if (r < 0)
		return end(ns, r);
	if (rx_bytes)
		*rx_bytes = nl.rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
	if (tx_bytes)
		*tx_bytes = nl.rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
	if (rx_packets)
		*rx_packets = nl.rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
	if (tx_packets)
		*tx_packets = nl.rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
	nl.rtnl_link_put(link);
	return end(ns, 0);
}

/* ---------------------------------------------------------- composite --- */

KEEL_PUBLIC int keel_net_attach_veth(keel_netns *host, const char *host_name, const char *bridge,
				     keel_netns *target, const char *peer_name, const char *cidr,
				     const char *gateway, char **host_name_out, keel_error **err)
{
	const char *op = "attach veth";
	char *hname = NULL;
	struct ip ip;
	int r;

	if (!peer_name)
		peer_name = "eth0";
	/* Check everything we can before creating anything. */
	if ((r = check_handle(host, op, err)) < 0 || (r = check_handle(target, op, err)) < 0 ||
	    (host_name && (r = check_name(host_name, op, err)) < 0) ||
	    (bridge && (r = check_name(bridge, op, err)) < 0) || (r = check_name(peer_name, op, err)) < 0)
		return r;
	if (cidr && parse_ip(cidr, 1, &ip) < 0)
		return bad_addr(err, op, "address", cidr, "10.0.0.2/24 or fd00::2/64");
	if (gateway && parse_ip(gateway, 0, &ip) < 0)
		return bad_addr(err, op, "gateway", gateway, "an address such as 10.0.0.1");
	if (host_name_out)
		*host_name_out = NULL;

	/* The peer is born in the target namespace under its final name. */
	if (target != host) {
		begin(target);
		r = exists_locked(target, peer_name, op, err);
		if (r == 1)
			r = link_exists_error(target, peer_name, op, err);
		end(target, 0);
		if (r < 0)
			return keel_error_wrap(err, r, "%s", op);
	}
	r = veth_create(host, host_name, target == host ? NULL : target, peer_name, &hname, NULL,
			"create veth pair", err);
	if (r < 0)
		return keel_error_wrap(err, r, "%s", op);
	if (bridge && (r = keel_net_link_set_master(host, hname, bridge, err)) < 0)
		goto fail;
	if ((r = keel_net_link_set_up(host, hname, err)) < 0 ||
	    (r = keel_net_link_set_up(target, "lo", err)) < 0 ||
	    (r = keel_net_link_set_up(target, peer_name, err)) < 0 ||
	    (cidr && (r = keel_net_addr_add(target, peer_name, cidr, err)) < 0) ||
	    (gateway && (r = keel_net_route_add(target, "default", gateway, peer_name, err)) < 0))
		goto fail;
	if (host_name_out)
		*host_name_out = hname;
	else
		free(hname);
	return 0;
fail:
	/* Deleting the host end takes the peer with it, wherever it is now. */
	keel_net_link_delete(host, hname, NULL);
	r = keel_error_wrap(err, r, "%s %s", op, hname);
	free(hname);
	return r;
}
