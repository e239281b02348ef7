/*
 * Import: an OCI image layout (a directory, or an oci-archive tar of
 * one), what `docker save` writes (manifest.json, in its hybrid and its
 * legacy <id>/layer.tar shapes: its paths are followed, no shape is
 * assumed), or a plain root filesystem tar as a one-layer image.
 *
 * Everything read from the source goes through keel_open_in_root(): a
 * hostile layout's symlinks cannot make us read outside it. Every digest
 * is validated before it becomes a path, every blob verified on the way
 * in, every layer's diff ID checked. The image is recorded (images/<hex>)
 * and named only after all its blobs and layers are in place, so a failed
 * import leaves nothing that names or lists it; its leftovers (blobs and
 * layers no image uses) go with the next prune.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "util/json.h"
#include "util/str.h"

#define JSON_MAX (16u << 20)
#define MAX_LAYERS 1024

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"

struct import {
	keel_image_store *s;
	const struct keel_json_api *J;
	const char *what;            /* the path, for messages */
	int src;                     /* the layout's root, O_PATH */
	const struct keel_platform *platform;   /* NULL: the host's */
	const char *name;            /* normalized, or NULL */
	char digest[KEEL_DIGEST_LEN + 1];
};

/* ------------------------------------------------------------- helpers -- */

static int read_in_src(struct import *im, const char *path, size_t max, char **buf, size_t *len,
		       keel_error **err)
{
	struct stat st;
	ssize_t n;
	int fd = keel_open_in_root(im->src, path, O_RDONLY);

	*buf = NULL;
	if (fd < 0)
		return keel_error_sys(err, errno, "import %s: open %s", im->what, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return keel_error_invalid(err, "import %s: %s is not a regular file of at most %zu bytes",
					  im->what, path, max);
	}
	if (!(*buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return keel_error_sys(err, ENOMEM, "import %s", im->what);
	}
	for (*len = 0; *len < (size_t)st.st_size; *len += (size_t)n)
		if ((n = read(fd, *buf + *len, (size_t)st.st_size - *len)) <= 0)
			break;
	close(fd);
	(*buf)[*len] = 0;
	if (*len != (size_t)st.st_size) {
		free(*buf);
		*buf = NULL;
		return keel_error_sys(err, EIO, "import %s: read %s", im->what, path);
	}
	return 0;
}

static int parse_in_src(struct import *im, const char *path, struct json_object **out, keel_error **err)
{
	char *buf;
	size_t len;
	int r;

	if ((r = read_in_src(im, path, JSON_MAX, &buf, &len, err)) < 0)
		return r;
	r = keel_json_parse(buf, len, path, out, err);
	free(buf);
	return r < 0 ? keel_error_wrap(err, r, "import %s", im->what) : 0;
}

/* A blob of the layout, verified against its descriptor's digest. */
static int read_blob(struct import *im, const char *digest, char **buf, size_t *len, keel_error **err)
{
	char path[128], got[KEEL_DIGEST_LEN + 1];
	int r;

	if ((r = keel_digest_check(digest, im->what, err)) < 0)
		return r;
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	if ((r = read_in_src(im, path, JSON_MAX, buf, len, err)) < 0)
		return r;
	if ((r = keel_sha256_buf(*buf, *len, got, err)) == 0 && strcmp(got, digest))
		r = keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "import %s: digest mismatch: %s has content %s",
				   im->what, digest, got);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

static const char *get_str(const struct keel_json_api *J, struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !J->json_object_object_get_ex(o, key, &v) || !J->json_object_is_type(v, json_type_string))
		return NULL;
	return J->json_object_get_string(v);
}

static struct json_object *get_array(const struct keel_json_api *J, struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !J->json_object_object_get_ex(o, key, &v) || !J->json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* The layer's media type, from its first bytes (docker archives do not say). */
static const char *sniff_media(int fd)
{
	unsigned char m[4] = { 0 };

	if (pread(fd, m, sizeof(m), 0) >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

/* ------------------------------------------------------- layers, image -- */

/* The config's diff IDs, checked: as many as the layers, all valid. */
static int config_diff_ids(struct import *im, const char *config, size_t len, size_t n_layers,
			   struct json_object **cfg, struct json_object **diff_ids, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	struct json_object *rootfs;
	size_t i;
	int r;

	if ((r = keel_json_parse(config, len, "image config", cfg, err)) < 0)
		return keel_error_wrap(err, r, "import %s", im->what);
	if (!J->json_object_object_get_ex(*cfg, "rootfs", &rootfs) || !(*diff_ids = get_array(J, rootfs, "diff_ids")))
		return keel_error_invalid(err, "import %s: the image config has no rootfs.diff_ids", im->what);
	if (J->json_object_array_length(*diff_ids) != n_layers || n_layers > MAX_LAYERS)
		return keel_error_invalid(err, "import %s: %zu layers but %zu diff_ids in the config (at most %d)",
					  im->what, n_layers, J->json_object_array_length(*diff_ids), MAX_LAYERS);
	for (i = 0; i < n_layers; i++)
		if ((r = keel_digest_check(J->json_object_get_string(J->json_object_array_get_idx(*diff_ids, i)),
					   "image config diff_ids", err)) < 0)
			return keel_error_wrap(err, r, "import %s", im->what);
	return 0;
}

/* One layer from the source at path; skipped when the store has it. */
static int one_layer(struct import *im, const char *path, const char *blob, const char *diff,
		     const char *parent, size_t i, struct keel_layer_result *res, keel_error **err)
{
	char what[512];
	int fd, r;

	memset(res, 0, sizeof(*res));
	if ((r = keel_chain_id(parent, diff, res->chain, err)) < 0)
		return r;
	if (blob && keel_store_has_layer(im->s, res->chain) && keel_store_has_blob(im->s, blob)) {
		struct stat st;

		snprintf(res->blob, sizeof(res->blob), "%s", blob);
		snprintf(res->diff_id, sizeof(res->diff_id), "%s", diff);
		fd = keel_open_in_root(im->src, path, O_RDONLY);
		res->blob_size = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(what, sizeof(what), "import %s: layer %zu (%s)", im->what, i + 1, path);
	if ((fd = keel_open_in_root(im->src, path, O_RDONLY)) < 0)
		return keel_error_sys(err, errno, "%s: open", what);
	r = keel_store_ingest_layer(im->s, fd, blob, diff, parent, what, res, err);
	close(fd);
	return r;
}

static int store_names(struct import *im, const char *const *archive_names, keel_error **err)
{
	const char *one[2] = { im->name, NULL };

	return keel_store_add_image(im->s, im->digest, im->name ? one : archive_names, err);
}

/* ------------------------------------------------------------ OCI layout -- */

static int oci_layers(struct import *im, struct json_object *layers, struct json_object *diff_ids,
		      keel_error **err)
{
	const struct keel_json_api *J = im->J;
	struct keel_layer_result prev = { 0 }, res;
	size_t i, n = J->json_object_array_length(layers);
	int r;

	for (i = 0; i < n; i++) {
		struct json_object *d = J->json_object_array_get_idx(layers, i);
		const char *blob = get_str(J, d, "digest"), *media = get_str(J, d, "mediaType");
		const char *diff = J->json_object_get_string(J->json_object_array_get_idx(diff_ids, i));
		char path[128];

		if ((r = keel_digest_check(blob, "layer descriptor", err)) < 0)
			return keel_error_wrap(err, r, "import %s", im->what);
		if (media && !strstr(media, "tar") && !strstr(media, "rootfs"))
			return keel_error_invalid(err, "import %s: layer %zu has media type %s, not a tar",
						  im->what, i + 1, media);
		snprintf(path, sizeof(path), "blobs/sha256/%s", blob + 7);
		if ((r = one_layer(im, path, blob, diff, i ? prev.chain : NULL, i, &res, err)) < 0)
			return r;
		prev = res;
	}
	return 0;
}

/* A manifest (already verified as blob `digest`) and all it refers to. */
static int oci_manifest(struct import *im, const char *digest, const char *const *names, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	struct json_object *m = NULL, *cfg = NULL, *layers, *diff_ids;
	char *mbuf = NULL, *cbuf = NULL;
	const char *cdigest;
	size_t mlen, clen;
	int r;

	if ((r = read_blob(im, digest, &mbuf, &mlen, err)) < 0)
		return r;
	if ((r = keel_json_parse(mbuf, mlen, "image manifest", &m, err)) < 0) {
		r = keel_error_wrap(err, r, "import %s", im->what);
		goto out;
	}
	if (!J->json_object_object_get_ex(m, "config", &cfg) || !(cdigest = get_str(J, cfg, "digest")) ||
	    !(layers = get_array(J, m, "layers"))) {
		cfg = NULL;
		r = keel_error_invalid(err, "import %s: manifest %s has no config or layers", im->what, digest);
		goto out;
	}
	cfg = NULL;
	if ((r = read_blob(im, cdigest, &cbuf, &clen, err)) < 0 ||
	    (r = config_diff_ids(im, cbuf, clen, J->json_object_array_length(layers), &cfg, &diff_ids, err)) < 0 ||
	    (r = oci_layers(im, layers, diff_ids, err)) < 0 ||
	    (r = keel_store_put_blob(im->s, cbuf, clen, cdigest, NULL, im->what, err)) < 0 ||
	    (r = keel_store_put_blob(im->s, mbuf, mlen, digest, NULL, im->what, err)) < 0)
		goto out;
	memcpy(im->digest, digest, sizeof(im->digest));
	r = store_names(im, names, err);
out:
	if (cfg)
		J->json_object_put(cfg);
	if (m)
		J->json_object_put(m);
	free(mbuf);
	free(cbuf);
	return r;
}

static int is_index(const char *media)
{
	return media && (!strcmp(media, MT_OCI_INDEX) || !strcmp(media, MT_DOCKER_LIST));
}

/* Whether an index entry carries the name asked for. */
static int entry_named(const struct keel_json_api *J, struct json_object *d, const char *name)
{
	struct json_object *ann;
	const char *ref, *full, *tag = strrchr(name, ':');

	if (!J->json_object_object_get_ex(d, "annotations", &ann))
		return 0;
	ref = get_str(J, ann, "org.opencontainers.image.ref.name");
	full = get_str(J, ann, "io.containerd.image.name");
	return (ref && (!strcmp(ref, name) || !strcmp(ref, tag + 1))) || (full && !strcmp(full, name));
}

/* The name an entry gives its image, when it gives a whole one. */
static char *entry_name(const struct keel_json_api *J, struct json_object *d)
{
	struct json_object *ann;
	const char *n;

	if (!J->json_object_object_get_ex(d, "annotations", &ann))
		return NULL;
	n = get_str(J, ann, "io.containerd.image.name");
	if (!n)
		n = get_str(J, ann, "org.opencontainers.image.ref.name");
	/* A bare tag ("latest") names no repository: not a name. */
	if (!n || (!strchr(n, '/') && !strchr(n, ':')))
		return NULL;
	return keel_image_normalize_name(n, NULL);
}

/* Which entry of an index: by name, the only one, or by platform. */
static int pick_entry(struct import *im, struct json_object *manifests, size_t *idx, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	size_t i, n = J->json_object_array_length(manifests), hits = 0;

	if (n == 0)
		return keel_error_invalid(err, "import %s: the index lists no manifest", im->what);
	for (i = 0; im->name && i < n; i++)
		if (entry_named(J, J->json_object_array_get_idx(manifests, i), im->name) && hits++ == 0)
			*idx = i;
	if (hits == 1)
		return 0;
	if (n == 1) {
		*idx = 0;
		return 0;
	}
	return keel_platform_pick(manifests, im->platform, im->name ? im->name : im->what, idx, err);
}

/* Follow an entry down through nested indexes to one manifest. */
static int oci_descend(struct import *im, struct json_object *d, int depth, const char *const *names,
		       keel_error **err)
{
	const struct keel_json_api *J = im->J;
	const char *digest = get_str(J, d, "digest"), *media = get_str(J, d, "mediaType");
	struct json_object *idx = NULL, *manifests;
	char *buf = NULL;
	size_t len, i;
	int r;

	if ((r = keel_digest_check(digest, "index entry", err)) < 0)
		return keel_error_wrap(err, r, "import %s", im->what);
	if (!is_index(media))
		return oci_manifest(im, digest, names, err);
	if (depth > 4)
		return keel_error_invalid(err, "import %s: indexes nested too deep", im->what);
	if ((r = read_blob(im, digest, &buf, &len, err)) < 0)
		return r;
	if ((r = keel_json_parse(buf, len, "image index", &idx, err)) == 0) {
		if (!(manifests = get_array(J, idx, "manifests")))
			r = keel_error_invalid(err, "import %s: index %s has no manifests", im->what, digest);
		else if ((r = keel_platform_pick(manifests, im->platform, im->name ? im->name : im->what, &i, err)) == 0)
			r = oci_descend(im, J->json_object_array_get_idx(manifests, i), depth + 1, names, err);
		J->json_object_put(idx);
	}
	free(buf);
	return r;
}

static int import_oci(struct import *im, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	struct json_object *index = NULL, *manifests, *d;
	char *name = NULL;
	const char *names[2] = { NULL, NULL };
	size_t i = 0;
	int r;

	if ((r = parse_in_src(im, "index.json", &index, err)) < 0)
		return r;
	if (!(manifests = get_array(J, index, "manifests")))
		r = keel_error_invalid(err, "import %s: index.json has no manifests", im->what);
	else if ((r = pick_entry(im, manifests, &i, err)) == 0) {
		d = J->json_object_array_get_idx(manifests, i);
		names[0] = name = entry_name(J, d);
		r = oci_descend(im, d, 0, names, err);
	}
	free(name);
	J->json_object_put(index);
	return r;
}

/* ------------------------------------------------------- docker-archive -- */

static int docker_layers(struct import *im, struct json_object *paths, struct json_object *diff_ids,
			 struct keel_layer_result *res, const char **media, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	size_t i, n = J->json_object_array_length(paths);
	int r, fd;

	for (i = 0; i < n; i++) {
		const char *path = J->json_object_get_string(J->json_object_array_get_idx(paths, i));
		const char *diff = J->json_object_get_string(J->json_object_array_get_idx(diff_ids, i));

		if (!path)
			return keel_error_invalid(err, "import %s: manifest.json: layer %zu has no path", im->what, i + 1);
		if ((fd = keel_open_in_root(im->src, path, O_RDONLY)) < 0)
			return keel_error_sys(err, errno, "import %s: open %s", im->what, path);
		media[i] = sniff_media(fd);
		close(fd);
		if ((r = one_layer(im, path, NULL, diff, i ? res[i - 1].chain : NULL, i, &res[i], err)) < 0)
			return r;
	}
	return 0;
}

/* RepoTags of one manifest.json entry, normalized (NULL-terminated). */
static char **repo_tags(const struct keel_json_api *J, struct json_object *entry)
{
	struct json_object *tags = get_array(J, entry, "RepoTags");
	size_t i, k = 0, n = tags ? J->json_object_array_length(tags) : 0;
	char **v = calloc(n + 1, sizeof(char *));

	for (i = 0; v && i < n; i++) {
		char *t = keel_image_normalize_name(J->json_object_get_string(J->json_object_array_get_idx(tags, i)), NULL);

		if (t)
			v[k++] = t;
	}
	return v;
}

static int docker_entry(struct import *im, struct json_object *entry, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	struct json_object *cfg = NULL, *diff_ids, *layers = get_array(J, entry, "Layers");
	const char *cpath = get_str(J, entry, "Config");
	struct keel_layer_result *res = NULL;
	const char **media = NULL;
	char *cbuf = NULL, **tags = NULL;
	size_t clen, n;
	int r;

	if (!cpath || !layers)
		return keel_error_invalid(err, "import %s: manifest.json: an entry without Config or Layers", im->what);
	n = J->json_object_array_length(layers);
	if ((r = read_in_src(im, cpath, JSON_MAX, &cbuf, &clen, err)) < 0 ||
	    (r = config_diff_ids(im, cbuf, clen, n, &cfg, &diff_ids, err)) < 0)
		goto out;
	res = calloc(n + 1, sizeof(*res));
	media = calloc(n + 1, sizeof(*media));
	tags = repo_tags(J, entry);
	if (!res || !media || !tags) {
		r = keel_error_sys(err, ENOMEM, "import %s", im->what);
		goto out;
	}
	if ((r = docker_layers(im, layers, diff_ids, res, media, err)) < 0)
		goto out;
	if (im->name) {
		keel_image_strv_free(tags);
		tags = NULL;
	}
	r = keel_store_build_image(im->s, cbuf, clen, res, media, n,
				   im->name ? (const char *[]){ im->name, NULL } : (const char *const *)tags,
				   im->digest, err);
out:
	if (cfg)
		J->json_object_put(cfg);
	keel_image_strv_free(tags);
	free(cbuf);
	free(res);
	free(media);
	return r;
}

static int import_docker(struct import *im, keel_error **err)
{
	const struct keel_json_api *J = im->J;
	struct json_object *list = NULL;
	size_t i, n, pick = 0, hits = 0;
	int r;

	if ((r = parse_in_src(im, "manifest.json", &list, err)) < 0)
		return r;
	if (!J->json_object_is_type(list, json_type_array) || !(n = J->json_object_array_length(list))) {
		J->json_object_put(list);
		return keel_error_invalid(err, "import %s: manifest.json is not a list of images", im->what);
	}
	for (i = 0; im->name && i < n; i++) {
		char **tags = repo_tags(J, J->json_object_array_get_idx(list, i));
		size_t k;

		for (k = 0; tags && tags[k]; k++)
			if (!strcmp(tags[k], im->name) && hits++ == 0)
				pick = i;
		keel_image_strv_free(tags);
	}
	if (n > 1 && hits != 1)
		r = keel_error_invalid(err, "import %s: the archive holds %zu images: name one of its RepoTags",
				       im->what, n);
	else
		r = docker_entry(im, J->json_object_array_get_idx(list, pick), err);
	J->json_object_put(list);
	return r;
}

/* ---------------------------------------------------------- rootfs tar -- */

static struct json_object *rootfs_config(const struct keel_json_api *J, const char *diff_id)
{
	struct json_object *c = J->json_object_new_object(), *rootfs = J->json_object_new_object();
	struct json_object *ids = J->json_object_new_array(), *hist = J->json_object_new_array();
	struct json_object *h = J->json_object_new_object();
	struct keel_platform p;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	keel_platform_host(&p);
	J->json_object_object_add(c, "created", J->json_object_new_string(now));
	J->json_object_object_add(c, "architecture", J->json_object_new_string(p.arch));
	if (*p.variant && strcmp(p.arch, "arm64"))
		J->json_object_object_add(c, "variant", J->json_object_new_string(p.variant));
	J->json_object_object_add(c, "os", J->json_object_new_string(p.os));
	J->json_object_object_add(c, "config", J->json_object_new_object());
	J->json_object_array_add(ids, J->json_object_new_string(diff_id));
	J->json_object_object_add(rootfs, "type", J->json_object_new_string("layers"));
	J->json_object_object_add(rootfs, "diff_ids", ids);
	J->json_object_object_add(c, "rootfs", rootfs);
	J->json_object_object_add(h, "created", J->json_object_new_string(now));
	J->json_object_object_add(h, "created_by", J->json_object_new_string("keel_image_import (rootfs tar)"));
	J->json_object_array_add(hist, h);
	J->json_object_object_add(c, "history", hist);
	return c;
}

static int import_rootfs(struct import *im, const char *path, keel_error **err)
{
	struct keel_layer_result res;
	struct json_object *cfg;
	const char *media;
	char *text;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return keel_error_sys(err, errno, "import %s: open", path);
	media = sniff_media(fd);
	r = keel_store_ingest_layer(im->s, fd, NULL, NULL, NULL, im->what, &res, err);
	close(fd);
	if (r < 0)
		return r;
	if (!(cfg = rootfs_config(im->J, res.diff_id)))
		return keel_error_sys(err, ENOMEM, "import %s", path);
	text = keel_json_dump(cfg, "image config", err);
	im->J->json_object_put(cfg);
	if (!text)
		return -ENOMEM;
	r = keel_store_build_image(im->s, text, strlen(text), &res, &media, 1,
				   im->name ? (const char *[]){ im->name, NULL } : NULL, im->digest, err);
	free(text);
	return r;
}

/* ------------------------------------------------------------- building -- */

static struct json_object *descriptor(const struct keel_json_api *J, const char *media, const char *digest,
				      uint64_t size)
{
	struct json_object *d = J->json_object_new_object();

	J->json_object_object_add(d, "mediaType", J->json_object_new_string(media));
	J->json_object_object_add(d, "digest", J->json_object_new_string(digest));
	J->json_object_object_add(d, "size", J->json_object_new_int64((int64_t)size));
	return d;
}

int keel_store_build_image(keel_image_store *s, const char *config, size_t config_len,
			   const struct keel_layer_result *layers, const char *const *media, size_t n,
			   const char *const *names, char *digest_out, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image manifest");
	struct json_object *m, *ls;
	char cdigest[KEEL_DIGEST_LEN + 1], *text;
	size_t i;
	int r;

	if (!J)
		return -ELIBACC;
	if ((r = keel_store_put_blob(s, config, config_len, NULL, cdigest, "image config", err)) < 0)
		return r;
	m = J->json_object_new_object();
	ls = J->json_object_new_array();
	J->json_object_object_add(m, "schemaVersion", J->json_object_new_int(2));
	J->json_object_object_add(m, "mediaType", J->json_object_new_string(MT_OCI_MANIFEST));
	J->json_object_object_add(m, "config", descriptor(J, MT_OCI_CONFIG, cdigest, config_len));
	for (i = 0; i < n; i++)
		J->json_object_array_add(ls, descriptor(J, media[i], layers[i].blob, layers[i].blob_size));
	J->json_object_object_add(m, "layers", ls);
	text = keel_json_dump(m, "image manifest", err);
	J->json_object_put(m);
	if (!text)
		return -ENOMEM;
	r = keel_store_put_blob(s, text, strlen(text), NULL, digest_out, "image manifest", err);
	free(text);
	return r < 0 ? r : keel_store_add_image(s, digest_out, names, err);
}

/* ------------------------------------------------------------- the call -- */

/* What a tar holds at its top: an OCI layout, a docker save, or a rootfs. */
static int sniff_archive(const char *path, int *format, keel_error **err)
{
	const struct keel_archive_api *A = keel_archive(err, path);
	struct archive *a;
	struct archive_entry *e;
	int oci = 0, docker = 0, r;

	if (!A)
		return -ELIBACC;
	if (!(a = A->archive_read_new()))
		return keel_error_sys(err, ENOMEM, "import %s", path);
	A->archive_read_support_filter_all(a);
	A->archive_read_support_format_tar(a);
	if (A->archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		r = keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "import %s: %s", path, A->archive_error_string(a));
		A->archive_read_free(a);
		return r;
	}
	while ((r = A->archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *n = A->archive_entry_pathname(e);

		if (n && !strncmp(n, "./", 2))
			n += 2;
		if (n && !strcmp(n, "manifest.json"))
			docker = 1;
		if (n && (!strcmp(n, "index.json") || !strcmp(n, "oci-layout")))
			oci = 1;
	}
	A->archive_read_free(a);
	*format = docker ? KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE : oci ? KEEL_IMAGE_FORMAT_OCI_ARCHIVE
		: KEEL_IMAGE_FORMAT_ROOTFS_TAR;
	return 0;
}

static int import_layout(struct import *im, const char *dir, int format, keel_error **err)
{
	struct stat st;
	int r;

	if ((im->src = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return keel_error_sys(err, errno, "import %s: open", im->what);
	if (format == KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE ||
	    (format == KEEL_IMAGE_FORMAT_AUTO && fstatat(im->src, "manifest.json", &st, 0) == 0))
		r = import_docker(im, err);
	else
		r = import_oci(im, err);
	close(im->src);
	return r;
}

static int import_path(struct import *im, const char *path, int format, keel_error **err)
{
	struct stat st;
	char *dir = NULL;
	int r;

	if (stat(path, &st) < 0)
		return keel_error_sys(err, errno, "import %s", path);
	if (S_ISDIR(st.st_mode))
		return import_layout(im, path, format == KEEL_IMAGE_FORMAT_OCI_ARCHIVE ? KEEL_IMAGE_FORMAT_OCI_LAYOUT
				     : format, err);
	if (format == KEEL_IMAGE_FORMAT_OCI_LAYOUT)
		return keel_error_invalid(err, "import %s: not a directory (an OCI layout is one)", path);
	if (format == KEEL_IMAGE_FORMAT_AUTO && (r = sniff_archive(path, &format, err)) < 0)
		return r;
	if (format == KEEL_IMAGE_FORMAT_ROOTFS_TAR)
		return import_rootfs(im, path, err);
	if ((r = keel_store_extract_outer(im->s, path, &dir, err)) == 0)
		r = import_layout(im, dir, format, err);
	if (dir)
		keel_remove_at(AT_FDCWD, dir);
	free(dir);
	return r;
}

KEEL_PUBLIC int keel_image_import(keel_image_store *s, const char *path, int format, const char *platform,
				  const char *name, char **digest, keel_error **err)
{
	struct import im = { .s = s, .what = path, .src = -1 };
	struct keel_platform want;
	char *n = NULL;
	int r;

	if (digest)
		*digest = NULL;
	if (!path || format < KEEL_IMAGE_FORMAT_AUTO || format > KEEL_IMAGE_FORMAT_ROOTFS_TAR)
		return keel_error_invalid(err, "import: no path, or an unknown format %d", format);
	if (!(im.J = keel_json(err, "import")))
		return -ELIBACC;
	if (platform && (r = keel_platform_parse(platform, &want, err)) < 0)
		return r;
	im.platform = platform ? &want : NULL;
	if (name && !(im.name = n = keel_image_normalize_name(name, err)))
		return -EINVAL;
	if ((r = keel_store_lock(s, 0, err)) == 0) {
		r = import_path(&im, path, format, err);
		keel_store_unlock(s);
	}
	if (r == 0 && digest && !(*digest = strdup(im.digest)))
		r = keel_error_sys(err, ENOMEM, "import %s", path);
	free(n);
	return r;
}
