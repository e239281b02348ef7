/*
 * Private: the net subsystem's contract with its composers (container).
 *
 * Networking happens entirely in the parent, before the child continues:
 * nothing here may run between clone and execve (it allocates and talks
 * netlink). The container wires a child like this, from its spawn parent
 * hook, while the child still waits for the go-ahead:
 *
 *     keel_netns *host, *ctr;
 *     keel_netns_open_current(&host, err);      // or the namespace the user gave
 *     keel_netns_open_pidfd(&ctr, child_pidfd, err);
 *     keel_net_attach_veth(host, NULL, bridge, ctr, NULL, cidr, gateway,
 *                          &state->host_veth, err);
 *     keel_netns_free(ctr);                      // the child keeps its netns alive
 *
 * keel_net_attach_veth() leaves nothing behind on failure. The container
 * persists state->host_veth; deleting the container calls
 * keel_net_veth_release(host, name), which deletes the pair and treats
 * "already gone" as success (the pair dies by itself when the container's
 * network namespace is destroyed, so it may have vanished before).
 */
#ifndef KEEL_PRIV_NET_H
#define KEEL_PRIV_NET_H

#include <keel/net.h>

/* Delete a host-side veth by name; -ENODEV (already gone) counts as success.
 * Returns 0 or a negative errno with *err filled. */
int keel_net_veth_release(keel_netns *host, const char *name, keel_error **err);

/* Translate a libnl error code (negative or positive NLE_*) into a positive
 * errno, for code that calls libnl directly. Unknown codes give EIO. */
int keel_nl_errno(int nlerr);

/*
 * Checks a caller's network settings get at configure time rather than
 * at create (neither loads libnl): a link name as the kernel takes it
 * (1 to 15 bytes, no '/', ':', white space, "." or ".."); an IPv4 or IPv6
 * address with a prefix in range when with_prefix, else a bare one; and
 * the family of the address (AF_INET, AF_INET6), or -EINVAL. what names
 * the setting in the message.
 */
int keel_net_check_link_name(const char *name, const char *what, keel_error **err);
int keel_net_check_ip(const char *s, int with_prefix, const char *what, keel_error **err);

/* Run fn(arg) inside the namespace of ns (a helper thread; the caller's
 * thread never changes namespace). 0 or a negative errno of setns(). */
int keel_netns_run(keel_netns *ns, void (*fn)(void *), void *arg);

/* A netlink socket of that protocol (NETLINK_NETFILTER ...) made inside
 * ns, close-on-exec: an fd the caller closes, or a negative errno. */
int keel_netns_socket(keel_netns *ns, int protocol, keel_error **err);

/* Set the sysctl file path (/proc/sys/net/...) of ns to value; old (may be
 * NULL) receives what it was. Not written when it has that value. */
int keel_netns_sysctl(keel_netns *ns, const char *path, const char *value, char *old, size_t oldlen,
		      keel_error **err);

/* A new network namespace (made by a helper thread: the caller's thread
 * stays where it is), as a handle that pins it. */
int keel_netns_open_new(keel_netns **out, keel_error **err);

/* The namespace fd a handle holds (owned by the handle). */
int keel_netns_fd(const keel_netns *ns);

/* "netns of pid 123": for messages. */
const char *keel_netns_what(const keel_netns *ns);

#endif
