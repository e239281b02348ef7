/*
 * ports suite: what a Docker user expects of a container's network beyond
 * eth0: its name files, published ports (TCP and UDP, IPv4 and IPv6, from
 * outside and from the host itself), outbound access by masquerade, and
 * that nothing is left after delete, also after the creating process was
 * killed with SIGKILL and `keel-rm -f` cleaned up.
 *
 * Topology, all in namespaces the test makes (no packet leaves them, the
 * real host's nftables ruleset is never read or written):
 *
 *   [container] eth0 --- bridge (10.x.0.1/24) [H: the "host"] hx 192.0.2.1 --- 192.0.2.2 ox [O: "outside"]
 *
 * H plays the host: the bridge, the container's veth and table inet keel
 * live there. O plays a machine outside. Forwarding is turned on in H only
 * by the tests that need it, with keel_net_set_forwarding() (H is new, so
 * nothing of the real host changes). The container runs tests/net-echo
 * (bound in at /net-echo), which answers with the peer address it saw.
 * Rules are read back with `nft -j list ruleset` run inside H.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "container.h"
#include "names.h"
#include "net-nft.h"
#include "state.h"
#include "util/fs.h"
#include "harness.h"

/* ------------------------------------------------------------ helpers --- */

#define OK(call)                                                                   \
	do {                                                                       \
		keel_error *e_ = NULL;                                             \
		int r_ = (call);                                                   \
		ck_assert_msg(r_ == 0, "%s: %d %s", #call, r_, keel_error_message(e_)); \
		keel_error_free(e_);                                               \
	} while (0)

struct netns {
	pid_t holder;
	int fd;
	char path[64];
	keel_netns *ns;
};

static void free_ns(void *p)
{
	keel_netns_free(p);
}

/* A new network namespace held by a sleeping child, with lo up. */
static void make_netns(struct netns *n)
{
	keel_error *err = NULL;
	int p[2];
	char c;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	n->holder = fork();
	ck_assert_int_ge(n->holder, 0);
	if (n->holder == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0 || write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	kt_defer_kill(n->holder);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	snprintf(n->path, sizeof(n->path), "/proc/%d/ns/net", (int)n->holder);
	n->fd = open(n->path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(n->fd, 0);
	kt_defer_close(n->fd);
	ck_assert_msg(keel_netns_open_fd(&n->ns, n->fd, &err) == 0, "%s", keel_error_message(err));
	kt_defer_fn(free_ns, n->ns);
	OK(keel_net_link_set_up(n->ns, "lo", &e_));
}

/* H and O joined by a veth: hx 192.0.2.1/24 and 2001:db8:1::1/64 in H,
 * ox .2 and ::2 in O. */
static void make_host_and_outside(struct netns *h, struct netns *o)
{
	make_netns(h);
	make_netns(o);
	OK(keel_net_veth_create(h->ns, "hx", "ox", NULL, NULL, &e_));
	OK(keel_net_link_move(h->ns, "ox", o->ns, "ox", &e_));
	OK(keel_net_addr_add(h->ns, "hx", "192.0.2.1/24", &e_));
	OK(keel_net_addr_add(h->ns, "hx", "2001:db8:1::1/64", &e_));
	OK(keel_net_addr_add(o->ns, "ox", "192.0.2.2/24", &e_));
	OK(keel_net_addr_add(o->ns, "ox", "2001:db8:1::2/64", &e_));
	OK(keel_net_link_set_up(h->ns, "hx", &e_));
	OK(keel_net_link_set_up(o->ns, "ox", &e_));
}

static const char *top_builddir(void)
{
	const char *top = getenv("KEEL_TOP_BUILDDIR");

	return top ? top : ".";
}

static const char *echo_binary(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/tests/net-echo", top_builddir());
	ck_assert_msg(access(path, X_OK) == 0, "no %s: run the suite with make check", path);
	return path;
}

/* A container on the busybox layer, on a bridge in h, running argv, with
 * net-echo bound at /net-echo. */
static keel_container *new_container(const char *id, const char *root, const struct netns *h, const char *br,
				     const char *cidr, const char *gw, const char *const argv[], int out_fd)
{
	keel_container *c = NULL;
	keel_error *err = NULL;

	kt_defer_container(id, root, 1);
	ck_assert_msg(keel_container_new(&c, id, root, &err) == 0, "%s", keel_error_message(err));
	OK(keel_container_add_layer(c, kt_rootfs(), &e_));
	OK(keel_rootfs_add_defaults(keel_container_rootfs(c), &e_));
	OK(keel_rootfs_add_bind(keel_container_rootfs(c), echo_binary(), "/net-echo", KEEL_MOUNT_RDONLY, &e_));
	OK(keel_process_set_args(keel_container_process(c), argv, &e_));
	OK(keel_process_set_stdio(keel_container_process(c), -1, out_fd, 2, &e_));
	OK(keel_container_set_hostname(c, id, &e_));
	OK(keel_container_set_network(c, br, cidr, gw, &e_));
	OK(keel_container_set_network_host(c, h->path, &e_));
	return c;
}

/* ------------------------------------------------- clients in a netns --- */

struct exchange {
	int family, udp;
	char addr[64];
	int port;
	char reply[256];
};

/* In the netns: send "ping", read the answer; retried for up to 10 s while
 * the container's server starts. Exit 0 with the reply in the pipe. */
static int exchange_once(struct exchange *x)
{
	struct sockaddr_storage ss = { 0 };
	struct timeval tv = { 0, 300000 };
	socklen_t len;
	ssize_t n = -1;
	int fd;

	if (x->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)x->port);
		inet_pton(AF_INET, x->addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)x->port);
		inet_pton(AF_INET6, x->addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	fd = socket(x->family, x->udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) == 0 && write(fd, "ping", 4) == 4)
		n = read(fd, x->reply, sizeof(x->reply) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	x->reply[n] = '\0';
	return 0;
}

/* The reply of the server at addr:port, reached from inside nsfd; "" when
 * none came within 10 s. */
static void exchange(int nsfd, int family, int udp, const char *addr, int port, char *reply, size_t size)
{
	struct exchange x = { .family = family, .udp = udp, .port = port };
	int p[2], status, i;
	ssize_t n;
	pid_t pid;

	snprintf(x.addr, sizeof(x.addr), "%s", addr);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(120);
		for (i = 0; i < 30; i++) {
			if (exchange_once(&x) == 0) {
				_exit(write(p[1], x.reply, strlen(x.reply)) < 0);
			}
			usleep(300000);
		}
		_exit(1);
	}
	close(p[1]);
	n = read(p[0], reply, size - 1);
	reply[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
}

/* The output of argv run inside nsfd (nft -j list ruleset). */
static char *run_in(int nsfd, const char *const argv[])
{
	char *buf = calloc(1, 1 << 20);
	size_t off = 0;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(120);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while (off < (1 << 20) - 1 && (n = read(p[0], buf + off, (1 << 20) - 1 - off)) > 0)
		off += (size_t)n;
	close(p[0]);
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed (status %d)", argv[0], status);
	return buf;
}

static char *ruleset(const struct netns *h)
{
	static const char *const nft[] = { "nft", "-j", "list", "ruleset", NULL };

	return run_in(h->fd, nft);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* Wait up to 5 s for a link to go (the kernel removes a veth with its
 * container's namespace, asynchronously). */
static int link_gone(keel_netns *ns, const char *name)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (keel_net_link_exists(ns, name, NULL) == 0)
			return 1;
		usleep(50000);
	}
	return 0;
}

static void restore_forwarding(void *data)
{
	(void)data; /* the namespace dies with the test: nothing to restore on the host */
}

static void forwarding_on(const struct netns *h)
{
	int was = -1;

	OK(keel_net_set_forwarding(h->ns, AF_INET, 1, &was, &e_));
	ck_assert_int_eq(was, 0); /* a new namespace starts without */
	OK(keel_net_set_forwarding(h->ns, AF_INET6, 1, &was, &e_));
	kt_defer_fn(restore_forwarding, NULL);
}

/* -------------------------------------------------------------- specs --- */

START_TEST(port_specs_parse_or_fail_clearly)
{
	static const char *const bad[] = { "", "80", "0:80", "8080:0", "65536:80", "8080:80/sctp", "x:8080:80",
					   "[::1]:8080:80", "1.2.3:8080:80", "[fd00::1:8080:80", ":8080:80" };
	struct keel_port p;
	keel_error *err = NULL;
	char key[80];
	size_t i;

	ck_assert_int_eq(keel_port_parse("8080:80", &p, NULL), 0);
	ck_assert_int_eq(p.proto, IPPROTO_TCP);
	ck_assert_int_eq(p.family, 0);
	ck_assert_int_eq(p.host_port, 8080);
	ck_assert_int_eq(p.ctr_port, 80);
	ck_assert_int_eq(keel_port_parse("127.0.0.1:5353:53/udp", &p, NULL), 0);
	ck_assert_int_eq(p.proto, IPPROTO_UDP);
	ck_assert_int_eq(p.family, AF_INET);
	keel_port_key(&p, key, sizeof(key));
	ck_assert_str_eq(key, "udp 127.0.0.1:5353");
	ck_assert_int_eq(keel_port_parse("[fd00::1]:8443:443/tcp", &p, NULL), 0);
	ck_assert_int_eq(p.family, AF_INET6);
	ck_assert_int_eq(p.host_port, 8443);
	keel_port_key(&p, key, sizeof(key));
	ck_assert_str_eq(key, "tcp [fd00::1]:8443");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(keel_port_parse(bad[i], &p, &err) == -EINVAL, "'%s' parsed", bad[i]);
		ck_assert_msg(strstr(keel_error_message(err), bad[i]), "%s", keel_error_message(err));
		keel_error_free(err);
		err = NULL;
	}
}
END_TEST

/* ---------------------------------------------------------- name files --- */

START_TEST(resolv_conf_drops_loopback_servers_and_takes_given_ones)
{
	const char *dir = kt_tmpdir();
	char path[4200], *text;
	char *servers[] = { "192.0.2.53", NULL }, *search[] = { "example.test", NULL };
	struct keel_names n = { .host_resolv = path };
	FILE *f;

	snprintf(path, sizeof(path), "%s/host-resolv.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# host\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 198.51.100.1\nsearch corp.example\noptions edns0\n", f);
	fclose(f);
	text = keel_names_resolv(&n, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!strstr(text, "127.0.0.53") && !strstr(text, "::1"), "%s", text);
	ck_assert_msg(strstr(text, "nameserver 198.51.100.1\n") && strstr(text, "search corp.example\n") &&
		      strstr(text, "options edns0\n"), "%s", text);
	free(text);
	/* Only loopback servers: Docker's defaults. */
	f = fopen(path, "w");
	fputs("nameserver 127.0.0.1\n", f);
	fclose(f);
	text = keel_names_resolv(&n, NULL);
	ck_assert_msg(strstr(text, "nameserver 8.8.8.8\n") && !strstr(text, "127.0.0.1"), "%s", text);
	free(text);
	/* Given servers and search domains replace the host's. */
	n.servers = servers;
	n.search = search;
	text = keel_names_resolv(&n, NULL);
	ck_assert_msg(strstr(text, "nameserver 192.0.2.53\n") && strstr(text, "search example.test\n") &&
		      !strstr(text, "8.8.8.8") && !strstr(text, "corp.example"), "%s", text);
	free(text);
}
END_TEST

START_TEST(the_containers_own_hostname_resolves_inside_it)
{
	static const char *const argv[] = { "/bin/sh", "-c",
		"cat /etc/hostname; cat /etc/resolv.conf; ping -c1 -W2 $(hostname) | head -1; "
		"ping -c1 -W1 db.test | head -1; grep -c ' /etc/hosts ' /proc/self/mountinfo", NULL };
	const char *root = kt_tmpdir(), *id = kt_name("nm"), *br = kt_name("br");
	struct netns h;
	keel_container *c;
	keel_error *err = NULL;
	char out[4096] = "", path[4200], *image_hosts, *after;
	int p[2], code = -1, sig = -1;
	ssize_t n;
	size_t off = 0;

	make_netns(&h);
	ck_assert_int_eq(pipe(p), 0);
	c = new_container(id, root, &h, br, "10.81.0.2/24", "10.81.0.1", argv, p[1]);
	OK(keel_container_add_host(c, "db.test", "10.81.0.9", &e_));
	OK(keel_container_add_dns(c, "192.0.2.53", &e_));
	ck_assert_int_eq(keel_container_add_dns(c, "127.0.0.53", &err), -EINVAL);
	keel_error_free(err);
	err = NULL;
	OK(keel_container_add_dns_search(c, "corp.test", &e_));
	OK(keel_container_add_dns_search(c, "lab.corp.test", &e_));
	ck_assert_int_eq(keel_container_add_dns_search(c, "two words", &err), -EINVAL);
	ck_assert_msg(strstr(keel_error_message(err), "two words"), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	ck_assert_int_eq(keel_container_add_dns_search(c, "", NULL), -EINVAL);
	snprintf(path, sizeof(path), "%s/etc/hosts", kt_rootfs());
	image_hosts = kt_read(path);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	close(p[1]);
	while (off < sizeof(out) - 1 && (n = read(p[0], out + off, sizeof(out) - 1 - off)) > 0)
		off += (size_t)n;
	close(p[0]);
	ck_assert_int_eq(keel_container_wait(c, 0, &code, &sig, NULL), 1);
	ck_assert_msg(strstr(out, id) == out, "hostname: %s", out);
	ck_assert_msg(strstr(out, "nameserver 192.0.2.53\n"), "%s", out);
	/* The search domains, in the order given, on one line that replaces
	 * the host's search and domain lines; the refused ones are not there. */
	ck_assert_msg(strstr(out, "\nsearch corp.test lab.corp.test\n"), "search line: %s", out);
	ck_assert_msg(count(out, "search ") == 1 && !strstr(out, "\ndomain ") && !strstr(out, "two words"), "%s", out);
	ck_assert_msg(strstr(out, "(10.81.0.2)"), "own hostname does not resolve to the address: %s", out);
	ck_assert_msg(strstr(out, "PING db.test (10.81.0.9)"), "extra host: %s", out);
	ck_assert_msg(strstr(out, "\n1\n"), "/etc/hosts is not a mount of its own: %s", out);
	/* The files are the container's: in its state directory, the image's untouched. */
	snprintf(path, sizeof(path), "%s/%s/hosts", root, id);
	after = kt_read(path);
	ck_assert_msg(after && strstr(after, "10.81.0.2\t") && strstr(after, "10.81.0.9\tdb.test"), "%s", after);
	snprintf(path, sizeof(path), "%s/%s/resolv.conf", root, id);
	after = kt_read(path);
	ck_assert_msg(after && strstr(after, "search corp.test lab.corp.test\n"), "%s: %s", path, after);
	snprintf(path, sizeof(path), "%s/etc/hosts", kt_rootfs());
	after = kt_read(path);
	ck_assert_str_eq(after, image_hosts); /* both freed by the harness */
	OK(keel_container_delete(c, 0, &e_));
	snprintf(path, sizeof(path), "%s/%s", root, id);
	ck_assert_int_ne(access(path, F_OK), 0);
	keel_container_free(c);
}
END_TEST

/* -------------------------------------------------------------- ports --- */

static const char *const echo_servers[] = { "/bin/sh", "-c", "/net-echo udp 53 & exec /net-echo tcp 80", NULL };

/* Nothing of ours is left in h: no table inet keel, no veth. */
static void assert_nothing_left(const struct netns *h, const char *veth)
{
	char *rules = ruleset(h);

	ck_assert_msg(!strstr(rules, "\"keel\""), "table inet keel is left: %s", rules);
	free(rules);
	if (veth)
		ck_assert_msg(link_gone(h->ns, veth), "veth %s is left", veth);
}

START_TEST(published_tcp_and_udp_ports_answer_from_outside_and_from_the_host)
{
	const char *root = kt_tmpdir(), *id = kt_name("pt"), *br = kt_name("br");
	struct netns h, o;
	keel_container *c;
	keel_error *err = NULL;
	char reply[256], veth[32], comment[128], *rules;

	make_host_and_outside(&h, &o);
	forwarding_on(&h);
	c = new_container(id, root, &h, br, "10.82.0.2/24", "10.82.0.1", echo_servers, -1);
	OK(keel_container_add_port(c, "8080:80", &e_));
	OK(keel_container_add_port(c, "5353:53/udp", &e_));
	OK(keel_container_add_port(c, "127.0.0.1:8081:80", &e_));
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	snprintf(veth, sizeof(veth), "%s", c->st.host_veth);

	/* The rules, as nft sees them, each tagged with the container's id. */
	rules = ruleset(&h);
	snprintf(comment, sizeof(comment), "\"comment\": \"keel:%s tcp *:8080\"", id);
	ck_assert_msg(count(rules, comment) == 3, "%s", rules); /* prerouting, output, loopback masquerade */
	snprintf(comment, sizeof(comment), "\"comment\": \"keel:%s udp *:5353\"", id);
	ck_assert_msg(count(rules, comment) == 3, "%s", rules);
	snprintf(comment, sizeof(comment), "\"comment\": \"keel:%s tcp 127.0.0.1:8081\"", id);
	ck_assert_msg(count(rules, comment) == 2, "%s", rules); /* output, loopback masquerade */
	free(rules);

	/* From outside (prerouting): the container sees the client's own address. */
	exchange(o.fd, AF_INET, 0, "192.0.2.1", 8080, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 192.0.2.2\n");
	exchange(o.fd, AF_INET, 1, "192.0.2.1", 5353, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 192.0.2.2\n");
	/* From the host itself (output), on one of its addresses ... */
	exchange(h.fd, AF_INET, 0, "192.0.2.1", 8080, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 192.0.2.1\n");
	exchange(h.fd, AF_INET, 1, "10.82.0.1", 5353, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 10.82.0.1\n");
	/* ... and on 127.0.0.1, masqueraded to the bridge's address. */
	exchange(h.fd, AF_INET, 0, "127.0.0.1", 8080, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 10.82.0.1\n");
	exchange(h.fd, AF_INET, 0, "127.0.0.1", 8081, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 10.82.0.1\n");
	/* 8081 is published on 127.0.0.1 only: not from outside. */
	exchange(o.fd, AF_INET, 0, "192.0.2.1", 8081, reply, sizeof(reply));
	ck_assert_str_eq(reply, "");

	ck_assert_msg(keel_container_delete(c, KEEL_DELETE_FORCE, &err) == 0, "%s", keel_error_message(err));
	keel_container_free(c);
	assert_nothing_left(&h, veth);
}
END_TEST

START_TEST(a_port_published_twice_is_refused_and_the_loser_leaves_nothing)
{
	const char *root = kt_tmpdir(), *a = kt_name("pa"), *b = kt_name("pb"), *br = kt_name("br");
	struct netns h;
	keel_container *c1, *c2;
	keel_error *err = NULL;
	char *rules;

	make_netns(&h);
	c1 = new_container(a, root, &h, br, "10.83.0.2/24", "10.83.0.1", echo_servers, -1);
	c2 = new_container(b, root, &h, br, "10.83.0.3/24", "10.83.0.1", echo_servers, -1);
	OK(keel_container_add_port(c1, "8080:80", &e_));
	OK(keel_container_add_port(c2, "9090:80", &e_));
	OK(keel_container_add_port(c2, "192.0.2.1:8080:80", &e_)); /* "any address" holds it already */
	ck_assert_msg(keel_container_create(c1, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_create(c2, &err), -EADDRINUSE);
	ck_assert_msg(strstr(keel_error_message(err), "8080") && strstr(keel_error_message(err), a), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	rules = ruleset(&h);
	ck_assert_msg(!strstr(rules, b) && strstr(rules, a), "%s", rules); /* none of b's, not even 9090 */
	free(rules);
	OK(keel_container_delete(c1, KEEL_DELETE_FORCE, &e_));
	assert_nothing_left(&h, NULL);
	keel_container_free(c1);
	keel_container_free(c2);
}
END_TEST

START_TEST(an_ipv6_port_answers_from_outside_and_from_the_host)
{
	const char *root = kt_tmpdir(), *id = kt_name("p6"), *br = kt_name("br");
	struct netns h, o;
	keel_container *c;
	keel_error *err = NULL;
	char reply[256], veth[32];

	make_host_and_outside(&h, &o);
	forwarding_on(&h);
	c = new_container(id, root, &h, br, "fd00:84::2/64", "fd00:84::1", echo_servers, -1);
	OK(keel_container_add_port(c, "8080:80", &e_));
	OK(keel_container_add_port(c, "[2001:db8:1::1]:5353:53/udp", &e_));
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	snprintf(veth, sizeof(veth), "%s", c->st.host_veth);
	exchange(o.fd, AF_INET6, 0, "2001:db8:1::1", 8080, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 2001:db8:1::2\n");
	exchange(o.fd, AF_INET6, 1, "2001:db8:1::1", 5353, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from 2001:db8:1::2\n");
	exchange(h.fd, AF_INET6, 0, "fd00:84::1", 8080, reply, sizeof(reply));
	ck_assert_str_eq(reply, "echo ping from fd00:84::1\n");
	ck_assert_msg(keel_container_delete(c, KEEL_DELETE_FORCE, &err) == 0, "%s", keel_error_message(err));
	keel_container_free(c);
	assert_nothing_left(&h, veth);
}
END_TEST

/* --------------------------------------------------------- masquerade --- */

struct listener {
	int fd;          /* listening in O */
	int result[2];   /* the peer address it saw, "" if none */
};

/* A TCP server on 192.0.2.2:9000 in O that reports its first peer. */
static void listen_outside(const struct netns *o, struct listener *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9000) };
	char peer[64] = "";
	pid_t pid;
	int one = 1;

	ck_assert_int_eq(pipe(l->result), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		struct pollfd pfd;
		int c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setns(o->fd, CLONE_NEWNET) < 0)
			_exit(120);
		inet_pton(AF_INET, "192.0.2.2", &sa.sin_addr);
		l->fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l->fd, 4) < 0)
			_exit(1);
		if (write(l->result[1], "L", 1) != 1)
			_exit(1);
		pfd.fd = l->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) == 1 && (c = accept(l->fd, (struct sockaddr *)&from, &len)) >= 0)
			inet_ntop(AF_INET, &from.sin_addr, peer, sizeof(peer));
		_exit(write(l->result[1], peer, strlen(peer) + 1) < 0);
	}
	kt_defer_kill(pid);
	close(l->result[1]);
	ck_assert_int_eq(read(l->result[0], peer, 1), 1); /* listening */
}

static void peer_seen(struct listener *l, char *peer, size_t size)
{
	ssize_t n = read(l->result[0], peer, size - 1);

	peer[n > 0 ? n : 0] = '\0';
	close(l->result[0]);
}

/* The container connects out to 192.0.2.2:9000 and ends. */
static int connect_out(const char *root, const struct netns *h, const char *br, int masq, char *peer, size_t size,
		       const struct netns *o)
{
	static const char *const argv[] = { "/bin/sh", "-c", "echo hi | nc -w 3 192.0.2.2 9000", NULL };
	const char *id = kt_name("mq");
	struct listener l;
	keel_container *c;
	keel_error *err = NULL;
	int code = -1, sig = -1;

	listen_outside(o, &l);
	c = new_container(id, root, h, br, "10.85.0.2/24", "10.85.0.1", argv, -1);
	OK(keel_container_set_masquerade(c, masq, &e_));
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_wait(c, 0, &code, &sig, NULL), 1);
	peer_seen(&l, peer, size);
	OK(keel_container_delete(c, 0, &e_));
	keel_container_free(c);
	return code;
}

START_TEST(masquerade_gives_the_bridge_outbound_access)
{
	const char *root = kt_tmpdir(), *br = kt_name("br");
	struct netns h, o;
	char peer[64], comment[96], *rules;

	make_host_and_outside(&h, &o);
	forwarding_on(&h);
	/* Without masquerade the outside has no way back to 10.85.0.0/24:
	 * no connection is ever made. */
	ck_assert_int_ne(connect_out(root, &h, br, 0, peer, sizeof(peer), &o), 0);
	ck_assert_str_eq(peer, "");
	/* With it, the outside sees the host's address. */
	ck_assert_int_eq(connect_out(root, &h, br, 1, peer, sizeof(peer), &o), 0);
	ck_assert_str_eq(peer, "192.0.2.1");
	/* The rule belongs to the bridge: it outlives the container. */
	rules = ruleset(&h);
	snprintf(comment, sizeof(comment), "\"comment\": \"keel:bridge:%s masquerade 10.85.0.0/24\"", br);
	ck_assert_msg(count(rules, comment) == 1, "%s", rules);
	free(rules);
	OK(keel_net_masquerade_del(h.ns, br, &e_));
	assert_nothing_left(&h, NULL);
}
END_TEST

/* ------------------------------------------- the net layer, directly --- */

/* How many rules of h carry this exact comment. */
static int rules_with(const struct netns *h, const char *comment)
{
	char needle[160], *rules = ruleset(h);
	int n;

	snprintf(needle, sizeof(needle), "\"comment\": \"%s\"", comment);
	n = count(rules, needle);
	free(rules);
	return n;
}

static int has_table(const struct netns *h, const char *family, const char *name)
{
	char needle[128], *rules = ruleset(h);
	int yes;

	snprintf(needle, sizeof(needle), "{\"table\": {\"family\": \"%s\", \"name\": \"%s\"", family, name);
	yes = strstr(rules, needle) != NULL;
	free(rules);
	return yes;
}

START_TEST(ports_publish_and_unpublish_by_owner_in_a_namespace_of_their_own)
{
	static const char *const other_table[] = { "nft", "add", "table", "inet", "other", NULL };
	const char *a = kt_name("oa"), *b = kt_name("ob"), *br = kt_name("br");
	const char *const specs_a[] = { "8080:80", "192.0.2.1:5353:53/udp", NULL };
	const char *const specs_b[] = { "9090:90", NULL }, *const clash[] = { "8080:81", NULL };
	const char *const none[] = { NULL };
	char c1[128], c2[128], c3[128], path[96], *rules, *value;
	const char *localnet[] = { "cat", path, NULL };
	struct netns h;
	keel_error *err = NULL;

	make_netns(&h);
	OK(keel_net_bridge_create(h.ns, br, &e_));
	free(run_in(h.fd, other_table));  /* someone else's table, to be left alone */
	ck_assert(!has_table(&h, "inet", "keel"));

	/* Owner a: every address's 8080/tcp, and 5353/udp on one address. */
	OK(keel_net_ports_publish(h.ns, a, br, "10.90.0.2/24", specs_a, &e_));
	snprintf(c1, sizeof(c1), "keel:%s tcp *:8080", a);
	snprintf(c2, sizeof(c2), "keel:%s udp 192.0.2.1:5353", a);
	ck_assert_int_eq(rules_with(&h, c1), 3);  /* prerouting, output, loopback masquerade */
	ck_assert_int_eq(rules_with(&h, c2), 2);  /* prerouting, output */
	rules = ruleset(&h);
	ck_assert_msg(strstr(rules, "{\"chain\": {\"family\": \"inet\", \"table\": \"keel\", \"name\": \"prerouting\"") &&
		      strstr(rules, "\"name\": \"output\"") && strstr(rules, "\"name\": \"postrouting\""), "%s", rules);
	ck_assert_msg(count(rules, "\"addr\": \"10.90.0.2\", \"port\": 80}") == 2 &&
		      count(rules, "\"addr\": \"10.90.0.2\", \"port\": 53}") == 2, "DNAT targets: %s", rules);
	free(rules);
	/* 127.0.0.1 is among "every address": route_localnet on the bridge. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", br);
	value = run_in(h.fd, localnet);
	ck_assert_str_eq(value, "1\n");
	free(value);

	/* Owner b beside it; a port a holds is refused, naming a's rule, and
	 * the loser adds nothing. */
	OK(keel_net_ports_publish(h.ns, b, NULL, "10.90.0.3", specs_b, &e_));
	snprintf(c3, sizeof(c3), "keel:%s tcp *:9090", b);
	ck_assert_int_eq(rules_with(&h, c3), 3);
	ck_assert_int_eq(keel_net_ports_publish(h.ns, "loser", NULL, "10.90.0.4", clash, &err), -EADDRINUSE);
	ck_assert_msg(strstr(keel_error_message(err), c1), "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	rules = ruleset(&h);
	ck_assert_msg(!strstr(rules, "keel:loser"), "%s", rules);
	free(rules);
	/* Bad input is refused before anything is made. */
	ck_assert_int_eq(keel_net_ports_publish(h.ns, "two words", NULL, "10.90.0.5", specs_b, NULL), -EINVAL);
	ck_assert_int_eq(keel_net_ports_publish(h.ns, "x", NULL, "not-an-address", specs_b, NULL), -EINVAL);
	ck_assert_int_eq(keel_net_ports_unpublish(h.ns, "", NULL), -EINVAL);
	/* An empty list does nothing, and succeeds. */
	OK(keel_net_ports_publish(h.ns, "empty", NULL, "10.90.0.6", none, &e_));
	ck_assert_int_eq(rules_with(&h, c1) + rules_with(&h, c2) + rules_with(&h, c3), 8);

	/* Unpublishing a takes a's rules only; twice is still success. */
	OK(keel_net_ports_unpublish(h.ns, a, &e_));
	ck_assert_int_eq(rules_with(&h, c1), 0);
	ck_assert_int_eq(rules_with(&h, c2), 0);
	ck_assert_int_eq(rules_with(&h, c3), 3);
	OK(keel_net_ports_unpublish(h.ns, a, &e_));
	/* The last owner's rules go, and the table with them; the other table stays. */
	OK(keel_net_ports_unpublish(h.ns, b, &e_));
	ck_assert(!has_table(&h, "inet", "keel"));
	ck_assert(has_table(&h, "inet", "other"));
	OK(keel_net_ports_unpublish(h.ns, b, &e_));     /* no table at all: nothing to do */
}
END_TEST

START_TEST(masquerade_add_and_del_in_a_namespace_of_their_own)
{
	const char *br = kt_name("br"), *br2 = kt_name("br"), *owner = kt_name("ow");
	const char *const specs[] = { "8080:80", NULL };
	char c4[128], c6[128], c2[128], *rules;
	struct netns h;

	make_netns(&h);
	snprintf(c4, sizeof(c4), "keel:bridge:%s masquerade 10.91.0.0/24", br);
	snprintf(c6, sizeof(c6), "keel:bridge:%s masquerade fd00:91::/64", br);
	snprintf(c2, sizeof(c2), "keel:bridge:%s masquerade 10.92.0.0/24", br2);
	OK(keel_net_masquerade_add(h.ns, br, "10.91.0.0/24", &e_));
	OK(keel_net_masquerade_add(h.ns, br, "10.91.0.0/24", &e_));   /* again: a no-op */
	OK(keel_net_masquerade_add(h.ns, br, "fd00:91::/64", &e_));
	OK(keel_net_masquerade_add(h.ns, br2, "10.92.0.0/24", &e_));
	ck_assert_int_eq(rules_with(&h, c4), 1);
	ck_assert_int_eq(rules_with(&h, c6), 1);
	ck_assert_int_eq(rules_with(&h, c2), 1);
	/* The rule: from the subnet, out of any link but the bridge, masquerade. */
	rules = ruleset(&h);
	ck_assert_msg(strstr(rules, "\"chain\": \"postrouting\"") && strstr(rules, "\"masquerade\": null") &&
		      strstr(rules, "{\"prefix\": {\"addr\": \"10.91.0.0\", \"len\": 24}}") &&
		      strstr(rules, "{\"prefix\": {\"addr\": \"fd00:91::\", \"len\": 64}}"), "%s", rules);
	ck_assert_msg(strstr(rules, "\"op\": \"!=\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": \"") &&
		      strstr(rules, br), "%s", rules);
	free(rules);
	/* Bad input is refused. */
	ck_assert_int_eq(keel_net_masquerade_add(h.ns, br, "10.91.0.0", NULL), -EINVAL);
	ck_assert_int_eq(keel_net_masquerade_add(h.ns, br, "10.91.0.0/33", NULL), -EINVAL);
	ck_assert_int_eq(keel_net_masquerade_add(h.ns, "bad name", "10.91.0.0/24", NULL), -EINVAL);
	ck_assert_int_eq(keel_net_masquerade_del(h.ns, "", NULL), -EINVAL);

	/* A published port shares the table: del of one bridge leaves the rest. */
	OK(keel_net_ports_publish(h.ns, owner, NULL, "10.91.0.2", specs, &e_));
	OK(keel_net_masquerade_del(h.ns, br, &e_));      /* both its subnets */
	ck_assert_int_eq(rules_with(&h, c4), 0);
	ck_assert_int_eq(rules_with(&h, c6), 0);
	ck_assert_int_eq(rules_with(&h, c2), 1);
	OK(keel_net_masquerade_del(h.ns, br, &e_));      /* none left: success */
	OK(keel_net_masquerade_del(h.ns, br2, &e_));
	ck_assert(has_table(&h, "inet", "keel"));        /* the port's rules are still in it */
	OK(keel_net_ports_unpublish(h.ns, owner, &e_));
	ck_assert(!has_table(&h, "inet", "keel"));
	OK(keel_net_masquerade_del(h.ns, br, &e_));      /* no table: success */
}
END_TEST

/* ------------------------------------------------- kill -9, keel-rm -f --- */

START_TEST(after_a_kill_9_of_the_creator_keel_rm_f_leaves_nothing)
{
	const char *root = kt_tmpdir(), *id = kt_name("k9"), *br = kt_name("br");
	struct netns h;
	struct keel_cstate st = { 0 };
	char rm[4200], env[4200], dir[4200], veth[32], *rules;
	int status;
	pid_t pid;

	make_netns(&h);
	kt_defer_container(id, root, 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		keel_container *c = new_container(id, root, &h, br, "10.86.0.2/24", "10.86.0.1", echo_servers, -1);

		if (keel_container_add_port(c, "8080:80", NULL) < 0 || keel_container_create(c, NULL) < 0)
			_exit(1);
		raise(SIGKILL); /* the creator dies without a word */
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "creator status %d", status);
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	OK(keel_state_read(dir, &st, &e_));
	ck_assert_ptr_nonnull(st.host_veth);
	ck_assert_int_eq(st.ports, 1);
	snprintf(veth, sizeof(veth), "%s", st.host_veth);
	keel_cstate_clear(&st);
	rules = ruleset(&h);
	ck_assert_msg(strstr(rules, id), "%s", rules);
	free(rules);

	snprintf(rm, sizeof(rm), "%s/examples/keel-rm", top_builddir());
	snprintf(env, sizeof(env), "KEEL_STATE_ROOT=%s", root);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *const argv[] = { rm, "-f", (char *)id, NULL }, *const envp[] = { env, "PATH=/usr/bin:/bin", NULL };

		execve(rm, argv, envp);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "keel-rm -f: status %d", status);
	ck_assert_int_ne(access(dir, F_OK), 0);
	assert_nothing_left(&h, veth);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ports");
	TCase *tc = kt_tcase("parse", 30);
	const char *no_nft = access("/usr/sbin/nft", X_OK) == 0 ? NULL : "nft (nftables) is not installed";

	tcase_add_test(tc, port_specs_parse_or_fail_clearly);
	tcase_add_test(tc, resolv_conf_drops_loopback_servers_and_takes_given_ones);
	suite_add_tcase(s, tc);
	tc = kt_tcase("names", 60);
	tcase_add_test(tc, the_containers_own_hostname_resolves_inside_it);
	suite_add_tcase(s, tc);
	tc = kt_tcase("nat", 120);
	kt_add_test_needs(tc, published_tcp_and_udp_ports_answer_from_outside_and_from_the_host, no_nft);
	kt_add_test_needs(tc, a_port_published_twice_is_refused_and_the_loser_leaves_nothing, no_nft);
	kt_add_test_needs(tc, an_ipv6_port_answers_from_outside_and_from_the_host, no_nft);
	kt_add_test_needs(tc, masquerade_gives_the_bridge_outbound_access, no_nft);
	kt_add_test_needs(tc, ports_publish_and_unpublish_by_owner_in_a_namespace_of_their_own, no_nft);
	kt_add_test_needs(tc, masquerade_add_and_del_in_a_namespace_of_their_own, no_nft);
	kt_add_test_needs(tc, after_a_kill_9_of_the_creator_keel_rm_f_leaves_nothing, no_nft);
	suite_add_tcase(s, tc);
	return kt_run(s);
}
