/*
 * libarchive and libcrypto at first use, and SHA-256: see image-lib.h.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "image-lib.h"
#include "util/dl.h"

#define ARCHIVE_SONAME "libarchive.so.13"
#define CRYPTO_SONAME "libcrypto.so.3"

static struct keel_archive_api archive_api;
static struct keel_crypto_api crypto_api;

#define LIB_SYM_A(f) { #f, offsetof(struct keel_archive_api, f) },
static const struct keel_dl_sym archive_syms[] = { KEEL_ARCHIVE_FUNCTIONS(LIB_SYM_A) };
#define LIB_SYM_C(f) { #f, offsetof(struct keel_crypto_api, f) },
static const struct keel_dl_sym crypto_syms[] = { KEEL_CRYPTO_FUNCTIONS(LIB_SYM_C) };

KEEL_DL_ONCE(archive_lib, archive_api, { ARCHIVE_SONAME, archive_syms, KEEL_DL_N_OF(archive_syms) })
KEEL_DL_ONCE(crypto_lib, crypto_api, { CRYPTO_SONAME, crypto_syms, KEEL_DL_N_OF(crypto_syms) })

const struct keel_archive_api *keel_archive(keel_error **err, const char *what)
{
	int r = archive_lib_ready();

	if (r < 0) {
		keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -r, "%s: %s", what, archive_lib.why);
		return NULL;
	}
	return &archive_api;
}

const struct keel_crypto_api *keel_crypto(keel_error **err, const char *what)
{
	int r = crypto_lib_ready();

	if (r < 0) {
		keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -r, "%s: %s", what, crypto_lib.why);
		return NULL;
	}
	return &crypto_api;
}

int keel_sha256_init(struct keel_sha256 *h, keel_error **err)
{
	h->ctx = NULL;
	if (!(h->C = keel_crypto(err, "sha256")))
		return -ELIBACC;
	h->ctx = h->C->EVP_MD_CTX_new();
	if (!h->ctx || h->C->EVP_DigestInit_ex(h->ctx, h->C->EVP_sha256(), NULL) != 1) {
		keel_sha256_free(h);
		return keel_error_sys(err, ENOMEM, "sha256: start a digest");
	}
	return 0;
}

void keel_sha256_update(struct keel_sha256 *h, const void *data, size_t len)
{
	if (len)
		h->C->EVP_DigestUpdate(h->ctx, data, len);
}

void keel_sha256_final(struct keel_sha256 *h, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0, i;

	h->C->EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[KEEL_DIGEST_LEN] = 0;
	keel_sha256_free(h);
}

void keel_sha256_free(struct keel_sha256 *h)
{
	if (h->ctx)
		h->C->EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int keel_sha256_buf(const void *data, size_t len, char *out, keel_error **err)
{
	struct keel_sha256 h;
	int ret;

	if ((ret = keel_sha256_init(&h, err)) < 0)
		return ret;
	keel_sha256_update(&h, data, len);
	keel_sha256_final(&h, out);
	return 0;
}

int keel_digest_valid(const char *s)
{
	size_t i;

	if (!s || strncmp(s, "sha256:", 7) || strlen(s) != KEEL_DIGEST_LEN)
		return 0;
	for (i = 7; i < KEEL_DIGEST_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int keel_digest_check(const char *s, const char *what, keel_error **err)
{
	if (keel_digest_valid(s))
		return 0;
	return keel_error_invalid(err, "%s: invalid digest '%.80s' (want sha256: and 64 lowercase hex digits)",
				  what, s ? s : "(none)");
}
