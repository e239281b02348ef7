/*
 * Save: an image of the store as an OCI image layout directory, an
 * oci-archive (a tar of that layout), or a docker-archive in the hybrid
 * shape `docker save` writes today (the OCI layout plus manifest.json and
 * repositories, whose paths point into blobs/sha256/), which podman,
 * skopeo and docker load. The blobs are written as the store keeps them:
 * their digests are the image's identity.
 *
 * A directory is made under a temporary name next to the target and
 * renamed at the end; a tar is written to a temporary file and renamed,
 * so a failed save leaves nothing at the path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "util/json.h"
#include "util/fs.h"
#include "util/str.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* One file of the output: a blob of the store, or bytes in memory. */
struct out_file {
	char *name;
	char *blob;          /* path in the store, or NULL */
	char *data;
	size_t len;
};

struct save {
	keel_image_store *s;
	keel_image *img;
	const struct keel_json_api *J;
	struct out_file *files;
	size_t n;
	char **names;
};

static int add_file(struct save *sv, const char *name, const char *blob_digest, char *data, size_t len)
{
	struct out_file *f = realloc(sv->files, (sv->n + 1) * sizeof(*f));

	if (!f) {
		free(data);
		return -ENOMEM;
	}
	sv->files = f;
	f += sv->n++;
	f->name = strdup(name);
	f->blob = blob_digest ? keel_store_blob_path(sv->s, blob_digest) : NULL;
	f->data = data;
	f->len = len;
	return f->name && (!blob_digest || f->blob) ? 0 : -ENOMEM;
}

static int add_blob(struct save *sv, const char *digest)
{
	char name[128];
	size_t i;

	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	for (i = 0; i < sv->n; i++)
		if (!strcmp(sv->files[i].name, name))
			return 0;
	return add_file(sv, name, digest, NULL, 0);
}

static int add_json(struct save *sv, const char *name, struct json_object *o, keel_error **err)
{
	char *text = keel_json_dump(o, name, err);

	sv->J->json_object_put(o);
	if (!text)
		return -ENOMEM;
	return add_file(sv, name, NULL, text, strlen(text));
}

/* The layer blob digests of the manifest, in order. */
static int manifest_layers(struct save *sv, struct json_object **m, struct json_object **layers, keel_error **err)
{
	int r = keel_json_parse(sv->img->manifest, strlen(sv->img->manifest), "image manifest", m, err);

	if (r < 0)
		return r;
	if (!sv->J->json_object_object_get_ex(*m, "layers", layers))
		return keel_error_invalid(err, "image %s: the manifest has no layers", sv->img->digest);
	return 0;
}

static struct json_object *index_json(struct save *sv)
{
	const struct keel_json_api *J = sv->J;
	struct json_object *idx = J->json_object_new_object(), *list = J->json_object_new_array();
	struct json_object *d = J->json_object_new_object();

	J->json_object_object_add(idx, "schemaVersion", J->json_object_new_int(2));
	J->json_object_object_add(idx, "mediaType", J->json_object_new_string(MT_OCI_INDEX));
	J->json_object_object_add(d, "mediaType", J->json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
	J->json_object_object_add(d, "digest", J->json_object_new_string(sv->img->digest));
	J->json_object_object_add(d, "size", J->json_object_new_int64((int64_t)strlen(sv->img->manifest)));
	if (sv->names[0]) {
		struct json_object *ann = J->json_object_new_object();

		J->json_object_object_add(ann, "org.opencontainers.image.ref.name", J->json_object_new_string(sv->names[0]));
		J->json_object_object_add(ann, "io.containerd.image.name", J->json_object_new_string(sv->names[0]));
		J->json_object_object_add(d, "annotations", ann);
	}
	J->json_object_array_add(list, d);
	J->json_object_object_add(idx, "manifests", list);
	return idx;
}

/* manifest.json and repositories, as docker save writes them. */
static int docker_files(struct save *sv, struct json_object *layers, keel_error **err)
{
	const struct keel_json_api *J = sv->J;
	struct json_object *list = J->json_object_new_array(), *e = J->json_object_new_object();
	struct json_object *tags = J->json_object_new_array(), *paths = J->json_object_new_array();
	struct json_object *repos = J->json_object_new_object();
	char path[128];
	size_t i;
	int r;

	snprintf(path, sizeof(path), "blobs/sha256/%s", sv->img->config_digest + 7);
	J->json_object_object_add(e, "Config", J->json_object_new_string(path));
	for (i = 0; sv->names[i]; i++) {
		char *colon = strrchr(sv->names[i], ':');
		struct json_object *r1;

		J->json_object_array_add(tags, J->json_object_new_string(sv->names[i]));
		*colon = 0;
		if (!J->json_object_object_get_ex(repos, sv->names[i], &r1)) {
			r1 = J->json_object_new_object();
			J->json_object_object_add(repos, sv->names[i], r1);
		}
		J->json_object_object_add(r1, colon + 1, J->json_object_new_string(sv->img->config_digest + 7));
		*colon = ':';
	}
	J->json_object_object_add(e, "RepoTags", tags);
	for (i = 0; i < J->json_object_array_length(layers); i++) {
		struct json_object *dg;

		J->json_object_object_get_ex(J->json_object_array_get_idx(layers, i), "digest", &dg);
		snprintf(path, sizeof(path), "blobs/sha256/%s", J->json_object_get_string(dg) + 7);
		J->json_object_array_add(paths, J->json_object_new_string(path));
	}
	J->json_object_object_add(e, "Layers", paths);
	J->json_object_array_add(list, e);
	if ((r = add_json(sv, "manifest.json", list, err)) < 0)
		return r;
	return add_json(sv, "repositories", repos, err);
}

static int collect(struct save *sv, int docker, keel_error **err)
{
	const struct keel_json_api *J = sv->J;
	struct json_object *m = NULL, *layers = NULL, *dg;
	char *layout = strdup("{\"imageLayoutVersion\":\"1.0.0\"}");
	size_t i;
	int r;

	if ((r = manifest_layers(sv, &m, &layers, err)) < 0)
		goto out;
	r = add_file(sv, "oci-layout", NULL, layout, layout ? strlen(layout) : 0);
	r |= add_blob(sv, sv->img->digest) | add_blob(sv, sv->img->config_digest);
	for (i = 0; r == 0 && i < J->json_object_array_length(layers); i++) {
		if (!J->json_object_object_get_ex(J->json_object_array_get_idx(layers, i), "digest", &dg) ||
		    !keel_digest_valid(J->json_object_get_string(dg))) {
			r = keel_error_invalid(err, "image %s: a layer without a valid digest", sv->img->digest);
			goto out;
		}
		r = add_blob(sv, J->json_object_get_string(dg));
	}
	if (r < 0) {
		r = keel_error_sys(err, ENOMEM, "save");
		goto out;
	}
	if ((r = add_json(sv, "index.json", index_json(sv), err)) == 0 && docker)
		r = docker_files(sv, layers, err);
out:
	if (m)
		J->json_object_put(m);
	return r;
}

/* ------------------------------------------------------------- writing -- */

static int copy_fd(int from, int to)
{
	char buf[1 << 16];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)n) != n)
			return -EIO;
	return n < 0 ? -errno : 0;
}

static int write_dir(struct save *sv, const char *dir, keel_error **err)
{
	size_t i;
	int r = 0;

	for (i = 0; i < sv->n && r == 0; i++) {
		char *p = keel_str_join(dir, "/", sv->files[i].name, NULL), *slash;
		int fd, in;

		if (!p)
			return keel_error_sys(err, ENOMEM, "save");
		slash = strrchr(p, '/');
		*slash = 0;
		r = keel_mkdir_p(p, 0755, err);
		*slash = '/';
		/* A blob is hard linked where it can be: same bytes, no copy. */
		if (r == 0 && !(sv->files[i].blob && link(sv->files[i].blob, p) == 0)) {
			fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				r = keel_error_sys(err, errno, "save: create %s", p);
			else if (sv->files[i].blob) {
				in = open(sv->files[i].blob, O_RDONLY | O_CLOEXEC);
				r = in < 0 ? -errno : copy_fd(in, fd);
				if (in >= 0)
					close(in);
			} else if (write(fd, sv->files[i].data, sv->files[i].len) != (ssize_t)sv->files[i].len)
				r = -EIO;
			if (fd >= 0)
				close(fd);
			if (r < 0 && !(err && *err))
				keel_error_sys(err, -r, "save: write %s", p);
		}
		free(p);
	}
	return r;
}

static la_ssize_t tar_write(struct archive *a, void *data, const void *buf, size_t len)
{
	int fd = *(int *)data;

	(void)a;
	return write(fd, buf, len);
}

static int tar_one(const struct keel_archive_api *A, struct archive *a, struct archive_entry *e,
		   const struct out_file *f, int64_t mtime)
{
	struct stat st;
	char buf[1 << 16];
	ssize_t n;
	int in = -1;

	A->archive_entry_clear(e);
	A->archive_entry_set_pathname(e, f->name);
	A->archive_entry_set_filetype(e, AE_IFREG);
	A->archive_entry_set_perm(e, 0644);
	A->archive_entry_set_mtime(e, mtime, 0);
	if (f->blob) {
		if ((in = open(f->blob, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &st) < 0)
			return in >= 0 ? (close(in), -errno) : -errno;
		A->archive_entry_set_size(e, st.st_size);
	} else {
		A->archive_entry_set_size(e, (la_int64_t)f->len);
	}
	if (A->archive_write_header(a, e) != ARCHIVE_OK) {
		if (in >= 0)
			close(in);
		return -EIO;
	}
	if (!f->blob)
		return A->archive_write_data(a, f->data, f->len) == (la_ssize_t)f->len ? 0 : -EIO;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (A->archive_write_data(a, buf, (size_t)n) != n)
			break;
	close(in);
	return n == 0 ? 0 : -EIO;
}

static int write_tar(struct save *sv, int fd, keel_error **err)
{
	const struct keel_archive_api *A = keel_archive(err, "save");
	struct archive *a;
	struct archive_entry *e;
	size_t i;
	int r = 0;

	if (!A)
		return -ELIBACC;
	a = A->archive_write_new();
	e = A->archive_entry_new();
	if (!a || !e) {
		r = keel_error_sys(err, ENOMEM, "save");
		goto out;
	}
	A->archive_write_set_format_pax_restricted(a);
	A->archive_write_add_filter_none(a);
	if (A->archive_write_open(a, &fd, NULL, tar_write, NULL) != ARCHIVE_OK) {
		r = keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "save: %s", A->archive_error_string(a));
		goto out;
	}
	for (i = 0; i < sv->n && r == 0; i++)
		if ((r = tar_one(A, a, e, &sv->files[i], sv->img->created)) < 0)
			r = keel_error_sys(err, -r, "save: write %s into the tar", sv->files[i].name);
	if (r == 0 && A->archive_write_close(a) != ARCHIVE_OK)
		r = keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "save: %s", A->archive_error_string(a));
out:
	if (e)
		A->archive_entry_free(e);
	if (a)
		A->archive_write_free(a);
	return r;
}

static int save_to(struct save *sv, const char *path, int format, keel_error **err)
{
	char *tmp = keel_str_join(path, ".keel-tmp-XXXXXX", NULL);
	int r, fd;

	if (!tmp)
		return keel_error_sys(err, ENOMEM, "save");
	if (format == KEEL_IMAGE_FORMAT_OCI_LAYOUT) {
		if (!mkdtemp(tmp))
			r = keel_error_sys(err, errno, "save %s: make a directory", path);
		else if ((r = write_dir(sv, tmp, err)) == 0 && chmod(tmp, 0755) == 0 && rename(tmp, path) < 0)
			r = keel_error_sys(err, errno, "save %s: rename into place", path);
	} else if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		r = keel_error_sys(err, errno, "save %s: make a file", path);
	} else {
		r = write_tar(sv, fd, err);
		if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
			r = keel_error_sys(err, errno, "save %s", path);
		close(fd);
		if (r == 0 && rename(tmp, path) < 0)
			r = keel_error_sys(err, errno, "save %s: rename into place", path);
	}
	if (r < 0)
		keel_remove_at(AT_FDCWD, tmp);
	free(tmp);
	return r;
}

KEEL_PUBLIC int keel_image_save(keel_image_store *s, const char *ref, const char *path, int format,
				keel_error **err)
{
	struct save sv = { .s = s };
	struct stat st;
	size_t i;
	int r;

	if (format != KEEL_IMAGE_FORMAT_OCI_LAYOUT && format != KEEL_IMAGE_FORMAT_OCI_ARCHIVE &&
	    format != KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE)
		return keel_error_invalid(err, "save %s: format %d is not a layout, oci-archive or docker-archive",
					  path ? path : "", format);
	if (!path || lstat(path, &st) == 0)
		return keel_error_set(err, KEEL_ERROR_EXISTS, EEXIST, "save %s: exists already", path ? path : "");
	if (!(sv.J = keel_json(err, "save")))
		return -ELIBACC;
	if ((r = keel_image_open(&sv.img, s, ref, err)) < 0)
		return r;
	if ((r = keel_image_names(s, sv.img, &sv.names, err)) == 0 &&
	    (r = collect(&sv, format == KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE, err)) == 0)
		r = save_to(&sv, path, format, err);
	for (i = 0; i < sv.n; i++) {
		free(sv.files[i].name);
		free(sv.files[i].blob);
		free(sv.files[i].data);
	}
	free(sv.files);
	keel_image_strv_free(sv.names);
	keel_image_free(sv.img);
	return r;
}
