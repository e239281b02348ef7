/**
 * @file keel/mount.h
 * @brief A container's root filesystem: a plain directory or an overlay of
 * read-only image layers plus a writable layer, the mount table inside it,
 * a default /proc, /sys and /dev, masked and read-only paths, and the
 * pivot_root into it.
 *
 * @code
 * keel_rootfs *r = NULL;
 * keel_error *err = NULL;
 *
 * if (keel_rootfs_new(&r, &err) < 0 ||
 *     keel_rootfs_add_layer(r, "/var/lib/img/base", &err) < 0 ||   // lowest first
 *     keel_rootfs_add_layer(r, "/var/lib/img/app", &err) < 0 ||
 *     keel_rootfs_set_upper_base(r, "/run/keel/web", &err) < 0 ||  // writable layer here
 *     keel_rootfs_add_defaults(r, &err) < 0 ||                     // /proc, /sys, /dev ...
 *     keel_rootfs_add_bind(r, "/srv/data", "/data", KEEL_MOUNT_RDONLY, &err) < 0 ||
 *     keel_rootfs_add_tmpfs(r, "/tmp", 64 << 20, 01777, &err) < 0)
 *         goto fail;
 * // give r to a keel_container (borrowed): it mounts all of this inside the
 * // container's own mount namespace when the container starts.
 * ...
 * uint64_t used;
 * keel_rootfs_upper_usage(r, &used, NULL);       // like `docker ps -s`
 * keel_rootfs_remove_upper(r, NULL);             // when the container is deleted
 * keel_rootfs_free(r);
 * @endcode
 *
 * Who creates and who removes what:
 * - The layers and the plain directory belong to the caller. libkeel only
 *   reads them (overlayfs never writes to a lower layer) and never removes
 *   them.
 * - For a layered rootfs, libkeel creates, when the container is prepared,
 *   `<base>/upper` (the writable layer), `<base>/work` (overlayfs' scratch
 *   directory), `<base>/merged` (the mount point of the overlay) and, for
 *   idmapped layers, `<base>/lower/<n>`, where `<base>` is the directory
 *   given to keel_rootfs_set_upper_base(). They survive the container's
 *   processes (a stopped container keeps its changes) and are removed only
 *   by keel_rootfs_remove_upper(), which leaves `<base>` itself in place.
 * - Every mount is made inside the container's own mount namespace, so none
 *   is visible on the host and all of them vanish with the container's last
 *   process. Mount destinations missing in the rootfs are created (as
 *   directories, or empty files for a file bind); for a layered rootfs they
 *   land in the writable layer.
 *
 * Destinations are paths inside the rootfs. A destination that leads out of
 * the rootfs through a symlink (an absolute symlink, or one whose `..`
 * climbs above the rootfs) is refused with -EXDEV and an error naming it;
 * the check is made by the kernel (openat2 with RESOLVE_BENEATH) while the
 * path is opened, so it cannot race with the symlink being changed.
 */
#ifndef KEEL_MOUNT_H
#define KEEL_MOUNT_H

#include <stdint.h>
#include <sys/types.h>
#include <keel/common.h>

KEEL_BEGIN_DECLS

/** A container's root filesystem and mount table. @since 1.0 */
typedef struct keel_rootfs keel_rootfs;

/**
 * Flags of one mount in the table; combine with |. Values are fixed forever.
 * @since 1.0
 */
typedef enum keel_mount_flag {
	KEEL_MOUNT_RDONLY = 1 << 0,      /**< read-only (ro) */
	KEEL_MOUNT_NOSUID = 1 << 1,      /**< ignore set-user-ID and set-group-ID bits */
	KEEL_MOUNT_NODEV = 1 << 2,       /**< do not give access to device files */
	KEEL_MOUNT_NOEXEC = 1 << 3,      /**< do not allow programs to be executed */
	KEEL_MOUNT_RELATIME = 1 << 4,    /**< update atime relative to mtime (the kernel default) */
	KEEL_MOUNT_NOATIME = 1 << 5,     /**< never update atime */
	KEEL_MOUNT_STRICTATIME = 1 << 6, /**< always update atime */
	KEEL_MOUNT_BIND = 1 << 7,        /**< a bind mount of @c source (type is ignored) */
	KEEL_MOUNT_RECURSIVE = 1 << 8,   /**< with BIND: also the mounts below @c source (rbind);
					      the other flags then apply to all of them */
	KEEL_MOUNT_PRIVATE = 1 << 9,     /**< propagation of this mount: private */
	KEEL_MOUNT_SLAVE = 1 << 10,      /**< propagation: slave (receives, never sends) */
	KEEL_MOUNT_SHARED = 1 << 11,     /**< propagation: shared */
	KEEL_MOUNT_UNBINDABLE = 1 << 12, /**< propagation: unbindable */
	KEEL_MOUNT_IDMAP = 1 << 13       /**< with BIND: an idmapped mount through the user
					      namespace given to keel_rootfs_set_idmap() */
} keel_mount_flag;

/**
 * Propagation of the container's whole mount tree, set up before anything
 * is mounted so that no container mount propagates to the host. Values are
 * fixed forever.
 * @since 1.0
 */
typedef enum keel_propagation {
	KEEL_PROPAGATION_SLAVE = 1,   /**< rslave (the default): host mounts still appear inside */
	KEEL_PROPAGATION_PRIVATE = 2, /**< rprivate: no propagation either way */
	KEEL_PROPAGATION_SHARED = 3   /**< rshared inside the container after pivot_root
					   (the host side stays slave) */
} keel_propagation;

/**
 * Make an empty rootfs description.
 * @param[out] out receives the new handle; the caller frees it with keel_rootfs_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL if @p out is NULL, or -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_new(keel_rootfs **out, keel_error **err);

/**
 * Free a rootfs description. Removes nothing on disk.
 * @param r a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_rootfs_free(keel_rootfs *r);

/**
 * Use a plain directory as the rootfs; it is bind-mounted, and changes
 * made in the container go straight to it. Excludes keel_rootfs_add_layer().
 * @param r the rootfs
 * @param path an absolute path to a directory (copied); checked when the
 *        container is prepared
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (NULL or relative path, layers already added), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_set_directory(keel_rootfs *r, const char *path, keel_error **err);

/**
 * Add a read-only image layer; call once per layer, lowest (base) layer
 * first. The rootfs is then an overlay of the layers and a writable layer
 * under keel_rootfs_set_upper_base(). Excludes keel_rootfs_set_directory().
 * @param r the rootfs
 * @param dir an absolute path to the layer's directory (copied); checked
 *        when the container is prepared
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (NULL or relative path, a ':' or ',' in it, a
 *         directory already set), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_layer(keel_rootfs *r, const char *dir, keel_error **err);

/**
 * Where the per-container writable layer lives: `<dir>/upper`,
 * `<dir>/work` and the mount point `<dir>/merged` are created there when
 * the container is prepared, and removed by keel_rootfs_remove_upper().
 * A keel_container sets its state directory here unless the caller did.
 * When the container has its own user namespace, overlayfs keeps its
 * marks (opaque directories) in user.* extended attributes, so dir must be
 * on a filesystem that has them (tmpfs only since Linux 6.6); otherwise the
 * container fails to start with KEEL_ERROR_UNSUPPORTED (EOPNOTSUPP) rather
 * than getting a root where removing a directory of a layer fails with EIO.
 * @param r the rootfs
 * @param dir an absolute path (copied); created if missing
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (NULL or relative path, ':' or ','), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_set_upper_base(keel_rootfs *r, const char *dir, keel_error **err);

/**
 * Make the container's root read-only (writes fail with EROFS); the
 * mounts of the table keep their own flags. Applied after everything else
 * is mounted.
 * @param r the rootfs (NULL is ignored)
 * @param on 1 for read-only, 0 for writable (the default)
 * @since 1.0
 */
KEEL_PUBLIC void keel_rootfs_set_readonly(keel_rootfs *r, int on);

/**
 * How mounts propagate between the container and the host.
 * @param r the rootfs
 * @param prop a keel_propagation value (KEEL_PROPAGATION_SLAVE by default)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for an unknown value
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_set_propagation(keel_rootfs *r, keel_propagation prop, keel_error **err);

/**
 * Add a mount to the table. Mounts are made in the order they are added,
 * after the rootfs itself, each at @p dest inside the rootfs (created as
 * needed).
 * @param r the rootfs
 * @param type a filesystem type ("tmpfs", "proc", "sysfs", "devpts",
 *        "mqueue", "cgroup2" ...); ignored (may be NULL) with KEEL_MOUNT_BIND
 * @param source the source: an absolute host path for a bind, else a
 *        label such as "tmpfs" (NULL gives @p type)
 * @param dest an absolute path inside the rootfs, without ".." components
 * @param flags keel_mount_flag values
 * @param data filesystem options such as "size=65536k,mode=755", or NULL
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (missing type or source, relative path, "..",
 *         unknown flags, more than one propagation flag, IDMAP without
 *         BIND), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_mount(keel_rootfs *r, const char *type, const char *source,
				      const char *dest, unsigned flags, const char *data,
				      keel_error **err);

/**
 * Add a bind mount of a host file or directory: keel_rootfs_add_mount()
 * with KEEL_MOUNT_BIND. The source must exist when the container is
 * prepared; a missing destination is created as the same kind (directory
 * or empty file).
 * @param r the rootfs
 * @param source an absolute host path
 * @param dest an absolute path inside the rootfs
 * @param flags keel_mount_flag values (KEEL_MOUNT_BIND is implied)
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_rootfs_add_mount()
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_bind(keel_rootfs *r, const char *source, const char *dest,
				     unsigned flags, keel_error **err);

/**
 * Add a tmpfs, nosuid and nodev.
 * @param r the rootfs
 * @param dest an absolute path inside the rootfs
 * @param size_bytes the size limit in bytes, or 0 for the kernel's default (half the RAM)
 * @param mode the permissions of its root directory (01777 for /tmp), at most 07777
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (bad path or mode), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_tmpfs(keel_rootfs *r, const char *dest, uint64_t size_bytes,
				      mode_t mode, keel_error **err);

/**
 * Add what a user expects in a Linux container, as Docker and runc set it
 * up: /proc; /sys read-only; /dev as a small tmpfs holding null, zero,
 * full, random, urandom and tty (device nodes, or bind mounts of the
 * host's when device nodes cannot be made, as in a user namespace);
 * /dev/pts (a new devpts instance, /dev/ptmx pointing into it); /dev/shm;
 * /dev/mqueue; the links /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr;
 * the masked paths (/proc/kcore, /proc/keys, /proc/timer_list,
 * /proc/sched_debug, /proc/acpi, /proc/asound, /proc/latency_stats,
 * /proc/timer_stats, /proc/scsi, /sys/firmware,
 * /sys/devices/virtual/powercap) and the read-only paths (/proc/bus,
 * /proc/fs, /proc/irq, /proc/sys, /proc/sysrq-trigger).
 *
 * The container needs its own PID namespace (for /proc), IPC namespace
 * (for /dev/mqueue) and, in a user namespace, network namespace (for /sys).
 * @param r the rootfs
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p r, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_defaults(keel_rootfs *r, keel_error **err);

/**
 * Add the device nodes and links every Linux container has, without the
 * mounts of keel_rootfs_add_defaults(): /dev/null, zero, full, random,
 * urandom and tty (nodes, or bind mounts of the host's when nodes cannot
 * be made), /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr and /dev/ptmx
 * -> pts/ptmx. For a caller that builds its own /dev (an OCI config.json
 * lists its /dev tmpfs and /dev/pts as mounts, and the runtime
 * specification requires these nodes in it): add them after the /dev
 * mount.
 * @param r the rootfs
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p r, -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_rootfs_add_default_devices(keel_rootfs *r, keel_error **err);

/**
 * Add a character device node at @p path (made in the order of the mount
 * table). Where the kernel refuses mknod (in a user namespace), the host's
 * node at the same path is bind-mounted instead, so it must exist there.
 * @param r the rootfs
 * @param path an absolute path inside the rootfs, such as "/dev/fuse"
 * @param major the device's major number
 * @param minor the device's minor number
 * @param mode its permission bits, at most 0777
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (bad path or mode), -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_rootfs_add_device(keel_rootfs *r, const char *path, unsigned major, unsigned minor,
				       mode_t mode, keel_error **err);

/**
 * Hide a path of the container: a file reads as empty (/dev/null is bound
 * over it), a directory as an empty read-only tmpfs. A path missing in the
 * container is skipped. Masks are applied after the whole table.
 * @param r the rootfs
 * @param path an absolute path inside the rootfs
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (bad path), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_masked_path(keel_rootfs *r, const char *path, keel_error **err);

/**
 * Make a path of the container read-only (bound onto itself, read-only,
 * recursively). A path missing in the container is skipped. Applied after
 * the whole table.
 * @param r the rootfs
 * @param path an absolute path inside the rootfs
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (bad path), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_add_readonly_path(keel_rootfs *r, const char *path, keel_error **err);

/**
 * The user namespace whose uid and gid maps idmapped mounts use
 * (KEEL_MOUNT_IDMAP binds, keel_rootfs_set_idmap_layers()): a file owned
 * by uid U on disk appears as the uid that U maps to. Needs
 * KEEL_FEATURE_IDMAPPED_MOUNTS, a filesystem that supports idmapped mounts,
 * and CAP_SYS_ADMIN in the initial user namespace for the caller that
 * prepares the container (the mounts are made there, before the clone).
 * @param r the rootfs
 * @param userns_fd an open /proc/PID/ns/user; it is duplicated, the
 *        caller keeps and closes its own
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (not a user namespace), -EBADF, -EMFILE
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_set_idmap(keel_rootfs *r, int userns_fd, keel_error **err);

/**
 * Idmap the image layers (or the plain directory) through the user
 * namespace of keel_rootfs_set_idmap(), so that one image on disk, owned
 * by root, serves containers with different id maps. The idmapped layers
 * are mounted on `<base>/lower/<n>` inside the container's mount namespace.
 * @param r the rootfs (NULL is ignored)
 * @param on 1 to idmap the layers, 0 not to (the default)
 * @since 1.0
 */
KEEL_PUBLIC void keel_rootfs_set_idmap_layers(keel_rootfs *r, int on);

/**
 * The disk usage of the writable layer, what `docker ps -s` shows as the
 * container's size: the sum of the sizes of the files, symlinks and
 * whiteouts under `<base>/upper` (a file with several hard links counted
 * once; directories not counted).
 * @param r the rootfs (only its upper base is used)
 * @param[out] bytes receives the size in bytes
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (no upper base set, NULL argument), -ENOENT (no
 *         writable layer there), or the errno of a failed stat or read
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_upper_usage(const keel_rootfs *r, uint64_t *bytes, keel_error **err);

/**
 * Delete the writable layer: `<base>/upper`, `<base>/work`,
 * `<base>/merged` and `<base>/lower`. The layers, the plain directory and
 * `<base>` itself are left untouched. Call it when the container is
 * deleted, after its processes have ended. Missing directories are fine.
 * @param r the rootfs (only its upper base is used)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL (no upper base set), -EBUSY (something is still
 *         mounted there), or the errno of a failed removal
 * @since 1.0
 */
KEEL_PUBLIC int keel_rootfs_remove_upper(const keel_rootfs *r, keel_error **err);

KEEL_END_DECLS

#endif
