/**
 * @file keel/image.h
 * @brief Images: a content-addressed store, import (OCI layout, oci-archive,
 * docker-archive, rootfs tar), platforms, running an image, commit and save.
 *
 * An image is a stack of read-only layers plus a config (Entrypoint, Cmd,
 * Env, WorkingDir, User). The store keeps each blob once, verified by its
 * sha256 digest, and each layer unpacked once, by its chain ID, shared by
 * every image that has it. Names (`name:tag`, `latest` when no tag is
 * given) point at manifests. Several processes may use one store at once.
 *
 * @code
 * keel_image_store *s = NULL;
 * keel_image *img = NULL;
 * keel_error *err = NULL;
 * char *digest = NULL;
 *
 * keel_image_store_open(&s, NULL, &err);            // /var/lib/keel for root
 * keel_image_import(s, "busybox.tar", KEEL_IMAGE_FORMAT_AUTO, NULL, "busybox", &digest, &err);
 * keel_image_open(&img, s, "busybox", &err);        // busybox:latest
 * keel_image_apply(s, img, c, NULL, &err);          // layers, Cmd, Env ... into a keel_container
 * keel_container_run(c, &err);
 * keel_image_free(img);
 * free(digest);
 * keel_image_store_free(s);
 * @endcode
 */
#ifndef KEEL_IMAGE_H
#define KEEL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <keel/common.h>
#include <keel/container.h>

KEEL_BEGIN_DECLS

/** A directory of images, blobs and unpacked layers. */
typedef struct keel_image_store keel_image_store;
/** One image of a store, as read when it was opened. */
typedef struct keel_image keel_image;

/** What keel_image_import() reads, and keel_image_save() writes. */
typedef enum keel_image_format {
	KEEL_IMAGE_FORMAT_AUTO = 0,           /**< import: find out from the contents */
	KEEL_IMAGE_FORMAT_OCI_LAYOUT = 1,     /**< an OCI image layout directory */
	KEEL_IMAGE_FORMAT_OCI_ARCHIVE = 2,    /**< a tar of an OCI image layout */
	KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE = 3, /**< what `docker save` writes (manifest.json) */
	KEEL_IMAGE_FORMAT_ROOTFS_TAR = 4      /**< a plain root filesystem tar: a one-layer image */
} keel_image_format;

/** Flags of keel_image_remove(). */
enum {
	KEEL_IMAGE_REMOVE_FORCE = 1 /**< remove even when a container still uses the image */
};

/**
 * Open (and make, if missing) an image store.
 * @param[out] out receives the store; the caller frees it with keel_image_store_free()
 * @param root the store's directory; NULL for the default: /var/lib/keel
 *        for root, $XDG_DATA_HOME/keel (or ~/.local/share/keel) otherwise
 * @param err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a relative root; the errno of a failed mkdir or open
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_store_open(keel_image_store **out, const char *root, keel_error **err);

/**
 * Close a store (the images stay on disk).
 * @param s the store, or NULL
 * @since 1.1
 */
KEEL_PUBLIC void keel_image_store_free(keel_image_store *s);

/**
 * The store's directory.
 * @param s the store
 * @return a path owned by @p s
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_image_store_root(const keel_image_store *s);

/**
 * Import an image: verify every blob's digest and every layer's diff ID,
 * unpack the layers the store does not have yet, then record the image
 * and its names. On failure nothing of it is left in the store.
 * @param s the store
 * @param path an OCI layout directory, or an oci-archive, docker-archive
 *        or rootfs tar (gzip, zstd or uncompressed)
 * @param format one of keel_image_format (AUTO looks at the contents)
 * @param platform "os/arch[/variant]" to pick from a multi-platform index,
 *        NULL for this host's (with containerd's variant fallbacks)
 * @param name the name to give the image (`name[:tag]`), and the one to
 *        pick from an archive holding several; NULL: the names the archive
 *        records (RepoTags, org.opencontainers.image.ref.name), if any
 * @param[out] digest receives the manifest digest ("sha256:..."), which the
 *        caller frees with free(); may be NULL
 * @param err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a malformed archive, JSON, digest or layer;
 *         -ENOENT when the platform or name is not in it; -EIO for a
 *         truncated blob; the errno of a failed file operation
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_import(keel_image_store *s, const char *path, int format, const char *platform,
				  const char *name, char **digest, keel_error **err);

/**
 * Open an image by name (`name[:tag]`) or manifest digest (`sha256:...`,
 * or a unique prefix of at least 12 hex digits).
 * @param[out] out receives the image; the caller frees it with keel_image_free()
 * @param s the store
 * @param ref the name or digest
 * @param err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when there is no such image; -EINVAL for a bad ref
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_open(keel_image **out, keel_image_store *s, const char *ref, keel_error **err);

/**
 * Release an image handle.
 * @param img the image, or NULL
 * @since 1.1
 */
KEEL_PUBLIC void keel_image_free(keel_image *img);

/**
 * The image's manifest digest, which names it in the store.
 * @param img the image
 * @return "sha256:<hex>", owned by @p img
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_image_digest(const keel_image *img);

/**
 * The image's ID: its config's digest (what `docker images` shows).
 * @param img the image
 * @return "sha256:<hex>", owned by @p img
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_image_id(const keel_image *img);

/**
 * The image's config (the OCI image config JSON, as stored).
 * @param img the image
 * @return a NUL-terminated string owned by @p img
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_image_config(const keel_image *img);

/**
 * The image's platform, "os/arch" or "os/arch/variant".
 * @param img the image
 * @return a string owned by @p img
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_image_platform(const keel_image *img);

/**
 * When the image was made (the config's "created"), in seconds since the epoch.
 * @param img the image
 * @return the time, or 0 when the config does not say
 * @since 1.1
 */
KEEL_PUBLIC int64_t keel_image_created(const keel_image *img);

/**
 * How many layers the image has.
 * @param img the image
 * @return the count (0 for an empty image)
 * @since 1.1
 */
KEEL_PUBLIC size_t keel_image_layer_count(const keel_image *img);

/**
 * The directory of a layer, unpacked, lowest first: an overlayfs lower dir.
 * @param img the image
 * @param i the layer's index, below keel_image_layer_count()
 * @return an absolute path owned by @p img, or NULL for a bad index
 * @since 1.1
 */
KEEL_PUBLIC const char *keel_image_layer_dir(const keel_image *img, size_t i);

/**
 * The image's sizes, as `docker images` and `docker system df -v` show them.
 * @param s the store
 * @param img the image
 * @param[out] unique bytes of the layers no other image has (may be NULL)
 * @param[out] total bytes of all its layers, shared or not: the virtual size (may be NULL)
 * @param err receives an error on failure (may be NULL)
 * @return 0; the errno of a failed read of the store
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_sizes(keel_image_store *s, const keel_image *img, uint64_t *unique,
				 uint64_t *total, keel_error **err);

/**
 * The names that point at the image.
 * @param s the store
 * @param img the image
 * @param[out] names receives a NULL-terminated array (empty for an untagged
 *        image), which the caller frees with keel_image_strv_free()
 * @param err receives an error on failure (may be NULL)
 * @return 0; -EINVAL for a corrupt names file
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_names(keel_image_store *s, const keel_image *img, char ***names, keel_error **err);

/**
 * The manifest digests of every image of the store, sorted.
 * @param s the store
 * @param[out] digests receives a NULL-terminated array, which the caller
 *        frees with keel_image_strv_free()
 * @param err receives an error on failure (may be NULL)
 * @return 0; the errno of a failed read of the store
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_list(keel_image_store *s, char ***digests, keel_error **err);

/**
 * Free an array of strings returned by this header's functions.
 * @param strv the array, or NULL
 * @since 1.1
 */
KEEL_PUBLIC void keel_image_strv_free(char **strv);

/**
 * Give an image another name (moving the name if it pointed elsewhere).
 * @param s the store
 * @param ref the image, by name or digest
 * @param name the new name, `name[:tag]`
 * @param err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when there is no such image; -EINVAL for a bad name
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_tag(keel_image_store *s, const char *ref, const char *name, keel_error **err);

/**
 * Remove a name; the image stays (keel_image_prune() removes it once untagged).
 * @param s the store
 * @param name the name, `name[:tag]`
 * @param err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when there is no such name
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_untag(keel_image_store *s, const char *name, keel_error **err);

/**
 * Remove an image: its names and its record, then (as keel_image_prune()
 * does) the layers and blobs no other image uses.
 * @param s the store
 * @param ref the image, by name or digest; by name, only that name goes
 *        when the image has others
 * @param flags KEEL_IMAGE_REMOVE_FORCE to remove an image a container uses
 * @param err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when there is no such image; -EBUSY when a container
 *         (keel_image_apply()) still uses it and no force was asked
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_remove(keel_image_store *s, const char *ref, unsigned flags, keel_error **err);

/**
 * Remove untagged images that no container uses, then every layer,
 * blob and leftover temporary file no image refers to.
 * @param s the store
 * @param[out] freed receives the bytes of layers and blobs removed (may be NULL)
 * @param err receives an error on failure (may be NULL)
 * @return 0; the errno of a failed removal
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_prune(keel_image_store *s, uint64_t *freed, keel_error **err);

/**
 * Make a container of an image: its layers become the overlay's lower
 * dirs (keel_container_add_layer()), and the config's Entrypoint and Cmd
 * the process's arguments, its Env, WorkingDir and User the process's,
 * and its StopSignal (a name such as "SIGKILL", "KILL", "SIGRTMIN+3", or a
 * number, as Docker reads it) the container's stop signal
 * (keel_container_set_stop_signal()), unless the caller set one before.
 * The caller overrides any of them by setting them again afterwards. The
 * store records that the container uses the image (keel_image_remove()
 * refuses to remove it while the container's state exists).
 * @param s the store
 * @param img the image
 * @param c a container not yet created
 * @param cmd replaces the config's Cmd (Entrypoint stays), NULL-terminated;
 *        NULL or empty keeps the image's
 * @param err receives an error on failure (may be NULL)
 * @return 0; -EINVAL when the image gives no command and @p cmd is empty,
 *         for a User that the image's /etc/passwd does not know, or for a
 *         StopSignal that is no signal ("image sha256:...: config.StopSignal
 *         'SIGFOO' is not a signal ...": then nothing is applied)
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_apply(keel_image_store *s, const keel_image *img, keel_container *c,
				 const char *const *cmd, keel_error **err);

/**
 * Commit a container's writable layer as a new image: the overlay upper
 * dir becomes an OCI changeset (whiteouts and opaque markers for what it
 * deleted) on top of the base image's layers, with a config that adds a
 * history entry.
 * @param s the store
 * @param base the image the container was made from (NULL: a one-layer image)
 * @param upper_dir the overlay upper dir (`<state_root>/<id>/layer/upper` by default)
 * @param cmd a new Cmd for the config, NULL-terminated (NULL: keep the base's)
 * @param name the new image's name, or NULL
 * @param[out] digest receives the new manifest digest, freed with free() (may be NULL)
 * @param err receives an error on failure (may be NULL)
 * @return 0; -ENOENT for a missing upper dir; the errno of a failed read or write
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_commit(keel_image_store *s, const keel_image *base, const char *upper_dir,
				  const char *const *cmd, const char *name, char **digest, keel_error **err);

/**
 * Save an image as an OCI layout directory, an oci-archive or a
 * docker-archive (the hybrid `docker save` writes: an OCI layout plus
 * manifest.json and repositories), which `podman load` reads.
 * @param s the store
 * @param ref the image, by name or digest
 * @param path where to write: a directory that must not exist, or a tar file
 * @param format KEEL_IMAGE_FORMAT_OCI_LAYOUT, _OCI_ARCHIVE or _DOCKER_ARCHIVE
 * @param err receives an error on failure (may be NULL)
 * @return 0; -ENOENT when there is no such image; -EEXIST when @p path
 *         exists; -EINVAL for another format
 * @since 1.1
 */
KEEL_PUBLIC int keel_image_save(keel_image_store *s, const char *ref, const char *path, int format,
				keel_error **err);

KEEL_END_DECLS

#endif
