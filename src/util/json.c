/*
 * json-c at first use, and the parse/read/dump helpers: see util/json.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util/dl.h"
#include "util/json.h"

#define JSONC_SONAME "libjson-c.so.5"  /* json-c 0.13 and later */
#define JSON_MAX_DEPTH 64                /* config.json nests 6 deep; be generous, not unbounded */

static struct keel_json_api api;

#define JSON_SYM(f) { #f, offsetof(struct keel_json_api, f) },
static const struct keel_dl_sym json_syms[] = { KEEL_JSON_FUNCTIONS(JSON_SYM) };
#undef JSON_SYM

KEEL_DL_ONCE(json_lib, api, { JSONC_SONAME, json_syms, KEEL_DL_N_OF(json_syms) })

const struct keel_json_api *keel_json(keel_error **err, const char *what)
{
	int status = json_lib_ready();

	if (status < 0) {
		keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -status, "%s: JSON: %s", what, json_lib.why);
		return NULL;
	}
	return &api;
}

int keel_json_parse(const char *buf, size_t len, const char *what, struct json_object **out,
		    keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, what);
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	*out = NULL;
	if (!J)
		return -ELIBACC;
	if (len > INT32_MAX)
		return keel_error_plain(err, KEEL_ERROR_INVALID, EFBIG, "%s: document too large", what);
	tok = J->json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return keel_error_sys(err, ENOMEM, "%s: parse JSON", what);
	obj = J->json_tokener_parse_ex(tok, buf, (int)len);
	jerr = J->json_tokener_get_error(tok);
	end = J->json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	J->json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		J->json_object_put(obj);
		return keel_error_plain(err, KEEL_ERROR_INVALID, EINVAL, "%s: invalid JSON at byte %zu: %s",
					what, end, J->json_tokener_error_desc(jerr));
	}
	while (end < len && strchr(" \t\r\n", buf[end]))
		end++;
	if (end < len) {
		J->json_object_put(obj);
		return keel_error_plain(err, KEEL_ERROR_INVALID, EINVAL,
					"%s: invalid JSON at byte %zu: data after the document", what, end);
	}
	*out = obj;
	return 0;
}

/* The whole of a regular file of at most max bytes, in a malloc'd buffer. */
static int slurp(int fd, size_t max, const char *what, char **buf, size_t *len, keel_error **err)
{
	struct stat st;
	size_t used = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return keel_error_sys(err, errno, "%s: stat", what);
	if (!S_ISREG(st.st_mode))
		return keel_error_plain(err, KEEL_ERROR_INVALID, EINVAL, "%s: not a regular file", what);
	if ((uintmax_t)st.st_size > max)
		return keel_error_plain(err, KEEL_ERROR_INVALID, EFBIG, "%s: larger than %zu bytes", what, max);
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf)
		return keel_error_sys(err, ENOMEM, "%s: read", what);
	/* Read one byte past the size we saw, to notice a file still growing. */
	while (used <= (size_t)st.st_size && (n = read(fd, *buf + used, (size_t)st.st_size + 1 - used)) > 0)
		used += (size_t)n;
	if (n < 0 || used > (size_t)st.st_size) {
		int e = n < 0 ? errno : EAGAIN;

		free(*buf);
		*buf = NULL;
		return keel_error_sys(err, e, "%s: read", what);
	}
	*len = used;
	return 0;
}

int keel_json_read_file(int dirfd, const char *path, size_t max, const char *what,
			struct json_object **out, keel_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	if (!what)
		what = path;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return keel_error_sys(err, errno, "open %s", what);
	r = slurp(fd, max, what, &buf, &len, err);
	close(fd);
	if (r == 0)
		r = keel_json_parse(buf, len, what, out, err);
	free(buf);
	return r;
}

char *keel_json_dump(const struct json_object *obj, const char *what, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, what);
	const char *s;
	char *copy;

	if (!J)
		return NULL;
	s = J->json_object_to_json_string_ext((struct json_object *)obj,
					      JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	copy = s ? strdup(s) : NULL;
	if (!copy)
		keel_error_sys(err, ENOMEM, "%s: write JSON", what);
	return copy;
}
