/*
 * Image store, safe unpacking, import, platforms, run, commit and save.
 *
 * Every store lives under kt_tmpdir(). The layer tars are written here
 * with libarchive's writer (through the library's own dlopen table), so a
 * test can make the hostile ones real tools refuse to write: names with
 * `..` or a leading `/`, an entry `.` that is a symlink (umoci
 * CVE-2021-29136), a hard link to a symlink with a mode (containerd
 * CVE-2021-32760), absolute hard link targets, `.wh.` naming nothing,
 * trailing NULs after the end of the archive. What the tests assert is on
 * disk: inodes, modes, owners, xattrs, device numbers, and the files a
 * container sees.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <unistd.h>

#include "harness.h"
#include "image.h"
#include "keel.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"

/* ---------------------------------------------------------------- tars -- */

struct ent {
	char type;              /* f file, d dir, l symlink, h hard link, c char dev, p fifo */
	const char *name;
	const char *target;     /* symlink or hard link target; file data for 'f' */
	mode_t mode;
	uid_t uid;
	const char *xattr;      /* "key=value" or NULL */
};

static la_ssize_t to_fd(struct archive *a, void *data, const void *buf, size_t len)
{
	(void)a;
	return write(*(int *)data, buf, len);
}

static void add_entry(const struct keel_archive_api *A, struct archive *a, struct archive_entry *e,
		      const struct ent *x)
{
	static const struct { char t; mode_t m; } types[] = {
		{ 'f', AE_IFREG }, { 'd', AE_IFDIR }, { 'l', AE_IFLNK }, { 'h', AE_IFREG },
		{ 'c', AE_IFCHR }, { 'p', AE_IFIFO },
	};
	size_t i, len = x->type == 'f' && x->target ? strlen(x->target) : 0;

	A->archive_entry_clear(e);
	A->archive_entry_set_pathname(e, x->name);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].t == x->type)
			A->archive_entry_set_filetype(e, types[i].m);
	A->archive_entry_set_perm(e, x->mode ? x->mode : (x->type == 'd' ? 0755 : 0644));
	A->archive_entry_set_uid(e, x->uid);
	A->archive_entry_set_gid(e, x->uid);
	A->archive_entry_set_mtime(e, 1000000000, 0);
	A->archive_entry_set_size(e, (la_int64_t)len);
	if (x->type == 'l')
		A->archive_entry_set_symlink(e, x->target);
	if (x->type == 'h')
		A->archive_entry_set_hardlink(e, x->target);
	if (x->type == 'c') {
		A->archive_entry_set_rdevmajor(e, 1);
		A->archive_entry_set_rdevminor(e, 3);
	}
	if (x->xattr) {
		char k[128];
		const char *eq = strchr(x->xattr, '=');

		snprintf(k, sizeof(k), "%.*s", (int)(eq - x->xattr), x->xattr);
		A->archive_entry_xattr_add_entry(e, k, eq + 1, strlen(eq + 1));
	}
	ck_assert_int_eq(A->archive_write_header(a, e), ARCHIVE_OK);
	if (len)
		ck_assert_int_eq(A->archive_write_data(a, x->target, len), (la_ssize_t)len);
}

/* A tar of n entries at path (gzip'd if asked), then `zeros` NUL bytes. */
static void make_tar(const char *path, const struct ent *ents, size_t n, int gzip, size_t zeros)
{
	const struct keel_archive_api *A = keel_archive(NULL, "test");
	struct archive *a;
	struct archive_entry *e;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t i;

	ck_assert_ptr_nonnull(A);
	ck_assert_int_ge(fd, 0);
	a = A->archive_write_new();
	e = A->archive_entry_new();
	A->archive_write_set_format_pax_restricted(a);
	if (gzip)
		A->archive_write_add_filter_gzip(a);
	else
		A->archive_write_add_filter_none(a);
	ck_assert_int_eq(A->archive_write_open(a, &fd, NULL, to_fd, NULL), ARCHIVE_OK);
	for (i = 0; i < n; i++)
		add_entry(A, a, e, &ents[i]);
	ck_assert_int_eq(A->archive_write_close(a), ARCHIVE_OK);
	A->archive_entry_free(e);
	A->archive_write_free(a);
	for (i = 0; i < zeros; i++)
		ck_assert_int_eq(write(fd, "", 1), 1);
	close(fd);
}

/* ------------------------------------------------------------- helpers -- */

static keel_image_store *new_store(void)
{
	char root[4096];
	keel_image_store *s = NULL;
	keel_error *err = NULL;

	snprintf(root, sizeof(root), "%s/%s", kt_tmpdir(), kt_name("st"));
	ck_assert_msg(keel_image_store_open(&s, root, &err) == 0, "%s", keel_error_message(err));
	return s;
}

static const char *tmp_path(const char *name)
{
	static char buf[8][4096];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, 4096, "%s/%s", kt_tmpdir(), name);
	return p;
}

/* Entries of <store>/<sub>, not counting . and .. */
static int count_dir(keel_image_store *s, const char *sub)
{
	char p[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", keel_image_store_root(s), sub);
	ck_assert_ptr_nonnull(d = opendir(p));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Nothing of a failed import stays: no image, no layer, nothing in tmp. */
static void assert_store_empty(keel_image_store *s)
{
	ck_assert_int_eq(count_dir(s, "images"), 0);
	ck_assert_int_eq(count_dir(s, "layers"), 0);
	ck_assert_int_eq(count_dir(s, "tmp"), 0);
}

/* Import a rootfs tar and open the image: its one layer is the unpacked tar. */
static keel_image *import_tar(keel_image_store *s, const char *tar, const char *name)
{
	keel_image *img = NULL;
	keel_error *err = NULL;

	ck_assert_msg(keel_image_import(s, tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, NULL, name, NULL, &err) == 0,
		      "%s", keel_error_message(err));
	ck_assert_msg(keel_image_open(&img, s, name, &err) == 0, "%s", keel_error_message(err));
	return img;
}

/* The import fails, and says so with `word` in its message. */
static void import_fails(keel_image_store *s, const char *tar, int format, const char *word)
{
	keel_error *err = NULL;

	ck_assert_int_lt(keel_image_import(s, tar, format, NULL, "bad", NULL, &err), 0);
	ck_assert_msg(strstr(keel_error_message(err), word), "'%s' lacks '%s'", keel_error_message(err), word);
	keel_error_free(err);
}

static const char *layer_file(keel_image *img, size_t i, const char *rel)
{
	static char buf[4][8400];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", keel_image_layer_dir(img, i), rel);
	return p;
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

/* ----------------------------------------------------------- digests -- */

START_TEST(digest_strings_are_validated_before_they_become_paths)
{
	char ok[80] = "sha256:";

	memset(ok + 7, 'a', 64);
	ok[71] = 0;
	ck_assert(keel_digest_valid(ok));
	ok[8] = 'A';
	ck_assert(!keel_digest_valid(ok));          /* uppercase */
	ok[8] = '/';
	ck_assert(!keel_digest_valid(ok));
	ck_assert(!keel_digest_valid("sha256:../../../etc/passwd"));
	ck_assert(!keel_digest_valid("sha512:abc"));
	ck_assert(!keel_digest_valid("sha256:"));
	ck_assert(!keel_digest_valid(NULL));
	ok[8] = 'a';
	strcat(ok, "a");                             /* 65 digits */
	ck_assert(!keel_digest_valid(ok));
}
END_TEST

START_TEST(entry_names_are_cleaned_and_clamped_at_the_root)
{
	char out[4096];

	ck_assert_int_eq(keel_clean_path("./a/./b//c/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a/b/c");
	ck_assert_int_eq(keel_clean_path("../../etc/passwd", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "etc/passwd");
	ck_assert_int_eq(keel_clean_path("/abs/../x", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "x");
	ck_assert_int_eq(keel_clean_path("/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(keel_clean_path(".", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* ------------------------------------------------------------ unpacking -- */

START_TEST(a_layer_keeps_modes_owners_links_devices_xattrs_and_times)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("meta.tar");
	const struct ent ents[] = {
		{ 'd', "bin", NULL, 0750, 0, NULL },
		{ 'f', "bin/su", "suid", 04755, 1000, "user.keel=yes" },
		{ 'h', "bin/su2", "bin/su", 0, 0, NULL },
		{ 'l', "bin/sh", "busybox", 0777, 0, NULL },
		{ 'c', "null", NULL, 0666, 0, NULL },
		{ 'p', "fifo", NULL, 0600, 0, NULL },
		{ 'f', "deep/dir/file", "x", 0600, 0, NULL },   /* parents made on the way */
	};
	struct stat st, st2;
	char val[16] = "";
	keel_image *img;

	make_tar(tar, ents, sizeof(ents) / sizeof(ents[0]), 1, 0);
	img = import_tar(s, tar, "meta");
	ck_assert_int_eq(lstat(layer_file(img, 0, "bin/su"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 04755);     /* chmod after chown kept setuid */
	ck_assert_int_eq(st.st_uid, 1000);
	ck_assert_int_eq(st.st_mtime, 1000000000);
	ck_assert_int_eq(lgetxattr(layer_file(img, 0, "bin/su"), "user.keel", val, sizeof(val)), 3);
	ck_assert_int_eq(lstat(layer_file(img, 0, "bin/su2"), &st2), 0);
	ck_assert_int_eq(st.st_ino, st2.st_ino);
	ck_assert_int_eq(lstat(layer_file(img, 0, "bin/sh"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(layer_file(img, 0, "null"), &st), 0);
	ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	ck_assert_int_eq(lstat(layer_file(img, 0, "fifo"), &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	/* Directory times are set after their children were made. */
	ck_assert_int_eq(lstat(layer_file(img, 0, "bin"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq(st.st_mtime, 1000000000);
	ck_assert_int_eq(lstat(layer_file(img, 0, "deep/dir/file"), &st), 0);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

START_TEST(whiteouts_become_overlay_whiteouts_and_opaque_keeps_this_layers_files)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("wh.tar");
	const struct ent ents[] = {
		{ 'd', "etc", NULL, 0755, 0, NULL },
		{ 'f', ".wh.gone", "", 0, 0, NULL },
		{ 'f', "etc/mine", "1", 0644, 0, NULL },
		{ 'f', "etc/.wh..wh..opq", "", 0, 0, NULL },   /* after its sibling */
	};
	struct stat st;
	char v[4] = "";
	keel_image *img;

	make_tar(tar, ents, sizeof(ents) / sizeof(ents[0]), 0, 0);
	img = import_tar(s, tar, "wh");
	ck_assert_int_eq(lstat(layer_file(img, 0, "gone"), &st), 0);
	ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0) && st.st_uid == 0);
	ck_assert_int_eq(lstat(layer_file(img, 0, ".wh.gone"), &st), -1);
	ck_assert_int_eq(lgetxattr(layer_file(img, 0, "etc"), "trusted.overlay.opaque", v, sizeof(v)), 1);
	ck_assert_int_eq(v[0], 'y');
	ck_assert_int_eq(lstat(layer_file(img, 0, "etc/mine"), &st), 0);
	ck_assert_int_eq(lstat(layer_file(img, 0, "etc/.wh..wh..opq"), &st), -1);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

START_TEST(dotdot_and_absolute_names_stay_inside_the_layer)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("dots.tar");
	char outside[4096], name1[4200], name2[4200];
	struct stat st;
	keel_image *img;

	snprintf(outside, sizeof(outside), "%s/outside-dots", kt_tmpdir());
	snprintf(name1, sizeof(name1), "../../../../../../../..%s", outside);
	snprintf(name2, sizeof(name2), "%s-abs/abs", outside);
	{
		const struct ent ents[] = {
			{ 'f', name1, "escaped", 0644, 0, NULL },
			{ 'f', name2, "escaped", 0644, 0, NULL },
		};

		make_tar(tar, ents, 2, 0, 0);
	}
	img = import_tar(s, tar, "dots");
	ck_assert_int_eq(stat(outside, &st), -1);          /* nothing on the host */
	ck_assert_int_eq(lstat(layer_file(img, 0, outside + 1), &st), 0);
	snprintf(name2, sizeof(name2), "%s-abs/abs", outside + 1);
	ck_assert_int_eq(lstat(layer_file(img, 0, name2), &st), 0);
	snprintf(name2, sizeof(name2), "%s-abs", outside);
	ck_assert_int_eq(stat(name2, &st), -1);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

START_TEST(an_entry_through_an_earlier_symlink_never_writes_outside)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("via.tar");
	char outside[4096], probe[4200];
	struct stat st;
	keel_error *err = NULL;
	int r;

	snprintf(outside, sizeof(outside), "%s/outside-via", kt_tmpdir());
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	{
		const struct ent ents[] = {
			{ 'l', "lnk", outside, 0777, 0, NULL },
			{ 'f', "lnk/pwned", "x", 0644, 0, NULL },
			{ 'l', "up", "../../../../../../..", 0777, 0, NULL },
			{ 'f', "up/tmp/pwned2", "x", 0644, 0, NULL },
		};

		make_tar(tar, ents, 4, 0, 0);
	}
	r = keel_image_import(s, tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, NULL, "via", NULL, &err);
	keel_error_free(err);
	snprintf(probe, sizeof(probe), "%s/pwned", outside);
	ck_assert_int_eq(stat(probe, &st), -1);
	ck_assert_int_eq(stat("/tmp/pwned2", &st), -1);
	if (r < 0)
		assert_store_empty(s);   /* refused: then nothing is left */
	keel_image_store_free(s);
}
END_TEST

START_TEST(dot_or_slash_as_a_symlink_cannot_replace_the_root)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("root.tar"), *tar2 = tmp_path("root2.tar");
	const struct ent evil[] = {
		{ 'l', ".", "/etc", 0777, 0, NULL },
		{ 'f', "passwd", "owned", 0644, 0, NULL },
	};
	const struct ent fine[] = {
		{ 'd', "/", NULL, 0711, 0, NULL },
		{ 'f', "x", "1", 0644, 0, NULL },
	};
	struct stat st;
	keel_image *img;

	make_tar(tar, evil, 2, 0, 0);
	import_fails(s, tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, "layer's root");
	assert_store_empty(s);
	make_tar(tar2, fine, 2, 0, 0);
	img = import_tar(s, tar2, "root");
	ck_assert_int_eq(lstat(keel_image_layer_dir(img, 0), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0711);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

START_TEST(a_hardlink_to_a_symlink_with_a_mode_never_chmods_its_target)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("cve-32760.tar");
	char victim[4096];
	struct stat st;
	keel_error *err = NULL;

	snprintf(victim, sizeof(victim), "%s/victim", kt_tmpdir());
	write_file(victim, "secret", 0600);
	{
		const struct ent ents[] = {
			{ 'l', "s", victim, 0777, 0, NULL },
			{ 'h', "h", "s", 04777, 0, NULL },
			{ 'h', "abs", victim, 0777, 0, NULL },         /* absolute target */
			{ 'h', "dots", "../../../../../../../etc/passwd", 0777, 0, NULL },
		};

		make_tar(tar, ents, 4, 0, 0);
	}
	keel_image_import(s, tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, NULL, "cve", NULL, &err);
	keel_error_free(err);
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_nlink, 1);          /* never linked from the layer */
	ck_assert_int_eq(stat("/etc/passwd", &st), 0);
	ck_assert_int_ne(st.st_mode & 07777, 0777);
	keel_image_store_free(s);
}
END_TEST

START_TEST(a_whiteout_that_names_nothing_is_an_error)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("whempty.tar");
	const struct ent ents[] = { { 'f', "etc/.wh.", "", 0, 0, NULL } };

	make_tar(tar, ents, 1, 0, 0);
	import_fails(s, tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, "whiteout");
	assert_store_empty(s);
	keel_image_store_free(s);
}
END_TEST

START_TEST(trailing_nuls_are_part_of_the_diff_id)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("pad.tar");
	const struct ent ents[] = { { 'f', "a", "1", 0644, 0, NULL } };
	char *data = NULL, want[KEEL_DIGEST_LEN + 1], cfg_diff[KEEL_DIGEST_LEN + 1];
	size_t len;
	keel_image *img;
	const char *p;

	make_tar(tar, ents, 1, 0, 20000);
	ck_assert_int_eq(keel_read_file_at(AT_FDCWD, tar, &data, &len, NULL), 0);
	ck_assert_int_eq(keel_sha256_buf(data, len, want, NULL), 0);
	free(data);
	img = import_tar(s, tar, "pad");
	p = strstr(keel_image_config(img), "\"diff_ids\":[\"");
	ck_assert_ptr_nonnull(p);
	snprintf(cfg_diff, sizeof(cfg_diff), "%s", p + 13);
	ck_assert_str_eq(cfg_diff, want);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

START_TEST(a_truncated_or_garbage_blob_leaves_nothing)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("trunc.tgz"), *junk = tmp_path("junk.tar");
	const struct ent ents[] = { { 'f', "big", NULL, 0644, 0, NULL } };
	char *data = NULL;
	size_t len;
	struct ent e = ents[0];
	char *content = malloc(300000);
	size_t i;

	for (i = 0; i < 299999; i++)
		content[i] = (char)('a' + rand() % 26);   /* does not compress away */
	content[299999] = 0;
	e.target = content;
	make_tar(tar, &e, 1, 1, 0);
	free(content);
	ck_assert_int_eq(keel_read_file_at(AT_FDCWD, tar, &data, &len, NULL), 0);
	ck_assert_int_eq(truncate(tar, (off_t)(len / 2)), 0);
	free(data);
	import_fails(s, tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, "trunc");
	assert_store_empty(s);
	write_file(junk, "this is not a tar at all, not even close, and longer than a block? no.", 0644);
	import_fails(s, junk, KEEL_IMAGE_FORMAT_ROOTFS_TAR, "tar");
	assert_store_empty(s);
	keel_image_store_free(s);
}
END_TEST

START_TEST(a_zstd_layer_unpacks_and_hashes_its_uncompressed_tar)
{
	keel_image_store *s = new_store();
	const char *tar = tmp_path("z.tar"), *zst = tmp_path("z.tar.zst");
	const struct ent ents[] = { { 'f', "zfile", "zstd content", 0640, 0, NULL } };
	char cmd[8400], *data = NULL, want[KEEL_DIGEST_LEN + 1];
	struct stat st;
	size_t len;
	keel_image *img;

	make_tar(tar, ents, 1, 0, 0);
	ck_assert_int_eq(keel_read_file_at(AT_FDCWD, tar, &data, &len, NULL), 0);
	ck_assert_int_eq(keel_sha256_buf(data, len, want, NULL), 0);
	free(data);
	snprintf(cmd, sizeof(cmd), "zstd -q -o '%s' '%s'", zst, tar);
	ck_assert_int_eq(system(cmd), 0);
	img = import_tar(s, zst, "zstd");
	ck_assert_ptr_nonnull(strstr(keel_image_config(img), want));   /* the diff ID */
	ck_assert_int_eq(lstat(layer_file(img, 0, "zfile"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

struct rootless_import {
	const char *store, *tar;
	char layer[4096];
};

/* As nobody: open the store, import the tar; 0, or the step that failed. */
static int import_as_nobody(void *arg)
{
	struct rootless_import *ri = arg;
	keel_image_store *s = NULL;
	keel_image *img = NULL;

	if (keel_image_store_open(&s, ri->store, NULL) < 0)
		return 10;
	if (keel_image_import(s, ri->tar, KEEL_IMAGE_FORMAT_ROOTFS_TAR, NULL, "mine", NULL, NULL) < 0)
		return 11;
	if (keel_image_open(&img, s, "mine", NULL) < 0)
		return 12;
	keel_image_free(img);
	keel_image_store_free(s);
	return 0;
}

START_TEST(a_rootless_store_keeps_what_it_can_and_takes_overlays_user_forms)
{
	const char *dir = kt_tmpdir();
	char tar[4096];
	const struct ent ents[] = {
		{ 'd', "etc", NULL, 0755, 0, NULL },
		{ 'f', "etc/f", "1", 04755, 0, NULL },
		{ 'f', "etc/.wh..wh..opq", "", 0, 0, NULL },
		{ 'f', ".wh.gone", "", 0, 0, NULL },
		{ 'c', "dev-null", NULL, 0666, 0, NULL },
	};
	struct rootless_import ri;
	char store[4096], v[4] = "", p[8400];
	keel_image_store *s = NULL;
	keel_image *img = NULL;
	struct stat st;
	int status;

	snprintf(tar, sizeof(tar), "%s/rootless.tar", dir);
	make_tar(tar, ents, sizeof(ents) / sizeof(ents[0]), 0, 0);
	ri.tar = tar;
	snprintf(store, sizeof(store), "%s/nobody-store", dir);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdir(store, 0700), 0);
	ck_assert_int_eq(chown(store, 65534, 65534), 0);
	ck_assert_int_eq(chmod(tar, 0644), 0);
	ri.store = store;
	status = kt_as_nobody(import_as_nobody, &ri);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "import as nobody: step %d", WEXITSTATUS(status));
	ck_assert_int_eq(keel_image_store_open(&s, store, NULL), 0);
	ck_assert_int_eq(keel_image_open(&img, s, "mine", NULL), 0);
	snprintf(p, sizeof(p), "%s/etc/f", keel_image_layer_dir(img, 0));
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert_int_eq(st.st_uid, 65534);                 /* the caller's */
	ck_assert_int_eq(st.st_mode & 07777, 04755);
	snprintf(p, sizeof(p), "%s/etc", keel_image_layer_dir(img, 0));
	ck_assert_int_eq(lgetxattr(p, "user.overlay.opaque", v, sizeof(v)), 1);
	snprintf(p, sizeof(p), "%s/gone", keel_image_layer_dir(img, 0));
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	snprintf(p, sizeof(p), "%s/dev-null", keel_image_layer_dir(img, 0));
	ck_assert_int_eq(lstat(p, &st), -1);                /* no device without privilege */
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

/* -------------------------------------------------------- OCI layouts -- */

/* A blob into <layout>/blobs/sha256/, its digest into out. */
static void put_blob(const char *layout, const char *data, size_t len, char *out)
{
	char p[4096];
	int fd;

	ck_assert_int_eq(keel_sha256_buf(data, len, out, NULL), 0);
	snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, out + 7);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_file_blob(const char *layout, const char *file, char *out, size_t *size)
{
	char *data = NULL;

	ck_assert_int_eq(keel_read_file_at(AT_FDCWD, file, &data, size, NULL), 0);
	put_blob(layout, data, *size, out);
	free(data);
}

/* The diff ID of a (maybe gzip'd) tar: what gzip -dc | sha256sum says
 * (gzip ignores the zeros libarchive's writer pads its last block with;
 * -f would pass them through). */
static void diff_id_of(const char *file, char *out)
{
	char cmd[4200], line[128];
	unsigned char magic[2] = { 0 };
	FILE *f;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, magic, 2), 2);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s '%s' 2>/dev/null | sha256sum", magic[0] == 0x1f && magic[1] == 0x8b ?
		 "gzip -dc" : "cat", file);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	pclose(f);
	snprintf(out, KEEL_DIGEST_LEN + 1, "sha256:%.64s", line);
}

/*
 * An OCI layout of n layer tars (gzip'd) with a config whose Cmd is cmd
 * and that has the fields of extra (",\"StopSignal\":\"KILL\"", or "");
 * the manifest digest into manifest (may be NULL). corrupt: 1 truncates the
 * first layer's blob, 2 makes the config's first diff ID wrong.
 */
static void make_layout_with(const char *layout, const char *const *tars, size_t n, const char *cmd,
			     const char *extra, int corrupt, char *manifest)
{
	static char cfg[65536], man[65536], layers[65536], diffs[65536];
	char p[4096], idx[4096], d[KEEL_DIGEST_LEN + 1], cd[KEEL_DIGEST_LEN + 1], md[KEEL_DIGEST_LEN + 1];
	size_t i, size;

	layers[0] = diffs[0] = 0;
	snprintf(p, sizeof(p), "%s/blobs/sha256", layout);
	ck_assert_int_eq(keel_mkdir_p(p, 0755, NULL), 0);
	for (i = 0; i < n; i++) {
		char diff[KEEL_DIGEST_LEN + 1];

		put_file_blob(layout, tars[i], d, &size);
		diff_id_of(tars[i], diff);
		if (corrupt == 1 && i == 0) {   /* a truncated blob */
			snprintf(p, sizeof(p), "%s/blobs/sha256/%s", layout, d + 7);
			ck_assert_int_eq(truncate(p, (off_t)size / 2), 0);
		}
		if (corrupt == 2 && i == 0)
			diff[10] = diff[10] == 'a' ? 'b' : 'a';
		snprintf(layers + strlen(layers), sizeof(layers) - strlen(layers),
			 "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu}",
			 i ? "," : "", d, size);
		snprintf(diffs + strlen(diffs), sizeof(diffs) - strlen(diffs), "%s\"%s\"", i ? "," : "", diff);
	}
	snprintf(cfg, sizeof(cfg), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
		 "\"config\":{\"Cmd\":[%s],\"Env\":[\"PATH=/bin:/sbin\",\"GREETING=hello\"],\"WorkingDir\":\"/etc\"%s},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}", cmd, extra, diffs);
	put_blob(layout, cfg, strlen(cfg), cd);
	snprintf(man, sizeof(man), "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		 "\"layers\":[%s]}", cd, strlen(cfg), layers);
	put_blob(layout, man, strlen(man), md);
	snprintf(idx, sizeof(idx), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"test/layout:v1\"}}]}", md, strlen(man));
	snprintf(p, sizeof(p), "%s/index.json", layout);
	write_file(p, idx, 0644);
	snprintf(p, sizeof(p), "%s/oci-layout", layout);
	write_file(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 0644);
	if (manifest)
		memcpy(manifest, md, sizeof(md));
}

static void make_layout(const char *layout, const char *const *tars, size_t n, const char *cmd,
			int corrupt, char *manifest)
{
	make_layout_with(layout, tars, n, cmd, "", corrupt, manifest);
}

/* A base layer: the busybox rootfs as a gzip'd tar. */
static const char *busybox_tar(void)
{
	static char path[4096];
	char cmd[8400];

	snprintf(path, sizeof(path), "%s/busybox.tgz", kt_tmpdir());
	snprintf(cmd, sizeof(cmd), "tar -C '%s' -czf '%s' .", kt_rootfs(), path);
	ck_assert_int_eq(system(cmd), 0);
	return path;
}

/* An upper layer that deletes /etc/motd-ish file and a whole directory. */
static const char *delete_tar(void)
{
	const char *tar = tmp_path("del.tgz");
	const struct ent ents[] = {
		{ 'd', "etc", NULL, 0755, 0, NULL },
		{ 'f', "etc/.wh.passwd", "", 0, 0, NULL },
		{ 'f', ".wh.home", "", 0, 0, NULL },
		{ 'f', "etc/added", "from the upper layer\n", 0644, 0, NULL },
	};

	make_tar(tar, ents, 4, 1, 0);
	return tar;
}

static keel_container *image_container(keel_image_store *s, keel_image *img, const char *const *cmd,
				       const char *root)
{
	const char *id = kt_name("img");
	keel_container *c = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_container_new(&c, id, root, NULL), 0);
	ck_assert_msg(keel_image_apply(s, img, c, cmd, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_rootfs_add_defaults(keel_container_rootfs(c), NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(c), -1, -1, 2, NULL), 0);
	return c;
}

static void deleter(void *c)
{
	keel_container_delete(c, KEEL_DELETE_FORCE, NULL);
	keel_container_free(c);
}

/* Run the image with cmd; its exit code. */
static int run_image(keel_image_store *s, keel_image *img, const char *const *cmd)
{
	keel_container *c = image_container(s, img, cmd, kt_tmpdir());
	keel_error *err = NULL;
	int code = -1, sig = 0;

	kt_defer_fn(deleter, c);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_wait(c, 0, &code, &sig, NULL), 1);
	ck_assert_int_eq(sig, 0);
	return code;
}

START_TEST(an_oci_layout_imports_and_runs_with_its_config_and_whiteouts)
{
	keel_image_store *s = new_store();
	const char *layout = tmp_path("layout");
	const char *tars[2] = { busybox_tar(), delete_tar() };
	const char *check[] = { "sh", "-c", "test \"$GREETING\" = hello && test \"$PWD\" = /etc && "
				"test ! -e /etc/passwd && test ! -e /home && test -e /etc/group && "
				"grep -q upper /etc/added", NULL };
	char md[KEEL_DIGEST_LEN + 1];
	keel_error *err = NULL;
	char *digest = NULL;
	keel_image *img = NULL;

	make_layout(layout, tars, 2, "\"sh\",\"-c\",\"exit 7\"", 0, md);
	ck_assert_msg(keel_image_import(s, layout, KEEL_IMAGE_FORMAT_AUTO, NULL, NULL, &digest, &err) == 0,
		      "%s", keel_error_message(err));
	ck_assert_str_eq(digest, md);            /* the manifest kept, byte for byte */
	ck_assert_int_eq(keel_image_open(&img, s, "test/layout:v1", NULL), 0);   /* from ref.name */
	ck_assert_int_eq(keel_image_layer_count(img), 2);
	ck_assert_str_eq(keel_image_platform(img), "linux/amd64");
	ck_assert_int_eq(keel_image_created(img), 1704164645);
	ck_assert_int_eq(run_image(s, img, NULL), 7);           /* the config's Cmd */
	ck_assert_int_eq(run_image(s, img, check), 0);           /* Env, WorkingDir, whiteouts */
	free(digest);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

START_TEST(a_bad_digest_or_diff_id_or_json_imports_nothing)
{
	keel_image_store *s = new_store();
	const char *tars[1] = { delete_tar() };
	const char *l1 = tmp_path("bad1"), *l2 = tmp_path("bad2"), *l3 = tmp_path("bad3");
	char p[4096];

	make_layout(l1, tars, 1, "\"true\"", 1, NULL);
	import_fails(s, l1, KEEL_IMAGE_FORMAT_OCI_LAYOUT, "layer 1");
	assert_store_empty(s);
	make_layout(l2, tars, 1, "\"true\"", 2, NULL);
	import_fails(s, l2, KEEL_IMAGE_FORMAT_OCI_LAYOUT, "diff ID mismatch");
	assert_store_empty(s);
	make_layout(l3, tars, 1, "\"true\"", 0, NULL);
	snprintf(p, sizeof(p), "%s/index.json", l3);
	write_file(p, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":", 0644);
	import_fails(s, l3, KEEL_IMAGE_FORMAT_OCI_LAYOUT, "invalid JSON");
	write_file(p, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:../../../../etc/passwd\"}]}", 0644);
	import_fails(s, l3, KEEL_IMAGE_FORMAT_OCI_LAYOUT, "invalid digest");
	assert_store_empty(s);
	keel_image_store_free(s);
}
END_TEST

/* ------------------------------------------------------- stop signals -- */

/* Signals as Docker reads a StopSignal: names in any case, with or
 * without SIG, real-time ones relative to glibc's SIGRTMIN and SIGRTMAX,
 * decimals from 1 to 64; nothing else. */
START_TEST(stop_signal_names_read_as_docker_reads_them)
{
	static const struct { const char *s; int sig; } cases[] = {
		{ "SIGKILL", SIGKILL }, { "KILL", SIGKILL }, { "kill", SIGKILL }, { "SigUsr1", SIGUSR1 },
		{ "SIGTERM", SIGTERM }, { "WINCH", SIGWINCH }, { "SIGCHLD", SIGCHLD }, { "CLD", SIGCHLD },
		{ "SIGRTMIN", 34 }, { "SIGRTMIN+3", 37 }, { "rtmin+30", 64 }, { "SIGRTMAX", 64 },
		{ "RTMAX-1", 63 }, { "SIGRTMAX-30", 34 }, { "9", 9 }, { "1", 1 }, { "64", 64 },
		{ "0", -1 }, { "65", -1 }, { "-9", -1 }, { "+9", -1 }, { " 9", -1 }, { "9x", -1 }, { "", -1 },
		{ "SIG", -1 }, { "SIGFOO", -1 }, { "SIGKILLX", -1 }, { "SIGRTMIN+31", -1 }, { "SIGRTMIN-1", -1 },
		{ "SIGRTMAX+1", -1 }, { "SIGRTMAX-31", -1 }, { "SIGRTMIN+", -1 }, { "SIGRTMIN+3x", -1 },
		{ "SIGSIGKILL", -1 }, { "99999999999999999999999", -1 }, { "SIGAVERYLONGNAMEINDEED", -1 },
	};
	size_t i;

	ck_assert_int_eq(SIGRTMIN, KEEL_SIG_RTMIN);   /* glibc's numbering, which Docker fixed */
	ck_assert_int_eq(SIGRTMAX, KEEL_SIG_MAX);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(keel_str_to_signal(cases[i].s) == cases[i].sig, "'%s' is %d, not %d", cases[i].s,
			      keel_str_to_signal(cases[i].s), cases[i].sig);
	ck_assert_int_eq(keel_str_to_signal(NULL), -1);
}
END_TEST

/* An image whose config has this StopSignal (a JSON value), under name. */
static keel_image *stop_signal_image(keel_image_store *s, const char *tar, const char *json, const char *cmd,
				     const char *name)
{
	const char *tars[1] = { tar };
	char extra[256], *layout = strdup(tmp_path(name));
	keel_image *img = NULL;
	keel_error *err = NULL;

	ck_assert_ptr_nonnull(layout);
	snprintf(extra, sizeof(extra), ",\"StopSignal\":%s", json);
	make_layout_with(layout, tars, 1, cmd, extra, 0, NULL);
	ck_assert_msg(keel_image_import(s, layout, KEEL_IMAGE_FORMAT_OCI_LAYOUT, NULL, name, NULL, &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_msg(keel_image_open(&img, s, name, &err) == 0, "%s", keel_error_message(err));
	free(layout);
	return img;
}

/* Containers that use an image, as recorded in the store. */
static int refs_in(keel_image_store *s)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/refs", keel_image_store_root(s));
	return access(p, F_OK) == 0 ? count_dir(s, "refs") : 0;
}

/* The image's StopSignal becomes the container's stop signal, which a
 * loader sends to the running init: its trap for SIGUSR1 ends it with
 * 42. A stop signal the caller set before keel_image_apply() stays, one
 * set after it replaces the image's. */
START_TEST(the_images_stop_signal_is_the_containers_unless_the_caller_sets_one)
{
	keel_image_store *s = new_store();
	keel_image *img = stop_signal_image(s, busybox_tar(), "\"SIGUSR1\"",   /* busybox_tar(): its own buffer */
					    "\"sh\",\"-c\",\"trap 'exit 42' USR1; echo ready > /ready; "
					    "while :; do sleep 0.05; done\"", "stop/usr1");
	keel_container *c = image_container(s, img, NULL, kt_tmpdir()), *mine = NULL;
	keel_error *err = NULL;
	int code = -1, sig = -1;

	kt_defer_fn(deleter, c);
	ck_assert_int_eq(keel_container_stop_signal(c), SIGUSR1);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	kt_stop_when_ready(c, &code, &sig); /* through a loaded handle: the state has SIGUSR1 */
	ck_assert_int_eq(sig, 0);
	ck_assert_int_eq(code, 42);

	/* set before apply: the caller's, even SIGTERM (the default's number) */
	ck_assert_int_eq(keel_container_new(&mine, kt_name("own"), kt_tmpdir(), NULL), 0);
	ck_assert_int_eq(keel_container_set_stop_signal(mine, SIGTERM, NULL), 0);
	ck_assert_msg(keel_image_apply(s, img, mine, NULL, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_stop_signal(mine), SIGTERM);
	keel_container_free(mine);
	ck_assert_int_eq(keel_container_new(&mine, kt_name("own"), kt_tmpdir(), NULL), 0);
	ck_assert_int_eq(keel_container_set_stop_signal(mine, SIGUSR2, NULL), 0);
	ck_assert_msg(keel_image_apply(s, img, mine, NULL, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_stop_signal(mine), SIGUSR2);
	keel_container_free(mine);
	/* set after apply: replaces the image's */
	ck_assert_int_eq(keel_container_new(&mine, kt_name("own"), kt_tmpdir(), NULL), 0);
	ck_assert_msg(keel_image_apply(s, img, mine, NULL, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_stop_signal(mine), SIGUSR1);
	ck_assert_int_eq(keel_container_set_stop_signal(mine, SIGHUP, NULL), 0);
	ck_assert_int_eq(keel_container_stop_signal(mine), SIGHUP);
	keel_container_free(mine);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

/* What Docker accepts as a StopSignal, a config that has none, and what
 * it refuses: then apply fails naming the field and the value, and
 * leaves the container as it was (no layer, no reference in the store). */
START_TEST(a_stop_signal_of_the_config_is_read_strictly)
{
	static const struct { const char *json; int sig; const char *word; } cases[] = {
		{ "\"KILL\"", SIGKILL, NULL }, { "\"SIGKILL\"", SIGKILL, NULL }, { "\"SIGRTMIN+3\"", 37, NULL },
		{ "\"9\"", 9, NULL }, { "\"sigwinch\"", SIGWINCH, NULL }, { "\"\"", SIGTERM, NULL },
		{ "null", SIGTERM, NULL },
		{ "\"SIGFOO\"", 0, "config.StopSignal 'SIGFOO' is not a signal" },
		{ "\"0\"", 0, "config.StopSignal '0' is not a signal" },
		{ "\"65\"", 0, "config.StopSignal '65' is not a signal" },
		{ "\"SIGRTMIN+40\"", 0, "config.StopSignal 'SIGRTMIN+40' is not a signal" },
		{ "9", 0, "config.StopSignal: not a string" },
	};
	keel_image_store *s = new_store();
	char *tar = strdup(delete_tar());   /* tmp_path()'s buffers are reused */
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64], **layers = NULL;
		keel_image *img;
		keel_container *c = NULL;
		keel_error *err = NULL;
		int ret, refs = refs_in(s);

		snprintf(name, sizeof(name), "stop/case%zu", i);
		img = stop_signal_image(s, tar, cases[i].json, "\"true\"", name);
		ck_assert_int_eq(keel_container_new(&c, kt_name("ss"), kt_tmpdir(), NULL), 0);
		ret = keel_image_apply(s, img, c, NULL, &err);
		if (cases[i].word) {
			ck_assert_msg(ret == -EINVAL, "StopSignal %s: apply gave %d", cases[i].json, ret);
			ck_assert_msg(strstr(keel_error_message(err), cases[i].word) &&
				      strstr(keel_error_message(err), keel_image_digest(img)),
				      "StopSignal %s: '%s'", cases[i].json, keel_error_message(err));
			keel_error_free(err);
			ck_assert_int_eq(keel_container_stop_signal(c), SIGTERM);
			ck_assert_int_eq(keel_container_layers(c, &layers, NULL), 0);
			ck_assert_ptr_null(layers[0]);
			keel_container_strv_free(layers);
			ck_assert_int_eq(refs_in(s), refs);
		} else {
			ck_assert_msg(ret == 0, "StopSignal %s: %s", cases[i].json, keel_error_message(err));
			ck_assert_msg(keel_container_stop_signal(c) == cases[i].sig, "StopSignal %s gave %d",
				      cases[i].json, keel_container_stop_signal(c));
			ck_assert_int_eq(refs_in(s), refs + 1);
		}
		keel_container_free(c);
		keel_image_free(img);
	}
	free(tar);
	keel_image_store_free(s);
}
END_TEST

/* ------------------------------------------------------------ platforms -- */

static struct json_object *parse(const char *text)
{
	struct json_object *o = NULL;

	ck_assert_int_eq(keel_json_parse(text, strlen(text), "test", &o, NULL), 0);
	return o;
}

START_TEST(the_host_platform_is_picked_with_containerds_variant_fallbacks)
{
	const struct keel_json_api *J = keel_json(NULL, "test");
	struct json_object *idx = parse("[{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
					"{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v5\"}},"
					"{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
					"{\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]");
	struct json_object *arm = parse("[{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
					"{\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}}]");
	struct keel_platform want, host;
	keel_error *err = NULL;
	size_t i = 99;

	keel_platform_host(&host);
	ck_assert_int_eq(keel_platform_parse("linux/arm64", &want, NULL), 0);
	ck_assert_str_eq(want.variant, "v8");                       /* arm64 is arm64/v8 */
	ck_assert_int_eq(keel_platform_pick(idx, &want, "x", &i, NULL), 0);
	ck_assert_int_eq(i, 0);
	ck_assert_int_eq(keel_platform_parse("linux/arm/v7", &want, NULL), 0);
	ck_assert_int_eq(keel_platform_pick(idx, &want, "x", &i, NULL), 0);
	ck_assert_int_eq(i, 2);                                     /* v7 runs v6 before v5 */
	ck_assert_int_eq(keel_platform_parse("linux/amd64", &want, NULL), 0);
	ck_assert_int_eq(keel_platform_pick(idx, &want, "x", &i, NULL), 0);
	ck_assert_int_eq(i, 3);
	ck_assert_int_lt(keel_platform_parse("linux", &want, NULL), 0);
	if (!strcmp(host.arch, "amd64")) {
		ck_assert_int_eq(keel_platform_pick(arm, NULL, "busybox:multi", &i, &err), -ENOENT);
		ck_assert_str_eq(keel_error_message(err),
				 "image busybox:multi has linux/arm64, linux/arm/v7; this host is linux/amd64");
		keel_error_free(err);
	}
	J->json_object_put(idx);
	J->json_object_put(arm);
}
END_TEST

/* --------------------------------------------------- store: rm, prune -- */

START_TEST(sizes_names_rm_and_prune_share_layers_and_refuse_what_is_in_use)
{
	keel_image_store *s = new_store();
	const char *la = tmp_path("la"), *lb = tmp_path("lb");
	const char *ta[1] = { busybox_tar() }, *tb[2] = { ta[0], delete_tar() };
	keel_image *a = NULL, *b = NULL;
	uint64_t ua, tot_a, ub, tot_b, freed = 0;
	keel_container *c;
	keel_error *err = NULL;
	char **all = NULL;

	make_layout(la, ta, 1, "\"true\"", 0, NULL);
	make_layout(lb, tb, 2, "\"true\"", 0, NULL);
	ck_assert_int_eq(keel_image_import(s, la, 0, NULL, "base", NULL, NULL), 0);
	ck_assert_int_eq(keel_image_import(s, lb, 0, NULL, "top:1", NULL, NULL), 0);
	ck_assert_int_eq(keel_image_open(&a, s, "base:latest", NULL), 0);
	ck_assert_int_eq(keel_image_open(&b, s, "top:1", NULL), 0);
	ck_assert_str_eq(keel_image_layer_dir(a, 0), keel_image_layer_dir(b, 0));   /* unpacked once */
	ck_assert_int_eq(count_dir(s, "layers"), 4);   /* 2 dirs + 2 .json */
	ck_assert_int_eq(keel_image_sizes(s, a, &ua, &tot_a, NULL), 0);
	ck_assert_int_eq(keel_image_sizes(s, b, &ub, &tot_b, NULL), 0);
	ck_assert_int_eq(ua, 0);                        /* all of base is shared */
	ck_assert_uint_gt(tot_a, 1000000);
	ck_assert_uint_eq(tot_b, tot_a + ub);
	ck_assert_uint_eq(ub, strlen("from the upper layer\n"));

	/* a container of top:1 holds it */
	c = image_container(s, b, NULL, kt_tmpdir());
	ck_assert_msg(keel_container_create(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_image_remove(s, "top:1", 0, &err), -EBUSY);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), keel_container_id(c)));
	keel_error_free(err);
	ck_assert_int_eq(keel_container_delete(c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(c);
	ck_assert_int_eq(keel_image_tag(s, "top:1", "again", NULL), 0);
	ck_assert_int_eq(keel_image_remove(s, "top:1", 0, NULL), 0);     /* one name of two */
	ck_assert_int_eq(keel_image_list(s, &all, NULL), 0);
	ck_assert_ptr_nonnull(all[1]);
	keel_image_strv_free(all);
	ck_assert_int_eq(keel_image_untag(s, "again", NULL), 0);
	ck_assert_int_eq(keel_image_prune(s, &freed, NULL), 0);           /* untagged top goes */
	ck_assert_uint_ge(freed, ub);
	ck_assert_int_eq(keel_image_list(s, &all, NULL), 0);
	ck_assert_ptr_nonnull(all[0]);
	ck_assert_ptr_null(all[1]);
	keel_image_strv_free(all);
	ck_assert_int_eq(count_dir(s, "layers"), 2);   /* the shared base stays */
	ck_assert_int_eq(keel_image_remove(s, "base", 0, NULL), 0);
	ck_assert_int_eq(count_dir(s, "layers"), 0);
	ck_assert_int_eq(count_dir(s, "blobs/sha256"), 0);
	keel_image_free(a);
	keel_image_free(b);
	ck_assert_int_eq(keel_image_open(&b, s, "base", NULL), -ENOENT);
	keel_image_store_free(s);
}
END_TEST

/* ------------------------------------------------- digest and names -- */

/* The sha256 of a file as sha256sum (not the library) computes it. */
static void sha256sum_of(const char *file, char *out)
{
	char cmd[4400], line[128];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", file);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_int_eq(pclose(f), 0);
	snprintf(out, KEEL_DIGEST_LEN + 1, "sha256:%.64s", line);
}

static int is_lower_hex(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return p[n] == '\0';
}

/* keel_image_names() of img, as a sorted, newline-separated string ("" when
 * untagged), so a test compares it with what it expects in one assert. */
static char *names_line(keel_image_store *s, const keel_image *img)
{
	static char buf[4][1024];
	static int next;
	char *line = buf[next++ % 4], **names = (char **)1;
	keel_error *err = NULL;
	size_t i, j, n = 0;

	ck_assert_msg(keel_image_names(s, img, &names, &err) == 0, "%s", keel_error_message(err));
	ck_assert_ptr_nonnull(names); /* NULL-terminated, empty when untagged: never NULL */
	while (names[n])
		n++;
	for (i = 1; i < n; i++) /* the store keeps no order: sort for the compare */
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	line[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(line + strlen(line), 1024 - strlen(line), "%s%s", i ? "\n" : "", names[i]);
	keel_image_strv_free(names); /* the caller frees the array and its strings */
	return line;
}

START_TEST(the_digest_is_the_manifest_blobs_sha256_and_names_are_exactly_the_tags)
{
	keel_image_store *s = new_store();
	const char *la = tmp_path("da"), *lb = tmp_path("db"), *tar = tmp_path("small.tgz");
	const struct ent ents[] = { { 'd', "etc", NULL, 0755, 0, NULL },
				    { 'f', "etc/motd", "digest test\n", 0644, 0, NULL } };
	const char *tars[1] = { tar };
	char ma[KEEL_DIGEST_LEN + 1], mb[KEEL_DIGEST_LEN + 1], blob[4200], sum[KEEL_DIGEST_LEN + 1];
	char *reported = NULL;
	keel_image *a = NULL, *b = NULL, *again = NULL;
	keel_error *err = NULL;
	const char *d;

	make_tar(tar, ents, 2, 1, 0);
	make_layout(la, tars, 1, "\"true\"", 0, ma);   /* two manifests, one layer */
	make_layout(lb, tars, 1, "\"false\"", 0, mb);
	ck_assert_str_ne(ma, mb);
	ck_assert_msg(keel_image_import(s, la, 0, NULL, "one", &reported, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_image_import(s, lb, 0, NULL, "other:v1", NULL, NULL), 0);
	ck_assert_int_eq(keel_image_open(&a, s, "one", NULL), 0);
	ck_assert_int_eq(keel_image_open(&b, s, "other:v1", NULL), 0);

	/* The digest: sha256: and 64 lowercase hex digits, the one the
	 * import reported, the one the test wrote in the layout's index, and
	 * the sha256 of the manifest blob the store keeps. */
	d = keel_image_digest(a);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(strncmp(d, "sha256:", 7), 0);
	ck_assert_msg(is_lower_hex(d + 7, 64), "'%s' is not sha256:<64 hex>", d);
	ck_assert_str_eq(d, reported);
	ck_assert_str_eq(d, ma);
	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", keel_image_store_root(s), d + 7);
	sha256sum_of(blob, sum);
	ck_assert_str_eq(sum, d);
	ck_assert_str_eq(keel_image_digest(b), mb);
	ck_assert_str_ne(keel_image_id(a), d);          /* the ID is the config's, not the manifest's */
	/* Opened by its digest, the image is the same one. */
	ck_assert_int_eq(keel_image_open(&again, s, d, NULL), 0);
	ck_assert_str_eq(keel_image_digest(again), d);
	keel_image_free(again);

	/* Names: exactly the tags given, normalized, each image only its own. */
	ck_assert_str_eq(names_line(s, a), "one:latest");
	ck_assert_str_eq(names_line(s, b), "other:v1");
	ck_assert_int_eq(keel_image_tag(s, "one", "two:v2", NULL), 0);
	ck_assert_int_eq(keel_image_tag(s, ma, "reg.test/three", NULL), 0);
	ck_assert_str_eq(names_line(s, a), "one:latest\nreg.test/three:latest\ntwo:v2");
	ck_assert_str_eq(names_line(s, b), "other:v1");
	/* A name moved from b to a leaves b untagged: an empty array. */
	ck_assert_int_eq(keel_image_tag(s, "one", "other:v1", NULL), 0);
	ck_assert_str_eq(names_line(s, a), "one:latest\nother:v1\nreg.test/three:latest\ntwo:v2");
	ck_assert_str_eq(names_line(s, b), "");
	ck_assert_int_eq(keel_image_untag(s, "two:v2", NULL), 0);
	ck_assert_int_eq(keel_image_untag(s, "reg.test/three", NULL), 0);
	ck_assert_str_eq(names_line(s, a), "one:latest\nother:v1");
	/* The digest belongs to the handle: the same after the names changed. */
	ck_assert_str_eq(keel_image_digest(a), ma);

	free(reported); /* the import's digest is the caller's to free */
	keel_image_free(a);
	keel_image_free(b);
	keel_image_store_free(s);
}
END_TEST

/* ------------------------------------------------------ docker-archive -- */

START_TEST(a_legacy_docker_archive_with_symlinked_layers_imports)
{
	keel_image_store *s = new_store();
	const char *dir = tmp_path("docker"), *tar = tmp_path("docker.tar");
	const char *layer = tmp_path("plain.tar");
	const struct ent ents[] = { { 'f', "hello", "world\n", 0644, 0, NULL } };
	char p[4096], diff[KEEL_DIGEST_LEN + 1], cfg[2048], cd[KEEL_DIGEST_LEN + 1], cmd[8400];
	keel_image *img = NULL;
	keel_error *err = NULL;
	struct stat st;

	make_tar(layer, ents, 1, 0, 0);
	diff_id_of(layer, diff);
	snprintf(p, sizeof(p), "%s/aaa", dir);
	ck_assert_int_eq(keel_mkdir_p(p, 0755, NULL), 0);
	snprintf(p, sizeof(p), "%s/bbb", dir);
	ck_assert_int_eq(keel_mkdir_p(p, 0755, NULL), 0);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/aaa/layer.tar' && ln -s ../aaa/layer.tar '%s/bbb/layer.tar'",
		 layer, dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cfg, sizeof(cfg), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/hello\"]},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}", diff, diff);
	ck_assert_int_eq(keel_sha256_buf(cfg, strlen(cfg), cd, NULL), 0);
	snprintf(p, sizeof(p), "%s/%s.json", dir, cd + 7);
	write_file(p, cfg, 0644);
	snprintf(cmd, sizeof(cmd), "[{\"Config\":\"%s.json\",\"RepoTags\":[\"legacy:old\"],"
		 "\"Layers\":[\"aaa/layer.tar\",\"bbb/layer.tar\"]}]", cd + 7);
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	write_file(p, cmd, 0644);
	snprintf(cmd, sizeof(cmd), "tar -C '%s' -cf '%s' .", dir, tar);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(keel_image_import(s, tar, KEEL_IMAGE_FORMAT_AUTO, NULL, NULL, NULL, &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_int_eq(keel_image_open(&img, s, "legacy:old", NULL), 0);   /* from RepoTags */
	ck_assert_str_eq(keel_image_id(img), cd);
	ck_assert_int_eq(keel_image_layer_count(img), 2);
	ck_assert_int_eq(lstat(layer_file(img, 1, "hello"), &st), 0);
	ck_assert_int_eq(count_dir(s, "tmp"), 0);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

/* -------------------------------------------------------- commit, save -- */

START_TEST(commit_turns_the_upper_dir_into_a_layer_with_whiteouts_and_save_round_trips)
{
	keel_image_store *s = new_store();
	const char *tars[1] = { busybox_tar() };
	const char *layout = tmp_path("cl"), *saved = tmp_path("saved.tar"), *saved_dir = tmp_path("saved-dir");
	const char *change[] = { "sh", "-c", "rm /etc/passwd && rm -r /home && mkdir -p /new && echo hi > /new/f "
				 "&& rm -r /etc && mkdir /etc && echo x > /etc/only", NULL };
	const char *check[] = { "sh", "-c", "test ! -e /etc/passwd && test ! -e /home && grep -q hi /new/f && "
				"test ! -e /etc/group && test -e /etc/only", NULL };
	keel_image *base = NULL, *img = NULL, *back = NULL;
	keel_image_store *s2 = new_store();
	keel_container *c;
	keel_error *err = NULL;
	char upper[4096], *digest = NULL, *digest2 = NULL;
	const char *cmd[] = { "echo", "committed", NULL };
	int code = -1, sig;
	struct stat st;

	make_layout(layout, tars, 1, "\"true\"", 0, NULL);
	ck_assert_int_eq(keel_image_import(s, layout, 0, NULL, "base", NULL, NULL), 0);
	ck_assert_int_eq(keel_image_open(&base, s, "base", NULL), 0);
	c = image_container(s, base, change, kt_tmpdir());
	keel_container_set_keep_upper(c, 1);
	kt_defer_fn(deleter, c);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_wait(c, 0, &code, &sig, NULL), 1);
	ck_assert_int_eq(code, 0);
	snprintf(upper, sizeof(upper), "%s/%s/layer/upper", keel_container_state_root(c), keel_container_id(c));
	ck_assert_msg(keel_image_commit(s, base, upper, cmd, "committed", &digest, &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_int_eq(keel_image_open(&img, s, "committed", NULL), 0);
	ck_assert_int_eq(keel_image_layer_count(img), 2);
	ck_assert_int_eq(lstat(layer_file(img, 1, "home"), &st), 0);
	ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	ck_assert_ptr_nonnull(strstr(keel_image_config(img), "keel_image_commit"));
	ck_assert_ptr_nonnull(strstr(keel_image_config(img), "\"Cmd\":[\"echo\",\"committed\"]"));
	ck_assert_int_eq(run_image(s, img, check), 0);

	/* save and import into another store: the same manifest digest */
	ck_assert_msg(keel_image_save(s, "committed", saved, KEEL_IMAGE_FORMAT_OCI_ARCHIVE, &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_int_eq(keel_image_save(s, "committed", saved, KEEL_IMAGE_FORMAT_OCI_ARCHIVE, NULL), -EEXIST);
	ck_assert_int_eq(keel_image_save(s, "committed", saved_dir, KEEL_IMAGE_FORMAT_OCI_LAYOUT, NULL), 0);
	ck_assert_msg(keel_image_import(s2, saved, 0, NULL, NULL, &digest2, &err) == 0, "%s", keel_error_message(err));
	ck_assert_str_eq(digest, digest2);
	ck_assert_int_eq(keel_image_open(&back, s2, "committed:latest", NULL), 0);
	ck_assert_int_eq(run_image(s2, back, check), 0);
	free(digest);
	free(digest2);
	keel_image_free(back);
	keel_image_free(img);
	keel_image_free(base);
	keel_image_store_free(s2);
	keel_image_store_free(s);
}
END_TEST

/* ------------------------------------------------------------ many layers -- */

START_TEST(an_image_of_more_than_128_layers_mounts)
{
	keel_image_store *s = new_store();
	char *layout = strdup(tmp_path("many"));
	enum { N = 140 };
	static char names[N][64];
	const char *tars[N];
	const char *check[] = { "sh", "-c", "test -e /l1 && test -e /l139 && test -e /bin/sh", NULL };
	keel_image *img = NULL;
	keel_error *err = NULL;
	size_t i;

	tars[0] = busybox_tar();
	for (i = 1; i < N; i++) {
		struct ent e = { 'f', names[i], "x", 0644, 0, NULL };

		snprintf(names[i], sizeof(names[i]), "l%zu", i);
		tars[i] = strdup(tmp_path(names[i]));
		make_tar(tars[i], &e, 1, 1, 0);
	}
	make_layout(layout, tars, N, "\"true\"", 0, NULL);
	ck_assert_msg(keel_image_import(s, layout, 0, NULL, "many", NULL, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_image_open(&img, s, "many", NULL), 0);
	ck_assert_int_eq(keel_image_layer_count(img), N);
	ck_assert_int_eq(run_image(s, img, check), 0);
	for (i = 1; i < N; i++)
		free((char *)tars[i]);
	free(layout);
	keel_image_free(img);
	keel_image_store_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *unit = kt_tcase("unit", 30);
	TCase *unpack = kt_tcase("unpack", 60);
	TCase *store = kt_tcase("store", 180);

	tcase_add_test(unit, digest_strings_are_validated_before_they_become_paths);
	tcase_add_test(unit, entry_names_are_cleaned_and_clamped_at_the_root);
	tcase_add_test(unit, the_host_platform_is_picked_with_containerds_variant_fallbacks);
	tcase_add_test(unit, stop_signal_names_read_as_docker_reads_them);
	suite_add_tcase(s, unit);

	tcase_add_test(unpack, a_layer_keeps_modes_owners_links_devices_xattrs_and_times);
	tcase_add_test(unpack, whiteouts_become_overlay_whiteouts_and_opaque_keeps_this_layers_files);
	tcase_add_test(unpack, dotdot_and_absolute_names_stay_inside_the_layer);
	tcase_add_test(unpack, an_entry_through_an_earlier_symlink_never_writes_outside);
	tcase_add_test(unpack, dot_or_slash_as_a_symlink_cannot_replace_the_root);
	tcase_add_test(unpack, a_hardlink_to_a_symlink_with_a_mode_never_chmods_its_target);
	tcase_add_test(unpack, a_whiteout_that_names_nothing_is_an_error);
	tcase_add_test(unpack, trailing_nuls_are_part_of_the_diff_id);
	tcase_add_test(unpack, a_truncated_or_garbage_blob_leaves_nothing);
	tcase_add_test(unpack, a_rootless_store_keeps_what_it_can_and_takes_overlays_user_forms);
	kt_add_test_needs(unpack, a_zstd_layer_unpacks_and_hashes_its_uncompressed_tar,
			  system("zstd --version >/dev/null 2>&1") == 0 ? NULL : "no zstd program to make the layer");
	suite_add_tcase(s, unpack);

	tcase_add_test(store, an_oci_layout_imports_and_runs_with_its_config_and_whiteouts);
	tcase_add_test(store, a_bad_digest_or_diff_id_or_json_imports_nothing);
	tcase_add_test(store, sizes_names_rm_and_prune_share_layers_and_refuse_what_is_in_use);
	tcase_add_test(store, the_digest_is_the_manifest_blobs_sha256_and_names_are_exactly_the_tags);
	tcase_add_test(store, a_legacy_docker_archive_with_symlinked_layers_imports);
	tcase_add_test(store, commit_turns_the_upper_dir_into_a_layer_with_whiteouts_and_save_round_trips);
	tcase_add_test(store, an_image_of_more_than_128_layers_mounts);
	tcase_add_test(store, the_images_stop_signal_is_the_containers_unless_the_caller_sets_one);
	tcase_add_test(store, a_stop_signal_of_the_config_is_read_strictly);
	suite_add_tcase(s, store);
	return kt_run(s);
}
