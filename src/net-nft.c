/*
 * net-nft: published ports and outbound masquerade, as nftables rules made
 * over netlink (libnftnl builds the messages, libmnl carries them).
 *
 * The table. Everything libkeel makes is in `table inet keel`:
 *
 *   chain prerouting  { type nat hook prerouting priority dstnat; }   from outside
 *   chain output      { type nat hook output priority dstnat; }       from the host itself
 *   chain postrouting { type nat hook postrouting priority srcnat; }  masquerade
 *
 * A published port "8080:80" of a container at 10.88.0.2 is one rule in
 * each of prerouting and output, as Docker's DOCKER chain and podman's
 * netavark make it:
 *
 *   meta nfproto ipv4 fib daddr type local meta l4proto tcp th dport 8080
 *       dnat ip to 10.88.0.2:80 comment "keel:web tcp *:8080"
 *
 * (with "ip daddr H" instead of the fib match when a host address is
 * given). Reaching 127.0.0.1:8080 from the host is what netavark does: the
 * output rule DNATs it, the bridge gets route_localnet=1 (else the kernel
 * refuses to route a packet with a loopback source out of it), and a
 * postrouting rule masquerades loopback sources towards the container, so
 * the container sees the bridge's address and its reply comes back. The
 * kernel cannot do the same for ::1 (IPv6 has no route_localnet): a port
 * published on [::1] is refused.
 *
 * Masquerade for a bridge is `ip saddr SUBNET oifname != BRIDGE masquerade`
 * (Docker's POSTROUTING rule), tagged "keel:bridge:<name>".
 *
 * Ownership. Every rule carries its owner in its comment (rule userdata,
 * NFTNL_UDATA_RULE_COMMENT, which `nft list` shows): "keel:<container id>
 * ..." or "keel:bridge:<name> ...". Removal dumps the table's rules and
 * deletes those whose comment names the owner, by handle, in one
 * transaction; when no rule is left the table goes too, so a host with no
 * published port has no NAT hook of ours. Each transaction carries the
 * ruleset generation it was computed from (NFNL_BATCH_GENID): if another
 * process changed the ruleset in between, the kernel refuses it and we
 * start again, so two creates publishing the same port cannot both win,
 * and a removal never deletes a table a concurrent publish just filled.
 *
 * libmnl and libnftnl are dlopen'ed at first use (util/dl.h), as libnl is
 * in net.c; the table `nf` is filled once (KEEL_DL_ONCE, util/dl.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "error.h"
#include "net.h"
#include "net-nft.h"
#include "util/dl.h"

#define MNL_SONAME "libmnl.so.0"
#define NFTNL_SONAME "libnftnl.so.11"
#define COMMENT_MAX 128           /* what nft accepts for a comment */
#define RETRIES 8                 /* transactions refused for a changed generation */

/* ------------------------------------------------ libraries, lazily --- */

#define NF_FUNCTIONS(MNL, NFT) \
	MNL(mnl_socket_fdopen) MNL(mnl_socket_close) MNL(mnl_socket_get_portid) \
	MNL(mnl_socket_sendto) MNL(mnl_socket_recvfrom) MNL(mnl_socket_get_fd) \
	MNL(mnl_nlmsg_batch_start) MNL(mnl_nlmsg_batch_stop) MNL(mnl_nlmsg_batch_next) \
	MNL(mnl_nlmsg_batch_current) MNL(mnl_nlmsg_batch_head) MNL(mnl_nlmsg_batch_size) \
	MNL(mnl_nlmsg_put_header) MNL(mnl_nlmsg_put_extra_header) MNL(mnl_attr_put_u32) \
	NFT(nftnl_nlmsg_build_hdr) NFT(nftnl_table_alloc) NFT(nftnl_table_free) \
	NFT(nftnl_table_set_str) NFT(nftnl_table_set_u32) NFT(nftnl_table_nlmsg_build_payload) \
	NFT(nftnl_chain_alloc) NFT(nftnl_chain_free) NFT(nftnl_chain_set_str) \
	NFT(nftnl_chain_set_u32) NFT(nftnl_chain_set_s32) NFT(nftnl_chain_nlmsg_build_payload) \
	NFT(nftnl_rule_alloc) NFT(nftnl_rule_free) NFT(nftnl_rule_set_str) NFT(nftnl_rule_set_u32) \
	NFT(nftnl_rule_set_u64) NFT(nftnl_rule_set_data) NFT(nftnl_rule_get_str) \
	NFT(nftnl_rule_get_u64) NFT(nftnl_rule_get_data) NFT(nftnl_rule_add_expr) \
	NFT(nftnl_rule_nlmsg_build_payload) NFT(nftnl_rule_nlmsg_parse) NFT(nftnl_expr_alloc) \
	NFT(nftnl_expr_set_u32) NFT(nftnl_expr_set_u8) NFT(nftnl_expr_set)

static struct nf_api {
#define NF_SLOT(f) typeof(&f) f;
	NF_FUNCTIONS(NF_SLOT, NF_SLOT)
#undef NF_SLOT
} nf;

#define NF_SYM(f) { #f, offsetof(struct nf_api, f) },
#define NF_SKIP(f)
static const struct keel_dl_sym mnl_syms[] = { NF_FUNCTIONS(NF_SYM, NF_SKIP) };
static const struct keel_dl_sym nftnl_syms[] = { NF_FUNCTIONS(NF_SKIP, NF_SYM) };
#undef NF_SYM
#undef NF_SKIP

/* libnftnl needs libmnl: open it first, so a missing libmnl is named. */
KEEL_DL_ONCE(nf_lib, nf, { MNL_SONAME, mnl_syms, KEEL_DL_N_OF(mnl_syms) },
	     { NFTNL_SONAME, nftnl_syms, KEEL_DL_N_OF(nftnl_syms) })

static int nf_ready(const char *op, keel_error **err)
{
	int r = nf_lib_ready();

	if (r < 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -r, "%s: nftables: %s", op, nf_lib.why);
	return 0;
}

/* ------------------------------------------------------------ ports --- */

static int port_number(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int bad_port(keel_error **err, const char *spec, const char *why)
{
	return keel_error_invalid(err, "port '%s': %s (want [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp])",
				  spec ? spec : "(null)", why);
}

/* The host address part, "" for any: "1.2.3.4" or "[fd00::1]". */
static int parse_host_ip(const char *spec, const char *s, size_t n, struct keel_port *p, keel_error **err)
{
	char ip[48];

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof(ip))
			return bad_port(err, spec, "an IPv6 host address goes in brackets");
		memcpy(ip, s + 1, n - 2);
		ip[n - 2] = '\0';
		p->family = AF_INET6;
	} else {
		if (n >= sizeof(ip))
			return bad_port(err, spec, "the host address does not parse");
		memcpy(ip, s, n);
		ip[n] = '\0';
		p->family = AF_INET;
	}
	if (inet_pton(p->family, ip, p->host_ip) != 1)
		return bad_port(err, spec, "the host address does not parse");
	if (p->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)p->host_ip))
		return bad_port(err, spec, "the kernel cannot forward from ::1 (IPv6 has no route_localnet)");
	snprintf(p->host_ip_text, sizeof(p->host_ip_text), "%s", ip);
	return 0;
}

/* "HOSTPORT:CTRPORT" at s (n bytes). */
static int parse_ports(const char *spec, const char *s, size_t n, struct keel_port *p, keel_error **err)
{
	const char *colon = memchr(s, ':', n);

	if (!colon)
		return bad_port(err, spec, "no host port (a random one is not supported)");
	if (port_number(s, (size_t)(colon - s), &p->host_port) < 0)
		return bad_port(err, spec, "the host port is not 1 to 65535");
	if (port_number(colon + 1, (size_t)(s + n - colon - 1), &p->ctr_port) < 0)
		return bad_port(err, spec, "the container port is not 1 to 65535");
	return 0;
}

int keel_port_parse(const char *spec, struct keel_port *p, keel_error **err)
{
	const char *slash, *close, *c1, *c2;
	size_t len;
	int r;

	memset(p, 0, sizeof(*p));
	p->proto = IPPROTO_TCP;
	if (!spec || !*spec)
		return bad_port(err, spec, "empty");
	slash = strchr(spec, '/');
	len = slash ? (size_t)(slash - spec) : strlen(spec);
	if (slash && !strcmp(slash, "/udp"))
		p->proto = IPPROTO_UDP;
	else if (slash && strcmp(slash, "/tcp"))
		return bad_port(err, spec, "the protocol is tcp or udp");
	if (spec[0] == '[') {
		/* "[fd00::1]:8080:80" */
		close = memchr(spec, ']', len);
		if (!close || close[1] != ':')
			return bad_port(err, spec, "an IPv6 host address is [ADDR]:");
		if ((r = parse_host_ip(spec, spec, (size_t)(close + 1 - spec), p, err)) < 0)
			return r;
		return parse_ports(spec, close + 2, len - (size_t)(close + 2 - spec), p, err);
	}
	c1 = memchr(spec, ':', len);
	c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - spec)) : NULL;
	if (!c2)
		return parse_ports(spec, spec, len, p, err);
	if (c1 == spec)
		return bad_port(err, spec, "the host address is empty (leave it out for every address)");
	if ((r = parse_host_ip(spec, spec, (size_t)(c1 - spec), p, err)) < 0)
		return r;
	return parse_ports(spec, c1 + 1, len - (size_t)(c1 + 1 - spec), p, err);
}

void keel_port_key(const struct keel_port *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s%s%s:%u", p->proto == IPPROTO_UDP ? "udp" : "tcp",
		 p->family == AF_INET6 ? "[" : "", p->family ? p->host_ip_text : "*",
		 p->family == AF_INET6 ? "]" : "", p->host_port);
}

/* Do two keys clash? Same protocol and port, and the same address or one
 * of them any address ("*"). */
static int keys_clash(const char *a, const char *b)
{
	const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');
	const char *sa = strchr(a, ' '), *sb = strchr(b, ' ');

	if (!ca || !cb || !sa || !sb || strcmp(ca, cb) || (sa - a) != (sb - b) || strncmp(a, b, (size_t)(sa - a)))
		return 0;
	return sa[1] == '*' || sb[1] == '*' || ((ca - sa) == (cb - sb) && !strncmp(sa, sb, (size_t)(ca - sa)));
}

/* ---------------------------------------------------------- the socket --- */

struct nft {
	keel_netns *ns;
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint32_t begin_seq;          /* of the batch in flight: its error ends the wait */
	char buf[256 * 1024];        /* the batch */
	struct mnl_nlmsg_batch *batch;
	int n_msgs;                 /* in the batch, between begin and end */
	int failed;                 /* out of memory while building */
	uint32_t genid;
	char kernel_msg[160];       /* the extended ack of the last error */
};

static int nft_open(keel_netns *ns, struct nft **out, const char *op, keel_error **err)
{
	struct nft *n;
	int fd, one = 1, r;

	if ((r = nf_ready(op, err)) < 0)
		return r;
	if (!(n = calloc(1, sizeof(*n))))
		return keel_error_sys(err, ENOMEM, "%s", op);
	n->ns = ns;
	fd = keel_netns_socket(ns, NETLINK_NETFILTER, err);
	if (fd < 0) {
		free(n);
		return keel_error_wrap(err, fd, "%s", op);
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (!(n->nl = nf.mnl_socket_fdopen(fd))) {
		r = errno ? errno : ENOMEM;
		close(fd);
		free(n);
		return keel_error_sys(err, r, "%s: netfilter netlink socket in %s", op, keel_netns_what(ns));
	}
	n->portid = nf.mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	*out = n;
	return 0;
}

static void nft_close(struct nft *n)
{
	if (!n)
		return;
	if (n->batch)
		nf.mnl_nlmsg_batch_stop(n->batch);
	nf.mnl_socket_close(n->nl);
	free(n);
}

static int nft_fail(struct nft *n, keel_error **err, int errnum, const char *op)
{
	if (n->kernel_msg[0])
		return keel_error_sys(err, errnum, "%s in %s (kernel: %s)", op, keel_netns_what(n->ns), n->kernel_msg);
	return keel_error_sys(err, errnum, "%s in %s", op, keel_netns_what(n->ns));
}

/* The text of NLMSGERR_ATTR_MSG in an error message, if any. */
static void record_ext_ack(struct nft *n, const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = (const struct nlmsgerr *)NLMSG_DATA(h);
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*e));

	n->kernel_msg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	while (off + sizeof(struct nlattr) <= h->nlmsg_len) {
		const struct nlattr *a = (const struct nlattr *)((const char *)h + off);

		if (a->nla_len < sizeof(*a) || off + a->nla_len > h->nlmsg_len)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			snprintf(n->kernel_msg, sizeof(n->kernel_msg), "%.*s", (int)(a->nla_len - sizeof(*a)),
				 (const char *)(a + 1));
			return;
		}
		off += NLA_ALIGN(a->nla_len);
	}
}

typedef int (*nft_msg_fn)(const struct nlmsghdr *h, void *data);

/*
 * Read replies until `want` requests are answered (an ack or an error
 * each) or a dump is done. Returns 0, or the negative errno of the first
 * error; each data message goes to fn.
 */
static int nft_receive(struct nft *n, int want, int dump, nft_msg_fn fn, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int first_err = 0;

	while (want > 0 || dump) {
		struct pollfd pfd = { .fd = nf.mnl_socket_get_fd(n->nl), .events = POLLIN };
		const struct nlmsghdr *h;
		ssize_t len;
		int left;

		/* The kernel answers at once; a lost answer must not hang us. */
		if (poll(&pfd, 1, 5000) == 0)
			return first_err ? first_err : -ETIMEDOUT;
		len = nf.mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return first_err ? first_err : -errno;
		left = (int)len;
		for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				dump = 0;
			} else if (h->nlmsg_type == NLMSG_ERROR) {
				int e = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;

				if (e && !first_err) {
					first_err = e;
					record_ext_ack(n, h);
				}
				/* A refused batch (a changed generation) is one error,
				 * for its begin message, and no answer to the rest. */
				if (e && n->begin_seq && h->nlmsg_seq == n->begin_seq)
					return e;
				want--;
				if (e && dump)
					return first_err;
			} else if (fn && fn(h, data) < 0 && !first_err) {
				first_err = -ENOMEM;
			}
		}
	}
	return first_err;
}

/* The attributes after a netfilter message's nfgenmsg header. */
#define FOR_EACH_ATTR(a, h) \
	for (a = (const struct nlattr *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg))); \
	     (const char *)a + sizeof(*a) <= (const char *)(h) + (h)->nlmsg_len && a->nla_len >= sizeof(*a) && \
	     (const char *)a + a->nla_len <= (const char *)(h) + (h)->nlmsg_len; \
	     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))

struct gen_ctx {
	uint32_t id;
	int found;
};

static int gen_reply(const struct nlmsghdr *h, void *data)
{
	struct gen_ctx *ctx = data;
	const struct nlattr *a;

	if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWGEN)
		return 0;
	FOR_EACH_ATTR(a, h)
		if ((a->nla_type & NLA_TYPE_MASK) == NFTA_GEN_ID && a->nla_len >= sizeof(*a) + 4) {
			uint32_t v;

			memcpy(&v, a + 1, 4);
			ctx->id = ntohl(v);
			ctx->found = 1;
		}
	return 0;
}

/* The ruleset's generation, which a transaction then names. */
static int nft_get_genid(struct nft *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *h = nf.nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK, ++n->seq);
	struct gen_ctx ctx = { 0, 0 };
	int r;

	if (nf.mnl_socket_sendto(n->nl, h, h->nlmsg_len) < 0)
		return -errno;
	n->begin_seq = 0;
	r = nft_receive(n, 1, 0, gen_reply, &ctx);
	if (r == 0 && !ctx.found)
		r = -EPROTO;
	n->genid = ctx.id;
	return r;
}

/* ------------------------------------------------------------ batches --- */

static void batch_mark(struct nft *n, uint16_t type)
{
	struct nlmsghdr *h = nf.mnl_nlmsg_put_header(nf.mnl_nlmsg_batch_current(n->batch));
	struct nfgenmsg *g;

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = ++n->seq;
	g = nf.mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (type == NFNL_MSG_BATCH_BEGIN) {
		/* Refused (ERESTART) if the ruleset changed since we read it. */
		nf.mnl_attr_put_u32(h, NFNL_BATCH_GENID, htonl(n->genid));
		n->begin_seq = h->nlmsg_seq;
	}
	if (!nf.mnl_nlmsg_batch_next(n->batch))
		n->failed = 1;
}

static int batch_begin(struct nft *n)
{
	n->n_msgs = 0;
	n->failed = 0;
	/* The limit leaves room for one message past it: batch_next says so. */
	n->batch = nf.mnl_nlmsg_batch_start(n->buf, sizeof(n->buf) - MNL_SOCKET_BUFFER_SIZE);
	if (!n->batch)
		return -ENOMEM;
	batch_mark(n, NFNL_MSG_BATCH_BEGIN);
	return 0;
}

/* The header of the next message of the batch (inet family, acked). */
static struct nlmsghdr *batch_msg(struct nft *n, uint16_t type, uint16_t flags)
{
	n->n_msgs++;
	return nf.nftnl_nlmsg_build_hdr(nf.mnl_nlmsg_batch_current(n->batch), type, NFPROTO_INET, flags | NLM_F_ACK,
					++n->seq);
}

static void batch_next(struct nft *n)
{
	if (!nf.mnl_nlmsg_batch_next(n->batch))
		n->failed = 1;  /* too big: refused below rather than cut */
}

/* Send the batch and wait for every answer. */
static int batch_commit(struct nft *n)
{
	int r;

	batch_mark(n, NFNL_MSG_BATCH_END);
	if (n->failed)
		r = -E2BIG;
	else if (nf.mnl_socket_sendto(n->nl, nf.mnl_nlmsg_batch_head(n->batch), nf.mnl_nlmsg_batch_size(n->batch)) < 0)
		r = -errno;
	else
		r = nft_receive(n, n->n_msgs, 0, NULL, NULL);
	nf.mnl_nlmsg_batch_stop(n->batch);
	n->batch = NULL;
	n->begin_seq = 0;
	return r;
}

/* ----------------------------------------------------- table and chains --- */

static const struct {
	const char *name;
	uint32_t hook;
	int32_t prio;
} chains[] = {
	{ "prerouting", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST },
	{ "output", NF_INET_LOCAL_OUT, NF_IP_PRI_NAT_DST },
	{ "postrouting", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC },
};

/* "add table inet keel" and its chains: no-ops when they exist. */
static int add_table_and_chains(struct nft *n)
{
	struct nftnl_table *t = nf.nftnl_table_alloc();
	size_t i;

	if (!t)
		return -ENOMEM;
	nf.nftnl_table_set_str(t, NFTNL_TABLE_NAME, KEEL_NFT_TABLE);
	nf.nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nf.nftnl_table_nlmsg_build_payload(batch_msg(n, NFT_MSG_NEWTABLE, NLM_F_CREATE), t);
	nf.nftnl_table_free(t);
	batch_next(n);
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		struct nftnl_chain *c = nf.nftnl_chain_alloc();

		if (!c)
			return -ENOMEM;
		nf.nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, KEEL_NFT_TABLE);
		nf.nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[i].name);
		nf.nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
		nf.nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, chains[i].hook);
		nf.nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, chains[i].prio);
		nf.nftnl_chain_nlmsg_build_payload(batch_msg(n, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
		nf.nftnl_chain_free(c);
		batch_next(n);
	}
	return 0;
}

/* -------------------------------------------------------------- rules --- */

/* A rule under construction; any allocation failure is remembered. */
struct rule {
	struct nftnl_rule *r;
	int failed;
};

static struct nftnl_expr *expr(struct rule *b, const char *name)
{
	struct nftnl_expr *e = nf.nftnl_expr_alloc(name);

	if (!e)
		b->failed = 1;
	return e;
}

static void add(struct rule *b, struct nftnl_expr *e)
{
	if (e)
		nf.nftnl_rule_add_expr(b->r, e);
}

/* reg1 = meta key */
static void e_meta(struct rule *b, uint32_t key)
{
	struct nftnl_expr *e = expr(b, "meta");

	if (e) {
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	add(b, e);
}

/* reg1 op data */
static void e_cmp(struct rule *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(b, "cmp");

	if (e) {
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nf.nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	add(b, e);
}

/* reg1 = len bytes of a header at offset */
static void e_payload(struct rule *b, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = expr(b, "payload");

	if (e) {
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	add(b, e);
}

/* reg1 &= mask */
static void e_mask(struct rule *b, const void *mask, uint32_t len)
{
	static const unsigned char zero[16];
	struct nftnl_expr *e = expr(b, "bitwise");

	if (e) {
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nf.nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nf.nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	add(b, e);
}

/* fib daddr type local */
static void e_daddr_local(struct rule *b)
{
	struct nftnl_expr *e = expr(b, "fib");
	uint32_t local = RTN_LOCAL;

	if (e) {
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nf.nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	}
	add(b, e);
	e_cmp(b, NFT_CMP_EQ, &local, sizeof(local));
}

/* meta nfproto ipv4|ipv6 */
static void e_family(struct rule *b, int family)
{
	uint8_t v = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;

	e_meta(b, NFT_META_NFPROTO);
	e_cmp(b, NFT_CMP_EQ, &v, 1);
}

/* ip/ip6 saddr|daddr == addr/prefix */
static void e_addr(struct rule *b, int family, int dst, const unsigned char *addr, int prefix)
{
	uint32_t len = family == AF_INET6 ? 16 : 4;
	uint32_t off = family == AF_INET6 ? (dst ? 24 : 8) : (dst ? 16 : 12);
	unsigned char mask[16] = { 0 }, net[16];
	int i;

	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, off, len);
	if (prefix < (int)len * 8) {
		for (i = 0; i < prefix; i++)
			mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
		for (i = 0; i < (int)len; i++)
			net[i] = addr[i] & mask[i];
		e_mask(b, mask, len);
		e_cmp(b, NFT_CMP_EQ, net, len);
	} else {
		e_cmp(b, NFT_CMP_EQ, addr, len);
	}
}

/* meta l4proto P th dport PORT */
static void e_dport(struct rule *b, int proto, uint16_t port)
{
	uint8_t p = (uint8_t)proto;
	uint16_t be = htons(port);

	e_meta(b, NFT_META_L4PROTO);
	e_cmp(b, NFT_CMP_EQ, &p, 1);
	e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e_cmp(b, NFT_CMP_EQ, &be, 2);
}

/* dnat ip|ip6 to ADDR:PORT */
static void e_dnat(struct rule *b, int family, const unsigned char *addr, uint16_t port)
{
	struct nftnl_expr *ia = expr(b, "immediate"), *ip = expr(b, "immediate"), *nat = expr(b, "nat");
	uint16_t be = htons(port);

	if (ia) {
		nf.nftnl_expr_set_u32(ia, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nf.nftnl_expr_set(ia, NFTNL_EXPR_IMM_DATA, addr, family == AF_INET6 ? 16 : 4);
	}
	if (ip) {
		nf.nftnl_expr_set_u32(ip, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
		nf.nftnl_expr_set(ip, NFTNL_EXPR_IMM_DATA, &be, 2);
	}
	if (nat) {
		nf.nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nf.nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		nf.nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nf.nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	}
	add(b, ia);
	add(b, ip);
	add(b, nat);
}

static void e_masq(struct rule *b)
{
	add(b, expr(b, "masq"));
}

static int rule_start(struct rule *b, const char *chain, const char *comment)
{
	unsigned char ud[2 + COMMENT_MAX];
	size_t len = strlen(comment) + 1;

	b->failed = 0;
	if (!(b->r = nf.nftnl_rule_alloc()))
		return -ENOMEM;
	if (len > COMMENT_MAX)
		len = COMMENT_MAX;
	nf.nftnl_rule_set_str(b->r, NFTNL_RULE_TABLE, KEEL_NFT_TABLE);
	nf.nftnl_rule_set_str(b->r, NFTNL_RULE_CHAIN, chain);
	nf.nftnl_rule_set_u32(b->r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	/* nft's own comment: a TLV of type NFTNL_UDATA_RULE_COMMENT (0). */
	ud[0] = 0;
	ud[1] = (unsigned char)len;
	memcpy(ud + 2, comment, len - 1);
	ud[2 + len - 1] = '\0';
	nf.nftnl_rule_set_data(b->r, NFTNL_RULE_USERDATA, ud, (uint32_t)(len + 2));
	return 0;
}

/* Put the rule into the batch ("append") and free it. */
static int rule_end(struct nft *n, struct rule *b)
{
	int failed = b->failed;

	if (!failed)
		nf.nftnl_rule_nlmsg_build_payload(batch_msg(n, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), b->r);
	nf.nftnl_rule_free(b->r);
	b->r = NULL;
	if (!failed)
		batch_next(n);
	return failed ? -ENOMEM : 0;
}

/* --------------------------------------------------------------- dump --- */

struct found {
	char chain[32];
	uint64_t handle;
	char comment[COMMENT_MAX + 1];
};

struct dump {
	struct found *v;
	size_t n;
};

/* The comment in a rule's userdata TLVs, or "". */
static void comment_of(struct nftnl_rule *r, char *out, size_t size)
{
	uint32_t len = 0, off = 0;
	const unsigned char *ud = nf.nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

	out[0] = '\0';
	while (ud && off + 2 <= len && off + 2 + ud[off + 1] <= len) {
		if (ud[off] == 0) {
			snprintf(out, size, "%.*s", (int)ud[off + 1], (const char *)ud + off + 2);
			return;
		}
		off += 2 + ud[off + 1];
	}
}

static int rule_reply(const struct nlmsghdr *h, void *data)
{
	struct dump *d = data;
	struct nftnl_rule *r;
	struct found *grown, *f;
	const char *chain;

	if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
		return 0;
	if (!(r = nf.nftnl_rule_alloc()))
		return -ENOMEM;
	if (nf.nftnl_rule_nlmsg_parse(h, r) < 0) {
		nf.nftnl_rule_free(r);
		return 0;
	}
	if (!(grown = realloc(d->v, (d->n + 1) * sizeof(*grown)))) {
		nf.nftnl_rule_free(r);
		return -ENOMEM;
	}
	d->v = grown;
	f = &d->v[d->n++];
	chain = nf.nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	snprintf(f->chain, sizeof(f->chain), "%s", chain ? chain : "");
	f->handle = nf.nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	comment_of(r, f->comment, sizeof(f->comment));
	nf.nftnl_rule_free(r);
	return 0;
}

/* Every rule of table inet keel; none when the table does not exist. */
static int dump_rules(struct nft *n, struct dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nf.nftnl_rule_alloc();
	struct nlmsghdr *h;
	int ret;

	free(d->v);
	d->v = NULL;
	d->n = 0;
	if (!r)
		return -ENOMEM;
	h = nf.nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, ++n->seq);
	nf.nftnl_rule_set_str(r, NFTNL_RULE_TABLE, KEEL_NFT_TABLE);
	nf.nftnl_rule_nlmsg_build_payload(h, r);
	nf.nftnl_rule_free(r);
	if (nf.mnl_socket_sendto(n->nl, h, h->nlmsg_len) < 0)
		return -errno;
	n->begin_seq = 0;
	ret = nft_receive(n, 0, 1, rule_reply, d);
	if (ret == -ENOENT) {
		n->kernel_msg[0] = '\0';
		ret = 0;
	}
	return ret;
}

/* Is this rule's comment "keel:<owner>" or "keel:<owner> ..."? */
static int owned_by(const struct found *f, const char *owner)
{
	size_t k = strlen(owner);

	return !strncmp(f->comment, "keel:", 5) && !strncmp(f->comment + 5, owner, k) &&
	       (f->comment[5 + k] == '\0' || f->comment[5 + k] == ' ');
}

/* ------------------------------------------------------------ removal --- */

static void del_rule(struct nft *n, const struct found *f)
{
	struct nftnl_rule *r = nf.nftnl_rule_alloc();

	if (!r) {
		n->failed = 1;
		return;
	}
	nf.nftnl_rule_set_str(r, NFTNL_RULE_TABLE, KEEL_NFT_TABLE);
	nf.nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, f->chain);
	nf.nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, f->handle);
	nf.nftnl_rule_nlmsg_build_payload(batch_msg(n, NFT_MSG_DELRULE, 0), r);
	nf.nftnl_rule_free(r);
	batch_next(n);
}

static void del_table(struct nft *n)
{
	struct nftnl_table *t = nf.nftnl_table_alloc();

	if (!t) {
		n->failed = 1;
		return;
	}
	nf.nftnl_table_set_str(t, NFTNL_TABLE_NAME, KEEL_NFT_TABLE);
	nf.nftnl_table_nlmsg_build_payload(batch_msg(n, NFT_MSG_DELTABLE, 0), t);
	nf.nftnl_table_free(t);
	batch_next(n);
}

/* One try: delete the owner's rules (and the table when they were all). */
static int remove_once(struct nft *n, const char *owner, struct dump *d)
{
	size_t i, mine = 0;
	int r;

	if ((r = nft_get_genid(n)) < 0 || (r = dump_rules(n, d)) < 0)
		return r;
	for (i = 0; i < d->n; i++)
		mine += owned_by(&d->v[i], owner);
	if (mine == 0)
		return 0;
	if ((r = batch_begin(n)) < 0)
		return r;
	for (i = 0; i < d->n; i++)
		if (owned_by(&d->v[i], owner))
			del_rule(n, &d->v[i]);
	/* Ours, and empty now: no NAT hook of ours stays on the host. */
	if (mine == d->n)
		del_table(n);
	return batch_commit(n);
}

static int remove_owned(keel_netns *host, const char *owner, const char *op, keel_error **err)
{
	struct dump d = { 0 };
	struct nft *n = NULL;
	int r, tries = 0;

	if ((r = nft_open(host, &n, op, err)) < 0)
		return r;
	do
		r = remove_once(n, owner, &d);
	while (r == -ERESTART && ++tries < RETRIES);
	if (r < 0)
		r = nft_fail(n, err, -r, op);
	free(d.v);
	nft_close(n);
	return r;
}

/* ------------------------------------------------------------ publish --- */

struct target {
	int family;
	unsigned char addr[16];
};

static int parse_target(const char *s, struct target *t)
{
	char ip[48];
	size_t n = s ? strcspn(s, "/") : 0;

	if (!s || n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	t->family = AF_INET;
	if (inet_pton(AF_INET, ip, t->addr) == 1)
		return 0;
	t->family = AF_INET6;
	return inet_pton(AF_INET6, ip, t->addr) == 1 ? 0 : -EINVAL;
}

/* Reaching the port by 127.0.0.1 (any address includes it) needs the
 * route_localnet and masquerade of netavark: IPv4 only. */
static int via_loopback(const struct keel_port *p, const struct target *t)
{
	return t->family == AF_INET && (p->family == 0 || p->host_ip[0] == 127);
}

/* The rules of one port: DNAT from outside and from the host itself, and
 * the masquerade of the host's loopback sources. */
static int add_port_rules(struct nft *n, const char *owner, const struct keel_port *p, const struct target *t)
{
	static const unsigned char loopback[4] = { 127, 0, 0, 0 };
	char key[80], comment[COMMENT_MAX];
	struct rule b;
	int i, r;

	keel_port_key(p, key, sizeof(key));
	snprintf(comment, sizeof(comment), "keel:%s %s", owner, key);
	for (i = 0; i < 2; i++) {
		if (i == 0 && p->family == AF_INET && p->host_ip[0] == 127)
			continue; /* nothing from outside comes to 127.0.0.1 */
		if ((r = rule_start(&b, i == 0 ? "prerouting" : "output", comment)) < 0)
			return r;
		e_family(&b, t->family);
		if (p->family)
			e_addr(&b, t->family, 1, p->host_ip, t->family == AF_INET6 ? 128 : 32);
		else
			e_daddr_local(&b);
		e_dport(&b, p->proto, p->host_port);
		e_dnat(&b, t->family, t->addr, p->ctr_port);
		if ((r = rule_end(n, &b)) < 0)
			return r;
	}
	if (!via_loopback(p, t))
		return 0;
	if ((r = rule_start(&b, "postrouting", comment)) < 0)
		return r;
	e_family(&b, AF_INET);
	e_addr(&b, AF_INET, 0, loopback, 8);
	e_addr(&b, AF_INET, 1, t->addr, 32);
	e_dport(&b, p->proto, p->ctr_port);
	e_masq(&b);
	return rule_end(n, &b);
}

/* A port of ours that someone (we included) holds already: its comment. */
static const char *clash(const struct dump *d, const struct keel_port *p)
{
	char key[80];
	size_t i;

	keel_port_key(p, key, sizeof(key));
	for (i = 0; i < d->n; i++) {
		const char *sp = strchr(d->v[i].comment, ' ');

		if (!strncmp(d->v[i].comment, "keel:", 5) && sp && keys_clash(sp + 1, key))
			return d->v[i].comment;
	}
	return NULL;
}

static int publish_once(struct nft *n, const char *owner, const struct keel_port *ports, size_t np,
			const struct target *t, struct dump *d, const char *op, keel_error **err)
{
	const char *held;
	size_t i;
	int r;

	if ((r = nft_get_genid(n)) < 0 || (r = dump_rules(n, d)) < 0)
		return r;
	for (i = 0; i < np; i++)
		if ((held = clash(d, &ports[i])))
			return keel_error_set(err, KEEL_ERROR_EXISTS, EADDRINUSE, "%s: port %u/%s is published already "
					      "in %s (rule \"%s\")", op, ports[i].host_port,
					      ports[i].proto == IPPROTO_UDP ? "udp" : "tcp", keel_netns_what(n->ns), held);
	if ((r = batch_begin(n)) < 0 || (r = add_table_and_chains(n)) < 0)
		return r;
	for (i = 0; i < np && r == 0; i++)
		r = add_port_rules(n, owner, &ports[i], t);
	if (r < 0) {
		nf.mnl_nlmsg_batch_stop(n->batch);
		n->batch = NULL;
		return r;
	}
	return batch_commit(n);
}

static int check_owner(const char *owner, const char *op, keel_error **err)
{
	const char *p;

	if (!owner || !*owner || strlen(owner) > 80)
		return keel_error_invalid(err, "%s: owner '%s' is empty or longer than 80 characters", op,
					  owner ? owner : "(null)");
	for (p = owner; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == 0x7f)
			return keel_error_invalid(err, "%s: owner '%s' has a blank, quote or control character", op, owner);
	return 0;
}

/* Parse every spec against the container's address before anything is made. */
static int parse_all(const char *const *specs, const struct target *t, struct keel_port **out, size_t *np,
		     int *loopback, const char *op, keel_error **err)
{
	size_t n = 0, i;
	int r;

	while (specs && specs[n])
		n++;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return keel_error_sys(err, ENOMEM, "%s", op);
	*np = n;
	*loopback = 0;
	for (i = 0; i < n; i++) {
		if ((r = keel_port_parse(specs[i], &(*out)[i], err)) < 0)
			return keel_error_wrap(err, r, "%s", op);
		if ((*out)[i].family && (*out)[i].family != t->family)
			return keel_error_invalid(err, "%s: port '%s': the host address and the container's address "
						  "are of different families", op, specs[i]);
		*loopback |= via_loopback(&(*out)[i], t);
	}
	return 0;
}

/* route_localnet=1 on the bridge, so that DNAT'ed loopback sources may
 * leave through it (before masquerade rewrites them). */
static int allow_localnet(keel_netns *host, const char *bridge, keel_error **err)
{
	char path[96];

	if (!bridge || !*bridge || strlen(bridge) >= IFNAMSIZ || strchr(bridge, '/'))
		return keel_error_invalid(err, "publish ports: bad bridge name '%s'", bridge ? bridge : "(null)");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
	return keel_netns_sysctl(host, path, "1", NULL, 0, err);
}

KEEL_PUBLIC int keel_net_ports_publish(keel_netns *host, const char *owner, const char *bridge,
				       const char *ctr_addr, const char *const *specs, keel_error **err)
{
	char op[128];
	struct keel_port *ports = NULL;
	struct target t;
	struct dump d = { 0 };
	struct nft *n = NULL;
	size_t np = 0;
	int r, tries = 0, loopback = 0;

	snprintf(op, sizeof(op), "publish ports of %.80s", owner ? owner : "(null)");
	if (!host)
		return keel_error_invalid(err, "%s: no network namespace handle (NULL)", op);
	if ((r = check_owner(owner, op, err)) < 0)
		return r;
	if (parse_target(ctr_addr, &t) < 0)
		return keel_error_invalid(err, "%s: container address '%s' does not parse", op, ctr_addr ? ctr_addr : "(null)");
	if ((r = parse_all(specs, &t, &ports, &np, &loopback, op, err)) < 0 || np == 0)
		goto out;
	if (loopback && bridge && (r = allow_localnet(host, bridge, err)) < 0)
		goto out;
	if ((r = nft_open(host, &n, op, err)) < 0)
		goto out;
	do
		r = publish_once(n, owner, ports, np, &t, &d, op, err);
	while (r == -ERESTART && ++tries < RETRIES);
	if (r < 0 && !(err && *err))
		r = nft_fail(n, err, -r, op);
out:
	free(d.v);
	free(ports);
	nft_close(n);
	return r;
}

KEEL_PUBLIC int keel_net_ports_unpublish(keel_netns *host, const char *owner, keel_error **err)
{
	char op[128];
	int r;

	snprintf(op, sizeof(op), "unpublish ports of %.80s", owner ? owner : "(null)");
	if (!host)
		return keel_error_invalid(err, "%s: no network namespace handle (NULL)", op);
	if ((r = check_owner(owner, op, err)) < 0)
		return r;
	return remove_owned(host, owner, op, err);
}

/* --------------------------------------------------------- masquerade --- */

static int masq_once(struct nft *n, const char *owner, const char *comment, const char *bridge,
		     const struct target *subnet, int prefix, struct dump *d)
{
	char ifname[IFNAMSIZ] = { 0 };
	struct rule b;
	size_t i;
	int r;

	if ((r = nft_get_genid(n)) < 0 || (r = dump_rules(n, d)) < 0)
		return r;
	for (i = 0; i < d->n; i++)
		if (owned_by(&d->v[i], owner) && !strcmp(d->v[i].comment, comment))
			return 0; /* there already */
	if ((r = batch_begin(n)) < 0 || (r = add_table_and_chains(n)) < 0 ||
	    (r = rule_start(&b, "postrouting", comment)) < 0)
		return r;
	snprintf(ifname, sizeof(ifname), "%s", bridge);
	e_family(&b, subnet->family);
	e_addr(&b, subnet->family, 0, subnet->addr, prefix);
	e_meta(&b, NFT_META_OIFNAME);
	e_cmp(&b, NFT_CMP_NEQ, ifname, sizeof(ifname));
	e_masq(&b);
	if ((r = rule_end(n, &b)) < 0)
		return r;
	return batch_commit(n);
}

KEEL_PUBLIC int keel_net_masquerade_add(keel_netns *host, const char *bridge, const char *subnet,
					keel_error **err)
{
	char op[128], owner[40], comment[COMMENT_MAX];
	const char *slash = subnet ? strchr(subnet, '/') : NULL;
	struct target t;
	struct dump d = { 0 };
	struct nft *n = NULL;
	int r, tries = 0;
	long prefix;

	snprintf(op, sizeof(op), "masquerade %.50s from bridge %.20s", subnet ? subnet : "(null)",
		 bridge ? bridge : "(null)");
	if (!host)
		return keel_error_invalid(err, "%s: no network namespace handle (NULL)", op);
	if (!bridge || !*bridge || strlen(bridge) >= IFNAMSIZ || strpbrk(bridge, " /\t\n\""))
		return keel_error_invalid(err, "%s: bad bridge name", op);
	if (!slash || parse_target(subnet, &t) < 0 || !slash[1] || (prefix = strtol(slash + 1, NULL, 10)) < 1 ||
	    prefix > (t.family == AF_INET ? 32 : 128) || strspn(slash + 1, "0123456789") != strlen(slash + 1))
		return keel_error_invalid(err, "%s: the subnet does not parse (want 10.88.0.0/16 or fd00::/64)", op);
	snprintf(owner, sizeof(owner), "bridge:%s", bridge);
	snprintf(comment, sizeof(comment), "keel:%s masquerade %s", owner, subnet);
	if ((r = nft_open(host, &n, op, err)) < 0)
		return r;
	do
		r = masq_once(n, owner, comment, bridge, &t, (int)prefix, &d);
	while (r == -ERESTART && ++tries < RETRIES);
	if (r < 0)
		r = nft_fail(n, err, -r, op);
	free(d.v);
	nft_close(n);
	return r;
}

KEEL_PUBLIC int keel_net_masquerade_del(keel_netns *host, const char *bridge, keel_error **err)
{
	char op[64], owner[40];

	snprintf(op, sizeof(op), "remove masquerade of bridge %.20s", bridge ? bridge : "(null)");
	if (!host)
		return keel_error_invalid(err, "%s: no network namespace handle (NULL)", op);
	if (!bridge || !*bridge || strlen(bridge) >= IFNAMSIZ || strpbrk(bridge, " /\t\n\""))
		return keel_error_invalid(err, "%s: bad bridge name", op);
	snprintf(owner, sizeof(owner), "bridge:%s", bridge);
	return remove_owned(host, owner, op, err);
}

/* --------------------------------------------------------- forwarding --- */

KEEL_PUBLIC int keel_net_set_forwarding(keel_netns *ns, int family, int on, int *was, keel_error **err)
{
	const char *path = family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding" : "/proc/sys/net/ipv4/ip_forward";
	char old[32] = "";
	int r;

	if (!ns)
		return keel_error_invalid(err, "set forwarding: no network namespace handle (NULL)");
	if (family != AF_INET && family != AF_INET6)
		return keel_error_invalid(err, "set forwarding: family %d is not AF_INET or AF_INET6", family);
	r = keel_netns_sysctl(ns, path, on ? "1" : "0", old, sizeof(old), err);
	if (r == 0 && was)
		*was = old[0] == '1';
	return r;
}
