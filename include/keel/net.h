/**
 * @file keel/net.h
 * @brief Networking over netlink (libnl-3): bridges, veth pairs, moving a
 * link into a network namespace, addresses, routes and link read-back;
 * published ports and masquerade in nftables (libnftnl + libmnl, loaded
 * at first use), in the one table `inet keel` of libkeel's own.
 *
 * Every operation works on a keel_netns: a netlink connection bound to one
 * network namespace. The namespace is entered only by a short-lived helper
 * thread that opens the socket there, so the caller's thread never changes
 * namespace and a multithreaded caller (Go, Python, a server) is safe.
 * "Host" is whatever namespace you open: the caller's own
 * (keel_netns_open_current()) or any other, so tests and nested setups never
 * have to touch the root namespace.
 *
 * The usual wiring of a container:
 * @code
 * keel_netns *host = NULL, *ctr = NULL;
 * keel_error *err = NULL;
 * char *veth = NULL;
 *
 * keel_netns_open_current(&host, &err);
 * keel_net_bridge_create(host, "keel0", &err);           // once per host
 * keel_net_addr_add(host, "keel0", "10.88.0.1/16", &err);
 * keel_net_link_set_up(host, "keel0", &err);
 *
 * keel_netns_open_pid(&ctr, child_pid, &err);           // the container's netns
 * keel_net_attach_veth(host, NULL, "keel0", ctr, NULL,  // peer becomes eth0
 *                      "10.88.0.2/16", "10.88.0.1", &veth, &err);
 * ...
 * keel_net_link_delete(host, veth, &err);                // at container delete
 * free(veth);
 * keel_netns_free(ctr);
 * keel_netns_free(host);
 * @endcode
 *
 * Link names are at most 15 characters (IFNAMSIZ - 1); longer or otherwise
 * invalid names fail with -EINVAL, existing names with -EEXIST, missing
 * links with -ENODEV, each with a message that names the link.
 */
#ifndef KEEL_NET_H
#define KEEL_NET_H

#include <stdint.h>
#include <sys/types.h>
#include <keel/common.h>

KEEL_BEGIN_DECLS

/**
 * A netlink connection inside one network namespace. It keeps the
 * namespace alive (it holds an fd to it) until keel_netns_free().
 * A handle may be used from any thread; calls on one handle are serialised.
 * @since 1.0
 */
typedef struct keel_netns keel_netns;

/**
 * Open the network namespace of the calling thread.
 * @param[out] out receives the handle; the caller frees it with keel_netns_free()
 * @param err optional error
 * @return 0, -EINVAL (out is NULL), -ENOMEM, or the errno of opening
 *         /proc/thread-self/ns/net or the netlink socket
 * @since 1.0
 */
KEEL_PUBLIC int keel_netns_open_current(keel_netns **out, keel_error **err);

/**
 * Open the network namespace referred to by an fd (for example an open
 * /proc/PID/ns/net or a bind mount of it). The fd is duplicated: the caller
 * keeps ownership of @p fd and may close it at once.
 * @param[out] out receives the handle; the caller frees it with keel_netns_free()
 * @param fd an fd of a network namespace
 * @param err optional error
 * @return 0, -EBADF (not an open fd), -EINVAL (not a network namespace,
 *         or out is NULL), -ENOMEM, or the errno of setns()/socket()
 * @since 1.0
 */
KEEL_PUBLIC int keel_netns_open_fd(keel_netns **out, int fd, keel_error **err);

/**
 * Open the network namespace of a process.
 * @param[out] out receives the handle; the caller frees it with keel_netns_free()
 * @param pid a process id (> 0)
 * @param err optional error
 * @return 0, -ESRCH (the process, and so possibly its namespace, is gone),
 *         -EINVAL, -EPERM, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_netns_open_pid(keel_netns **out, pid_t pid, keel_error **err);

/**
 * Open the network namespace of a process given by a pidfd. Unlike a pid,
 * a pidfd cannot be recycled: if the process has exited the call fails
 * with -ESRCH instead of opening some other process's namespace.
 * The caller keeps ownership of @p pidfd.
 * @param[out] out receives the handle; the caller frees it with keel_netns_free()
 * @param pidfd a pidfd (pidfd_open(2) or clone3 CLONE_PIDFD)
 * @param err optional error
 * @return 0, -ESRCH (the process has exited), -EBADF/-EINVAL (not a
 *         pidfd), -EPERM, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_netns_open_pidfd(keel_netns **out, int pidfd, keel_error **err);

/**
 * Close the netlink socket and the namespace fd of a handle.
 * @param ns a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_netns_free(keel_netns *ns);

/**
 * Create a bridge (down, no address, STP off) in @p ns.
 * @param ns where to create it
 * @param name the bridge name (1-15 characters)
 * @param err optional error
 * @return 0, -EINVAL (bad name), -EEXIST (a link of that name exists),
 *         -EPERM, or another negative errno from the kernel
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_bridge_create(keel_netns *ns, const char *name, keel_error **err);

/**
 * Delete a bridge. Its ports are detached, not deleted.
 * @param ns where the bridge is
 * @param name the bridge name
 * @param err optional error
 * @return 0, -EINVAL (bad name, or the link is not a bridge), -ENODEV
 *         (no such link)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_bridge_delete(keel_netns *ns, const char *name, keel_error **err);

/**
 * Whether a link of that name exists in @p ns.
 * @param ns the namespace
 * @param name a link name
 * @param err optional error
 * @return 1 (exists), 0 (does not), or a negative errno (-EINVAL bad name)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_exists(keel_netns *ns, const char *name, keel_error **err);

/**
 * Find a link's interface index.
 * @param ns the namespace
 * @param name a link name
 * @param[out] ifindex receives the index (> 0)
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV (no such link)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_find(keel_netns *ns, const char *name, int *ifindex, keel_error **err);

/**
 * Delete a link. Deleting one end of a veth pair deletes the other end too,
 * in whatever namespace it is.
 * @param ns the namespace
 * @param name a link name
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV (no such link), -EOPNOTSUPP (a link that
 *         cannot be deleted, such as lo)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_delete(keel_netns *ns, const char *name, keel_error **err);

/**
 * Bring a link up (IFF_UP).
 * @param ns the namespace
 * @param name a link name, "lo" included
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_set_up(keel_netns *ns, const char *name, keel_error **err);

/**
 * Bring a link down.
 * @param ns the namespace
 * @param name a link name
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_set_down(keel_netns *ns, const char *name, keel_error **err);

/**
 * Set a link's MTU.
 * @param ns the namespace
 * @param name a link name
 * @param mtu the MTU in bytes (the kernel bounds it per device, 68+ for IPv4)
 * @param err optional error
 * @return 0, -EINVAL (bad name or an MTU the device refuses), -ENODEV
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_set_mtu(keel_netns *ns, const char *name, unsigned mtu, keel_error **err);

/**
 * Set a link's Ethernet (MAC) address.
 * @param ns the namespace
 * @param name a link name
 * @param mac "aa:bb:cc:dd:ee:ff" (hex, either case); must be unicast
 * @param err optional error
 * @return 0, -EINVAL (bad name, unparsable or multicast address), -ENODEV,
 *         -EADDRNOTAVAIL (refused by the device)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_set_mac(keel_netns *ns, const char *name, const char *mac, keel_error **err);

/**
 * Attach a link to a bridge (make the bridge its master).
 * @param ns the namespace of both links
 * @param name the link to attach
 * @param bridge the bridge, or NULL to detach the link from its master
 * @param err optional error
 * @return 0, -EINVAL (bad names, or @p bridge is not a bridge), -ENODEV
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_set_master(keel_netns *ns, const char *name, const char *bridge, keel_error **err);

/**
 * Create a veth pair in @p ns; both ends start down in @p ns.
 * @param ns the namespace
 * @param name the first ("host") end, or NULL for a generated unique
 *        name "kv" followed by 8 hex digits
 * @param peer_name the other end, or NULL for a generated name "kp..."
 * @param[out] name_out optional: receives a malloc'd copy of the first
 *        end's name (useful when generated); the caller frees it with free()
 * @param[out] peer_out optional: receives a malloc'd copy of the peer's
 *        name; the caller frees it with free()
 * @param err optional error
 * @return 0, -EINVAL (bad names, or both the same), -EEXIST (a link of one
 *         of the names exists), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_veth_create(keel_netns *ns, const char *name, const char *peer_name,
				     char **name_out, char **peer_out, keel_error **err);

/**
 * Move a link into another network namespace and name it there, in one
 * request (so a link named like one in the target namespace can still move).
 * @param ns the namespace the link is in
 * @param name the link
 * @param target the namespace to move it to (borrowed; used to check that
 *        @p new_name is free there)
 * @param new_name its name in @p target, or NULL for "eth0"
 * @param err optional error
 * @return 0, -EINVAL (bad names), -ENODEV (no such link), -EEXIST (the
 *         target has a link named @p new_name)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_move(keel_netns *ns, const char *name, keel_netns *target,
				   const char *new_name, keel_error **err);

/**
 * Add an IPv4 or IPv6 address to a link. IPv6 addresses are added without
 * duplicate address detection (IFA_F_NODAD) so they are usable at once.
 * @param ns the namespace
 * @param name the link
 * @param cidr "10.0.0.2/24" or "fd00::2/64"; without "/len" the prefix is
 *        a host one (/32 or /128)
 * @param err optional error
 * @return 0, -EINVAL (bad name, or an address that does not parse),
 *         -ENODEV, -EEXIST (the link has that address already)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_addr_add(keel_netns *ns, const char *name, const char *cidr, keel_error **err);

/**
 * Remove an address from a link.
 * @param ns the namespace
 * @param name the link
 * @param cidr the address as given to keel_net_addr_add()
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV, -EADDRNOTAVAIL (the link has no such address)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_addr_del(keel_netns *ns, const char *name, const char *cidr, keel_error **err);

/**
 * List a link's IPv4 and IPv6 addresses (IPv6 link-local ones included).
 * @param ns the namespace
 * @param name the link
 * @param[out] out receives a NULL-terminated array of "addr/prefixlen"
 *        strings; the caller frees it with keel_net_strv_free()
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_addr_list(keel_netns *ns, const char *name, char ***out, keel_error **err);

/**
 * Free an array returned by keel_net_addr_list().
 * @param strv the array, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_net_strv_free(char **strv);

/**
 * Add a route to the main table.
 * @param ns the namespace
 * @param dst "default" (IPv4, or IPv6 when @p gateway is IPv6), or a
 *        prefix "10.1.0.0/16", "fd00:1::/64", "::/0"
 * @param gateway the next hop, or NULL for a directly connected route
 *        (then @p ifname is required)
 * @param ifname the output link, or NULL to let the kernel pick it from
 *        the gateway
 * @param err optional error
 * @return 0, -EINVAL (unparsable or mixed-family addresses, or neither a
 *         gateway nor a link), -ENODEV, -EEXIST (the route exists),
 *         -ENETUNREACH (the gateway is not reachable from any link)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_route_add(keel_netns *ns, const char *dst, const char *gateway,
				   const char *ifname, keel_error **err);

/**
 * Delete a route from the main table; arguments as for keel_net_route_add().
 * @param ns the namespace
 * @param dst "default" or a prefix
 * @param gateway the next hop, or NULL to match any
 * @param ifname the output link, or NULL to match any
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV, -ESRCH (no such route)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_route_del(keel_netns *ns, const char *dst, const char *gateway,
				   const char *ifname, keel_error **err);

/**
 * Read back a link's state.
 * @param ns the namespace
 * @param name the link
 * @param[out] up optional: 1 when the link is administratively up (IFF_UP)
 * @param[out] running optional: 1 when it is up and has carrier
 *        (IFF_UP and IFF_LOWER_UP, e.g. a veth whose peer is up), as the
 *        driver set it when this is called; IFF_RUNNING (the operstate) is
 *        not used, as the kernel updates it later, asynchronously
 * @param[out] mtu optional: the MTU
 * @param[out] mac optional: receives a malloc'd "aa:bb:cc:dd:ee:ff" (or ""
 *        for a link without one); the caller frees it with free()
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_state(keel_netns *ns, const char *name, int *up, int *running,
				    unsigned *mtu, char **mac, keel_error **err);

/**
 * Read a link's counters, as the kernel reports them (64-bit).
 * @param ns the namespace
 * @param name the link
 * @param[out] rx_bytes optional: bytes received
 * @param[out] tx_bytes optional: bytes sent
 * @param[out] rx_packets optional: packets received
 * @param[out] tx_packets optional: packets sent
 * @param err optional error
 * @return 0, -EINVAL, -ENODEV
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_link_stats(keel_netns *ns, const char *name, uint64_t *rx_bytes,
				    uint64_t *tx_bytes, uint64_t *rx_packets, uint64_t *tx_packets,
				    keel_error **err);

/**
 * Wire a container: create a veth pair in @p host, attach the host end to
 * @p bridge and bring it up, move the peer into @p target as @p peer_name,
 * bring up lo and the peer there, add @p cidr and a default route via
 * @p gateway. On failure nothing is left behind (the pair is deleted).
 * @param host the namespace of the bridge and the host end
 * @param host_name the host end's name, or NULL for a generated "kv..." one
 * @param bridge the bridge to attach to, or NULL to leave the host end unattached
 * @param target the container's namespace
 * @param peer_name the name inside @p target, or NULL for "eth0"
 * @param cidr the address inside @p target ("10.88.0.2/16"), or NULL for none
 * @param gateway the default gateway inside @p target, or NULL for no
 *        default route
 * @param[out] host_name_out optional: receives a malloc'd copy of the host
 *        end's name, to delete it later with keel_net_link_delete(); the
 *        caller frees it with free()
 * @param err optional error; its message names the step that failed
 * @return 0 or the negative errno of the failed step (see the functions above)
 * @since 1.0
 */
KEEL_PUBLIC int keel_net_attach_veth(keel_netns *host, const char *host_name, const char *bridge,
				     keel_netns *target, const char *peer_name, const char *cidr,
				     const char *gateway, char **host_name_out, keel_error **err);

/**
 * Publish ports of a container, as `docker run -p` does: DNAT from the
 * host's addresses to the container's, made in nftables in @p host, in
 * libkeel's own table `inet keel` (chains prerouting, output and
 * postrouting, type nat), which is made when missing. Every rule carries
 * the comment "keel:<owner> <proto> <hostip>:<port>" (`nft list table inet
 * keel` shows it). All ports are published in one transaction: all or none.
 *
 * A spec is [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp] (tcp by default):
 * "8080:80", "127.0.0.1:8080:80/udp", "[fd00::1]:8080:80". Without HOSTIP
 * the port is published on every local address of the container address's
 * family (`fib daddr type local`). The port answers from outside
 * (prerouting) and from the host itself (output). For IPv4 loopback
 * (127.0.0.1, included in "every address") it does what podman's netavark
 * does: route_localnet=1 on @p bridge (a sysctl of that bridge only) and a
 * masquerade of 127.0.0.0/8 sources towards the container. IPv6 loopback
 * (::1) cannot be forwarded by the kernel and is refused. Packets from
 * outside are forwarded only if forwarding is on in @p host
 * (keel_net_set_forwarding()); libkeel never turns it on by itself.
 *
 * @param host the namespace where the bridge is (the "host")
 * @param owner who the rules belong to (a container id; 1 to 80
 *        characters, no blank or quote), unique among the users of
 *        @p host's table; keel_net_ports_unpublish() removes them by it.
 *        A container that reaches its own published port through the
 *        host's address (hairpin NAT) is not covered
 * @param bridge the bridge the container is on, for route_localnet; NULL
 *        to leave it alone (then 127.0.0.1 does not reach the port)
 * @param ctr_addr the container's address ("10.88.0.2", a "/prefix" is ignored)
 * @param specs a NULL-terminated array of specs (may be empty: nothing is done)
 * @param err optional error
 * @return 0, -EINVAL (a spec, the owner or an address does not parse, or a
 *         host address of another family than @p ctr_addr), -EADDRINUSE (a
 *         port is published already by a rule of this table; its comment is
 *         in the message), -ELIBACC (libnftnl.so.11 or libmnl.so.0 cannot be
 *         loaded), -EPERM, or another negative errno from the kernel
 * @since 1.1
 */
KEEL_PUBLIC int keel_net_ports_publish(keel_netns *host, const char *owner, const char *bridge,
				       const char *ctr_addr, const char *const *specs, keel_error **err);

/**
 * Remove every rule of table `inet keel` in @p host whose comment names
 * @p owner, in one transaction; the table itself goes when no rule is left
 * in it. Rules of other owners, and every other table, are left alone.
 * Nothing to remove (no table, no rule) is success. route_localnet on the
 * bridge is left as it is (it belongs to the bridge, and goes with it).
 * @param host the namespace of the rules
 * @param owner as given to keel_net_ports_publish()
 * @param err optional error
 * @return 0, -EINVAL, -ELIBACC, -EPERM, or another negative errno
 * @since 1.1
 */
KEEL_PUBLIC int keel_net_ports_unpublish(keel_netns *host, const char *owner, keel_error **err);

/**
 * Give a bridge's subnet outbound access: masquerade (source NAT to the
 * outgoing link's address) what leaves @p host from @p subnet through any
 * link but @p bridge, as Docker's POSTROUTING rule does. One rule in table
 * `inet keel`, comment "keel:bridge:<bridge> masquerade <subnet>"; adding
 * it again is a no-op. Forwarding must be on in @p host for the traffic to
 * flow (keel_net_set_forwarding()).
 * @param host the namespace of the bridge
 * @param bridge the bridge's name
 * @param subnet the bridge's subnet, "10.88.0.0/16" or "fd00:88::/64"
 * @param err optional error
 * @return 0, -EINVAL (bad name or subnet), -ELIBACC, -EPERM, or another
 *         negative errno
 * @since 1.1
 */
KEEL_PUBLIC int keel_net_masquerade_add(keel_netns *host, const char *bridge, const char *subnet,
					keel_error **err);

/**
 * Remove the masquerade rules of a bridge (every subnet); none is success.
 * The table goes when no rule is left in it.
 * @param host the namespace of the bridge
 * @param bridge the bridge's name
 * @param err optional error
 * @return 0, -EINVAL, -ELIBACC, -EPERM, or another negative errno
 * @since 1.1
 */
KEEL_PUBLIC int keel_net_masquerade_del(keel_netns *host, const char *bridge, keel_error **err);

/**
 * Turn IP forwarding of a namespace on or off: net.ipv4.ip_forward, or
 * net.ipv6.conf.all.forwarding (which also makes every link of @p ns stop
 * accepting router advertisements, as the kernel does for a router).
 * libkeel never changes these by itself; a caller that does restores the
 * value @p was reports when it is done.
 * @param ns the namespace
 * @param family AF_INET or AF_INET6
 * @param on 1 to turn forwarding on, 0 off
 * @param[out] was optional: 1 when it was on before, 0 when off
 * @param err optional error
 * @return 0, -EINVAL, -EPERM, or the negative errno of the write
 * @since 1.1
 */
KEEL_PUBLIC int keel_net_set_forwarding(keel_netns *ns, int family, int on, int *was, keel_error **err);

KEEL_END_DECLS

#endif
