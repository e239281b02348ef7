/*
 * One layer blob into the store: read once, hashed twice, unpacked once.
 *
 * A reader thread reads the blob as it is (the descriptor's digest is
 * over these bytes), copies it into the store's blob file and, when it is
 * compressed, undoes gzip or zstd through an outer libarchive reader
 * (libarchive's "raw" format: the filter only), hashing every byte of the
 * tar for the diff ID; an uncompressed blob is the tar, and its one
 * digest is both. The thread hands the tar over in a few buffers to the
 * inner libarchive reader, which the unpacker drives: so reading, copying,
 * decompressing and hashing run beside the file creation instead of
 * before it. When the tar ends, both streams are drained to their ends
 * before the digests are compared: gzip writers and GNU tar pad after the
 * end-of-archive marker, and those bytes are part of what was hashed when
 * the image was made.
 *
 * The layer is unpacked into a fresh directory under <root>/tmp, synced
 * with one syncfs(2), and renamed to layers/<chain ID> only when both
 * digests match; anything else removes it again. A second process that
 * unpacked the same layer at the same time loses the rename and drops
 * its copy: the layer's content is the same by construction.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "util/str.h"

#define BUF_SIZE (256 * 1024)
#define N_SLOTS 4            /* buffers between the reader thread and the unpacker */

struct stream {
	const struct keel_archive_api *A;
	int fd;                  /* the blob, as given */
	int copy_fd;             /* the store's blob file, or -1 */
	struct keel_sha256 blob_hash, diff_hash;
	uint64_t blob_size;
	int io_error;            /* errno of a failed read or copy */
	int plain;               /* not compressed: the tar is the blob, its digest the diff ID */
	struct archive *outer;   /* decompresses (not when plain) */
	char *in_buf;
	char errbuf[256];        /* the outer reader's error, copied by the thread that saw it */
	/* The pipeline: the reader fills slots [tail, head), the unpacker
	 * consumes slot tail; len < 1 is the end (0) or an error (-1). */
	char *slot[N_SLOTS];
	la_ssize_t len[N_SLOTS];
	unsigned head, tail;
	int held, cancel, threaded;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
};

int keel_chain_id(const char *parent, const char *diff_id, char *out, keel_error **err)
{
	char buf[2 * KEEL_DIGEST_LEN + 2];

	if (!parent) {
		memcpy(out, diff_id, KEEL_DIGEST_LEN + 1);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s %s", parent, diff_id);
	return keel_sha256_buf(buf, strlen(buf), out, err);
}

static int copy_out(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The next bytes of the blob into buf, hashed and copied on the way. */
static ssize_t read_chunk(struct stream *st, char *buf)
{
	ssize_t n;

	do
		n = read(st->fd, buf, BUF_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (n > 0 && st->copy_fd >= 0 && copy_out(st->copy_fd, buf, (size_t)n) < 0)) {
		st->io_error = errno;
		return -1;
	}
	keel_sha256_update(&st->blob_hash, buf, (size_t)n);
	st->blob_size += (uint64_t)n;
	return n;
}

/* The outer reader's source (and an outer archive's). */
static la_ssize_t read_blob(struct archive *a, void *data, const void **buf)
{
	struct stream *st = data;

	(void)a;
	*buf = st->in_buf;
	return read_chunk(st, st->in_buf);
}

/* The next piece of the tar into buf, everything hashed: a plain blob is
 * read as it is; a compressed one through the outer reader, and when that
 * ends the rest of the blob is drained (gzip writers and GNU tar pad), so
 * that both digests cover every byte. */
static la_ssize_t produce(struct stream *st, char *buf)
{
	la_ssize_t n;

	if (st->plain)
		return read_chunk(st, buf);
	n = st->A->archive_read_data(st->outer, buf, BUF_SIZE);
	if (n > 0) {
		keel_sha256_update(&st->diff_hash, buf, (size_t)n);
		return n;
	}
	if (n == 0) {
		const void *b;

		while ((n = read_blob(NULL, st, &b)) > 0)
			;
	}
	if (n < 0 && !st->io_error)
		snprintf(st->errbuf, sizeof(st->errbuf), "%s",
			 st->A->archive_error_string(st->outer) ? st->A->archive_error_string(st->outer)
			 : "unexpected end");
	return n;
}

/* The reader thread: reading, copying, decompressing and both hashes run
 * beside the unpacker, which spends its time in the kernel creating
 * files. It touches nothing but the stream, and is always joined before
 * the layer call returns. */
static void *reader(void *data)
{
	struct stream *st = data;
	la_ssize_t n;
	unsigned i;

	do {
		pthread_mutex_lock(&st->mu);
		while (st->head - st->tail == N_SLOTS && !st->cancel)
			pthread_cond_wait(&st->cv, &st->mu);
		i = st->head % N_SLOTS;
		if (st->cancel) {
			pthread_mutex_unlock(&st->mu);
			break;
		}
		pthread_mutex_unlock(&st->mu);
		n = produce(st, st->slot[i]);
		pthread_mutex_lock(&st->mu);
		st->len[i] = n;
		st->head++;
		pthread_cond_broadcast(&st->cv);
		pthread_mutex_unlock(&st->mu);
	} while (n > 0);
	return NULL;
}

/* The inner reader's source: the next slot the reader filled (no copy);
 * without a thread, produced right here. */
static la_ssize_t read_tar(struct archive *a, void *data, const void **buf)
{
	struct stream *st = data;
	la_ssize_t n;
	unsigned i;

	(void)a;
	if (!st->threaded) {
		*buf = st->slot[0];
		return produce(st, st->slot[0]);
	}
	pthread_mutex_lock(&st->mu);
	if (st->held) {
		st->tail++;
		st->held = 0;
		pthread_cond_broadcast(&st->cv);
	}
	while (st->head == st->tail)
		pthread_cond_wait(&st->cv, &st->mu);
	i = st->tail % N_SLOTS;
	n = st->len[i];
	st->held = n > 0;   /* the end stays in its slot for every later call */
	pthread_mutex_unlock(&st->mu);
	*buf = st->slot[i];
	return n;
}

/* Start the reader thread, with every signal blocked (the caller's
 * handlers are for its own threads). Without one, read_tar produces
 * inline: slower, the same result. */
static void reader_start(struct stream *st)
{
	sigset_t all, old;

	if (pthread_mutex_init(&st->mu, NULL))
		return;
	if (pthread_cond_init(&st->cv, NULL)) {
		pthread_mutex_destroy(&st->mu);
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	st->threaded = pthread_create(&st->thread, NULL, reader, st) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!st->threaded) {
		pthread_cond_destroy(&st->cv);
		pthread_mutex_destroy(&st->mu);
	}
}

static void reader_stop(struct stream *st)
{
	if (!st->threaded)
		return;
	pthread_mutex_lock(&st->mu);
	st->cancel = 1;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thread, NULL);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	st->threaded = 0;
}

/* Read what is left of the streams, so both digests cover everything. */
static int drain(struct stream *st)
{
	const void *b;
	la_ssize_t n;

	while ((n = read_tar(NULL, st, &b)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/* Whether the blob is compressed, as libarchive's filter bidders see its
 * first bytes; the fd stays where it is. */
static int sniff_plain(struct stream *st)
{
	const struct keel_archive_api *A = st->A;
	struct archive *p = A->archive_read_new();
	ssize_t n = pread(st->fd, st->in_buf, 4096, 0);
	int plain = 0;

	if (!p)
		return 0;
	A->archive_read_support_filter_all(p);
	A->archive_read_support_format_raw(p);
	if (n > 0 && A->archive_read_open_memory(p, st->in_buf, (size_t)n) == ARCHIVE_OK)
		plain = A->archive_filter_count(p) == 1 && A->archive_filter_code(p, 0) == ARCHIVE_FILTER_NONE;
	A->archive_read_free(p);
	return plain;
}

static int open_outer(struct stream *st, const char *what, keel_error **err)
{
	const struct keel_archive_api *A = st->A;
	struct archive_entry *e;

	if ((st->plain = sniff_plain(st)))
		return 0;
	if (!(st->outer = A->archive_read_new()))
		return keel_error_sys(err, ENOMEM, "%s", what);
	A->archive_read_support_filter_all(st->outer);
	A->archive_read_support_format_raw(st->outer);
	if (A->archive_read_open(st->outer, st, NULL, read_blob, NULL) != ARCHIVE_OK ||
	    A->archive_read_next_header(st->outer, &e) != ARCHIVE_OK)
		return keel_error_set(err, KEEL_ERROR_INVALID, st->io_error ? st->io_error : EINVAL,
				      "%s: cannot read the layer: %s", what,
				      st->io_error ? strerror(st->io_error) : A->archive_error_string(st->outer));
	return 0;
}

/* Unpack the stream into rootfd, then drain both streams. */
static int unpack_stream(struct stream *st, int rootfd, const char *what, uint64_t *size, keel_error **err)
{
	const struct keel_archive_api *A = st->A;
	struct archive *tar;
	int r;

	if ((r = open_outer(st, what, err)) < 0)
		return r;
	if (!(tar = A->archive_read_new()))
		return keel_error_sys(err, ENOMEM, "%s", what);
	A->archive_read_support_format_tar(tar);
	reader_start(st);
	if (A->archive_read_open(tar, st, NULL, read_tar, NULL) != ARCHIVE_OK)
		r = keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "%s: not a tar: %s", what,
				   A->archive_error_string(tar));
	else
		r = keel_unpack(A, tar, rootfd, KEEL_UNPACK_LAYER, what, size, err);
	if (r == 0 && drain(st) < 0)
		r = keel_error_set(err, KEEL_ERROR_INVALID, st->io_error ? st->io_error : EIO,
				   "%s: truncated or corrupt: %s", what,
				   st->io_error ? strerror(st->io_error) : st->errbuf);
	reader_stop(st);
	A->archive_read_free(tar);
	return r;
}

static int check_digests(struct stream *st, const char *expect_blob, const char *expect_diff,
			 struct keel_layer_result *res, const char *what, keel_error **err)
{
	keel_sha256_final(&st->blob_hash, res->blob);
	if (st->plain)
		memcpy(res->diff_id, res->blob, sizeof(res->diff_id));
	else
		keel_sha256_final(&st->diff_hash, res->diff_id);
	res->blob_size = st->blob_size;
	if (expect_blob && strcmp(expect_blob, res->blob))
		return keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "%s: digest mismatch: the descriptor says %s, "
				      "the blob is %s", what, expect_blob, res->blob);
	if (expect_diff && strcmp(expect_diff, res->diff_id))
		return keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "%s: diff ID mismatch: the config says %s, "
				      "the uncompressed layer is %s", what, expect_diff, res->diff_id);
	return 0;
}

/* The layer's directory and blob file renamed into place; a layer someone
 * else put there first wins (same content). */
static int commit_layer(keel_image_store *s, const char *tmpdir, const char *blob_tmp,
			const struct keel_layer_result *res, uint64_t size, keel_error **err)
{
	char rel[128], meta[256], *dst = keel_store_layer_path(s, res->chain), *bdst;
	int r = 0;

	if (!dst || !(bdst = keel_store_blob_path(s, res->blob))) {
		free(dst);
		return keel_error_sys(err, ENOMEM, "image store");
	}
	snprintf(rel, sizeof(rel), "layers/%s.json", res->chain + 7);
	snprintf(meta, sizeof(meta), "{\"diff_id\":\"%s\",\"size\":%llu}", res->diff_id, (unsigned long long)size);
	if (!keel_store_has_layer(s, res->chain) && (r = keel_store_write_file_atomic(s, rel, meta, strlen(meta), err)) == 0 &&
	    rename(tmpdir, dst) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		r = keel_error_sys(err, errno, "image store %s: rename the layer into place", s->root);
	if (r == 0 && blob_tmp && rename(blob_tmp, bdst) < 0)
		r = keel_error_sys(err, errno, "image store %s: rename the blob into place", s->root);
	free(dst);
	free(bdst);
	return r;
}

static int stream_init(struct stream *st, int fd, int copy_fd, const char *what, keel_error **err)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	st->fd = fd;
	st->copy_fd = copy_fd;
	if (!(st->A = keel_archive(err, what)))
		return -ELIBACC;
	if (!(st->in_buf = malloc(BUF_SIZE)))
		return keel_error_sys(err, ENOMEM, "%s", what);
	for (i = 0; i < N_SLOTS; i++)
		if (!(st->slot[i] = malloc(BUF_SIZE)))
			return keel_error_sys(err, ENOMEM, "%s", what);
	if (keel_sha256_init(&st->blob_hash, err) < 0 || keel_sha256_init(&st->diff_hash, err) < 0)
		return -ELIBACC;
	return 0;
}

static void stream_free(struct stream *st)
{
	unsigned i;

	for (i = 0; i < N_SLOTS; i++)
		free(st->slot[i]);
	if (st->outer)
		st->A->archive_read_free(st->outer);
	keel_sha256_free(&st->blob_hash);
	keel_sha256_free(&st->diff_hash);
	free(st->in_buf);
}

static int ingest(keel_image_store *s, int fd, const char *expect_blob, const char *expect_diff,
		  const char *parent_chain, const char *what, struct keel_layer_result *res,
		  char *tmpdir, keel_error **err)
{
	struct stream st;
	char *blob_tmp = NULL;
	uint64_t size = 0;
	int rootfd = -1, copy_fd = -1, r;

	if ((copy_fd = keel_store_tmpfile(s, &blob_tmp, err)) < 0)
		return copy_fd;
	if ((r = stream_init(&st, fd, copy_fd, what, err)) < 0)
		goto out;
	if ((rootfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = keel_error_sys(err, errno, "%s: open %s", what, tmpdir);
		goto out;
	}
	if ((r = unpack_stream(&st, rootfd, what, &size, err)) < 0 ||
	    (r = check_digests(&st, expect_blob, expect_diff, res, what, err)) < 0 ||
	    (r = keel_chain_id(parent_chain, res->diff_id, res->chain, err)) < 0)
		goto out;
	/* One syncfs for the whole layer (and the blob: same filesystem),
	 * never an fsync per file; an fd of the blob file will do. */
	if (fchmod(copy_fd, 0644) < 0 || syncfs(copy_fd) < 0) {
		r = keel_error_sys(err, errno, "%s: sync the layer", what);
		goto out;
	}
	r = commit_layer(s, tmpdir, blob_tmp, res, size, err);
out:
	stream_free(&st);
	if (rootfd >= 0)
		close(rootfd);
	close(copy_fd);
	if (blob_tmp)
		unlink(blob_tmp);
	free(blob_tmp);
	return r;
}

int keel_store_ingest_layer(keel_image_store *s, int fd, const char *expect_blob, const char *expect_diff,
			    const char *parent_chain, const char *what, struct keel_layer_result *res,
			    keel_error **err)
{
	char *tmpdir;
	int r;

	memset(res, 0, sizeof(*res));
	if (!(tmpdir = keel_store_tmpdir(s, "layer", err)))
		return -errno;
	/* The layer's root is a plain 0755 directory unless the tar says otherwise. */
	chmod(tmpdir, 0755);
	r = ingest(s, fd, expect_blob, expect_diff, parent_chain, what, res, tmpdir, err);
	/* Gone when it was renamed; on failure nothing half-made stays. */
	keel_remove_at(AT_FDCWD, tmpdir);
	free(tmpdir);
	return r;
}

/* ------------------------------------------------------ outer archives -- */

static int read_outer(const struct keel_archive_api *A, int fd, int rootfd, const char *path, keel_error **err)
{
	struct archive *a;
	struct stream st;
	int r;

	if ((r = stream_init(&st, fd, -1, path, err)) < 0)
		goto out;
	if (!(a = A->archive_read_new())) {
		r = keel_error_sys(err, ENOMEM, "import %s", path);
		goto out;
	}
	A->archive_read_support_filter_all(a);
	A->archive_read_support_format_tar(a);
	if (A->archive_read_open(a, &st, NULL, read_blob, NULL) != ARCHIVE_OK)
		r = keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "import %s: not a tar: %s", path,
				   A->archive_error_string(a));
	else
		r = keel_unpack(A, a, rootfd, 0, path, NULL, err);
	A->archive_read_free(a);
out:
	stream_free(&st);
	return r;
}

/* An oci-archive or docker-archive is unpacked as plain files (no owners,
 * devices or whiteouts), by the same safe code as a layer. */
int keel_store_extract_outer(keel_image_store *s, const char *path, char **dir, keel_error **err)
{
	const struct keel_archive_api *A = keel_archive(err, path);
	int fd, rootfd, r;

	*dir = NULL;
	if (!A)
		return -ELIBACC;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return keel_error_sys(err, errno, "import %s: open", path);
	if (!(*dir = keel_store_tmpdir(s, "import", err))) {
		close(fd);
		return -EIO;
	}
	if ((rootfd = open(*dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = keel_error_sys(err, errno, "import %s: open %s", path, *dir);
	else
		r = read_outer(A, fd, rootfd, path, err);
	if (rootfd >= 0)
		close(rootfd);
	close(fd);
	return r;
}
