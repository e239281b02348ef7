/*
 * Private: published ports and masquerade over nftables (src/net-nft.c),
 * for src/container.c and the tests. The public calls are in keel/net.h.
 *
 * Everything lives in one table of libkeel's own, `inet keel`, with three
 * NAT base chains (prerouting, output, postrouting). Each rule carries a
 * comment "keel:<owner> ..." (nft shows it), by which it is found and
 * removed; no other table, chain or rule is ever touched.
 */
#ifndef KEEL_PRIV_NET_NFT_H
#define KEEL_PRIV_NET_NFT_H

#include <netinet/in.h>
#include <stdint.h>
#include <keel/net.h>

#define KEEL_NFT_TABLE "keel"

/* One published port, as Docker's -p says it:
 * [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp], HOSTIP an IPv4 address or an IPv6
 * one in brackets ("[::1]:8080:80"). */
struct keel_port {
	int proto;                   /* IPPROTO_TCP or IPPROTO_UDP */
	int family;                  /* of host_ip: AF_INET, AF_INET6, or 0 (every local address) */
	unsigned char host_ip[16];
	uint16_t host_port, ctr_port;
	char host_ip_text[48];       /* "" when any */
};

/* Parse a spec; -EINVAL with the reason in *err. */
int keel_port_parse(const char *spec, struct keel_port *out, keel_error **err);

/* "tcp 127.0.0.1:8080" or "udp *:53": the part of a rule's comment that
 * identifies what it holds (and finds a clash). buf holds 80 bytes. */
void keel_port_key(const struct keel_port *p, char *buf, size_t size);

#endif
