/*
 * Commit: a container's overlay upper dir turned back into an OCI layer
 * (a changeset, image-spec "Representing Changes"), put on top of the
 * base image's layers with a config that says so in its history.
 *
 * What overlayfs wrote becomes what the image-spec says: a 0:0 character
 * device (a deleted file) the whiteout `.wh.NAME`; a directory with
 * trusted.overlay.opaque=y (a directory deleted and made again) its entry
 * plus `DIR/.wh..wh..opq`. Files with several links are written once and
 * then as hard links. Overlayfs' own trusted.overlay.* xattrs are dropped,
 * the escaped ones (trusted.overlay.overlay.*) written back unescaped.
 * Entries are written in sorted order, so the same change gives the same
 * digest. The tar is uncompressed: its digest is its diff ID.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "util/json.h"
#include "util/str.h"

#define OVL "trusted.overlay."

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct commit {
	const struct keel_archive_api *A;
	struct archive *a;
	struct archive_entry *e;
	struct link_seen *links;
	size_t n_links;
	const char *what;
};

static la_ssize_t tar_write(struct archive *a, void *data, const void *buf, size_t len)
{
	(void)a;
	return write(*(int *)data, buf, len);
}

/* Opaque as overlayfs marks it: trusted.*, or user.* under userxattr. */
static int is_opaque(int fd)
{
	char v[4];
	ssize_t n = fgetxattr(fd, OVL "opaque", v, sizeof(v));

	if (n < 0)
		n = fgetxattr(fd, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

/* Copy xattrs, minus overlayfs' own, unescaping trusted.overlay.overlay.*. */
static void add_xattrs(struct commit *cm, int fd)
{
	char names[4096], val[4096], *n;
	ssize_t len = fd >= 0 ? flistxattr(fd, names, sizeof(names)) : -1;

	for (n = names; len > 0 && n < names + len; n += strlen(n) + 1) {
		const char *key = n;
		ssize_t vl;

		if (!strncmp(n, "user.overlay.", 13))
			continue;   /* overlayfs' own, mounted with userxattr */
		if (!strncmp(n, OVL, strlen(OVL))) {
			if (strncmp(n + strlen(OVL), "overlay.", 8))
				continue;
			key = n + 8;  /* trusted.overlay.overlay.X -> trusted.overlay.X */
		}
		if ((vl = fgetxattr(fd, n, val, sizeof(val))) >= 0)
			cm->A->archive_entry_xattr_add_entry(cm->e, key, val, (size_t)vl);
	}
}

static int header(struct commit *cm, const char *path, const struct stat *st, mode_t type)
{
	const struct keel_archive_api *A = cm->A;

	A->archive_entry_clear(cm->e);
	A->archive_entry_set_pathname(cm->e, path);
	A->archive_entry_set_filetype(cm->e, type);
	A->archive_entry_set_perm(cm->e, st ? st->st_mode & 07777 : 0);
	A->archive_entry_set_uid(cm->e, st ? st->st_uid : 0);
	A->archive_entry_set_gid(cm->e, st ? st->st_gid : 0);
	A->archive_entry_set_mtime(cm->e, st ? st->st_mtim.tv_sec : 0, st ? st->st_mtim.tv_nsec : 0);
	A->archive_entry_set_size(cm->e, 0);
	return 0;
}

static int write_header(struct commit *cm, const char *path, keel_error **err)
{
	if (cm->A->archive_write_header(cm->a, cm->e) != ARCHIVE_OK)
		return keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "%s: write %s: %s", cm->what, path,
				      cm->A->archive_error_string(cm->a));
	return 0;
}

static int write_whiteout(struct commit *cm, const char *dir, const char *name, keel_error **err)
{
	char *p = keel_str_join(dir, *dir ? "/" : "", ".wh.", name, NULL);
	int r;

	if (!p)
		return keel_error_sys(err, ENOMEM, "%s", cm->what);
	header(cm, p, NULL, AE_IFREG);
	r = write_header(cm, p, err);
	free(p);
	return r;
}

static int write_file(struct commit *cm, int fd, const char *path, const struct stat *st, keel_error **err)
{
	char buf[1 << 16];
	ssize_t n;
	int r;

	header(cm, path, st, AE_IFREG);
	cm->A->archive_entry_set_size(cm->e, st->st_size);
	add_xattrs(cm, fd);
	if ((r = write_header(cm, path, err)) < 0)
		return r;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (cm->A->archive_write_data(cm->a, buf, (size_t)n) != n)
			return keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "%s: write %s", cm->what, path);
	return n < 0 ? keel_error_sys(err, errno, "%s: read %s", cm->what, path) : 0;
}

/* A file seen before under another name becomes a hard link to it. */
static const char *seen_link(struct commit *cm, const struct stat *st, const char *path)
{
	struct link_seen *l;
	size_t i;

	for (i = 0; i < cm->n_links; i++)
		if (cm->links[i].dev == st->st_dev && cm->links[i].ino == st->st_ino)
			return cm->links[i].path;
	if ((l = realloc(cm->links, (cm->n_links + 1) * sizeof(*l)))) {
		cm->links = l;
		l[cm->n_links].dev = st->st_dev;
		l[cm->n_links].ino = st->st_ino;
		if ((l[cm->n_links].path = strdup(path)))
			cm->n_links++;
	}
	return NULL;
}

static int walk(struct commit *cm, int dirfd, const char *rel, keel_error **err);

static int one(struct commit *cm, int dirfd, const char *dir, const char *name, keel_error **err)
{
	char path[PATH_MAX + NAME_MAX + 2], target[PATH_MAX];
	const char *link;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return keel_error_sys(err, errno, "%s: stat %s", cm->what, path);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return write_whiteout(cm, dir, name, err);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && (link = seen_link(cm, &st, path))) {
		header(cm, path, &st, AE_IFREG);
		cm->A->archive_entry_set_hardlink(cm->e, link);
		return write_header(cm, path, err);
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return keel_error_sys(err, errno, "%s: open %s", cm->what, path);
		r = write_file(cm, fd, path, &st, err);
		close(fd);
		return r;
	case S_IFDIR:
		if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return keel_error_sys(err, errno, "%s: open %s", cm->what, path);
		header(cm, path, &st, AE_IFDIR);
		add_xattrs(cm, fd);
		if ((r = write_header(cm, path, err)) == 0 && is_opaque(fd))
			r = write_whiteout(cm, path, ".wh..opq", err);
		if (r == 0)
			r = walk(cm, fd, path, err);
		close(fd);
		return r;
	case S_IFLNK:
		if ((n = readlinkat(dirfd, name, target, sizeof(target) - 1)) < 0)
			return keel_error_sys(err, errno, "%s: readlink %s", cm->what, path);
		target[n] = 0;
		header(cm, path, &st, AE_IFLNK);
		cm->A->archive_entry_set_symlink(cm->e, target);
		return write_header(cm, path, err);
	case S_IFCHR: case S_IFBLK: case S_IFIFO:
		header(cm, path, &st, st.st_mode & S_IFMT);
		cm->A->archive_entry_set_rdevmajor(cm->e, major(st.st_rdev));
		cm->A->archive_entry_set_rdevminor(cm->e, minor(st.st_rdev));
		return write_header(cm, path, err);
	default:
		return 0;   /* sockets: not part of an image */
	}
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static int walk(struct commit *cm, int dirfd, const char *rel, keel_error **err)
{
	struct dirent **list = NULL;
	char proc[64];
	int i, n, r = 0;

	/* scandir wants a path: the fd's, through /proc. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	if ((n = scandir(proc, &list, skip_dots, cmp_name)) < 0)
		return keel_error_sys(err, errno, "%s: read %s", cm->what, *rel ? rel : "/");
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = one(cm, dirfd, rel, list[i]->d_name, err);
		free(list[i]);
	}
	free(list);
	return r;
}

/* The upper dir as a tar in fd. */
static int write_changes(const char *upper, int fd, const char *what, keel_error **err)
{
	struct commit cm = { .what = what };
	size_t i;
	int dirfd, r = 0;

	if (!(cm.A = keel_archive(err, what)))
		return -ELIBACC;
	if ((dirfd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return keel_error_sys(err, errno, "%s: open %s", what, upper);
	cm.a = cm.A->archive_write_new();
	cm.e = cm.A->archive_entry_new();
	if (!cm.a || !cm.e)
		r = keel_error_sys(err, ENOMEM, "%s", what);
	else {
		cm.A->archive_write_set_format_pax_restricted(cm.a);
		cm.A->archive_write_add_filter_none(cm.a);
		cm.A->archive_write_set_bytes_in_last_block(cm.a, 1);
		if (cm.A->archive_write_open(cm.a, &fd, NULL, tar_write, NULL) != ARCHIVE_OK)
			r = keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "%s: %s", what, cm.A->archive_error_string(cm.a));
		else if ((r = walk(&cm, dirfd, "", err)) == 0 && cm.A->archive_write_close(cm.a) != ARCHIVE_OK)
			r = keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "%s: %s", what, cm.A->archive_error_string(cm.a));
	}
	if (cm.e)
		cm.A->archive_entry_free(cm.e);
	if (cm.a)
		cm.A->archive_write_free(cm.a);
	for (i = 0; i < cm.n_links; i++)
		free(cm.links[i].path);
	free(cm.links);
	close(dirfd);
	return r;
}

/* ------------------------------------------------------------- config -- */

static struct json_object *obj_field(const struct keel_json_api *J, struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!J->json_object_object_get_ex(o, key, &v) || !J->json_object_is_type(v, json_type_object)) {
		v = J->json_object_new_object();
		J->json_object_object_add(o, key, v);
	}
	return v;
}

static struct json_object *arr_field(const struct keel_json_api *J, struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!J->json_object_object_get_ex(o, key, &v) || !J->json_object_is_type(v, json_type_array)) {
		v = J->json_object_new_array();
		J->json_object_object_add(o, key, v);
	}
	return v;
}

/* The base's config (or a new one) with the layer, a history entry and cmd. */
static char *new_config(const keel_image *base, const char *diff_id, const char *const *cmd, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "commit");
	struct json_object *c = NULL, *h;
	struct keel_platform p;
	char now[32], *text;
	time_t t = time(NULL);
	struct tm tm;

	if (!J)
		return NULL;
	if (base && keel_json_parse(base->config, strlen(base->config), "image config", &c, err) < 0)
		return NULL;
	if (!c) {
		c = J->json_object_new_object();
		keel_platform_host(&p);
		J->json_object_object_add(c, "architecture", J->json_object_new_string(p.arch));
		J->json_object_object_add(c, "os", J->json_object_new_string(p.os));
	}
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	J->json_object_object_add(c, "created", J->json_object_new_string(now));
	J->json_object_object_add(obj_field(J, c, "rootfs"), "type", J->json_object_new_string("layers"));
	J->json_object_array_add(arr_field(J, obj_field(J, c, "rootfs"), "diff_ids"), J->json_object_new_string(diff_id));
	h = J->json_object_new_object();
	J->json_object_object_add(h, "created", J->json_object_new_string(now));
	J->json_object_object_add(h, "created_by", J->json_object_new_string("keel_image_commit"));
	J->json_object_array_add(arr_field(J, c, "history"), h);
	if (cmd) {
		struct json_object *a = J->json_object_new_array();
		size_t i;

		for (i = 0; cmd[i]; i++)
			J->json_object_array_add(a, J->json_object_new_string(cmd[i]));
		J->json_object_object_add(obj_field(J, c, "config"), "Cmd", a);
	}
	text = keel_json_dump(c, "image config", err);
	J->json_object_put(c);
	return text;
}

/* The base's layer descriptors as build_image() takes them, plus ours. */
static int layer_list(const keel_image *base, const struct keel_layer_result *top,
		      struct keel_layer_result **res, const char ***media, size_t *n, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "commit");
	struct json_object *m = NULL, *layers = NULL;
	size_t i, nb = 0;

	if (!J)
		return -ELIBACC;
	if (base && (keel_json_parse(base->manifest, strlen(base->manifest), "manifest", &m, err) < 0 ||
		     !J->json_object_object_get_ex(m, "layers", &layers)))
		return keel_error_invalid(err, "commit: the base image's manifest has no layers");
	nb = layers ? J->json_object_array_length(layers) : 0;
	*res = calloc(nb + 1, sizeof(**res));
	*media = calloc(nb + 1, sizeof(char *));
	for (i = 0; *res && *media && i < nb; i++) {
		struct json_object *d = J->json_object_array_get_idx(layers, i), *v;

		if (J->json_object_object_get_ex(d, "digest", &v))
			snprintf((*res)[i].blob, sizeof((*res)[i].blob), "%s", J->json_object_get_string(v));
		if (J->json_object_object_get_ex(d, "size", &v))
			(*res)[i].blob_size = (uint64_t)J->json_object_get_int64(v);
		(*media)[i] = J->json_object_object_get_ex(d, "mediaType", &v) ?
			strdup(J->json_object_get_string(v)) : strdup("application/vnd.oci.image.layer.v1.tar");
	}
	if (*res && *media) {
		(*res)[nb] = *top;
		(*media)[nb] = strdup("application/vnd.oci.image.layer.v1.tar");
	}
	if (m)
		J->json_object_put(m);
	*n = nb + 1;
	return *res && *media ? 0 : keel_error_sys(err, ENOMEM, "commit");
}

static int build(keel_image_store *s, const keel_image *base, const struct keel_layer_result *top,
		 const char *const *cmd, const char *name, char *digest, keel_error **err)
{
	struct keel_layer_result *res = NULL;
	const char **media = NULL;
	char *config, *n = NULL;
	size_t i, count = 0;
	int r;

	if (name && !(n = keel_image_normalize_name(name, err)))
		return -EINVAL;
	if (!(config = new_config(base, top->diff_id, cmd, err))) {
		free(n);
		return -EINVAL;
	}
	if ((r = layer_list(base, top, &res, &media, &count, err)) == 0)
		r = keel_store_build_image(s, config, strlen(config), res, media, count,
					   n ? (const char *[]){ n, NULL } : NULL, digest, err);
	for (i = 0; media && i < count; i++)
		free((char *)media[i]);
	free(media);
	free(res);
	free(config);
	free(n);
	return r;
}

KEEL_PUBLIC int keel_image_commit(keel_image_store *s, const keel_image *base, const char *upper_dir,
				  const char *const *cmd, const char *name, char **digest, keel_error **err)
{
	struct keel_layer_result top;
	char *tmp = NULL, out[KEEL_DIGEST_LEN + 1];
	int fd, r;

	if (digest)
		*digest = NULL;
	if (!upper_dir)
		return keel_error_invalid(err, "commit: no upper dir");
	if ((r = keel_store_lock(s, 0, err)) < 0)
		return r;
	if ((fd = keel_store_tmpfile(s, &tmp, err)) < 0) {
		keel_store_unlock(s);
		return fd;
	}
	if ((r = write_changes(upper_dir, fd, "commit", err)) == 0) {
		lseek(fd, 0, SEEK_SET);
		r = keel_store_ingest_layer(s, fd, NULL, NULL, base && base->n_layers ?
					    base->chains[base->n_layers - 1] : NULL, "commit", &top, err);
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	if (r == 0)
		r = build(s, base, &top, cmd, name, out, err);
	keel_store_unlock(s);
	if (r == 0 && digest && !(*digest = strdup(out)))
		r = keel_error_sys(err, ENOMEM, "commit");
	return r;
}
