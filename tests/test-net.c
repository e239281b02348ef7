/*
 * net suite: bridges, veth pairs, addresses, routes and traffic, each test
 * in network namespaces of its own.
 *
 * A test namespace is held by a forked child that unshare()s CLONE_NEWNET
 * and sleeps; it dies (and the kernel destroys the namespace with every
 * link in it) when the harness kills the child at cleanup. The "host" side,
 * bridge included, always lives in such a namespace: nothing here touches
 * the root network namespace, and traffic only goes to addresses inside
 * the test's own namespaces.
 *
 * Kernel state is read back independently of the library, from a forked
 * child that setns()es into the namespace: ioctl(SIOCGIF*), getifaddrs(),
 * /proc/net/route, a freshly mounted sysfs, real UDP and busybox ping.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "net.h"
#include "harness.h"
#include "host-probe.h"

/* ------------------------------------------------------------ helpers --- */

/* A new network namespace, held by a sleeping child; returns an fd to it
 * (closed at cleanup) and the holder's pid (killed at cleanup). */
static int make_netns(pid_t *holder)
{
	char path[64], c;
	int p[2], fd;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	kt_defer_kill(pid);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	kt_defer_close(fd);
	if (holder)
		*holder = pid;
	return fd;
}

static void free_ns(void *p)
{
	keel_netns_free(p);
}

static keel_netns *open_ns(int fd)
{
	keel_netns *ns = NULL;
	keel_error *err = NULL;
	int r = keel_netns_open_fd(&ns, fd, &err);

	ck_assert_msg(r == 0, "keel_netns_open_fd: %s", keel_error_message(err));
	kt_defer_fn(free_ns, ns);
	return ns;
}

/* Assert a call succeeded, showing the library's message when not. */
#define OK(call)                                                              \
	do {                                                                  \
		keel_error *e_ = NULL;                                        \
		int r_ = (call);                                              \
		ck_assert_msg(r_ == 0, "%s: %d %s", #call, r_, keel_error_message(e_)); \
		(void)e_;                                                     \
	} while (0)

/* Assert a call failed with -errnum and a message containing text. */
static void expect_fail(int r, keel_error **errp, int errnum, const char *text)
{
	keel_error *err = *errp;

	ck_assert_msg(r == -errnum, "expected -%d (%s), got %d: %s", errnum, strerror(errnum), r,
		      keel_error_message(err));
	ck_assert_int_eq(keel_error_errno(err), errnum);
	if (getenv("KEEL_TEST_SHOW_ERRORS"))
		fprintf(stderr, "%s\n", keel_error_message(err));
	ck_assert_msg(strstr(keel_error_message(err), text), "message '%s' lacks '%s'",
		      keel_error_message(err), text);
	keel_error_free(err);
	*errp = NULL;
}

/* Run fn(arg) in a forked child inside the namespace nsfd; its exit code. */
static int in_netns(int nsfd, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(120);
		_exit(fn(arg));
	}
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int child_ifindex(void *name)
{
	return (int)if_nametoindex(name) > 0 ? 0 : 1;
}

/* 1 when a link of that name exists in the namespace, by the kernel's word. */
static int link_in(int nsfd, const char *name)
{
	return in_netns(nsfd, child_ifindex, (void *)name) == 0;
}

struct ifq {
	const char *name;
	unsigned mtu;        /* expected, 0: do not check */
	const char *mac;     /* expected, NULL: do not check */
	int up;              /* expected IFF_UP, -1: do not check */
	const char *master;  /* expected bridge, NULL: do not check */
};

/* Read a link back with ioctl() and a private sysfs; exit codes say what
 * differed. */
static int child_check_link(void *arg)
{
	struct ifq *q = arg;
	struct ifreq ifr;
	char path[128], target[256], mac[18];
	const unsigned char *b;
	ssize_t n;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return 2;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", q->name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return 3;
	if (q->up >= 0 && !!(ifr.ifr_flags & IFF_UP) != q->up)
		return 4;
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0 || (q->mtu && (unsigned)ifr.ifr_mtu != q->mtu))
		return 5;
	if (q->mac) {
		if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
			return 6;
		b = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
		if (strcmp(mac, q->mac))
			return 7;
	}
	if (q->master) {
		/* sysfs shows the namespace of whoever mounted it: mount our own. */
		if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
			return 8;
		snprintf(path, sizeof(path), "/sys/class/net/%s/master", q->name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return 9;
		target[n] = '\0';
		if (!strrchr(target, '/') || strcmp(strrchr(target, '/') + 1, q->master))
			return 10;
	}
	return 0;
}

/*
 * The link's carrier by the kernel's word through another door than
 * netlink: the ETHTOOL_GLINK ioctl (netif_carrier_ok() for a veth).
 * Exit code: 0 no carrier, 1 carrier, 2+ the ioctl failed.
 */
static int child_carrier(void *name)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GLINK };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return 2;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", (const char *)name);
	ifr.ifr_data = (char *)&ev;
	if (ioctl(s, SIOCETHTOOL, &ifr) < 0)
		return 3;
	return ev.data ? 1 : 0;
}

/* Whether the link has the address (as "a.b.c.d/len"), via getifaddrs(). */
struct addrq {
	const char *name;
	const char *cidr;
};

static int prefixlen_of(const struct sockaddr *mask)
{
	const unsigned char *b;
	int len, i, n = 0;

	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		len = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		len = 16;
	}
	for (i = 0; i < len * 8; i++)
		n += (b[i / 8] >> (7 - i % 8)) & 1;
	return n;
}

static int child_has_addr(void *arg)
{
	struct addrq *q = arg;
	struct ifaddrs *ifa, *i;
	char text[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 16];
	const void *a;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return 2;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, q->name))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		else
			continue;
		inet_ntop(i->ifa_addr->sa_family, a, text, sizeof(text));
		snprintf(buf, sizeof(buf), "%s/%d", text, prefixlen_of(i->ifa_netmask));
		if (!strcmp(buf, q->cidr))
			found = 1;
	}
	freeifaddrs(ifa);
	return found ? 0 : 1;
}

static int has_addr(int nsfd, const char *name, const char *cidr)
{
	struct addrq q = { name, cidr };

	return in_netns(nsfd, child_has_addr, &q) == 0;
}

/* A UDP datagram to ourselves on 127.0.0.1: 0 when it comes back. */
static int child_udp_loopback(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	socklen_t len = sizeof(sa);
	char buf[16];
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	(void)arg;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0)
		return 2;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 3;
	if (getsockname(s, (struct sockaddr *)&sa, &len) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return 4;
	if (sendto(s, "keel", 4, 0, (struct sockaddr *)&sa, sizeof(sa)) != 4)
		return 5;
	if (recv(s, buf, sizeof(buf), 0) != 4 || memcmp(buf, "keel", 4))
		return 6;
	return 0;
}

/* busybox ping from the test rootfs, run inside the namespace. */
static int ping_from(int nsfd, const char *addr)
{
	char busybox[4096];
	int status, devnull;
	pid_t pid;

	snprintf(busybox, sizeof(busybox), "%s/bin/busybox", kt_rootfs());
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(120);
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execl(busybox, "ping", "-c", "2", "-W", "10", addr, (char *)NULL);
		_exit(121);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct routeq {
	const char *dst_hex, *gw_hex, *mask_hex;  /* as in /proc/net/route */
	const char *dev;
};

/* Whether /proc/net/route (of the namespace we are in) has the route. */
static int child_has_route(void *arg)
{
	struct routeq *q = arg;
	char line[512], dev[32], dst[16], gw[16], flags[16], refc[16], use[16], metric[16], mask[16];
	FILE *f = fopen("/proc/self/net/route", "re");
	int found = 0;

	if (!f)
		return 2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s %15s %15s %15s %15s %15s %15s %15s", dev, dst, gw, flags, refc, use,
			   metric, mask) == 8 &&
		    !strcmp(dev, q->dev) && !strcmp(dst, q->dst_hex) && !strcmp(gw, q->gw_hex) &&
		    !strcmp(mask, q->mask_hex))
			found = 1;
	fclose(f);
	return found ? 0 : 1;
}

static int has_route(int nsfd, const char *dev, const char *dst, const char *gw, const char *mask)
{
	struct routeq q = { dst, gw, mask, dev };

	return in_netns(nsfd, child_has_route, &q) == 0;
}

static ino_t ns_inode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* -------------------------------------------------------------- tests --- */

START_TEST(open_by_fd_pid_pidfd_reach_the_same_namespace)
{
	ino_t before = ns_inode("/proc/thread-self/ns/net");
	keel_netns *a = NULL, *b = NULL, *c = NULL;
	const char *br = kt_name("br");
	int fd, pidfd, idx_a = 0, idx_b = 0;
	pid_t holder;

	fd = make_netns(&holder);
	OK(keel_netns_open_fd(&a, fd, &e_));
	kt_defer_fn(free_ns, a);
	OK(keel_netns_open_pid(&b, holder, &e_));
	kt_defer_fn(free_ns, b);
	pidfd = (int)syscall(SYS_pidfd_open, holder, 0);
	ck_assert_int_ge(pidfd, 0);
	kt_defer_close(pidfd);
	OK(keel_netns_open_pidfd(&c, pidfd, &e_));
	kt_defer_fn(free_ns, c);

	/* Made through one handle, seen by the others and by the kernel. */
	OK(keel_net_bridge_create(c, br, &e_));
	ck_assert(link_in(fd, br));
	ck_assert(!link_in(fd, "nosuchlink0"));
	OK(keel_net_link_find(a, br, &idx_a, &e_));
	OK(keel_net_link_find(b, br, &idx_b, &e_));
	ck_assert_int_gt(idx_a, 0);
	ck_assert_int_eq(idx_a, idx_b);
	/* The caller's thread never left its namespace, and the bridge is
	 * not in it. */
	ck_assert_int_eq(ns_inode("/proc/thread-self/ns/net"), before);
	ck_assert_int_eq(if_nametoindex(br), 0);
}
END_TEST

/* keel_netns_open_current() in a child that has its own namespace. */
static int child_open_current(void *arg)
{
	keel_netns *ns = NULL;
	const char *br = arg;
	int r;

	if (unshare(CLONE_NEWNET) < 0)
		return 2;
	if (keel_netns_open_current(&ns, NULL) < 0)
		return 3;
	r = keel_net_bridge_create(ns, br, NULL);
	keel_netns_free(ns);
	if (r < 0)
		return 4;
	return if_nametoindex(br) > 0 ? 0 : 5;
}

START_TEST(open_current_uses_the_callers_namespace)
{
	const char *br = kt_name("br");
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_open_current((void *)br));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	ck_assert_int_eq(if_nametoindex(br), 0);
}
END_TEST

struct thread_open {
	int fd;
	int ret;
	keel_netns *ns;
};

static void *open_from_thread(void *arg)
{
	struct thread_open *t = arg;

	t->ret = keel_netns_open_fd(&t->ns, t->fd, NULL);
	return NULL;
}

START_TEST(handle_made_in_one_thread_works_in_another)
{
	struct thread_open t = { .fd = -1 };
	const char *br = kt_name("br");
	pthread_t th;

	t.fd = make_netns(NULL);
	ck_assert_int_eq(pthread_create(&th, NULL, open_from_thread, &t), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(t.ret, 0);
	kt_defer_fn(free_ns, t.ns);
	OK(keel_net_bridge_create(t.ns, br, &e_));
	ck_assert(link_in(t.fd, br));
	ck_assert_int_eq(if_nametoindex(br), 0);
}
END_TEST

START_TEST(open_reports_gone_and_wrong_namespaces)
{
	keel_netns *ns = NULL;
	keel_error *err = NULL;
	int status, pidfd, fd;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ck_assert_int_ge(pidfd, 0);
	kt_defer_close(pidfd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);

	expect_fail(keel_netns_open_pid(&ns, pid, &err), &err, ESRCH, "gone");
	ck_assert_ptr_null(ns);
	err = NULL;
	expect_fail(keel_netns_open_pidfd(&ns, pidfd, &err), &err, ESRCH, "exited");
	err = NULL;
	fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	kt_defer_close(fd);
	expect_fail(keel_netns_open_fd(&ns, fd, &err), &err, EINVAL, "not a network namespace");
	err = NULL;
	expect_fail(keel_netns_open_fd(&ns, -1, &err), &err, EBADF, "netns fd -1");
	err = NULL;
	expect_fail(keel_netns_open_pidfd(&ns, fd, &err), &err, EINVAL, "not a pidfd");
	keel_netns_free(NULL);
}
END_TEST

/* ------------------------------------------------- libnl at first use --- */

struct load_job {
	const char *empty;   /* an empty file, to hide libnl-3 under */
	int hide;            /* hide libnl-3 before the first network call */
	int msg;             /* pipe: what the child saw */
};

/* Say what went wrong on the pipe and return a distinct exit code. */
static int __attribute__((format(printf, 3, 4))) load_fail(struct load_job *j, int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(j->msg, buf, strlen(buf)) < 0) { /* the exit code still says it */ }
	return code;
}

/*
 * In a fresh child: libnl is not mapped until the first keel_netns is
 * opened. With hide, libnl-3's file is covered by an empty one in a private
 * mount namespace first (nothing outside this child sees it), and the open
 * must fail with the clear error, twice the same, with libnl-route-3 never
 * mapped; without, it must succeed and map libnl-route-3.
 */
static int child_first_open(void *arg)
{
	struct load_job *j = arg;
	char lib[4096], *slash;
	keel_netns *ns = NULL;
	keel_error *err = NULL;
	Dl_info libc;
	int i, r;

	if (kt_mapped("libnl-") != 0)
		return load_fail(j, 2, "libnl is mapped before any network call");
	if (j->hide) {
		/* libnl-3 sits next to libc in Debian's multiarch directory. */
		if (!dladdr((void *)getpid, &libc) || !libc.dli_fname || !(slash = strrchr(libc.dli_fname, '/')))
			return load_fail(j, 3, "cannot find libc's directory");
		snprintf(lib, sizeof(lib), "%.*s/libnl-3.so.200", (int)(slash - libc.dli_fname), libc.dli_fname);
		if (access(lib, F_OK) < 0)
			return load_fail(j, 3, "%s: %s", lib, strerror(errno));
		if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(j->empty, lib, NULL, MS_BIND, NULL) < 0)
			return load_fail(j, 4, "hide %s: %s", lib, strerror(errno));
		for (i = 0; i < 2; i++) {
			r = keel_netns_open_current(&ns, &err);
			if (r != -ELIBACC || keel_error_code(err) != KEEL_ERROR_UNSUPPORTED || ns ||
			    !strstr(keel_error_message(err), "network: cannot load libnl-3.so.200: "))
				return load_fail(j, 5, "open #%d: %d (code %d): %s", i + 1, r, keel_error_code(err),
						 keel_error_message(err));
			if (getenv("KEEL_TEST_SHOW_ERRORS"))
				fprintf(stderr, "%s\n", keel_error_message(err));
			keel_error_free(err);
			err = NULL;
		}
		if (kt_mapped("libnl-") != 0)
			return load_fail(j, 6, "libnl is mapped after the failed load");
		return 0;
	}
	r = keel_netns_open_current(&ns, &err);
	if (r < 0)
		return load_fail(j, 7, "open: %s", keel_error_message(err));
	keel_netns_free(ns);
	if (kt_mapped("libnl-route-3.so") != 1 || kt_mapped("libnl-3.so") != 1)
		return load_fail(j, 8, "libnl-3 and libnl-route-3 are not mapped after an open");
	return 0;
}

static void run_first_open(int hide)
{
	char path[4096], msg[512] = "";
	struct load_job j = { .empty = path, .hide = hide };
	int p[2], status, fd;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/empty", kt_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	j.msg = p[1];
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_first_open(&j));
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x: %s", status, msg);
}

START_TEST(libnl_is_loaded_at_the_first_open)
{
	run_first_open(0);
}
END_TEST

START_TEST(missing_libnl_is_a_clear_error)
{
	run_first_open(1);
}
END_TEST

START_TEST(bridge_create_find_delete)
{
	const char *br = kt_name("br"), *vx = kt_name("vx");
	keel_error *err = NULL;
	keel_netns *ns;
	int fd, idx = 0;
	struct ifq q = { .name = br, .up = 1 };

	fd = make_netns(NULL);
	ns = open_ns(fd);
	ck_assert_int_eq(keel_net_link_exists(ns, br, NULL), 0);
	OK(keel_net_bridge_create(ns, br, &e_));
	ck_assert_int_eq(keel_net_link_exists(ns, br, NULL), 1);
	OK(keel_net_link_find(ns, br, &idx, &e_));
	ck_assert(link_in(fd, br));

	/* Address and up, read back by the kernel. */
	OK(keel_net_addr_add(ns, br, "10.66.0.1/24", &e_));
	OK(keel_net_link_set_up(ns, br, &e_));
	ck_assert_int_eq(in_netns(fd, child_check_link, &q), 0);
	ck_assert(has_addr(fd, br, "10.66.0.1/24"));

	expect_fail(keel_net_bridge_create(ns, br, &err), &err, EEXIST, br);
	err = NULL;
	expect_fail(keel_net_bridge_create(ns, "a-name-far-too-long", &err), &err, EINVAL,
		    "link name 'a-name-far-too-long' is longer than 15 characters (IFNAMSIZ)");
	err = NULL;
	expect_fail(keel_net_bridge_create(ns, "bad/name", &err), &err, EINVAL, "bad/name");
	err = NULL;
	expect_fail(keel_net_bridge_create(ns, "", &err), &err, EINVAL, "empty");

	/* bridge_delete refuses a link that is not a bridge. */
	OK(keel_net_veth_create(ns, vx, NULL, NULL, NULL, &e_));
	err = NULL;
	expect_fail(keel_net_bridge_delete(ns, vx, &err), &err, EINVAL, "not a bridge");
	ck_assert(link_in(fd, vx));

	OK(keel_net_bridge_delete(ns, br, &e_));
	ck_assert(!link_in(fd, br));
	err = NULL;
	expect_fail(keel_net_bridge_delete(ns, br, &err), &err, ENODEV, br);
	OK(keel_net_link_delete(ns, vx, &e_));
	ck_assert(!link_in(fd, vx));
	err = NULL;
	expect_fail(keel_net_link_find(ns, vx, &idx, &err), &err, ENODEV, vx);
}
END_TEST

START_TEST(veth_names_mtu_mac_master_read_back)
{
	const char *br = kt_name("br"), *v1 = kt_name("v"), *v2 = kt_name("p");
	char *g1 = NULL, *g2 = NULL, *mac = NULL;
	keel_error *err = NULL;
	keel_netns *ns;
	unsigned mtu = 0;
	int fd, up = -1, running = -1;
	struct ifq q = { .name = v1, .mtu = 1400, .mac = "02:00:5e:10:20:30", .up = 1, .master = br };

	fd = make_netns(NULL);
	ns = open_ns(fd);
	OK(keel_net_bridge_create(ns, br, &e_));
	OK(keel_net_veth_create(ns, v1, v2, NULL, NULL, &e_));
	ck_assert(link_in(fd, v1) && link_in(fd, v2));
	OK(keel_net_link_set_mtu(ns, v1, 1400, &e_));
	OK(keel_net_link_set_mac(ns, v1, "02:00:5E:10:20:30", &e_));
	OK(keel_net_link_set_master(ns, v1, br, &e_));
	OK(keel_net_link_set_up(ns, v1, &e_));
	ck_assert_int_eq(in_netns(fd, child_check_link, &q), 0);

	/* The library's read-back agrees with the kernel's. */
	OK(keel_net_link_state(ns, v1, &up, &running, &mtu, &mac, &e_));
	ck_assert_int_eq(up, 1);
	/* the peer is still down: no carrier, by the library and by ethtool */
	ck_assert_int_eq(running, 0);
	ck_assert_int_eq(in_netns(fd, child_carrier, (void *)v1), 0);
	ck_assert_uint_eq(mtu, 1400);
	ck_assert_str_eq(mac, "02:00:5e:10:20:30");
	free(mac);
	OK(keel_net_link_set_up(ns, v2, &e_));
	OK(keel_net_link_state(ns, v1, NULL, &running, NULL, NULL, &e_));
	ck_assert_int_eq(running, 1);
	ck_assert_int_eq(in_netns(fd, child_carrier, (void *)v1), 1);
	OK(keel_net_link_set_down(ns, v1, &e_));
	q.up = 0;
	q.mac = NULL;
	q.master = NULL;
	ck_assert_int_eq(in_netns(fd, child_check_link, &q), 0);

	/* Generated names: unique "kv"/"kp" ones that exist. */
	OK(keel_net_veth_create(ns, NULL, NULL, &g1, &g2, &e_));
	ck_assert(!strncmp(g1, "kv", 2) && !strncmp(g2, "kp", 2) && strcmp(g1, g2));
	ck_assert(link_in(fd, g1) && link_in(fd, g2));
	ck_assert_int_eq(if_nametoindex(g1), 0);
	free(g1);
	free(g2);

	expect_fail(keel_net_veth_create(ns, v1, "free0", NULL, NULL, &err), &err, EEXIST, v1);
	ck_assert(!link_in(fd, "free0"));
	err = NULL;
	expect_fail(keel_net_veth_create(ns, "free0", v2, NULL, NULL, &err), &err, EEXIST, v2);
	err = NULL;
	expect_fail(keel_net_link_set_mac(ns, v1, "02:00:5e:10:20", &err), &err, EINVAL, "does not parse");
	err = NULL;
	expect_fail(keel_net_link_set_mac(ns, v1, "zz:00:5e:10:20:30", &err), &err, EINVAL, "does not parse");
	err = NULL;
	expect_fail(keel_net_link_set_mac(ns, v1, "01:00:5e:10:20:30", &err), &err, EINVAL, "multicast");
	err = NULL;
	expect_fail(keel_net_link_set_mtu(ns, v1, 10, &err), &err, EINVAL, v1);
	err = NULL;
	expect_fail(keel_net_link_set_master(ns, v1, v2, &err), &err, EINVAL, "not a bridge");
	err = NULL;
	expect_fail(keel_net_link_set_up(ns, "nosuch0", &err), &err, ENODEV, "no link named nosuch0");
	OK(keel_net_link_set_master(ns, v1, NULL, &e_));
}
END_TEST

START_TEST(addresses_add_list_delete)
{
	const char *v = kt_name("v");
	keel_error *err = NULL;
	keel_netns *ns;
	char **list = NULL;
	int fd, i, seen4 = 0, seen6 = 0;

	fd = make_netns(NULL);
	ns = open_ns(fd);
	OK(keel_net_veth_create(ns, v, NULL, NULL, NULL, &e_));
	OK(keel_net_addr_add(ns, v, "10.67.0.2/24", &e_));
	OK(keel_net_addr_add(ns, v, "fd00:67::2/64", &e_));
	OK(keel_net_addr_add(ns, v, "10.67.1.9", &e_));
	ck_assert(has_addr(fd, v, "10.67.0.2/24"));
	ck_assert(has_addr(fd, v, "fd00:67::2/64"));
	ck_assert(has_addr(fd, v, "10.67.1.9/32"));

	OK(keel_net_addr_list(ns, v, &list, &e_));
	for (i = 0; list[i]; i++) {
		seen4 += !strcmp(list[i], "10.67.0.2/24");
		seen6 += !strcmp(list[i], "fd00:67::2/64");
	}
	ck_assert_int_eq(seen4, 1);
	ck_assert_int_eq(seen6, 1);
	keel_net_strv_free(list);

	expect_fail(keel_net_addr_add(ns, v, "10.67.0.2/24", &err), &err, EEXIST, "10.67.0.2/24");
	err = NULL;
	expect_fail(keel_net_addr_add(ns, v, "10.67.0.300/24", &err), &err, EINVAL,
		    "address '10.67.0.300/24' does not parse");
	err = NULL;
	expect_fail(keel_net_addr_add(ns, v, "10.67.0.3/33", &err), &err, EINVAL, "does not parse");
	err = NULL;
	expect_fail(keel_net_addr_add(ns, v, "fd00::1/", &err), &err, EINVAL, "does not parse");
	err = NULL;
	expect_fail(keel_net_addr_add(ns, "nosuch0", "10.1.1.1/8", &err), &err, ENODEV, "nosuch0");

	OK(keel_net_addr_del(ns, v, "10.67.0.2/24", &e_));
	OK(keel_net_addr_del(ns, v, "fd00:67::2/64", &e_));
	ck_assert(!has_addr(fd, v, "10.67.0.2/24"));
	ck_assert(!has_addr(fd, v, "fd00:67::2/64"));
	ck_assert(has_addr(fd, v, "10.67.1.9/32"));
	err = NULL;
	expect_fail(keel_net_addr_del(ns, v, "10.67.0.2/24", &err), &err, EADDRNOTAVAIL, "no address 10.67.0.2/24");
}
END_TEST

START_TEST(loopback_only_namespace_has_working_127_0_0_1)
{
	keel_netns *ns;
	int fd, up = 0;

	fd = make_netns(NULL);
	ns = open_ns(fd);
	/* A new namespace's lo is down: nothing reaches 127.0.0.1. */
	ck_assert_int_ne(in_netns(fd, child_udp_loopback, NULL), 0);
	OK(keel_net_link_set_up(ns, "lo", &e_));
	OK(keel_net_link_state(ns, "lo", &up, NULL, NULL, NULL, &e_));
	ck_assert_int_eq(up, 1);
	ck_assert_int_eq(in_netns(fd, child_udp_loopback, NULL), 0);
}
END_TEST

START_TEST(two_namespaces_on_one_bridge_ping_each_other)
{
	const char *br = kt_name("br");
	keel_netns *host, *a, *b;
	char *va = NULL, *vb = NULL;
	uint64_t rxb0, txb0, rxp0, txp0, rxb1, txb1, rxp1, txp1;
	int hfd, afd, bfd;
	struct ifq qa = { .up = 1, .master = br };

	hfd = make_netns(NULL);
	afd = make_netns(NULL);
	bfd = make_netns(NULL);
	host = open_ns(hfd);
	a = open_ns(afd);
	b = open_ns(bfd);
	OK(keel_net_bridge_create(host, br, &e_));
	OK(keel_net_link_set_up(host, br, &e_));
	OK(keel_net_attach_veth(host, NULL, br, a, NULL, "10.68.0.2/24", NULL, &va, &e_));
	OK(keel_net_attach_veth(host, NULL, br, b, "net1", "10.68.0.3/24", NULL, &vb, &e_));

	/* Host ends on the bridge and up; peers moved and renamed. */
	qa.name = va;
	ck_assert_int_eq(in_netns(hfd, child_check_link, &qa), 0);
	qa.name = vb;
	ck_assert_int_eq(in_netns(hfd, child_check_link, &qa), 0);
	ck_assert(link_in(afd, "eth0") && link_in(bfd, "net1"));
	ck_assert(has_addr(afd, "eth0", "10.68.0.2/24"));
	ck_assert(has_addr(bfd, "net1", "10.68.0.3/24"));
	ck_assert_int_eq(if_nametoindex(va), 0);

	OK(keel_net_link_stats(a, "eth0", &rxb0, &txb0, &rxp0, &txp0, &e_));
	ck_assert_int_eq(ping_from(afd, "10.68.0.3"), 0);
	ck_assert_int_eq(ping_from(bfd, "10.68.0.2"), 0);
	/* Counters rose: at least two echo requests out, two replies in. */
	OK(keel_net_link_stats(a, "eth0", &rxb1, &txb1, &rxp1, &txp1, &e_));
	ck_assert_uint_ge(txp1, txp0 + 2);
	ck_assert_uint_ge(rxp1, rxp0 + 2);
	ck_assert_uint_ge(txb1, txb0 + 2 * 84);
	ck_assert_uint_ge(rxb1, rxb0 + 2 * 84);

	/* Deleting the host end takes the container end with it. */
	OK(keel_net_link_delete(host, va, &e_));
	OK(keel_net_veth_release(host, vb, &e_));
	OK(keel_net_veth_release(host, vb, &e_));  /* already gone is fine */
	ck_assert(!link_in(hfd, va) && !link_in(hfd, vb));
	ck_assert(!link_in(afd, "eth0") && !link_in(bfd, "net1"));
	free(va);
	free(vb);
}
END_TEST

START_TEST(container_with_veth_reaches_the_host_end)
{
	const char *br = kt_name("br");
	keel_netns *host, *ctr = NULL;
	keel_error *err = NULL;
	char *veth = NULL;
	pid_t holder;
	int hfd, cfd;

	hfd = make_netns(NULL);
	cfd = make_netns(&holder);
	host = open_ns(hfd);
	OK(keel_net_bridge_create(host, br, &e_));
	OK(keel_net_addr_add(host, br, "10.69.0.1/24", &e_));
	OK(keel_net_link_set_up(host, br, &e_));
	/* As the container does it: the child's namespace by pid. */
	OK(keel_netns_open_pid(&ctr, holder, &e_));
	kt_defer_fn(free_ns, ctr);
	OK(keel_net_attach_veth(host, NULL, br, ctr, NULL, "10.69.0.2/24", "10.69.0.1", &veth, &e_));

	/* Default route via 10.69.0.1 on eth0 (little-endian hex in /proc). */
	ck_assert(has_route(cfd, "eth0", "00000000", "0100450A", "00000000"));
	ck_assert_int_eq(ping_from(cfd, "10.69.0.1"), 0);

	/* Other routes come and go. */
	OK(keel_net_route_add(ctr, "10.70.0.0/16", "10.69.0.1", NULL, &e_));
	ck_assert(has_route(cfd, "eth0", "0000460A", "0100450A", "0000FFFF"));
	expect_fail(keel_net_route_add(ctr, "10.70.0.0/16", "10.69.0.1", NULL, &err), &err, EEXIST, "10.70.0.0/16");
	OK(keel_net_route_del(ctr, "10.70.0.0/16", NULL, NULL, &e_));
	ck_assert(!has_route(cfd, "eth0", "0000460A", "0100450A", "0000FFFF"));
	err = NULL;
	expect_fail(keel_net_route_del(ctr, "10.70.0.0/16", NULL, NULL, &err), &err, ESRCH, "no such route");
	err = NULL;
	expect_fail(keel_net_route_add(ctr, "10.71.0.0/16", "192.0.2.1", NULL, &err), &err, ENETUNREACH, "10.71.0.0/16");
	err = NULL;
	expect_fail(keel_net_route_add(ctr, "default", "10.69.0.999", NULL, &err), &err, EINVAL,
		    "gateway '10.69.0.999' does not parse");
	err = NULL;
	expect_fail(keel_net_route_add(ctr, "10.72.0.0/16", "fd00::1", NULL, &err), &err, EINVAL, "different families");
	err = NULL;
	expect_fail(keel_net_route_add(ctr, "10.72.0.0/16", NULL, NULL, &err), &err, EINVAL, "gateway, a link");
	OK(keel_net_route_add(ctr, "10.73.0.0/16", NULL, "eth0", &e_));
	ck_assert(has_route(cfd, "eth0", "0000490A", "00000000", "0000FFFF"));

	OK(keel_net_link_delete(host, veth, &e_));
	ck_assert(!link_in(hfd, veth) && !link_in(cfd, "eth0"));
	free(veth);
}
END_TEST

START_TEST(host_veth_disappears_with_the_container_namespace)
{
	keel_netns *host, *ctr = NULL;
	char *veth = NULL;
	int hfd, i, status;
	pid_t holder;

	hfd = make_netns(NULL);
	host = open_ns(hfd);
	/* A namespace held only by its process: no fd of ours keeps it. */
	holder = fork();
	ck_assert_int_ge(holder, 0);
	if (holder == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	kt_defer_kill(holder);
	for (i = 0; i < 1000; i++) {  /* until the child has unshared */
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)holder);
		if (ns_inode(p) != ns_inode("/proc/self/ns/net"))
			break;
		usleep(1000);
	}
	OK(keel_netns_open_pid(&ctr, holder, &e_));
	OK(keel_net_attach_veth(host, NULL, NULL, ctr, NULL, "10.74.0.2/24", NULL, &veth, &e_));
	keel_netns_free(ctr);
	ck_assert(link_in(hfd, veth));

	ck_assert_int_eq(kill(holder, SIGKILL), 0);
	ck_assert_int_eq(waitpid(holder, &status, 0), holder);
	/* The kernel destroys the namespace asynchronously; its veth ends
	 * go with it. Poll for up to 30 s (a bound, not a timing claim). */
	for (i = 0; i < 3000 && keel_net_link_exists(host, veth, NULL) == 1; i++)
		usleep(10000);
	ck_assert_msg(!link_in(hfd, veth), "host veth %s outlived its peer's namespace", veth);
	OK(keel_net_veth_release(host, veth, &e_));
	free(veth);
}
END_TEST

/* Exit 0 when lo is the only link in the namespace. */
static int child_only_lo(void *arg)
{
	struct if_nameindex *names = if_nameindex(), *i;
	int others = 0;

	(void)arg;
	if (!names)
		return 2;
	for (i = names; i->if_index; i++)
		others += strcmp(i->if_name, "lo") != 0;
	if_freenameindex(names);
	return others ? 1 : 0;
}

START_TEST(attach_failures_leave_nothing_behind)
{
	const char *br = kt_name("br");
	keel_netns *host, *ctr;
	keel_error *err = NULL;
	char *veth = NULL;
	int hfd, cfd;

	hfd = make_netns(NULL);
	cfd = make_netns(NULL);
	host = open_ns(hfd);
	ctr = open_ns(cfd);

	/* Bad input is refused before anything is made. */
	expect_fail(keel_net_attach_veth(host, NULL, br, ctr, NULL, "10.75.0.2/99", NULL, &veth, &err), &err,
		    EINVAL, "does not parse");
	err = NULL;
	expect_fail(keel_net_attach_veth(host, "much-too-long-name", br, ctr, NULL, NULL, NULL, &veth, &err),
		    &err, EINVAL, "longer than 15");
	/* A missing bridge, a name taken in the target: rolled back. */
	err = NULL;
	expect_fail(keel_net_attach_veth(host, NULL, br, ctr, NULL, NULL, NULL, &veth, &err), &err, ENODEV, br);
	ck_assert_ptr_null(veth);
	OK(keel_net_veth_create(ctr, "eth0", "other0", NULL, NULL, &e_));
	err = NULL;
	expect_fail(keel_net_attach_veth(host, "kvtaken", NULL, ctr, NULL, NULL, NULL, &veth, &err), &err, EEXIST,
		    "eth0");
	ck_assert(!link_in(hfd, "kvtaken"));
	/* A gateway no link reaches: the pair is deleted again. */
	err = NULL;
	expect_fail(keel_net_attach_veth(host, "kvgw", NULL, ctr, "net2", "10.75.0.2/24", "192.0.2.1", &veth,
					 &err), &err, ENETUNREACH, "kvgw");
	ck_assert(!link_in(hfd, "kvgw"));
	ck_assert(!link_in(cfd, "net2"));

	ck_assert_int_eq(in_netns(hfd, child_only_lo, NULL), 0);
	err = NULL;
	expect_fail(keel_net_link_move(host, "nosuch0", ctr, "net9", &err), &err, ENODEV, "nosuch0");
}
END_TEST

START_TEST(attach_failure_rolls_back_everything)
{
	const char *br = kt_name("br");
	keel_netns *host, *ctr;
	keel_error *err = NULL;
	char *veth = NULL;
	int hfd, cfd;

	hfd = make_netns(NULL);
	cfd = make_netns(NULL);
	host = open_ns(hfd);
	ctr = open_ns(cfd);
	expect_fail(keel_net_attach_veth(host, NULL, br, ctr, NULL, "10.76.0.2/24", NULL, &veth, &err), &err,
		    ENODEV, br);
	err = NULL;
	expect_fail(keel_net_attach_veth(host, NULL, NULL, ctr, NULL, "10.76.0.2/24", "192.0.2.1", &veth, &err),
		    &err, ENETUNREACH, "192.0.2.1");
	ck_assert_ptr_null(veth);
	ck_assert_int_eq(in_netns(hfd, child_only_lo, NULL), 0);
	ck_assert_int_eq(in_netns(cfd, child_only_lo, NULL), 0);
}
END_TEST

int main(void)
{
	/* host probes, outside the code under test (tests/host-probe.h) */
	const char *no_veth = kt_missing_link_kind("veth"), *no_bridge = kt_missing_link_kind("bridge");
	const char *no_links = kt_first_missing(no_veth, no_bridge);
	Suite *s = suite_create("net");
	TCase *tc = kt_tcase("netns", 60);

	kt_add_test_needs(tc, open_by_fd_pid_pidfd_reach_the_same_namespace, no_bridge);
	tcase_add_test(tc, open_current_uses_the_callers_namespace);
	kt_add_test_needs(tc, handle_made_in_one_thread_works_in_another, no_bridge);
	tcase_add_test(tc, open_reports_gone_and_wrong_namespaces);
	tcase_add_test(tc, libnl_is_loaded_at_the_first_open);
	tcase_add_test(tc, missing_libnl_is_a_clear_error);
	suite_add_tcase(s, tc);
	tc = kt_tcase("links", 60);
	kt_add_test_needs(tc, bridge_create_find_delete, no_links);
	kt_add_test_needs(tc, veth_names_mtu_mac_master_read_back, no_links);
	kt_add_test_needs(tc, addresses_add_list_delete, no_veth);
	suite_add_tcase(s, tc);
	tc = kt_tcase("traffic", 90);
	tcase_add_test(tc, loopback_only_namespace_has_working_127_0_0_1);
	kt_add_test_needs(tc, two_namespaces_on_one_bridge_ping_each_other, no_links);
	kt_add_test_needs(tc, container_with_veth_reaches_the_host_end, no_links);
	suite_add_tcase(s, tc);
	tc = kt_tcase("lifecycle", 90);
	kt_add_test_needs(tc, host_veth_disappears_with_the_container_namespace, no_veth);
	kt_add_test_needs(tc, attach_failures_leave_nothing_behind, no_links);
	kt_add_test_needs(tc, attach_failure_rolls_back_everything, no_veth);
	suite_add_tcase(s, tc);
	return kt_run(s);
}
