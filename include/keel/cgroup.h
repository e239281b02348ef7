/**
 * @file keel/cgroup.h
 * @brief cgroup v2: create, limit, watch, freeze, kill and remove a cgroup.
 *
 * A keel_cgroup is a handle on one directory of the cgroup2 hierarchy,
 * which is found in /proc/self/mountinfo (/sys/fs/cgroup on most hosts,
 * /sys/fs/cgroup/unified on v1/v2 hybrid ones). Setting a limit enables the
 * controller it needs in the cgroup.subtree_control of every ancestor that
 * lacks it; when that is impossible the error names the controller and why
 * (not offered by the parent, a v1 hierarchy holds it, or the
 * no-internal-process rule).
 *
 * @code
 * keel_cgroup *cg = NULL;
 * keel_error *err = NULL;
 *
 * if (keel_cgroup_create(&cg, "web", NULL, &err) < 0 ||
 *     keel_cgroup_set_memory_max(cg, 64 << 20, &err) < 0 ||
 *     keel_cgroup_set_pids_max(cg, 100, &err) < 0 ||
 *     keel_cgroup_add_pid(cg, pid, &err) < 0) {
 *     fprintf(stderr, "%s\n", keel_error_message(err));
 *     keel_error_free(err);
 * }
 * ...
 * keel_cgroup_remove(cg, KEEL_CGROUP_REMOVE_KILL, NULL); // kill, wait, rmdir
 * keel_cgroup_free(cg);                                  // close the handle
 * @endcode
 *
 * Values are uint64_t in the kernel's units (bytes, microseconds, counts);
 * KEEL_CGROUP_MAX stands for the kernel's "max" (no limit) both ways.
 *
 * The default parent (when a call's @p parent is NULL) is chosen by the
 * delegation rules: if the caller is in the root of the hierarchy, the root;
 * otherwise the parent of the caller's own cgroup, so that a new cgroup is a
 * sibling of the caller's and never contains the caller (a cgroup with
 * processes cannot delegate controllers: the no-internal-process rule).
 * Pass an explicit @p parent to override it. keel_cgroup_default_parent()
 * says which directory that is.
 *
 * A handle is not thread-safe: use one handle from one thread at a time
 * (two handles on the same cgroup are fine).
 */
#ifndef KEEL_CGROUP_H
#define KEEL_CGROUP_H

#include <stdint.h>
#include <sys/types.h>
#include <keel/common.h>

KEEL_BEGIN_DECLS

/**
 * A handle on one cgroup v2 directory. Opaque; made by keel_cgroup_create()
 * or keel_cgroup_open(), released by keel_cgroup_free().
 * @since 1.0
 */
typedef struct keel_cgroup keel_cgroup;

/** "max": no limit, as a value for the setters and a result of the getters. @since 1.0 */
#define KEEL_CGROUP_MAX UINT64_MAX

/**
 * Flags for keel_cgroup_remove(). Values are fixed forever.
 * @since 1.0
 */
enum keel_cgroup_remove_flags {
	KEEL_CGROUP_REMOVE_KILL = 1 /**< kill every process in the subtree first */
};

/**
 * Bits reported by keel_cgroup_events_read(). Values are fixed forever.
 * @since 1.0
 */
enum keel_cgroup_event {
	KEEL_CGROUP_EVENT_POPULATED = 1, /**< "populated" in cgroup.events changed */
	KEEL_CGROUP_EVENT_FROZEN = 2,    /**< "frozen" in cgroup.events changed */
	KEEL_CGROUP_EVENT_OOM = 4,       /**< memory.events "oom" went up */
	KEEL_CGROUP_EVENT_OOM_KILL = 8   /**< memory.events "oom_kill" went up */
};

/**
 * Per-device io.max limits. Values are fixed forever.
 * @since 1.0
 */
typedef enum keel_cgroup_io_limit {
	KEEL_CGROUP_IO_RBPS = 1,  /**< read bytes per second */
	KEEL_CGROUP_IO_WBPS = 2,  /**< write bytes per second */
	KEEL_CGROUP_IO_RIOPS = 3, /**< read operations per second */
	KEEL_CGROUP_IO_WIOPS = 4  /**< write operations per second */
} keel_cgroup_io_limit;

/**
 * Per-device io.stat counters. Values are fixed forever.
 * @since 1.0
 */
typedef enum keel_cgroup_io_stat {
	KEEL_CGROUP_IO_STAT_RBYTES = 1, /**< bytes read */
	KEEL_CGROUP_IO_STAT_WBYTES = 2, /**< bytes written */
	KEEL_CGROUP_IO_STAT_RIOS = 3,   /**< read operations */
	KEEL_CGROUP_IO_STAT_WIOS = 4,   /**< write operations */
	KEEL_CGROUP_IO_STAT_DBYTES = 5, /**< bytes discarded */
	KEEL_CGROUP_IO_STAT_DIOS = 6    /**< discard operations */
} keel_cgroup_io_stat;

/**
 * cpu.stat fields. Values are fixed forever.
 * @since 1.0
 */
typedef enum keel_cgroup_cpu_stat {
	KEEL_CGROUP_CPU_USAGE_USEC = 1,     /**< total CPU time (always present) */
	KEEL_CGROUP_CPU_USER_USEC = 2,      /**< user CPU time (always present) */
	KEEL_CGROUP_CPU_SYSTEM_USEC = 3,    /**< system CPU time (always present) */
	KEEL_CGROUP_CPU_NR_PERIODS = 4,     /**< cpu.max periods elapsed (cpu controller) */
	KEEL_CGROUP_CPU_NR_THROTTLED = 5,   /**< periods in which it was throttled (cpu controller) */
	KEEL_CGROUP_CPU_THROTTLED_USEC = 6  /**< time spent throttled (cpu controller) */
} keel_cgroup_cpu_stat;

/**
 * memory.events counters. Values are fixed forever.
 * @since 1.0
 */
typedef enum keel_cgroup_memory_event {
	KEEL_CGROUP_MEMORY_EVENT_LOW = 1,           /**< reclaimed below memory.low */
	KEEL_CGROUP_MEMORY_EVENT_HIGH = 2,          /**< throttled over memory.high */
	KEEL_CGROUP_MEMORY_EVENT_MAX = 3,           /**< hit memory.max */
	KEEL_CGROUP_MEMORY_EVENT_OOM = 4,           /**< the OOM killer was invoked */
	KEEL_CGROUP_MEMORY_EVENT_OOM_KILL = 5,      /**< processes killed by the OOM killer */
	KEEL_CGROUP_MEMORY_EVENT_OOM_GROUP_KILL = 6 /**< group kills (memory.oom.group) */
} keel_cgroup_memory_event;

/* ------------------------------------------------------------ discovery -- */

/**
 * Find where the cgroup2 hierarchy is mounted, from /proc/self/mountinfo.
 * @param[out] path receives a malloc'd absolute path; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when no cgroup2 filesystem is mounted (the message says
 *         so); -EINVAL if @p path is NULL; -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_mount_path(char **path, keel_error **err);

/**
 * The directory new cgroups go under when a call's parent is NULL: the
 * root of the hierarchy if the caller is in the root, else the parent of
 * the caller's own cgroup (see the file comment).
 * @param[out] path receives a malloc'd absolute path; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when there is no cgroup2 mount or the caller's cgroup
 *         is not visible in it; -EINVAL if @p path is NULL; -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_default_parent(char **path, keel_error **err);

/* ------------------------------------------------------------ lifecycle -- */

/**
 * Create a cgroup and open it. Missing intermediate directories of @p path
 * are created too (and are not removed by keel_cgroup_remove()).
 * @param[out] out receives the new handle; the caller frees it with keel_cgroup_free()
 * @param path the cgroup's path relative to @p parent, such as "web" or
 *        "kt1/web"; no "..", ".", empty or absolute components
 * @param parent an absolute directory inside the cgroup2 mount, or NULL for
 *        keel_cgroup_default_parent()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EEXIST if the cgroup exists already; -EINVAL for a bad
 *         @p path or a @p parent outside the cgroup2 mount; -ENOENT if
 *         @p parent does not exist; -EACCES/-EPERM when not delegated to the
 *         caller; -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_create(keel_cgroup **out, const char *path, const char *parent,
				   keel_error **err);

/**
 * Open an existing cgroup.
 * @param[out] out receives the handle; the caller frees it with keel_cgroup_free()
 * @param path the cgroup's path relative to @p parent, as for
 *        keel_cgroup_create(); "" opens @p parent itself
 * @param parent an absolute directory inside the cgroup2 mount, or NULL for
 *        keel_cgroup_default_parent()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT if there is no such cgroup; -EINVAL for a bad @p path
 *         or @p parent; -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_open(keel_cgroup **out, const char *path, const char *parent,
				 keel_error **err);

/**
 * Close a handle. The cgroup itself stays; see keel_cgroup_remove().
 * @param cg a handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_cgroup_free(keel_cgroup *cg);

/**
 * Remove the cgroup and every cgroup below it, deepest first. With
 * KEEL_CGROUP_REMOVE_KILL every process in the subtree is killed first and
 * the call waits (up to 10 s) for them to leave; without it a populated
 * cgroup is not touched. The handle stays valid for keel_cgroup_path() and
 * must still be freed with keel_cgroup_free().
 * @param cg a handle
 * @param flags 0 or KEEL_CGROUP_REMOVE_KILL
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0 (also if it was already gone); -EBUSY if processes remain
 *         (without KEEL_CGROUP_REMOVE_KILL, or still after 10 s);
 *         -EINVAL for unknown flags; other negative errnos from rmdir
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_remove(keel_cgroup *cg, unsigned flags, keel_error **err);

/**
 * The cgroup's absolute path, under the cgroup2 mount.
 * @param cg a handle
 * @return a string owned by @p cg, valid until keel_cgroup_free(); NULL if @p cg is NULL
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_cgroup_path(const keel_cgroup *cg);

/**
 * An O_PATH | O_DIRECTORY file descriptor on the cgroup: for clone3()'s
 * CLONE_INTO_CGROUP, or as a dirfd for openat(fd, "cgroup.procs") (an
 * O_PATH fd cannot be read or changed itself: open the directory for
 * getdents() or fchown()).
 * @param cg a handle
 * @return an fd owned by @p cg (do not close it), valid until
 *         keel_cgroup_free(); -EINVAL if @p cg is NULL
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_fd(const keel_cgroup *cg);

/**
 * Move a process (all its threads) into the cgroup.
 * @param cg a handle
 * @param pid the process; never pass the caller's own pid unless that is meant
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ESRCH if there is no such process; -EINVAL for pid <= 0;
 *         -EBUSY if the cgroup has controllers enabled for its children
 *         (the no-internal-process rule); -EACCES/-EPERM; -EOPNOTSUPP
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_add_pid(keel_cgroup *cg, pid_t pid, keel_error **err);

/**
 * Enable a controller for this cgroup: add it to cgroup.subtree_control of
 * every ancestor, from the mount's root down, that lacks it. The setters do
 * this by themselves when needed.
 * @param cg a handle
 * @param controller "memory", "cpu", "io", "pids", "cpuset", "hugetlb" ...
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT if the controller is not available (the message says
 *         where it is missing and whether a v1 hierarchy holds it); -EBUSY
 *         when an ancestor has processes of its own (no-internal-process
 *         rule); -EINVAL for a bad name; -EACCES/-EPERM
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_enable_controller(keel_cgroup *cg, const char *controller,
					      keel_error **err);

/* --------------------------------------------------------------- limits -- */

/**
 * Set memory.max, the hard memory limit (the OOM killer acts beyond it).
 * @param cg a handle
 * @param bytes the limit in bytes, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the memory controller is not available; -EBUSY
 *         (no-internal-process rule); other negative errnos from the write
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_memory_max(keel_cgroup *cg, uint64_t bytes, keel_error **err);

/**
 * Read memory.max.
 * @param cg a handle
 * @param[out] bytes receives the limit, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the memory controller is not enabled for @p cg; -EINVAL
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_max(keel_cgroup *cg, uint64_t *bytes, keel_error **err);

/**
 * Set memory.high, the throttling threshold.
 * @param cg a handle
 * @param bytes the threshold in bytes, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_set_memory_max()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_memory_high(keel_cgroup *cg, uint64_t bytes, keel_error **err);

/**
 * Read memory.high.
 * @param cg a handle
 * @param[out] bytes receives the threshold, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_get_memory_max()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_high(keel_cgroup *cg, uint64_t *bytes, keel_error **err);

/**
 * Set memory.low, the best-effort protection from reclaim.
 * @param cg a handle
 * @param bytes the protected amount in bytes (KEEL_CGROUP_MAX: all)
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_set_memory_max()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_memory_low(keel_cgroup *cg, uint64_t bytes, keel_error **err);

/**
 * Read memory.low.
 * @param cg a handle
 * @param[out] bytes receives the protected amount, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_get_memory_max()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_low(keel_cgroup *cg, uint64_t *bytes, keel_error **err);

/**
 * Set memory.swap.max, the swap limit.
 * @param cg a handle
 * @param bytes the limit in bytes, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_set_memory_max(); -ENOENT also when the kernel
 *         has no swap accounting
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_memory_swap_max(keel_cgroup *cg, uint64_t bytes, keel_error **err);

/**
 * Read memory.swap.max.
 * @param cg a handle
 * @param[out] bytes receives the limit, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_get_memory_max()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_swap_max(keel_cgroup *cg, uint64_t *bytes, keel_error **err);

/**
 * Set cpu.max: at most @p quota_us of CPU time every @p period_us.
 * @param cg a handle
 * @param quota_us the quota in microseconds (>= 1000), or KEEL_CGROUP_MAX
 * @param period_us the period in microseconds, 1000 to 1000000
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for values out of range; -ENOENT when the cpu
 *         controller is not available; -EBUSY (no-internal-process rule)
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_cpu_max(keel_cgroup *cg, uint64_t quota_us, uint64_t period_us,
					keel_error **err);

/**
 * Read cpu.max.
 * @param cg a handle
 * @param[out] quota_us receives the quota, or KEEL_CGROUP_MAX (may be NULL)
 * @param[out] period_us receives the period (may be NULL)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the cpu controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_cpu_max(keel_cgroup *cg, uint64_t *quota_us, uint64_t *period_us,
					keel_error **err);

/**
 * Set cpu.weight, the proportional share.
 * @param cg a handle
 * @param weight 1 to 10000 (the default is 100)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL out of range; -ENOENT when the cpu controller is not available
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_cpu_weight(keel_cgroup *cg, uint64_t weight, keel_error **err);

/**
 * Read cpu.weight.
 * @param cg a handle
 * @param[out] weight receives the weight
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the cpu controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_cpu_weight(keel_cgroup *cg, uint64_t *weight, keel_error **err);

/**
 * Set cpuset.cpus, the CPUs the processes may run on.
 * @param cg a handle
 * @param cpus a kernel CPU list such as "0-1,3" ("" means the parent's)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a bad list; -ENOENT when the cpuset controller is not available
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_cpuset_cpus(keel_cgroup *cg, const char *cpus, keel_error **err);

/**
 * Read cpuset.cpus (what was set, possibly empty).
 * @param cg a handle
 * @param[out] cpus receives a malloc'd string without the newline; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the cpuset controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_cpuset_cpus(keel_cgroup *cg, char **cpus, keel_error **err);

/**
 * Set cpuset.mems, the memory nodes the processes may use.
 * @param cg a handle
 * @param mems a kernel node list such as "0" ("" means the parent's)
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_set_cpuset_cpus()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_cpuset_mems(keel_cgroup *cg, const char *mems, keel_error **err);

/**
 * Read cpuset.mems (what was set, possibly empty).
 * @param cg a handle
 * @param[out] mems receives a malloc'd string without the newline; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_cgroup_get_cpuset_cpus()
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_cpuset_mems(keel_cgroup *cg, char **mems, keel_error **err);

/**
 * Set pids.max: fork() and clone() fail with EAGAIN once the cgroup holds
 * that many tasks.
 * @param cg a handle
 * @param max the task limit, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the pids controller is not available; -EBUSY
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_pids_max(keel_cgroup *cg, uint64_t max, keel_error **err);

/**
 * Read pids.max.
 * @param cg a handle
 * @param[out] max receives the limit, or KEEL_CGROUP_MAX
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the pids controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_pids_max(keel_cgroup *cg, uint64_t *max, keel_error **err);

/**
 * Set one io.max limit of one block device; the device's other limits stay.
 * @param cg a handle
 * @param major the device's major number
 * @param minor the device's minor number
 * @param which the limit to set
 * @param value the limit, or KEEL_CGROUP_MAX to lift it
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for an unknown @p which or a value of 0; -ENODEV when
 *         there is no such block device; -ENOENT when the io controller is
 *         not available
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_io_max(keel_cgroup *cg, unsigned major, unsigned minor,
				       keel_cgroup_io_limit which, uint64_t value, keel_error **err);

/**
 * Read one io.max limit of one block device.
 * @param cg a handle
 * @param major the device's major number
 * @param minor the device's minor number
 * @param which the limit to read
 * @param[out] value receives the limit, or KEEL_CGROUP_MAX when none is set
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for an unknown @p which; -ENOENT when the io
 *         controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_io_max(keel_cgroup *cg, unsigned major, unsigned minor,
				       keel_cgroup_io_limit which, uint64_t *value, keel_error **err);

/**
 * Set io.weight for one block device, or the default weight with major and
 * minor 0. Per-device weights need a weight-based policy on the device
 * (the BFQ scheduler or io.cost), otherwise the kernel refuses them.
 * @param cg a handle
 * @param major the device's major number (0 with @p minor 0: the default)
 * @param minor the device's minor number
 * @param weight 1 to 10000 (the default is 100)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL out of range; -ENOENT when the io controller is not
 *         available; negative errnos from the kernel for the device
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_io_weight(keel_cgroup *cg, unsigned major, unsigned minor,
					  uint64_t weight, keel_error **err);

/**
 * Read io.weight of one block device, or the default with major and minor 0.
 * @param cg a handle
 * @param major the device's major number (0 with @p minor 0: the default)
 * @param minor the device's minor number
 * @param[out] weight receives the device's weight, or the default weight
 *             when the device has none of its own
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the io controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_io_weight(keel_cgroup *cg, unsigned major, unsigned minor,
					  uint64_t *weight, keel_error **err);

/**
 * Write any interface file of the cgroup, for what has no typed call. When
 * the file is missing and its prefix names a controller ("hugetlb.2MB.max"),
 * the controller is enabled first.
 * @param cg a handle
 * @param key the file name, such as "memory.oom.group"; no '/'
 * @param value what to write, such as "1"
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a bad key or a value the kernel rejects; -ENOENT
 *         when there is no such file; other negative errnos from the write
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_set_raw(keel_cgroup *cg, const char *key, const char *value,
				    keel_error **err);

/**
 * Read any interface file of the cgroup.
 * @param cg a handle
 * @param key the file name, such as "cgroup.type"; no '/'
 * @param[out] value receives the malloc'd contents with the final newline
 *             removed; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a bad key; -ENOENT when there is no such file
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_raw(keel_cgroup *cg, const char *key, char **value,
				    keel_error **err);

/* ---------------------------------------------------------------- stats -- */

/**
 * Read memory.current, the memory in use now.
 * @param cg a handle
 * @param[out] bytes receives the value
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the memory controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_current(keel_cgroup *cg, uint64_t *bytes, keel_error **err);

/**
 * Read memory.peak, the most memory ever in use (kernel 5.19 and later).
 * @param cg a handle
 * @param[out] bytes receives the value
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the memory controller is not enabled for @p cg
 *         or the kernel has no memory.peak
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_peak(keel_cgroup *cg, uint64_t *bytes, keel_error **err);

/**
 * Read one field of memory.stat ("anon", "file", "pgfault" ...).
 * @param cg a handle
 * @param field the field's name as the kernel writes it
 * @param[out] value receives the value
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the field is not there or the memory controller
 *         is not enabled; -EINVAL
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_stat(keel_cgroup *cg, const char *field, uint64_t *value,
					    keel_error **err);

/**
 * Read one memory.events counter (hierarchical: includes descendants).
 * @param cg a handle
 * @param which the counter
 * @param[out] value receives the count
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for an unknown @p which; -ENOENT when the memory
 *         controller is not enabled or the kernel lacks the counter
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_memory_event(keel_cgroup *cg, keel_cgroup_memory_event which,
					     uint64_t *value, keel_error **err);

/**
 * Read one cpu.stat field. The usage fields exist on every cgroup v2
 * kernel, even without the cpu controller; the throttling ones need it.
 * @param cg a handle
 * @param which the field
 * @param[out] value receives the value (microseconds or a count)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for an unknown @p which; -ENOENT when the field is
 *         not there (the cpu controller is not enabled)
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_cpu_stat(keel_cgroup *cg, keel_cgroup_cpu_stat which,
					 uint64_t *value, keel_error **err);

/**
 * Read pids.current, the number of tasks in the cgroup and below.
 * @param cg a handle
 * @param[out] count receives the value
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when the pids controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_pids_current(keel_cgroup *cg, uint64_t *count, keel_error **err);

/**
 * Read one io.stat counter of one block device.
 * @param cg a handle
 * @param major the device's major number
 * @param minor the device's minor number
 * @param which the counter
 * @param[out] value receives the count; 0 when the device has no line yet
 *             (no I/O was accounted to it)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for an unknown @p which; -ENOENT when the io
 *         controller is not enabled for @p cg
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_get_io_stat(keel_cgroup *cg, unsigned major, unsigned minor,
					keel_cgroup_io_stat which, uint64_t *value, keel_error **err);

/* ----------------------------------------------- freeze, kill and events -- */

/**
 * Freeze every process in the cgroup and below, and wait until
 * cgroup.events says "frozen 1".
 * @param cg a handle
 * @param timeout_ms how long to wait at most, or -1 for no limit
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ETIMEDOUT if not frozen in time (it stays freezing: thaw or
 *         retry); -EOPNOTSUPP when the kernel has no cgroup.freeze
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_freeze(keel_cgroup *cg, int timeout_ms, keel_error **err);

/**
 * Thaw the cgroup and wait until cgroup.events says "frozen 0" (an
 * ancestor that is frozen keeps it frozen: that is -ETIMEDOUT).
 * @param cg a handle
 * @param timeout_ms how long to wait at most, or -1 for no limit
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ETIMEDOUT; -EOPNOTSUPP when the kernel has no cgroup.freeze
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_thaw(keel_cgroup *cg, int timeout_ms, keel_error **err);

/**
 * SIGKILL every process in the cgroup and below (cgroup.kill, or a
 * freeze/signal/thaw loop on kernels before 5.14), and wait (up to 10 s)
 * until cgroup.events says "populated 0". Zombies do not count: a killed
 * child of the caller leaves the cgroup before it is reaped (but pids.current
 * keeps counting it until it is reaped).
 * @param cg a handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EBUSY if processes remain after 10 s; other negative errnos
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_kill(keel_cgroup *cg, keel_error **err);

/**
 * Whether any process is in the cgroup or below ("populated" in cgroup.events).
 * @param cg a handle
 * @param[out] populated receives 1 or 0
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; a negative errno if cgroup.events cannot be read
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_is_populated(keel_cgroup *cg, int *populated, keel_error **err);

/**
 * Whether the cgroup is frozen ("frozen" in cgroup.events).
 * @param cg a handle
 * @param[out] frozen receives 1 or 0
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; a negative errno if cgroup.events cannot be read
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_is_frozen(keel_cgroup *cg, int *frozen, keel_error **err);

/**
 * A file descriptor that becomes readable (poll POLLIN) when cgroup.events
 * or memory.events of the cgroup changes. It is made on the first call and
 * the state it compares against is taken then; later calls return the same
 * fd. Call keel_cgroup_events_read() when it is readable.
 * @param cg a handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return an fd (>= 0) owned by @p cg (do not close it), valid until
 *         keel_cgroup_free(); or a negative errno (-EMFILE, -ENOMEM ...)
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_events_fd(keel_cgroup *cg, keel_error **err);

/**
 * Drain the events fd and say what changed since the last call (or since
 * keel_cgroup_events_fd()). Does not block. memory.events starts being
 * watched as soon as it exists (once a memory limit is set).
 * @param cg a handle on which keel_cgroup_events_fd() was called
 * @param[out] what receives KEEL_CGROUP_EVENT_* bits, 0 when nothing changed
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL if there is no events fd yet; a negative errno if the
 *         event files cannot be read
 * @since 1.0
 */
KEEL_PUBLIC int keel_cgroup_events_read(keel_cgroup *cg, unsigned *what, keel_error **err);

/* -------------------------------------------------------- device access -- */

/**
 * A list of device rules: which device nodes the processes of a cgroup may
 * open (read, write) or make (mknod). Opaque; made by keel_device_rules_new(),
 * released by keel_device_rules_free(). It caches its loaded program (see
 * keel_cgroup_set_devices()); not thread-safe.
 *
 * On cgroup v2 this is an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup; libkeel writes the
 * program itself from the list (no compiler, no libbpf).
 *
 * A rule list is read like Docker's and the OCI `linux.resources.devices`:
 * rules are checked from the last to the first, the first that matches
 * decides (so a later rule overrides an earlier one), and a request no rule
 * matches is denied: an empty list denies every device. A rule matches a
 * request when the type matches ('a' matches both), the numbers match
 * (KEEL_DEVICE_ANY matches any), and every access the request asks for is
 * in the rule's access bits. A denied open() or mknod() fails with EPERM.
 *
 * How it combines with programs elsewhere in the tree: the program is
 * attached with BPF_F_ALLOW_MULTI, and the kernel runs every device program
 * attached to the cgroup and to each of its ancestors: a request is allowed
 * only if all of them allow it. So a cgroup's rules can only narrow what
 * its parent allows, never widen it (a container's "c 10:200 rwm" does not
 * open /dev/net/tun if a systemd unit above it denies it). An ancestor with
 * a program attached without BPF_F_ALLOW_MULTI makes the attach fail
 * (-EPERM). Programs attached by others to the same cgroup are replaced by
 * keel_cgroup_set_devices() too: it owns the cgroup's device filter.
 *
 * @code
 * keel_device_rules *rules = NULL;
 * keel_device_rules_new(&rules, &err);                 // deny everything
 * keel_device_rules_add_defaults(rules, &err);         // null zero full ... pts
 * keel_device_rules_add_string(rules, 1, "c 10:200 rwm", &err);   // /dev/net/tun
 * keel_cgroup_set_devices(cg, rules, &err);            // compiled, loaded, attached
 * keel_cgroup_set_devices(other_cg, rules, &err);      // same program: no new load
 * keel_device_rules_free(rules);                       // cgroups keep their filter
 * @endcode
 * @since 1.1
 */
typedef struct keel_device_rules keel_device_rules;

/**
 * Device types of a rule. Values (Docker's letters) are fixed forever.
 * @since 1.1
 */
typedef enum keel_device_type {
	KEEL_DEVICE_ALL = 'a',   /**< character and block devices */
	KEEL_DEVICE_BLOCK = 'b', /**< block devices */
	KEEL_DEVICE_CHAR = 'c'   /**< character devices */
} keel_device_type;

/**
 * Access bits of a rule. Values are fixed forever.
 * @since 1.1
 */
enum keel_device_access {
	KEEL_DEVICE_READ = 1,  /**< open for reading ('r') */
	KEEL_DEVICE_WRITE = 2, /**< open for writing ('w') */
	KEEL_DEVICE_MKNOD = 4, /**< mknod() a node of it ('m') */
	KEEL_DEVICE_RWM = 7    /**< all three */
};

/** Any major or minor number, in a rule (Docker's `*`). @since 1.1 */
#define KEEL_DEVICE_ANY (-1)

/**
 * Make an empty rule list, which denies every device.
 * @param[out] out receives the list; the caller frees it with keel_device_rules_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL if @p out is NULL; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_device_rules_new(keel_device_rules **out, keel_error **err);

/**
 * Free a rule list and its cached program (a cgroup it is attached to keeps it).
 * @param rules a list, or NULL (ignored)
 * @since 1.1
 */
KEEL_PUBLIC void keel_device_rules_free(keel_device_rules *rules);

/**
 * Copy a rule list (with its loaded program, if any: the copy loads
 * nothing until it changes).
 * @param[out] out receives the copy; the caller frees it with keel_device_rules_free()
 * @param rules the list to copy
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for NULL; -ENOMEM; -EMFILE
 * @since 1.1
 */
KEEL_PUBLIC int keel_device_rules_copy(keel_device_rules **out, const keel_device_rules *rules,
				       keel_error **err);

/**
 * Append one rule.
 * @param rules the list
 * @param allow 1 to allow what the rule matches, 0 to deny it
 * @param type KEEL_DEVICE_CHAR, KEEL_DEVICE_BLOCK or KEEL_DEVICE_ALL
 * @param major the major number (0 to 4095), or KEEL_DEVICE_ANY
 * @param minor the minor number (0 to 1048575), or KEEL_DEVICE_ANY
 * @param access KEEL_DEVICE_READ, _WRITE, _MKNOD combined with `|` (not 0)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a bad type, number or access (the message says
 *         which); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_device_rules_add(keel_device_rules *rules, int allow, keel_device_type type,
				      int64_t major, int64_t minor, unsigned access, keel_error **err);

/**
 * Append one rule in Docker's `--device-cgroup-rule` syntax:
 * "TYPE MAJOR:MINOR ACCESS", TYPE one of a b c, MAJOR and MINOR numbers or
 * `*`, ACCESS letters from r w m ("c 10:200 rwm", "b 8:* r", "a *:* m").
 * @param rules the list
 * @param allow 1 to allow, 0 to deny
 * @param rule the rule
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a malformed rule ("device rule 'c 10 rwm': expected
 *         TYPE MAJOR:MINOR ACCESS ..."); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_device_rules_add_string(keel_device_rules *rules, int allow, const char *rule,
					     keel_error **err);

/**
 * Append the OCI/Docker default allow list: `c *:* m`, `b *:* m` (make
 * any node, open none), and rwm on c 1:3 null, 1:5 zero, 1:7 full,
 * 1:8 random, 1:9 urandom, 5:0 tty, 5:1 console, 5:2 ptmx and 136:* (the
 * /dev/pts terminals). On an empty list this is what every container gets.
 * @param rules the list
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_device_rules_add_defaults(keel_device_rules *rules, keel_error **err);

/**
 * Make @p rules the cgroup's device filter. The rules are compiled and the
 * program loaded (bpf(BPF_PROG_LOAD)) at the first call; @p rules keeps the
 * loaded program until a rule is added, so giving the same list to many
 * cgroups loads it once. The program is attached with BPF_F_ALLOW_MULTI
 * (see keel_device_rules for how it combines with the ancestors'), and
 * only then is the filter that was attached before detached (replaced in
 * one step with BPF_F_REPLACE where there was one): a running cgroup is
 * never without a filter. The program goes away with the cgroup.
 * @param cg a handle
 * @param rules the rules (borrowed; may be freed after the call)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for NULL; -EPERM/-EACCES without CAP_BPF or
 *         CAP_SYS_ADMIN (or an ancestor's exclusive program); -ENOSYS or
 *         -EINVAL when the kernel has no BPF device programs (the message
 *         says which); on failure the filter that was there stays
 * @since 1.1
 */
KEEL_PUBLIC int keel_cgroup_set_devices(keel_cgroup *cg, keel_device_rules *rules, keel_error **err);

/**
 * Detach every device program attached to the cgroup itself (its
 * ancestors' still apply): its processes may then use any device the
 * ancestors allow.
 * @param cg a handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0 (also when there was none); -EPERM; other negative errnos from bpf(2)
 * @since 1.1
 */
KEEL_PUBLIC int keel_cgroup_clear_devices(keel_cgroup *cg, keel_error **err);

KEEL_END_DECLS

#endif
