/*
 * Private: json-c, loaded at first use, and the few helpers every JSON
 * reader in the library shares (config.json, image manifests, CDI specs).
 *
 * Why json-c: it is the JSON library made for C that Debian keeps current,
 * the one crun moved to from yajl (whose upstream is gone); it builds a
 * tree with reference counts, which suits documents of a few kilobytes that
 * are read once and walked by name, and it writes JSON as well as reading
 * it. Like libnl and libseccomp it is opened with dlopen the first time a
 * document is parsed or built (util/dl.h), so libkeel.so.1 keeps linking
 * only libc and a program that never reads JSON never maps json-c.
 *
 * Use: `const struct keel_json_api *J = keel_json(err, "config.json");`
 * then call through the table: `J->json_object_get_string(o)`. The table
 * has the functions' own types (checked against json-c's headers at build
 * time) and is immutable once loaded.
 */
#ifndef KEEL_UTIL_JSON_H
#define KEEL_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "keel/error.h"

/* Every json-c function the library calls. Add one here to use it. */
#define KEEL_JSON_FUNCTIONS(F) \
	F(json_tokener_new_ex) F(json_tokener_free) F(json_tokener_parse_ex) \
	F(json_tokener_get_error) F(json_tokener_error_desc) F(json_tokener_get_parse_end) \
	F(json_object_get) F(json_object_put) F(json_object_get_type) F(json_object_is_type) \
	F(json_object_object_get_ex) F(json_object_object_length) \
	F(json_object_get_string) F(json_object_get_string_len) \
	F(json_object_get_int64) F(json_object_get_uint64) F(json_object_get_int) \
	F(json_object_get_boolean) F(json_object_get_double) \
	F(json_object_array_length) F(json_object_array_get_idx) \
	F(json_object_iter_begin) F(json_object_iter_end) F(json_object_iter_next) \
	F(json_object_iter_equal) F(json_object_iter_peek_name) F(json_object_iter_peek_value) \
	F(json_object_new_object) F(json_object_new_array) F(json_object_new_string) \
	F(json_object_new_string_len) F(json_object_new_int64) F(json_object_new_uint64) \
	F(json_object_new_int) F(json_object_new_boolean) F(json_object_new_double) \
	F(json_object_new_null) F(json_object_object_add) F(json_object_object_del) \
	F(json_object_array_add) F(json_object_array_put_idx) \
	F(json_object_to_json_string_ext) F(json_object_to_json_string_length)

struct keel_json_api {
#define KEEL_JSON_SLOT(f) typeof(&f) f;
	KEEL_JSON_FUNCTIONS(KEEL_JSON_SLOT)
#undef KEEL_JSON_SLOT
};

/*
 * The json-c table, loading libjson-c.so.5 on the first call of the
 * process. NULL when it cannot be loaded, with the error
 * "<what>: JSON: cannot load libjson-c.so.5: ..." (KEEL_ERROR_UNSUPPORTED).
 */
const struct keel_json_api *keel_json(keel_error **err, const char *what);

/*
 * Parse one JSON document of len bytes (no NUL needed). On success *out is
 * a new reference the caller puts with J->json_object_put(). A syntax
 * error, trailing garbage or nesting deeper than 64 is KEEL_ERROR_INVALID:
 * "<what>: invalid JSON at byte N: <json-c's reason>".
 */
int keel_json_parse(const char *buf, size_t len, const char *what, struct json_object **out,
		    keel_error **err);

/*
 * Read the regular file at path (relative to dirfd, or AT_FDCWD) of at
 * most max bytes, and parse it as keel_json_parse() does. A larger file is
 * "<what>: larger than <max> bytes" (-EFBIG); what names the file in
 * messages (NULL: path itself).
 */
int keel_json_read_file(int dirfd, const char *path, size_t max, const char *what,
			struct json_object **out, keel_error **err);

/*
 * The document as compact JSON (no spaces, '/' not escaped), in a new
 * malloc'd string the caller frees; NULL with an error on failure.
 */
char *keel_json_dump(const struct json_object *obj, const char *what, keel_error **err);

#endif
