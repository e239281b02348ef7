/*
 * Private: libarchive and libcrypto, loaded at first use (util/dl.h), the
 * way util/json.c loads json-c, so that libkeel.so.1 keeps linking only
 * libc and a program that never touches an image maps neither.
 *
 * libarchive reads tar headers and data and the gzip/zstd/xz filters (the
 * image code creates every file itself, see image-unpack.c) and writes the
 * tars of commit and save. libcrypto gives SHA-256 (EVP: the CPU's SHA
 * instructions where it has them).
 *
 * Use: `const struct keel_archive_api *A = keel_archive(err, "import x");`
 * then `A->archive_read_new()`. The tables have the functions' own types,
 * checked against the libraries' headers at build time.
 */
#ifndef KEEL_IMAGE_LIB_H
#define KEEL_IMAGE_LIB_H

#include <stddef.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "keel/error.h"

#define KEEL_ARCHIVE_FUNCTIONS(F) \
	F(archive_read_new) F(archive_read_free) F(archive_read_support_filter_all) \
	F(archive_read_support_format_tar) F(archive_read_support_format_raw) \
	F(archive_read_open) F(archive_read_open_filename) F(archive_read_open_memory) F(archive_read_next_header) F(archive_read_data) \
	F(archive_read_data_block) F(archive_read_data_skip) F(archive_error_string) \
	F(archive_errno) F(archive_read_set_options) F(archive_filter_code) F(archive_filter_count) \
	F(archive_entry_pathname) F(archive_entry_hardlink) F(archive_entry_symlink) \
	F(archive_entry_filetype) F(archive_entry_mode) F(archive_entry_uid) F(archive_entry_gid) \
	F(archive_entry_mtime) F(archive_entry_mtime_nsec) F(archive_entry_atime) \
	F(archive_entry_atime_nsec) F(archive_entry_atime_is_set) F(archive_entry_rdevmajor) \
	F(archive_entry_rdevminor) F(archive_entry_size) F(archive_entry_xattr_reset) \
	F(archive_entry_xattr_next) \
	F(archive_write_new) F(archive_write_free) F(archive_write_set_format_pax_restricted) \
	F(archive_write_add_filter_gzip) F(archive_write_add_filter_none) F(archive_write_open) \
	F(archive_write_header) F(archive_write_data) F(archive_write_close) \
	F(archive_write_set_bytes_in_last_block) F(archive_write_set_options) \
	F(archive_entry_new) F(archive_entry_free) F(archive_entry_clear) \
	F(archive_entry_set_pathname) F(archive_entry_set_hardlink) F(archive_entry_set_symlink) \
	F(archive_entry_set_filetype) F(archive_entry_set_perm) F(archive_entry_set_uid) \
	F(archive_entry_set_gid) F(archive_entry_set_mtime) F(archive_entry_set_size) \
	F(archive_entry_set_rdevmajor) F(archive_entry_set_rdevminor) F(archive_entry_xattr_add_entry)

struct keel_archive_api {
#define KEEL_LIB_SLOT(f) typeof(&f) f;
	KEEL_ARCHIVE_FUNCTIONS(KEEL_LIB_SLOT)
};

#define KEEL_CRYPTO_FUNCTIONS(F) \
	F(EVP_MD_CTX_new) F(EVP_MD_CTX_free) F(EVP_sha256) F(EVP_DigestInit_ex) \
	F(EVP_DigestUpdate) F(EVP_DigestFinal_ex)

struct keel_crypto_api {
	KEEL_CRYPTO_FUNCTIONS(KEEL_LIB_SLOT)
#undef KEEL_LIB_SLOT
};

/* The tables, loading the library on the process's first call; NULL with
 * "<what>: cannot load libarchive.so.13: ..." (KEEL_ERROR_UNSUPPORTED). */
const struct keel_archive_api *keel_archive(keel_error **err, const char *what);
const struct keel_crypto_api *keel_crypto(keel_error **err, const char *what);

/* ------------------------------------------------------------ SHA-256 -- */

#define KEEL_DIGEST_LEN 71  /* "sha256:" + 64 hex */

struct keel_sha256 {
	EVP_MD_CTX *ctx;
	const struct keel_crypto_api *C;
};

int keel_sha256_init(struct keel_sha256 *h, keel_error **err);
void keel_sha256_update(struct keel_sha256 *h, const void *data, size_t len);
/* "sha256:<hex>" into out (KEEL_DIGEST_LEN + 1 bytes); frees the context. */
void keel_sha256_final(struct keel_sha256 *h, char *out);
void keel_sha256_free(struct keel_sha256 *h);
/* The digest of one buffer. */
int keel_sha256_buf(const void *data, size_t len, char *out, keel_error **err);

/* Whether s is "sha256:" and 64 lowercase hex digits: the only form that
 * may become a file name (containers/image CVE-2024-3727). */
int keel_digest_valid(const char *s);
/* The same, with "<what>: invalid digest '...'" as the error. */
int keel_digest_check(const char *s, const char *what, keel_error **err);

#endif
