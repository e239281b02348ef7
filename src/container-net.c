/*
 * The container's network, as src/container.c's create and delete use it:
 *
 *  - the setters (a bridge and address, the host's namespace, DNS servers
 *    and search domains, extra /etc/hosts lines, published ports,
 *    masquerade), checked when they are called, not at create;
 *  - wiring: a veth from the bridge (made if missing, with the gateway as
 *    its address) to eth0 in the container's namespace, then masquerade
 *    and published ports (src/net-nft.c). Without a user namespace that
 *    happens before the clone, in a namespace made here
 *    (container_prewire_network); with one, from the parent hook, in the
 *    namespace the init made (container_wire_network);
 *  - unwiring at delete, which leaves the veth to the kernel when it can;
 *  - the name files (hosts, hostname, resolv.conf) in the state directory,
 *    bound over the image's.
 *
 * Everything made is recorded in the state (c->st) before or as it is
 * made, so that a delete after a crash still finds it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel/net.h>

#include "container.h"
#include "error.h"
#include "mount.h"
#include "names.h"
#include "net.h"
#include "net-nft.h"
#include "state.h"
#include "util/str.h"

/* ------------------------------------------------------------- settings -- */

KEEL_PUBLIC int keel_container_set_network(keel_container *c, const char *bridge, const char *addr_cidr,
					   const char *gateway, keel_error **err)
{
	int ret = container_only_before_create(c, "set network", err), fam = 0, gw_fam = 0;

	if (ret < 0)
		return ret;
	/* Checked now, not at create: "a b", "..", "/33", "::1/129" ... */
	if ((ret = keel_net_check_link_name(bridge, "set network: bridge", err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	if (!addr_cidr || !strchr(addr_cidr, '/'))
		return keel_error_invalid(err, "container %s: set network: address '%s' is not ADDR/PREFIX", c->id,
					  addr_cidr ? addr_cidr : "(null)");
	if ((fam = keel_net_check_ip(addr_cidr, 1, "set network", err)) < 0 ||
	    (gateway && (gw_fam = keel_net_check_ip(gateway, 0, "set network", err)) < 0))
		return keel_error_wrap(err, fam < 0 ? fam : gw_fam, "container %s", c->id);
	if (gateway && gw_fam != fam)
		return keel_error_invalid(err, "container %s: set network: gateway %s and address %s are not of "
					  "one family", c->id, gateway, addr_cidr);
	if ((ret = container_dup_str(&c->bridge, bridge, "set network", err)) < 0 ||
	    (ret = container_dup_str(&c->addr, addr_cidr, "set network", err)) < 0 ||
	    (ret = container_dup_str(&c->gateway, gateway, "set network", err)) < 0)
		return ret;
	if (!(c->ns_flags & KEEL_NS_NET))
		c->ns_flags |= KEEL_NS_NET;
	return 0;
}

KEEL_PUBLIC int keel_container_set_network_host(keel_container *c, const char *netns_path, keel_error **err)
{
	int ret = container_only_before_create(c, "set network host", err);

	if (ret < 0)
		return ret;
	if (netns_path && (ret = container_check_path(netns_path, "network namespace", err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	return container_dup_str(&c->net_host, netns_path, "set network host", err);
}

/* A word for a name file: printable, no blank, no '#', at most 253 bytes. */
static int check_word(keel_container *c, const char *what, const char *s, keel_error **err)
{
	const char *p;

	if (!s || !*s || strlen(s) > 253)
		return keel_error_invalid(err, "container %s: %s '%s' is empty or longer than 253 characters", c->id,
					  what, s ? s : "(null)");
	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '#' || *p == 0x7f)
			return keel_error_invalid(err, "container %s: %s '%s' has a blank, '#' or control character",
						  c->id, what, s);
	return 0;
}

static int push(keel_container *c, char ***v, const char *s, const char *what, keel_error **err)
{
	if (keel_cstrv_push(v, s) < 0)
		return keel_error_sys(err, ENOMEM, "container %s: %s", c->id, what);
	return 0;
}

KEEL_PUBLIC int keel_container_add_dns(keel_container *c, const char *server, keel_error **err)
{
	int ret = container_only_before_create(c, "add dns server", err);

	if (ret < 0)
		return ret;
	if (!server || !keel_names_usable_server(server))
		return keel_error_invalid(err, "container %s: add dns server: '%s' is not an IPv4 or IPv6 address "
					  "reachable from the container (loopback ones are not)", c->id,
					  server ? server : "(null)");
	return push(c, &c->dns, server, "add dns server", err);
}

KEEL_PUBLIC int keel_container_add_dns_search(keel_container *c, const char *domain, keel_error **err)
{
	int ret = container_only_before_create(c, "add dns search domain", err);

	if (ret < 0 || (ret = check_word(c, "dns search domain", domain, err)) < 0)
		return ret;
	return push(c, &c->dns_search, domain, "add dns search domain", err);
}

KEEL_PUBLIC int keel_container_add_host(keel_container *c, const char *name, const char *addr, keel_error **err)
{
	unsigned char b[16];
	char line[320];
	int ret = container_only_before_create(c, "add host", err);

	if (ret < 0 || (ret = check_word(c, "host name", name, err)) < 0)
		return ret;
	if (!addr || (inet_pton(AF_INET, addr, b) != 1 && inet_pton(AF_INET6, addr, b) != 1))
		return keel_error_invalid(err, "container %s: add host %s: '%s' is not an IPv4 or IPv6 address", c->id,
					  name, addr ? addr : "(null)");
	keel_str_join_buf(line, sizeof(line), addr, "\t", name, NULL);
	return push(c, &c->extra_hosts, line, "add host", err);
}

KEEL_PUBLIC int keel_container_add_port(keel_container *c, const char *spec, keel_error **err)
{
	struct keel_port port;
	int ret = container_only_before_create(c, "publish port", err);

	if (ret < 0)
		return ret;
	if ((ret = keel_port_parse(spec, &port, err)) < 0)
		return keel_error_wrap(err, ret, "container %s: publish port", c->id);
	return push(c, &c->ports, spec, "publish port", err);
}

KEEL_PUBLIC int keel_container_set_masquerade(keel_container *c, int on, keel_error **err)
{
	int ret = container_only_before_create(c, "set masquerade", err);

	if (ret < 0)
		return ret;
	c->masquerade = on ? 1 : 0;
	return 0;
}

/* -------------------------------------------------------------- network -- */

/* A host veth name as keel_net_attach_veth() generates it: "kv" and 8
 * lowercase hex digits. */
static int generated_veth_name(const char *name)
{
	size_t i;

	if (!name || strncmp(name, "kv", 2) != 0 || strlen(name) != 10)
		return 0;
	for (i = 2; i < 10; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

static int open_host_netns(const char *path, keel_netns **out, keel_error **err)
{
	int fd, ret;

	if (!path)
		return keel_netns_open_current(out, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "open network namespace %s", path);
	ret = keel_netns_open_fd(out, fd, err);
	close(fd);
	return ret;
}

/* The bridge, made if missing: up, with the gateway as its address (on the
 * container address's prefix), as docker0 is. */
static int ensure_bridge(keel_container *c, keel_netns *host, keel_error **err)
{
	char cidr[128];
	int ret;

	ret = keel_net_link_exists(host, c->bridge, err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = keel_net_bridge_create(host, c->bridge, err);
	if (ret == -EEXIST) /* made by a concurrent create: fine */
		return 0;
	if (ret < 0)
		return ret;
	c->made_bridge = 1;
	ret = keel_net_link_set_up(host, c->bridge, err);
	if (ret == 0 && c->gateway) {
		snprintf(cidr, sizeof(cidr), "%s%s", c->gateway, strchr(c->addr, '/'));
		ret = keel_net_addr_add(host, c->bridge, cidr, err);
		if (ret == -EEXIST)
			ret = 0;
	}
	return ret;
}

/* The subnet of an address: "10.88.0.2/16" gives "10.88.0.0/16". */
static int subnet_of(const char *cidr, char *out, size_t size)
{
	unsigned char b[16];
	char ip[64];
	const char *slash = strchr(cidr, '/');
	int family = strchr(cidr, ':') ? AF_INET6 : AF_INET;
	long plen;
	int i;

	if (!slash || (size_t)(slash - cidr) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = '\0';
	plen = strtol(slash + 1, NULL, 10);
	if (inet_pton(family, ip, b) != 1 || plen < 1 || plen > (family == AF_INET ? 32 : 128))
		return -EINVAL;
	for (i = (int)plen; i < (family == AF_INET ? 32 : 128); i++)
		b[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	inet_ntop(family, b, ip, sizeof(ip));
	snprintf(out, size, "%s/%ld", ip, plen);
	return 0;
}

/* Masquerade and published ports, in the bridge's namespace. The state
 * records the ports before they are made: if we die in between, delete
 * still looks for them. */
static int wire_nat(keel_container *c, keel_netns *host, keel_error **err)
{
	char subnet[80];
	int ret;

	if (c->masquerade) {
		if (subnet_of(c->addr, subnet, sizeof(subnet)) < 0)
			return keel_error_invalid(err, "masquerade: address %s has no subnet", c->addr);
		if ((ret = keel_net_masquerade_add(host, c->bridge, subnet, err)) < 0)
			return ret;
	}
	if (!c->ports)
		return 0;
	c->st.ports = 1;
	if ((ret = keel_state_hold_write(&c->hold, c->dir, &c->st, err)) < 0)
		return ret;
	return keel_net_ports_publish(host, c->id, c->bridge, c->addr, (const char *const *)c->ports, err);
}

/* Wire ctr, the container's namespace, to the bridge in the host's. */
static int wire(keel_container *c, keel_netns *ctr, keel_error **err)
{
	keel_netns *host = NULL;
	char *veth = NULL;
	int ret;

	ret = open_host_netns(c->net_host, &host, err);
	if (ret == 0)
		ret = ensure_bridge(c, host, err);
	if (ret == 0)
		ret = keel_net_attach_veth(host, NULL, c->bridge, ctr, "eth0", c->addr, c->gateway, &veth, err);
	if (ret == 0) {
		free(c->st.host_veth);
		c->st.host_veth = veth;
		/* Persist at once: if we die now, delete still finds the veth. */
		ret = keel_state_hold_write(&c->hold, c->dir, &c->st, err);
	}
	if (ret == 0)
		ret = wire_nat(c, host, err);
	keel_netns_free(host);
	return ret < 0 ? keel_error_wrap(err, ret, "network %s on bridge %s", c->addr, c->bridge) : 0;
}

/* From the parent hook: the init's namespace exists, it waits. */
int container_wire_network(keel_container *c, pid_t pid, int pidfd, keel_error **err)
{
	keel_netns *ctr = NULL;
	int ret = pidfd >= 0 ? keel_netns_open_pidfd(&ctr, pidfd, err) : keel_netns_open_pid(&ctr, pid, err);

	if (ret == 0)
		ret = wire(c, ctr, err);
	keel_netns_free(ctr);
	return ret;
}

/*
 * Before the clone, when the container has no user namespace: make its
 * network namespace here, wire it, and let the init join it. Then no
 * parent hook is needed between the clone and the exec, and spawn may
 * clone a child that shares our memory (util/vfork.h) instead of copying
 * our page tables and paying a copy-on-write fault for every page we
 * write while we wire (the largest cost of a networked start after the
 * veth's own). With a user namespace the network namespace must be made
 * by the init, inside it (its owner decides who may configure it and
 * mount /sys): that case keeps the parent hook.
 */
int container_prewire_network(keel_container *c, keel_error **err)
{
	int ret;

	if (!c->bridge || (c->ns_flags & KEEL_NS_USER))
		return 0;
	if ((ret = keel_netns_open_new(&c->ctr_net, err)) < 0)
		return keel_error_wrap(err, ret, "network %s on bridge %s", c->addr, c->bridge);
	return wire(c, c->ctr_net, err);
}

/*
 * Remove the container's network from the host: its published ports, the
 * host end of its veth and, after a failed create, the bridge that create
 * made. Gone already is fine.
 *
 * The veth is deleted synchronously only when it has to be. Deleting a
 * veth makes the kernel wait for an RCU grace period in the caller
 * (unregister_netdevice: ~20 ms, the largest part of a networked
 * container's start-to-delete). When the container had a network
 * namespace of its own and its processes are gone (delete killed the
 * cgroup first), the kernel destroys that namespace by itself, from its
 * cleanup work queue, and with it the peer and so the host end: the pair
 * goes without anyone waiting for it. libkeel holds no reference to the
 * namespace after create; something outside it that does (a bind mount of
 * /proc/PID/ns/net) keeps the veth alive as long as it keeps the namespace.
 * with_veth says the caller needs it gone now (a failed create, a
 * container in a namespace it shares).
 */
int container_unwire_network(keel_container *c, int drop_bridge, int with_veth, keel_error **err)
{
	keel_netns *host = NULL;
	int ret = 0, r;

	if (c->st.host_veth && !generated_veth_name(c->st.host_veth)) {
		/* not a name this library made: leave that link alone */
		free(c->st.host_veth);
		c->st.host_veth = NULL;
	}
	if ((!c->st.host_veth || !with_veth) && !drop_bridge && !c->st.ports) {
		free(c->st.host_veth);
		c->st.host_veth = NULL;
		return 0;
	}
	ret = open_host_netns(c->st.net_host, &host, err);
	if (ret == -ENOENT && c->st.net_host)
		return 0; /* that namespace is gone, and the veth and rules with it */
	if (ret < 0)
		return keel_error_wrap(err, ret, "remove network of %s", c->id);
	/* Each step is tried even when one before failed: the first error is
	 * reported, and what is left is recorded for the next delete. */
	if (c->st.ports && (ret = keel_net_ports_unpublish(host, c->id, err)) == 0)
		c->st.ports = 0;
	if (c->st.host_veth) {
		r = with_veth ? keel_net_veth_release(host, c->st.host_veth, ret < 0 ? NULL : err) : 0;
		if (r == 0) {
			free(c->st.host_veth);
			c->st.host_veth = NULL;
		} else if (ret == 0) {
			ret = r;
		}
	}
	if (drop_bridge && c->st.bridge && (r = keel_net_bridge_delete(host, c->st.bridge, ret < 0 ? NULL : err)) < 0 &&
	    r != -ENODEV && ret == 0)
		ret = r;
	keel_netns_free(host);
	return ret < 0 ? keel_error_wrap(err, ret, "remove network of %s", c->id) : 0;
}

/* ---------------------------------------------------------------- names -- */

/* A container on a network gets its own name files; one without gets
 * them only when the caller configured one (dns, search, extra hosts). */
static int wants_names(const keel_container *c)
{
	return c->bridge || c->dns || c->dns_search || c->extra_hosts;
}

/*
 * Write <dir>/hosts, hostname and resolv.conf and bind them over the
 * image's files, as Docker does: read-write (a program in the container
 * may edit its /etc/hosts; the change stays in the state directory), never
 * written into the image. A file the caller mounts already is left to the
 * caller's mount; one that could only be made by writing into the image
 * (a plain directory rootfs, or a read-only one) is skipped.
 */
int container_add_names(keel_container *c, keel_error **err)
{
	static const struct { const char *file, *dest; } files[] = {
		{ KEEL_NAMES_HOSTS, "/etc/hosts" },
		{ KEEL_NAMES_HOSTNAME, "/etc/hostname" },
		{ KEEL_NAMES_RESOLV, "/etc/resolv.conf" },
	};
	struct keel_names n = { .hostname = c->hostname, .servers = c->dns, .search = c->dns_search,
				.hosts = c->extra_hosts };
	char addr[64] = "", src[4096];
	size_t i;
	int ret;

	if (!wants_names(c))
		return 0;
	if (c->addr) {
		keel_str_join_buf(addr, sizeof(addr), c->addr, NULL);
		addr[strcspn(addr, "/")] = '\0';
		n.addr = addr;
	}
	if ((ret = keel_names_write(c->dir, &n, err)) < 0)
		return keel_error_wrap(err, ret, "name files");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((i == 1 && !c->hostname) ||  /* files[1] is hostname */
		    keel_rootfs_has_dest(c->rootfs, files[i].dest) || !keel_rootfs_can_mount_at(c->rootfs, files[i].dest))
			continue;
		keel_str_join_buf(src, sizeof(src), c->dir, "/", files[i].file, NULL);
		if ((ret = keel_rootfs_add_bind(c->rootfs, src, files[i].dest, 0, err)) < 0)
			return keel_error_wrap(err, ret, "name files");
	}
	return 0;
}
