/*
 * Private: a container's name files, /etc/hosts, /etc/hostname and
 * /etc/resolv.conf, for src/container.c.
 *
 * As Docker does, the container gets its own copies: written into its
 * state directory in the parent at create, then bind-mounted over the
 * image's files by the mount plan (keel_rootfs_add_bind), so the image and
 * its layers are never written. Nothing here runs in the child.
 */
#ifndef KEEL_PRIV_NAMES_H
#define KEEL_PRIV_NAMES_H

#include <keel/common.h>

struct keel_names {
	const char *hostname;      /* NULL: no /etc/hostname, no own line in hosts */
	const char *addr;          /* the container's address, no prefix; NULL: none */
	char *const *servers;      /* NULL-terminated or NULL: the host's (loopback dropped) */
	char *const *search;       /* NULL-terminated or NULL: the host's */
	char *const *hosts;        /* NULL-terminated "ADDR<tab>NAME" lines, or NULL */
	const char *host_resolv;   /* the host's resolv.conf; NULL: /etc/resolv.conf */
};

/* The files written (under their names in dir), in this order. */
#define KEEL_NAMES_HOSTS "hosts"
#define KEEL_NAMES_HOSTNAME "hostname"
#define KEEL_NAMES_RESOLV "resolv.conf"

/* Whether s is a nameserver address the container can use: an IPv4 or
 * IPv6 address that is not a loopback one. */
int keel_names_usable_server(const char *s);

/* The text of each file, malloc'd, the caller frees. */
char *keel_names_hosts(const struct keel_names *n);
char *keel_names_resolv(const struct keel_names *n, keel_error **err);

/* Write the files into dir (hostname only when n->hostname is set).
 * 0 or a negative errno, with the file named in *err. */
int keel_names_write(const char *dir, const struct keel_names *n, keel_error **err);

#endif
