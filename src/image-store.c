/*
 * The image store: its directory, locks, blobs, names, image records,
 * and what opens, lists, names, removes and prunes images. The layout is
 * drawn at the top of image.h.
 *
 * Concurrency: every change becomes visible by one rename(2) (a blob, a
 * layer directory, names.json, an image record), so a reader never sees
 * half of one. An import holds <root>/lock shared, so that imports run
 * side by side; rm and prune hold it exclusive, so that they never
 * collect a layer an import in flight is about to refer to. names.json is
 * read-modified-written under names.lock.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

#define MANIFEST_MAX (4u << 20)
#define CONFIG_MAX (16u << 20)
#define NAMES_MAX (16u << 20)

static const char *const store_dirs[] = { "blobs", "blobs/sha256", "images", "layers", "refs", "tmp" };

/* ------------------------------------------------------------- opening -- */

static char *default_root(keel_error **err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *r;

	if (geteuid() == 0)
		r = strdup("/var/lib/keel");
	else if (xdg && xdg[0] == '/')
		r = keel_str_join(xdg, "/keel", NULL);
	else if (home && home[0] == '/')
		r = keel_str_join(home, "/.local/share/keel", NULL);
	else {
		keel_error_invalid(err, "image store: not root, and neither $XDG_DATA_HOME nor $HOME is set "
				   "(pass a store directory)");
		return NULL;
	}
	if (!r)
		keel_error_sys(err, ENOMEM, "image store");
	return r;
}

KEEL_PUBLIC int keel_image_store_open(keel_image_store **out, const char *root, keel_error **err)
{
	keel_image_store *s;
	size_t i;
	int ret;

	*out = NULL;
	if (root && root[0] != '/')
		return keel_error_invalid(err, "image store '%s': not an absolute path", root);
	if (!(s = calloc(1, sizeof(*s))))
		return keel_error_sys(err, ENOMEM, "image store");
	s->dirfd = s->lockfd = -1;
	s->root = root ? strdup(root) : default_root(err);
	if (!s->root) {
		free(s);
		return root ? keel_error_sys(err, ENOMEM, "image store") : -EINVAL;
	}
	if ((ret = keel_mkdir_p(s->root, 0700, err)) < 0)
		goto fail;
	if ((s->dirfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		ret = keel_error_sys(err, errno, "image store %s: open", s->root);
		goto fail;
	}
	for (i = 0; i < sizeof(store_dirs) / sizeof(store_dirs[0]); i++)
		if (mkdirat(s->dirfd, store_dirs[i], 0700) < 0 && errno != EEXIST) {
			ret = keel_error_sys(err, errno, "image store %s: mkdir %s", s->root, store_dirs[i]);
			goto fail;
		}
	if ((s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		ret = keel_error_sys(err, errno, "image store %s: open lock", s->root);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	keel_image_store_free(s);
	return ret;
}

KEEL_PUBLIC void keel_image_store_free(keel_image_store *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->root);
	free(s);
}

KEEL_PUBLIC const char *keel_image_store_root(const keel_image_store *s)
{
	return s->root;
}

int keel_store_lock(keel_image_store *s, int exclusive, keel_error **err)
{
	while (flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return keel_error_sys(err, errno, "image store %s: lock", s->root);
	return 0;
}

void keel_store_unlock(keel_image_store *s)
{
	flock(s->lockfd, LOCK_UN);
}

/* names.lock, exclusive; the fd to close, or a negative errno. */
static int names_lock(keel_image_store *s, keel_error **err)
{
	int fd = openat(s->dirfd, "names.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return keel_error_sys(err, errno, "image store %s: open names.lock", s->root);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return keel_error_sys(err, e, "image store %s: lock names", s->root);
		}
	return fd;
}

/* ----------------------------------------------------- files and blobs -- */

char *keel_store_tmpdir(keel_image_store *s, const char *prefix, keel_error **err)
{
	char *p = keel_str_join(s->root, "/tmp/", prefix, "-XXXXXX", NULL);

	if (!p) {
		keel_error_sys(err, ENOMEM, "image store");
		return NULL;
	}
	if (!mkdtemp(p)) {
		keel_error_sys(err, errno, "image store %s: make a temporary directory", s->root);
		free(p);
		return NULL;
	}
	return p;
}

int keel_store_tmpfile(keel_image_store *s, char **path, keel_error **err)
{
	int fd;

	if (!(*path = keel_str_join(s->root, "/tmp/blob-XXXXXX", NULL)))
		return keel_error_sys(err, ENOMEM, "image store");
	if ((fd = mkostemp(*path, O_CLOEXEC)) < 0) {
		fd = keel_error_sys(err, errno, "image store %s: make a temporary file", s->root);
		free(*path);
		*path = NULL;
	}
	return fd;
}

char *keel_store_blob_path(const keel_image_store *s, const char *digest)
{
	return keel_str_join(s->root, "/blobs/sha256/", digest + 7, NULL);
}

char *keel_store_layer_path(const keel_image_store *s, const char *chain)
{
	return keel_str_join(s->root, "/layers/", chain + 7, NULL);
}

static int exists_at(int dirfd, const char *a, const char *b)
{
	char rel[PATH_MAX];
	struct stat st;

	snprintf(rel, sizeof(rel), "%s%s", a, b);
	return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int keel_store_has_layer(keel_image_store *s, const char *chain)
{
	return exists_at(s->dirfd, "layers/", chain + 7);
}

int keel_store_has_blob(keel_image_store *s, const char *digest)
{
	return exists_at(s->dirfd, "blobs/sha256/", digest + 7);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* data into rel (relative to the root) by a temporary file and a rename. */
int keel_store_write_file_atomic(keel_image_store *s, const char *rel, const char *data, size_t len,
				 keel_error **err)
{
	char *tmp = NULL, *dst = keel_str_join(s->root, "/", rel, NULL);
	int fd, r;

	if (!dst)
		return keel_error_sys(err, ENOMEM, "image store");
	if ((fd = keel_store_tmpfile(s, &tmp, err)) < 0) {
		free(dst);
		return fd;
	}
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		keel_error_sys(err, -r, "image store %s: write %s", s->root, rel);
	}
	free(tmp);
	free(dst);
	return r;
}

int keel_store_put_blob(keel_image_store *s, const void *data, size_t len, const char *expect,
			char *digest_out, const char *what, keel_error **err)
{
	char digest[KEEL_DIGEST_LEN + 1], rel[128];
	int r;

	if ((r = keel_sha256_buf(data, len, digest, err)) < 0)
		return r;
	if (expect && strcmp(expect, digest))
		return keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "%s: digest mismatch: the descriptor says %s, "
				      "the content is %s", what, expect, digest);
	if (digest_out)
		memcpy(digest_out, digest, sizeof(digest));
	if (keel_store_has_blob(s, digest))
		return 0;
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	return keel_store_write_file_atomic(s, rel, data, len, err);
}

int keel_store_read_blob(keel_image_store *s, const char *digest, size_t max, char **data, size_t *len,
			 keel_error **err)
{
	char rel[128], got[KEEL_DIGEST_LEN + 1];
	int r;

	if ((r = keel_digest_check(digest, "image store", err)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	if ((r = keel_read_file_at(s->dirfd, rel, data, len, err)) < 0)
		return r;
	if (*len > max || keel_sha256_buf(*data, *len, got, err) < 0 || strcmp(got, digest)) {
		free(*data);
		*data = NULL;
		return keel_error_set(err, KEEL_ERROR_INVALID, EIO, "image store %s: blob %s is corrupt or too large",
				      s->root, digest);
	}
	return 0;
}

/* ---------------------------------------------------------------- names -- */

static int valid_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '/' || c == ':';
}

char *keel_image_normalize_name(const char *name, keel_error **err)
{
	const char *slash, *colon, *p;
	char *r;

	if (!name || !*name || strlen(name) > 255 || name[0] == '/' || name[0] == ':' || strchr(name, '@')) {
		keel_error_invalid(err, "image name '%.60s' is not name[:tag]", name ? name : "");
		return NULL;
	}
	for (p = name; *p; p++)
		if (!valid_name_char(*p)) {
			keel_error_invalid(err, "image name '%.60s': character '%c' is not allowed", name,
					   *p >= 0x20 && *p < 0x7f ? *p : '?');
			return NULL;
		}
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		if (!colon[1]) {
			keel_error_invalid(err, "image name '%s': empty tag", name);
			return NULL;
		}
		r = strdup(name);
	} else {
		r = keel_str_join(name, ":latest", NULL);
	}
	if (!r)
		keel_error_sys(err, ENOMEM, "image name");
	return r;
}

/* names.json as a json-c object (a new, empty one when there is none). */
static int names_read(keel_image_store *s, struct json_object **out, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image names");
	int r;

	if (!J)
		return -ELIBACC;
	r = keel_json_read_file(s->dirfd, "names.json", NAMES_MAX, "image names", out, err);
	if (r == -ENOENT) {
		keel_error_free(err ? *err : NULL);
		if (err)
			*err = NULL;
		*out = J->json_object_new_object();
		return *out ? 0 : keel_error_sys(err, ENOMEM, "image names");
	}
	if (r == 0 && !J->json_object_is_type(*out, json_type_object)) {
		J->json_object_put(*out);
		return keel_error_invalid(err, "image store %s: names.json is not an object", s->root);
	}
	return r;
}

static int names_write(keel_image_store *s, struct json_object *names, keel_error **err)
{
	char *text = keel_json_dump(names, "image names", err);
	int r;

	if (!text)
		return -ENOMEM;
	r = keel_store_write_file_atomic(s, "names.json", text, strlen(text), err);
	free(text);
	return r;
}

/* The manifest digest a name points at (copied into out), or -ENOENT. */
static int names_lookup(keel_image_store *s, const char *name, char *out, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image names");
	struct json_object *names, *v;
	int r;

	if (!J)
		return -ELIBACC;
	if ((r = names_read(s, &names, err)) < 0)
		return r;
	r = -ENOENT;
	if (J->json_object_object_get_ex(names, name, &v) && keel_digest_valid(J->json_object_get_string(v))) {
		memcpy(out, J->json_object_get_string(v), KEEL_DIGEST_LEN + 1);
		r = 0;
	}
	J->json_object_put(names);
	return r;
}

/* Set (digest non-NULL) or delete names, all under one names lock. */
static int names_update(keel_image_store *s, const char *const *names, const char *digest, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image names");
	struct json_object *obj;
	int lock, r;
	size_t i;

	if (!J)
		return -ELIBACC;
	if ((lock = names_lock(s, err)) < 0)
		return lock;
	if ((r = names_read(s, &obj, err)) == 0) {
		for (i = 0; names && names[i]; i++) {
			if (digest)
				J->json_object_object_add(obj, names[i], J->json_object_new_string(digest));
			else if (J->json_object_object_get_ex(obj, names[i], NULL))
				J->json_object_object_del(obj, names[i]);
			else
				r = keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENOENT, "image name %s: no such name",
						   names[i]);
		}
		if (r == 0)
			r = names_write(s, obj, err);
		J->json_object_put(obj);
	}
	close(lock);
	return r;
}

/* Every name pointing at digest (or every name at all, digest NULL). */
static int names_of(keel_image_store *s, const char *digest, char ***out, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image names");
	struct json_object *names;
	struct json_object_iterator it, end;
	size_t n = 0, cap;
	int r;

	*out = NULL;
	if (!J)
		return -ELIBACC;
	if ((r = names_read(s, &names, err)) < 0)
		return r;
	cap = (size_t)J->json_object_object_length(names) + 1;
	if (!(*out = calloc(cap, sizeof(char *)))) {
		J->json_object_put(names);
		return keel_error_sys(err, ENOMEM, "image names");
	}
	it = J->json_object_iter_begin(names);
	end = J->json_object_iter_end(names);
	for (; !J->json_object_iter_equal(&it, &end); J->json_object_iter_next(&it)) {
		const char *v = J->json_object_get_string(J->json_object_iter_peek_value(&it));

		if (!digest || (v && !strcmp(v, digest)))
			if (!((*out)[n++] = strdup(J->json_object_iter_peek_name(&it))))
				r = -ENOMEM;
	}
	J->json_object_put(names);
	if (r < 0) {
		keel_image_strv_free(*out);
		*out = NULL;
		return keel_error_sys(err, ENOMEM, "image names");
	}
	return 0;
}

KEEL_PUBLIC void keel_image_strv_free(char **strv)
{
	size_t i;

	for (i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
}

int keel_store_add_image(keel_image_store *s, const char *manifest_digest, const char *const *names,
			 keel_error **err)
{
	char rel[128];
	int r;

	snprintf(rel, sizeof(rel), "images/%s", manifest_digest + 7);
	if ((r = keel_store_write_file_atomic(s, rel, "", 0, err)) < 0)
		return r;
	return names && names[0] ? names_update(s, names, manifest_digest, err) : 0;
}

/* ----------------------------------------------------- reading an image -- */

static int64_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	return (int64_t)timegm(&tm);
}

static int image_fail(keel_image *img, const char *why, keel_error **err)
{
	return keel_error_invalid(err, "image %s: %s", img->digest, why);
}

static int load_layers(keel_image_store *s, keel_image *img, struct json_object *diff_ids, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image");
	size_t i, n = J->json_object_array_length(diff_ids);
	int r;

	img->n_layers = n;
	img->diff_ids = calloc(n + 1, sizeof(*img->diff_ids));
	img->chains = calloc(n + 1, sizeof(*img->chains));
	img->dirs = calloc(n + 1, sizeof(char *));
	if (!img->diff_ids || !img->chains || !img->dirs)
		return keel_error_sys(err, ENOMEM, "image");
	for (i = 0; i < n; i++) {
		const char *d = J->json_object_get_string(J->json_object_array_get_idx(diff_ids, i));

		if ((r = keel_digest_check(d, "image config diff_ids", err)) < 0)
			return r;
		memcpy(img->diff_ids[i], d, KEEL_DIGEST_LEN + 1);
		if ((r = keel_chain_id(i ? img->chains[i - 1] : NULL, d, img->chains[i], err)) < 0)
			return r;
		if (!(img->dirs[i] = keel_store_layer_path(s, img->chains[i])))
			return keel_error_sys(err, ENOMEM, "image");
	}
	return 0;
}

static void read_platform(const struct keel_json_api *J, struct json_object *cfg, keel_image *img)
{
	struct json_object *o;
	const char *os = "linux", *arch = "unknown", *var = NULL;

	if (J->json_object_object_get_ex(cfg, "os", &o))
		os = J->json_object_get_string(o);
	if (J->json_object_object_get_ex(cfg, "architecture", &o))
		arch = J->json_object_get_string(o);
	if (J->json_object_object_get_ex(cfg, "variant", &o))
		var = J->json_object_get_string(o);
	snprintf(img->platform, sizeof(img->platform), "%s/%s%s%s", os, arch, var ? "/" : "", var ? var : "");
	if (J->json_object_object_get_ex(cfg, "created", &o))
		img->created = parse_time(J->json_object_get_string(o));
}

static int load_config(keel_image_store *s, keel_image *img, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image");
	struct json_object *cfg = NULL, *rootfs, *diff_ids;
	size_t len;
	int r;

	if ((r = keel_store_read_blob(s, img->config_digest, CONFIG_MAX, &img->config, &len, err)) < 0)
		return r;
	if ((r = keel_json_parse(img->config, len, "image config", &cfg, err)) < 0)
		return r;
	if (!J->json_object_object_get_ex(cfg, "rootfs", &rootfs) ||
	    !J->json_object_object_get_ex(rootfs, "diff_ids", &diff_ids) ||
	    !J->json_object_is_type(diff_ids, json_type_array))
		r = image_fail(img, "the config has no rootfs.diff_ids", err);
	else
		r = load_layers(s, img, diff_ids, err);
	if (r == 0)
		read_platform(J, cfg, img);
	J->json_object_put(cfg);
	return r;
}

static int load_manifest(keel_image_store *s, keel_image *img, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image");
	struct json_object *m = NULL, *cfg, *dg;
	size_t len;
	int r;

	if (!J)
		return -ELIBACC;
	if ((r = keel_store_read_blob(s, img->digest, MANIFEST_MAX, &img->manifest, &len, err)) < 0)
		return r;
	if ((r = keel_json_parse(img->manifest, len, "image manifest", &m, err)) < 0)
		return r;
	if (!J->json_object_object_get_ex(m, "config", &cfg) || !J->json_object_object_get_ex(cfg, "digest", &dg) ||
	    !keel_digest_valid(J->json_object_get_string(dg)))
		r = image_fail(img, "the manifest has no valid config digest", err);
	else
		memcpy(img->config_digest, J->json_object_get_string(dg), KEEL_DIGEST_LEN + 1);
	J->json_object_put(m);
	return r < 0 ? r : load_config(s, img, err);
}

static int load_image(keel_image_store *s, const char *digest, keel_image **out, keel_error **err)
{
	keel_image *img = calloc(1, sizeof(*img));
	int r;

	*out = NULL;
	if (!img || !(img->store_root = strdup(s->root))) {
		free(img);
		return keel_error_sys(err, ENOMEM, "image");
	}
	memcpy(img->digest, digest, KEEL_DIGEST_LEN + 1);
	if ((r = load_manifest(s, img, err)) < 0) {
		keel_image_free(img);
		return r;
	}
	*out = img;
	return 0;
}

static int is_hex(const char *p)
{
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* A unique image whose manifest or config digest starts with the hex prefix. */
static int find_by_prefix(keel_image_store *s, const char *prefix, char *out, keel_error **err)
{
	char **all = NULL;
	size_t i, found = 0;
	int r;

	if ((r = keel_image_list(s, &all, err)) < 0)
		return r;
	for (i = 0; all[i]; i++) {
		keel_image *img = NULL;
		int match = !strncmp(all[i] + 7, prefix, strlen(prefix));

		if (!match && load_image(s, all[i], &img, NULL) == 0)
			match = !strncmp(img->config_digest + 7, prefix, strlen(prefix));
		keel_image_free(img);
		if (match && found++ == 0)
			memcpy(out, all[i], KEEL_DIGEST_LEN + 1);
	}
	keel_image_strv_free(all);
	if (found == 1)
		return 0;
	return keel_error_set(err, found ? KEEL_ERROR_INVALID : KEEL_ERROR_NOT_FOUND, found ? EINVAL : ENOENT,
			      "image %s: %s", prefix, found ? "more than one image has this prefix" : "no such image");
}

/* The manifest digest that ref (a name, a digest, or an ID prefix) means. */
static int resolve_ref(keel_image_store *s, const char *ref, char *out, keel_error **err)
{
	char *name;
	int r;

	if (!ref || !*ref)
		return keel_error_invalid(err, "image: empty reference");
	if (!strncmp(ref, "sha256:", 7)) {
		if (strlen(ref) < KEEL_DIGEST_LEN)
			return strlen(ref) >= 7 + 12 && is_hex(ref + 7) ? find_by_prefix(s, ref + 7, out, err)
				: keel_digest_check(ref, "image", err);
		if ((r = keel_digest_check(ref, "image", err)) < 0)
			return r;
		if (!exists_at(s->dirfd, "images/", ref + 7))
			return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENOENT, "image %s: no such image", ref);
		memcpy(out, ref, KEEL_DIGEST_LEN + 1);
		return 0;
	}
	if (strlen(ref) >= 12 && strlen(ref) <= 64 && is_hex(ref) && find_by_prefix(s, ref, out, NULL) == 0)
		return 0;
	if (!(name = keel_image_normalize_name(ref, err)))
		return -EINVAL;
	r = names_lookup(s, name, out, err);
	if (r == -ENOENT || (r == 0 && !exists_at(s->dirfd, "images/", out + 7)))
		r = keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENOENT, "image %s: no such image", name);
	free(name);
	return r;
}

KEEL_PUBLIC int keel_image_open(keel_image **out, keel_image_store *s, const char *ref, keel_error **err)
{
	char digest[KEEL_DIGEST_LEN + 1];
	int r;

	*out = NULL;
	if ((r = resolve_ref(s, ref, digest, err)) < 0)
		return r;
	return load_image(s, digest, out, err);
}

KEEL_PUBLIC void keel_image_free(keel_image *img)
{
	size_t i;

	if (!img)
		return;
	for (i = 0; img->dirs && i < img->n_layers; i++)
		free(img->dirs[i]);
	free(img->dirs);
	free(img->diff_ids);
	free(img->chains);
	free(img->config);
	free(img->manifest);
	free(img->store_root);
	free(img);
}

KEEL_PUBLIC const char *keel_image_digest(const keel_image *img) { return img->digest; }
KEEL_PUBLIC const char *keel_image_id(const keel_image *img) { return img->config_digest; }
KEEL_PUBLIC const char *keel_image_config(const keel_image *img) { return img->config; }
KEEL_PUBLIC const char *keel_image_platform(const keel_image *img) { return img->platform; }
KEEL_PUBLIC int64_t keel_image_created(const keel_image *img) { return img->created; }
KEEL_PUBLIC size_t keel_image_layer_count(const keel_image *img) { return img->n_layers; }

KEEL_PUBLIC const char *keel_image_layer_dir(const keel_image *img, size_t i)
{
	return i < img->n_layers ? img->dirs[i] : NULL;
}

/* -------------------------------------------------------------- listing -- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the entries of <root>/<sub> that are 64 hex digits, as digests. */
static int list_dir(keel_image_store *s, const char *sub, char ***out, keel_error **err)
{
	struct dirent *de;
	size_t n = 0, cap = 16;
	char **v = calloc(cap, sizeof(char *));
	DIR *d;
	int fd;

	*out = NULL;
	fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!v || fd < 0 || !(d = fdopendir(fd))) {
		int e = v ? errno : ENOMEM;

		if (fd >= 0)
			close(fd);
		free(v);
		return keel_error_sys(err, e, "image store %s: read %s", s->root, sub);
	}
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 64 || !is_hex(de->d_name))
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(v, 2 * cap * sizeof(char *));

			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		if (!(v[n] = keel_str_join("sha256:", de->d_name, NULL)))
			break;
		v[++n] = NULL;
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof(char *), cmp_str);
	*out = v;
	return 0;
}

KEEL_PUBLIC int keel_image_list(keel_image_store *s, char ***digests, keel_error **err)
{
	return list_dir(s, "images", digests, err);
}

KEEL_PUBLIC int keel_image_names(keel_image_store *s, const keel_image *img, char ***names, keel_error **err)
{
	return names_of(s, img->digest, names, err);
}

static uint64_t layer_size(keel_image_store *s, const char *chain)
{
	const struct keel_json_api *J = keel_json(NULL, "image");
	struct json_object *meta = NULL, *v;
	char rel[128];
	uint64_t n = 0;

	snprintf(rel, sizeof(rel), "layers/%s.json", chain + 7);
	if (!J || keel_json_read_file(s->dirfd, rel, 1 << 16, "layer", &meta, NULL) < 0)
		return 0;
	if (J->json_object_object_get_ex(meta, "size", &v))
		n = J->json_object_get_uint64(v);
	J->json_object_put(meta);
	return n;
}

/* Whether another image of the store has this chain. */
static int chain_shared(keel_image_store *s, const keel_image *img, const char *chain, char **all)
{
	size_t i, j;

	for (i = 0; all[i]; i++) {
		keel_image *o = NULL;
		int hit = 0;

		if (!strcmp(all[i], img->digest) || load_image(s, all[i], &o, NULL) < 0)
			continue;
		for (j = 0; j < o->n_layers && !hit; j++)
			hit = !strcmp(o->chains[j], chain);
		keel_image_free(o);
		if (hit)
			return 1;
	}
	return 0;
}

KEEL_PUBLIC int keel_image_sizes(keel_image_store *s, const keel_image *img, uint64_t *unique,
				 uint64_t *total, keel_error **err)
{
	uint64_t u = 0, t = 0;
	char **all = NULL;
	size_t i;
	int r;

	if ((r = keel_image_list(s, &all, err)) < 0)
		return r;
	for (i = 0; i < img->n_layers; i++) {
		uint64_t n = layer_size(s, img->chains[i]);

		t += n;
		if (!chain_shared(s, img, img->chains[i], all))
			u += n;
	}
	keel_image_strv_free(all);
	if (unique)
		*unique = u;
	if (total)
		*total = t;
	return 0;
}

/* ------------------------------------------------------------- tagging -- */

KEEL_PUBLIC int keel_image_tag(keel_image_store *s, const char *ref, const char *name, keel_error **err)
{
	char digest[KEEL_DIGEST_LEN + 1], *n;
	const char *names[2];
	int r;

	if ((r = resolve_ref(s, ref, digest, err)) < 0)
		return r;
	if (!(n = keel_image_normalize_name(name, err)))
		return -EINVAL;
	names[0] = n;
	names[1] = NULL;
	r = names_update(s, names, digest, err);
	free(n);
	return r;
}

KEEL_PUBLIC int keel_image_untag(keel_image_store *s, const char *name, keel_error **err)
{
	const char *names[2];
	char *n;
	int r;

	if (!(n = keel_image_normalize_name(name, err)))
		return -EINVAL;
	names[0] = n;
	names[1] = NULL;
	r = names_update(s, names, NULL, err);
	free(n);
	return r;
}

/* ---------------------------------------------------------- references -- */

/*
 * Whether a container still uses the image: refs/<hex> files written by
 * keel_image_apply() name a container's state directory; one whose
 * directory is gone (the container was deleted) is stale and removed.
 */
static int image_in_use(keel_image_store *s, const char *digest, char *who, size_t size)
{
	const struct keel_json_api *J = keel_json(NULL, "image refs");
	char **refs = NULL, rel[128];
	size_t i;
	int busy = 0;

	if (!J || list_dir(s, "refs", &refs, NULL) < 0)
		return 0;
	for (i = 0; refs[i] && !busy; i++) {
		struct json_object *o = NULL, *root, *id, *image;
		struct stat st;
		char dir[PATH_MAX];

		snprintf(rel, sizeof(rel), "refs/%s", refs[i] + 7);
		if (keel_json_read_file(s->dirfd, rel, 1 << 16, "image ref", &o, NULL) < 0)
			continue;
		if (J->json_object_object_get_ex(o, "state_root", &root) && J->json_object_object_get_ex(o, "id", &id) &&
		    J->json_object_object_get_ex(o, "image", &image)) {
			snprintf(dir, sizeof(dir), "%s/%s", J->json_object_get_string(root), J->json_object_get_string(id));
			if (stat(dir, &st) < 0 && errno == ENOENT)
				unlinkat(s->dirfd, rel, 0);
			else if (!strcmp(J->json_object_get_string(image), digest)) {
				busy = 1;
				snprintf(who, size, "%s", J->json_object_get_string(id));
			}
		}
		J->json_object_put(o);
	}
	keel_image_strv_free(refs);
	return busy;
}

int keel_store_add_ref(keel_image_store *s, const char *state_root, const char *id, const char *digest,
		       keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image ref");
	char key[KEEL_DIGEST_LEN + 1], rel[128], *text, *both;
	struct json_object *o;
	int r;

	if (!J)
		return -ELIBACC;
	if (!(both = keel_str_join(state_root, "/", id, NULL)))
		return keel_error_sys(err, ENOMEM, "image ref");
	r = keel_sha256_buf(both, strlen(both), key, err);
	free(both);
	if (r < 0)
		return r;
	if (!(o = J->json_object_new_object()))
		return keel_error_sys(err, ENOMEM, "image ref");
	J->json_object_object_add(o, "state_root", J->json_object_new_string(state_root));
	J->json_object_object_add(o, "id", J->json_object_new_string(id));
	J->json_object_object_add(o, "image", J->json_object_new_string(digest));
	text = keel_json_dump(o, "image ref", err);
	J->json_object_put(o);
	if (!text)
		return -ENOMEM;
	snprintf(rel, sizeof(rel), "refs/%s", key + 7);
	r = keel_store_write_file_atomic(s, rel, text, strlen(text), err);
	free(text);
	return r;
}

/* ---------------------------------------------------- removal and prune -- */

static int in_list(char **v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return 1;
	return 0;
}

/* Append s to a NULL-terminated malloc'd list of *n entries. */
static int push(char ***v, size_t *n, const char *s)
{
	char **nv;

	if (in_list(*v, s))
		return 0;
	if (!(nv = realloc(*v, (*n + 2) * sizeof(char *))))
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* Blobs and chains that the remaining images use. */
static int live_set(keel_image_store *s, char ***blobs, char ***chains, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image prune");
	char **all = NULL;
	size_t i, j, nb = 0, nc = 0;
	int r;

	*blobs = *chains = NULL;
	if ((r = keel_image_list(s, &all, err)) < 0)
		return r;
	for (i = 0; all[i] && r == 0; i++) {
		keel_image *img = NULL;
		struct json_object *m = NULL, *layers, *dg;

		if (load_image(s, all[i], &img, NULL) < 0)
			continue;   /* a corrupt image keeps nothing alive */
		r = push(blobs, &nb, img->digest) | push(blobs, &nb, img->config_digest);
		for (j = 0; j < img->n_layers; j++)
			r |= push(chains, &nc, img->chains[j]);
		if (keel_json_parse(img->manifest, strlen(img->manifest), "manifest", &m, NULL) == 0 &&
		    J->json_object_object_get_ex(m, "layers", &layers))
			for (j = 0; j < J->json_object_array_length(layers); j++)
				if (J->json_object_object_get_ex(J->json_object_array_get_idx(layers, j), "digest", &dg) &&
				    keel_digest_valid(J->json_object_get_string(dg)))
					r |= push(blobs, &nb, J->json_object_get_string(dg));
		J->json_object_put(m);
		keel_image_free(img);
	}
	keel_image_strv_free(all);
	return r < 0 ? keel_error_sys(err, ENOMEM, "image prune") : 0;
}

static uint64_t du_at(int at, const char *name)
{
	struct stat st;
	uint64_t n = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n += du_at(dirfd(d), de->d_name);
	closedir(d);
	return n;
}

/* Remove the entries of <root>/<sub> (digest-named) not in live. */
static int collect(keel_image_store *s, const char *sub, char **live, int with_meta, uint64_t *freed,
		   keel_error **err)
{
	char **have = NULL, rel[160];
	size_t i;
	int r, subfd;

	if ((r = list_dir(s, sub, &have, err)) < 0)
		return r;
	if ((subfd = openat(s->dirfd, sub, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		keel_image_strv_free(have);
		return keel_error_sys(err, errno, "image store %s: open %s", s->root, sub);
	}
	for (i = 0; have[i] && r == 0; i++) {
		if (in_list(live, have[i]))
			continue;
		*freed += du_at(subfd, have[i] + 7);
		if ((r = keel_remove_at(subfd, have[i] + 7)) < 0)
			r = keel_error_sys(err, -r, "image store %s: remove %s/%s", s->root, sub, have[i] + 7);
		snprintf(rel, sizeof(rel), "%s.json", have[i] + 7);
		if (with_meta)
			unlinkat(subfd, rel, 0);
	}
	close(subfd);
	keel_image_strv_free(have);
	return r;
}

/* Remove the contents of tmp/ (no import runs: the caller holds the lock
 * exclusive), then layers and blobs no image uses. */
static int collect_garbage(keel_image_store *s, uint64_t *freed, keel_error **err)
{
	char **blobs = NULL, **chains = NULL;
	int r, fd;

	if ((fd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		DIR *d = fdopendir(fd);
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				keel_remove_at(dirfd(d), de->d_name);
		if (d)
			closedir(d);
		else
			close(fd);
	}
	if ((r = live_set(s, &blobs, &chains, err)) == 0 &&
	    (r = collect(s, "layers", chains, 1, freed, err)) == 0)
		r = collect(s, "blobs/sha256", blobs, 0, freed, err);
	keel_image_strv_free(blobs);
	keel_image_strv_free(chains);
	return r;
}

static int drop_image(keel_image_store *s, const char *digest, keel_error **err)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "images/%s", digest + 7);
	if (unlinkat(s->dirfd, rel, 0) < 0 && errno != ENOENT)
		return keel_error_sys(err, errno, "image %s: remove", digest);
	return 0;
}

static int remove_locked(keel_image_store *s, const char *ref, unsigned flags, keel_error **err)
{
	char digest[KEEL_DIGEST_LEN + 1], who[256], **names = NULL, *name;
	uint64_t freed = 0;
	int r;

	if ((r = resolve_ref(s, ref, digest, err)) < 0 || (r = names_of(s, digest, &names, err)) < 0)
		return r;
	/* By name, of an image with other names: only that name goes. */
	name = strncmp(ref, "sha256:", 7) ? keel_image_normalize_name(ref, NULL) : NULL;
	if (name && in_list(names, name) && names[0] && names[1]) {
		const char *one[2] = { name, NULL };

		r = names_update(s, one, NULL, err);
		goto out;
	}
	if (!(flags & KEEL_IMAGE_REMOVE_FORCE) && image_in_use(s, digest, who, sizeof(who))) {
		r = keel_error_set(err, KEEL_ERROR_STATE, EBUSY, "image %s: container %s still uses it "
				   "(delete the container first, or force)", ref, who);
		goto out;
	}
	if ((names[0] && (r = names_update(s, (const char *const *)names, NULL, err)) < 0) ||
	    (r = drop_image(s, digest, err)) < 0)
		goto out;
	r = collect_garbage(s, &freed, err);
out:
	free(name);
	keel_image_strv_free(names);
	return r;
}

KEEL_PUBLIC int keel_image_remove(keel_image_store *s, const char *ref, unsigned flags, keel_error **err)
{
	int r;

	if ((r = keel_store_lock(s, 1, err)) < 0)
		return r;
	r = remove_locked(s, ref, flags, err);
	keel_store_unlock(s);
	return r;
}

static int prune_untagged(keel_image_store *s, keel_error **err)
{
	char **all = NULL, **names = NULL, who[256];
	const struct keel_json_api *J = keel_json(err, "image prune");
	struct json_object *obj = NULL, *v;
	size_t i;
	int r;

	if (!J)
		return -ELIBACC;
	if ((r = keel_image_list(s, &all, err)) < 0 || (r = names_of(s, NULL, &names, err)) < 0 ||
	    (r = names_read(s, &obj, err)) < 0)
		goto out;
	for (i = 0; all[i] && r == 0; i++) {
		size_t j;
		int named = 0;

		for (j = 0; names[j] && !named; j++)
			named = J->json_object_object_get_ex(obj, names[j], &v) &&
				!strcmp(J->json_object_get_string(v), all[i]);
		if (!named && !image_in_use(s, all[i], who, sizeof(who)))
			r = drop_image(s, all[i], err);
	}
out:
	if (obj)
		J->json_object_put(obj);
	keel_image_strv_free(all);
	keel_image_strv_free(names);
	return r;
}

KEEL_PUBLIC int keel_image_prune(keel_image_store *s, uint64_t *freed, keel_error **err)
{
	uint64_t n = 0;
	int r;

	if ((r = keel_store_lock(s, 1, err)) < 0)
		return r;
	if ((r = prune_untagged(s, err)) == 0)
		r = collect_garbage(s, &n, err);
	keel_store_unlock(s);
	if (freed)
		*freed = n;
	return r;
}
