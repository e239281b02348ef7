/*
 * Private: the image store's internals, shared by the image-*.c units.
 *
 * On disk (keel_image_store_open() makes it):
 *
 *   <root>/lock                 flock: shared while importing, exclusive
 *                               while removing (rm, prune)
 *   <root>/names.lock           flock: exclusive around names.json updates
 *   <root>/names.json           {"busybox:latest": "sha256:<manifest>"}
 *   <root>/blobs/sha256/<hex>   content-addressed blobs, verified on entry
 *   <root>/images/<hex>         one (empty) file per complete image, named
 *                               by its manifest digest: written last
 *   <root>/layers/<hex>/        a layer unpacked, named by its chain ID
 *   <root>/layers/<hex>.json    {"diff_id","size"} of that layer
 *   <root>/refs/<hex>           a container that uses an image:
 *                               {"state_root","id","image"}
 *   <root>/tmp/                 work in progress, renamed into place
 */
#ifndef KEEL_IMAGE_PRIV_H
#define KEEL_IMAGE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image-lib.h"
#include "keel/image.h"

struct json_object;

struct keel_image_store {
	char *root;
	int dirfd;          /* root, O_PATH */
	int lockfd;         /* <root>/lock */
};

struct keel_image {
	char *store_root;
	char digest[KEEL_DIGEST_LEN + 1];         /* manifest */
	char config_digest[KEEL_DIGEST_LEN + 1];
	char *config;                              /* the config blob, NUL-terminated */
	char *manifest;
	char platform[64];
	int64_t created;
	size_t n_layers;
	char (*diff_ids)[KEEL_DIGEST_LEN + 1];
	char (*chains)[KEEL_DIGEST_LEN + 1];
	char **dirs;
};

/* --- image-unpack.c */
#define KEEL_UNPACK_LAYER 1   /* a layer: owners, xattrs, devices, whiteouts */
int keel_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve);
/* path resolved as if root were "/", never through a magic link. */
int keel_open_in_root(int root, const char *path, int flags);
int keel_clean_path(const char *in, char *out, size_t size);
int keel_remove_at(int dirfd, const char *name);
int keel_unpack(const struct keel_archive_api *A, struct archive *a, int rootfd, unsigned flags,
		const char *what, uint64_t *bytes, keel_error **err);

/* --- image-layer.c: one layer blob in, hashed twice, unpacked once */
struct keel_layer_result {
	char blob[KEEL_DIGEST_LEN + 1];
	char diff_id[KEEL_DIGEST_LEN + 1];
	char chain[KEEL_DIGEST_LEN + 1];
	uint64_t blob_size;
};
/* Read a (gzip, zstd or plain) layer tar from fd; expect_blob and
 * expect_diff may be NULL (computed, not checked). */
int keel_store_ingest_layer(keel_image_store *s, int fd, const char *expect_blob, const char *expect_diff,
			    const char *parent_chain, const char *what, struct keel_layer_result *res,
			    keel_error **err);
int keel_chain_id(const char *parent, const char *diff_id, char *out, keel_error **err);
/* The plain tar of an outer archive (oci-archive, docker-archive) into a new
 * directory under <root>/tmp; *dir is malloc'd. */
int keel_store_extract_outer(keel_image_store *s, const char *path, char **dir, keel_error **err);

/* --- image-store.c */
int keel_store_lock(keel_image_store *s, int exclusive, keel_error **err);
void keel_store_unlock(keel_image_store *s);
/* A new temporary name under <root>/tmp (malloc'd), made with mkdtemp or mkstemp. */
char *keel_store_tmpdir(keel_image_store *s, const char *prefix, keel_error **err);
int keel_store_tmpfile(keel_image_store *s, char **path, keel_error **err);
int keel_store_put_blob(keel_image_store *s, const void *data, size_t len, const char *expect,
			char *digest_out, const char *what, keel_error **err);
int keel_store_read_blob(keel_image_store *s, const char *digest, size_t max, char **data, size_t *len,
			 keel_error **err);
char *keel_store_blob_path(const keel_image_store *s, const char *digest);
char *keel_store_layer_path(const keel_image_store *s, const char *chain);
int keel_store_has_layer(keel_image_store *s, const char *chain);
int keel_store_has_blob(keel_image_store *s, const char *digest);
int keel_store_write_file_atomic(keel_image_store *s, const char *rel, const char *data, size_t len,
				 keel_error **err);
/* Record a complete image (images/<hex>) and give it names. */
int keel_store_add_image(keel_image_store *s, const char *manifest_digest, const char *const *names,
			 keel_error **err);
/* Record that container <state_root>/<id> uses image digest. */
int keel_store_add_ref(keel_image_store *s, const char *state_root, const char *id, const char *digest,
		       keel_error **err);
/* "busybox" -> "busybox:latest"; malloc'd, or NULL with an error. */
char *keel_image_normalize_name(const char *name, keel_error **err);

/* --- image-import.c / image-manifest: a manifest built for an import */
int keel_store_build_image(keel_image_store *s, const char *config, size_t config_len,
			   const struct keel_layer_result *layers, const char *const *media, size_t n,
			   const char *const *names, char *digest_out, keel_error **err);

/* --- image-platform.c */
struct keel_platform {
	char os[32], arch[32], variant[32];
};
void keel_platform_host(struct keel_platform *p);
int keel_platform_parse(const char *s, struct keel_platform *p, keel_error **err);
void keel_platform_format(const struct keel_platform *p, char *out, size_t size);
/* Pick from an index's "manifests" array; *idx gets the chosen one. */
int keel_platform_pick(struct json_object *manifests, const struct keel_platform *want,
		       const char *image, size_t *idx, keel_error **err);

#endif
