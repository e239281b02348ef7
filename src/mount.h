/*
 * Private: the contract between mount and its composers (spawn, container).
 *
 * The parent prepares a plan from a keel_rootfs: every path resolved,
 * every option string and flag computed, directories for the writable
 * layer made. The child, already in its new mount namespace (and user
 * namespace, with id maps written), replays the plan with system calls
 * only, ending with pivot_root into the new root.
 */
#ifndef KEEL_PRIV_MOUNT_H
#define KEEL_PRIV_MOUNT_H

#include <keel/mount.h>
#include "util/child.h"

struct keel_mount_plan;

/* Parent side. *out is freed with keel_mount_plan_free(). */
int keel_mount_plan_prepare(const keel_rootfs *rootfs, struct keel_mount_plan **out, keel_error **err);

/* Child side, async-signal-safe: mount the rootfs and table, pivot_root. */
int keel_mount_plan_apply(const struct keel_mount_plan *plan, struct keel_child_report *rep);

void keel_mount_plan_free(struct keel_mount_plan *plan);

/*
 * Issue 16 (src/container-device.c): add a device node at dest (absolute,
 * inside the container), made with mknod (block: S_IFBLK, else S_IFCHR),
 * major:minor and the permission bits of mode, then, with do_chown, owned by
 * uid:gid. Where mknod is refused (a user namespace) the host's node at
 * host is bound on an empty file instead, as for the default /dev. The
 * entry goes at the end of the table: after the /dev the defaults mount.
 */
int keel_rootfs_add_device_node(keel_rootfs *r, const char *host, const char *dest, int block, unsigned major,
				unsigned minor, mode_t mode, int do_chown, uid_t uid, gid_t gid, keel_error **err);

#endif
