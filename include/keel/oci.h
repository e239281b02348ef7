/**
 * @file keel/oci.h
 * @brief The OCI runtime specification (1.2): a bundle's config.json made
 * into a keel_container, the state document, a default config.json and
 * the features document, for runtimes such as keelrt that podman,
 * containerd and CRI-O drive.
 *
 * @code
 * keel_oci *oci = NULL;
 * keel_container *c = NULL;
 * keel_error *err = NULL;
 *
 * if (keel_oci_load(&oci, "/var/lib/b/web", &err) < 0 ||    // reads config.json
 *     keel_container_new(&c, "web", NULL, &err) < 0 ||
 *     keel_oci_configure(oci, c, &err) < 0 ||                // every field, or an error
 *     keel_container_create(c, &err) < 0)                    // createRuntime hooks run here
 *     goto fail;   // "linux.intelRdt: not supported"
 * keel_container_start(c, &err);                            // startContainer, poststart
 * ...
 * keel_container_delete(c, KEEL_DELETE_FORCE, &err);        // poststop
 * keel_container_free(c);
 * keel_oci_free(oci);    // after the container handle: its hooks use it
 * @endcode
 *
 * How fields map (the whole table is in docs/architecture-oci.md):
 * process onto keel_container_process() and keel_container_security();
 * root, mounts, maskedPaths, readonlyPaths, rootfsPropagation and devices
 * onto keel_container_rootfs(); linux.namespaces (with paths: joined),
 * uidMappings, gidMappings and timeOffsets onto keel_container_ns();
 * cgroupsPath onto keel_container_set_cgroup_path() (an absolute one is
 * taken from the root of the cgroup2 mount); linux.resources onto the
 * cgroup v2 interface files with keel_container_set_cgroup_value()
 * (memory.max, cpu.weight, cpu.max, cpuset.*, pids.max, io.weight,
 * io.max, hugetlb.*, and linux.resources.unified as is); sysctl, seccomp,
 * hostname and domainname onto the keel_security; hooks onto
 * keel_container_set_hook(), run as programs with the state document on
 * their stdin and their timeout.
 *
 * A field libkeel cannot honour is an error naming its JSON path
 * ("linux.intelRdt: not supported", "linux.resources.memory.kernel: not
 * supported (cgroup v2 has no kernel memory limit)"), never silently
 * dropped. Fields the specification does not define are ignored, as it
 * requires. Two exceptions, as in runc and crun: a seccomp rule naming a
 * system call this libseccomp does not know is skipped (profiles list
 * calls newer than the host), and linux.resources.devices rules are
 * enforced only as far as the container's /dev allows (see
 * docs/architecture-oci.md).
 *
 * Hooks run in the calling process at the points of enum keel_hook:
 * prestart and createRuntime at the CREATE_RUNTIME point, createContainer
 * at CREATE_CONTAINER (in the runtime's namespaces, not the container's:
 * the init has not mounted its rootfs then), startContainer at
 * START_CONTAINER, poststart and poststop at theirs.
 */
#ifndef KEEL_OCI_H
#define KEEL_OCI_H

#include <stddef.h>
#include <keel/common.h>
#include <keel/container.h>
#include <keel/process.h>
#include <keel/security.h>

KEEL_BEGIN_DECLS

/**
 * A parsed config.json and the bundle it belongs to. Opaque; made by
 * keel_oci_load(), freed by keel_oci_free().
 * @since 1.1
 */
typedef struct keel_oci keel_oci;

/**
 * Flags of keel_oci_spec(). Values are fixed forever.
 * @since 1.1
 */
enum keel_oci_spec_flags {
	KEEL_OCI_SPEC_ROOTLESS = 1 /**< a user namespace mapping the caller's uid and gid
				        to root, no network namespace, as `runc spec --rootless` */
};

/**
 * Read and parse `<bundle>/config.json`.
 * @param[out] out receives the handle; the caller frees it with keel_oci_free()
 * @param bundle the bundle directory (relative paths are made absolute)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOENT (no config.json); -EINVAL (not JSON, not an object,
 *         ociVersion not 1.x); -EFBIG (over 4 MiB); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_load(keel_oci **out, const char *bundle, keel_error **err);

/**
 * Parse a config.json given in memory, for a bundle directory.
 * @param[out] out receives the handle; the caller frees it with keel_oci_free()
 * @param bundle the bundle directory that relative paths (root.path, bind
 *        sources) are taken from
 * @param json the document (no NUL needed)
 * @param len its length in bytes
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_oci_load()
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_load_data(keel_oci **out, const char *bundle, const char *json, size_t len,
				   keel_error **err);

/**
 * Free a handle. Containers configured from it must be freed first (their
 * hooks point into it).
 * @param oci a handle, or NULL (ignored)
 * @since 1.1
 */
KEEL_PUBLIC void keel_oci_free(keel_oci *oci);

/**
 * The bundle directory, absolute.
 * @param oci a handle
 * @return a string owned by @p oci; NULL for NULL
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_oci_bundle(const keel_oci *oci);

/**
 * Configure a new container from the config.json: every field (see the
 * file comment), and the hooks.
 * @param oci a handle (kept by the hooks of @p c: keep it alive as long as @p c)
 * @param c a container made by keel_container_new(), not created yet
 * @param[out] err receives an error on failure (may be NULL), naming the
 *        JSON path: "mounts[2].options[0]: 'idmap' is not supported"
 * @return 0; -EINVAL (a bad value); -ENOTSUP (a field libkeel cannot honour);
 *         the errno of opening a namespace path or resolving root.path
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_configure(keel_oci *oci, keel_container *c, keel_error **err);

/**
 * Only the hooks, for a container another process created
 * (keel_container_load()): its startContainer, poststart and poststop.
 * @param oci a handle, kept by the hooks of @p c
 * @param c a container handle
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_set_hooks(keel_oci *oci, keel_container *c, keel_error **err);

/**
 * The pseudo-terminal size process.consoleSize asks for.
 * @param oci a handle
 * @param[out] rows receives the height (may be NULL)
 * @param[out] cols receives the width (may be NULL)
 * @return 1 when config.json gives a size, 0 when it does not (or NULL @p oci)
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_console_size(const keel_oci *oci, unsigned *rows, unsigned *cols);

/**
 * A process to run in the container with keel_container_exec(), from a
 * process object (what `runc exec --process FILE` reads), on top of the
 * container's own settings from config.json: its seccomp profile,
 * sysctls and the like stay; what the object gives (args, env, cwd,
 * user, terminal, capabilities, rlimits, noNewPrivileges,
 * apparmorProfile, oomScoreAdj) replaces them.
 * @param oci the container's config.json
 * @param json a process object, or NULL for config.json's own process
 * @param len the length of @p json
 * @param[out] proc receives the process; the caller frees it with
 *        keel_process_free(), before @p oci
 * @param[out] sec receives its security settings, owned by @p oci, to
 *        change before the exec (`--cap`); may be NULL
 * @param[out] err receives an error on failure (may be NULL), naming the
 *        JSON path
 * @return 0; -EINVAL; -ENOTSUP; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_process(keel_oci *oci, const char *json, size_t len, keel_process **proc,
				 keel_security **sec, keel_error **err);

/**
 * The state document of the runtime specification: ociVersion, id,
 * status, pid (while the init lives), bundle, annotations; and, as runc
 * writes them, rootfs, created (RFC 3339, UTC) and owner.
 * @param c a container handle (its state is read from the kernel as
 *        keel_container_state() does)
 * @param oci its config.json, for bundle, rootfs and annotations; may be NULL
 * @param[out] json receives a malloc'd, NUL-terminated document; the
 *        caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; the errors of keel_container_state(); -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_state(keel_container *c, const keel_oci *oci, char **json, keel_error **err);

/**
 * Change the resources of a created, running or paused container, as
 * `runc update -r FILE` does: a linux.resources object (memory, cpu,
 * pids, blockIO, hugepageLimits, unified) turned into one
 * keel_resources, field by field in the order of create, and applied with
 * keel_container_update(): checked whole before a file is written, put
 * back when a write is refused, and recorded in the container's state.
 * Device rules cannot be changed here (-ENOTSUP; keel_container_update()
 * with keel_resources_set_device_rules() can).
 * @param c a container handle (created here or loaded)
 * @param json the resources object
 * @param len its length in bytes
 * @param[out] err receives an error on failure (may be NULL), naming the
 *        field and the cgroup file
 * @return 0; -EINVAL (bad JSON or value); -ENOTSUP; -ENOENT (no cgroup);
 *         the errors of keel_container_update()
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_update(keel_container *c, const char *json, size_t len, keel_error **err);

/**
 * A default config.json, as `runc spec` writes it: `sh` in a terminal,
 * root.path "rootfs", read-only, the namespaces, mounts, masked and
 * read-only paths and capabilities of runc's template.
 * @param flags 0 or KEEL_OCI_SPEC_ROOTLESS
 * @param[out] json receives a malloc'd, NUL-terminated, indented
 *        document; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL (unknown flags); -ENOMEM; -ENOTSUP (no json-c)
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_spec(unsigned flags, char **json, keel_error **err);

/**
 * The features document of the runtime specification (features.md):
 * which ociVersions, hooks, mount options, namespaces, capabilities,
 * cgroup and seccomp features this build and kernel support.
 * @param[out] json receives a malloc'd, NUL-terminated, indented
 *        document; the caller frees it with free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -ENOMEM; -ENOTSUP (no json-c)
 * @since 1.1
 */
KEEL_PUBLIC int keel_oci_features(char **json, keel_error **err);

KEEL_END_DECLS

#endif
