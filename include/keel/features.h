/**
 * @file keel/features.h
 * @brief Runtime feature discovery: what this kernel and this build support,
 * probed on the running system, so a caller can decide before it fails.
 *
 * @code
 * keel_features *f = NULL;
 * if (keel_features_probe(&f, NULL) == 0) {
 *     if (!keel_features_has(f, KEEL_FEATURE_OVERLAYFS))
 *         puts("no overlayfs: use a plain directory rootfs");
 *     printf("cgroup2 at %s, controllers: %s\n",
 *            keel_features_cgroup2_path(f), keel_features_cgroup2_controllers(f));
 *     keel_features_free(f);
 * }
 * @endcode
 *
 * Every probe asks the kernel directly (a system call with harmless
 * arguments, a file under /proc or /sys); none is guessed from the kernel
 * version.
 */
#ifndef KEEL_FEATURES_H
#define KEEL_FEATURES_H

#include <keel/common.h>

KEEL_BEGIN_DECLS

/**
 * A feature that may or may not be available. Values are fixed forever.
 * @since 1.0
 */
typedef enum keel_feature {
	KEEL_FEATURE_CLONE3 = 1,          /**< the clone3() system call */
	KEEL_FEATURE_PIDFD = 2,           /**< pidfd_open() and pidfd_send_signal() */
	KEEL_FEATURE_CGROUP2 = 3,         /**< a mounted cgroup2 hierarchy */
	KEEL_FEATURE_OVERLAYFS = 4,       /**< the overlay filesystem (module loadable) */
	KEEL_FEATURE_IDMAPPED_MOUNTS = 5, /**< mount_setattr() with MOUNT_ATTR_IDMAP */
	KEEL_FEATURE_TIME_NS = 6,         /**< time namespaces */
	KEEL_FEATURE_USER_NS = 7,         /**< user namespaces may be created */
	KEEL_FEATURE_SECCOMP_NOTIFY = 8,  /**< seccomp user notification (SCMP_ACT_NOTIFY) */
	KEEL_FEATURE_OPENAT2 = 9,         /**< openat2() with RESOLVE_IN_ROOT */
	KEEL_FEATURE_CGROUP_KILL = 10,    /**< cgroup.kill in cgroup2 */
	KEEL_FEATURE_NEWUIDMAP = 11,      /**< newuidmap and newgidmap helpers installed */
	KEEL_FEATURE_APPARMOR = 12,       /**< AppArmor is enabled on this host */
	KEEL_FEATURE_SELINUX = 13,        /**< SELinux is enabled on this host */
	KEEL_FEATURE_CGROUP_NS = 14       /**< cgroup namespaces */
} keel_feature;

/**
 * The result of a probe. Opaque; free with keel_features_free().
 * @since 1.0
 */
typedef struct keel_features keel_features;

/**
 * Probe the running kernel and this build.
 * @param[out] out receives a new keel_features; the caller frees it with
 *             keel_features_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or a negative errno (-ENOMEM; -EINVAL if @p out is NULL)
 * @since 1.0
 */
KEEL_PUBLIC int keel_features_probe(keel_features **out, keel_error **err);

/**
 * Whether a feature is available.
 * @param f a probe result
 * @param feature a keel_feature value
 * @return 1 if available, 0 if not (also for an unknown value or NULL @p f)
 * @since 1.0
 */
KEEL_PUBLIC int keel_features_has(const keel_features *f, keel_feature feature);

/**
 * The name of a feature, for messages ("clone3", "overlayfs" ...).
 * @param feature a keel_feature value
 * @return a static string, or NULL for an unknown value
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_feature_name(keel_feature feature);

/**
 * Where the cgroup2 hierarchy is mounted, found in /proc/self/mountinfo
 * (/sys/fs/cgroup on most hosts, /sys/fs/cgroup/unified on hybrid ones).
 * @param f a probe result
 * @return a path owned by @p f, or NULL when there is no cgroup2 mount
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_features_cgroup2_path(const keel_features *f);

/**
 * The controllers the cgroup2 root offers for delegation (the contents of
 * its cgroup.controllers), space separated, for example "cpu io memory pids".
 * On a hybrid host this is often only "hugetlb" or empty.
 * @param f a probe result
 * @return a string owned by @p f (empty, never NULL, when there are none)
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_features_cgroup2_controllers(const keel_features *f);

/**
 * Free a probe result.
 * @param f a probe result, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_features_free(keel_features *f);

KEEL_END_DECLS

#endif
