/**
 * @file keel/cdi.h
 * @brief Container Device Interface: devices named `vendor.com/class=name`
 * (GPUs and the like), described by JSON specs that vendors install, given
 * to a container the way podman and Docker do (`--device nvidia.com/gpu=0`).
 *
 * A CDI spec (https://github.com/cncf-tags/container-device-interface,
 * SPEC.md) is a JSON file, `*.json` in a spec directory, with a `kind`
 * ("vendor.com/class"), a list of `devices`, each with a `name` and
 * `containerEdits`, and `containerEdits` of its own that apply whenever any
 * of its devices is used. Edits are:
 *  - `deviceNodes`: `path` (in the container), `hostPath` (default: path),
 *    `type` ("c" or "b"; default: the host node's), `major`, `minor`
 *    (default: the host node's), `fileMode`, `permissions` (cgroup access,
 *    "rwm" by default), `uid`, `gid`: made and allowed as with
 *    keel_container_add_device();
 *  - `mounts`: `hostPath`, `containerPath`, `options` ("ro", "nosuid",
 *    "nodev", "noexec", "rbind", "bind"; others are refused): a bind mount;
 *  - `env`: "NAME=VALUE" strings, set on the container's process;
 *  - `hooks`: `hookName` (createRuntime, createContainer, startContainer,
 *    poststart, poststop), `path`, `args` (argv, with argv[0]), `env`: a
 *    program run at that point of the lifecycle (see enum keel_hook: in the
 *    calling process, never inside the container) with the OCI state JSON
 *    on its standard input. A hook that fails fails its step, as a
 *    keel_container_set_hook() hook does. Like those, program hooks are
 *    not persisted: they run only in the process that applied the device
 *    (a poststop hook runs when that process deletes the container).
 *
 * The spec directories are read in order, /etc/cdi then /var/run/cdi by
 * default; a device defined again in a later directory replaces the earlier
 * one (the CDI rule: /var/run/cdi, written at run time, wins). YAML specs
 * are not read (only `*.json`).
 *
 * @code
 * keel_cdi_registry *reg = NULL;
 * if (keel_cdi_registry_new(&reg, NULL, &err) < 0 ||              // /etc/cdi, /var/run/cdi
 *     keel_cdi_registry_apply(reg, "nvidia.com/gpu=0", c, &err) < 0)
 *     goto fail;            // "CDI device nvidia.com/gpu=7 not found (known: nvidia.com/gpu=0, ...)"
 * keel_cdi_registry_free(reg);   // c keeps what was applied
 * @endcode
 */
#ifndef KEEL_CDI_H
#define KEEL_CDI_H

#include <keel/common.h>
#include <keel/container.h>

KEEL_BEGIN_DECLS

/**
 * The CDI devices found in a set of spec directories. Opaque; made by
 * keel_cdi_registry_new(), released by keel_cdi_registry_free().
 * @since 1.1
 */
typedef struct keel_cdi_registry keel_cdi_registry;

/**
 * Read every `*.json` spec in the given directories. A directory that does
 * not exist is skipped; a spec that cannot be read or does not follow the
 * CDI schema is an error naming the file and what is wrong in it.
 * @param[out] out receives the registry; the caller frees it with keel_cdi_registry_free()
 * @param dirs a NULL-terminated list of absolute directories, or NULL for
 *        the CDI defaults (/etc/cdi, /var/run/cdi); copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a bad spec ("CDI spec /etc/cdi/x.json: devices[0]:
 *         no name") or a relative directory; -ENOTSUP when json-c cannot
 *         be loaded; -ENOMEM; the errno of reading a directory or file
 * @since 1.1
 */
KEEL_PUBLIC int keel_cdi_registry_new(keel_cdi_registry **out, const char *const *dirs, keel_error **err);

/**
 * Free a registry.
 * @param reg a registry, or NULL (ignored)
 * @since 1.1
 */
KEEL_PUBLIC void keel_cdi_registry_free(keel_cdi_registry *reg);

/**
 * The fully qualified names of the devices found ("vendor.com/class=name").
 * @param reg a registry
 * @param[out] names receives a NULL-terminated array, sorted; the caller
 *        frees it with keel_container_strv_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL; -ENOMEM
 * @since 1.1
 */
KEEL_PUBLIC int keel_cdi_registry_devices(const keel_cdi_registry *reg, char ***names, keel_error **err);

/**
 * Apply a device's edits, and its spec's, to a container before create:
 * device nodes are added (keel_container_add_device()'s way), mounts added
 * to keel_container_rootfs(), environment variables set on
 * keel_container_process(), hooks recorded to run at their points.
 * Each call applies the spec-level edits again: give two devices of one
 * spec with two calls and its env is set twice (harmless) and its mounts
 * made twice (stacked binds of the same source).
 * @param reg a registry
 * @param name a fully qualified name, "vendor.com/class=name"
 * @param c the container (not created yet)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a malformed name; -ENOENT when there is no such
 *         device (the message lists the devices that exist); the errno of
 *         an edit that cannot be applied (a missing host device node ...)
 * @since 1.1
 */
KEEL_PUBLIC int keel_cdi_registry_apply(const keel_cdi_registry *reg, const char *name, keel_container *c,
					keel_error **err);

KEEL_END_DECLS

#endif
