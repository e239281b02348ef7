/*
 * Private: joining strings and reading decimals without stdio.
 *
 * Why not asprintf/snprintf/strtoull: a program that never formats
 * anything itself (keel-run on its success path) would otherwise touch
 * libc's whole printf machinery and its tables only for libkeel's path
 * joins, and every 64 KiB of libc it touches counts in its RSS. These
 * cover the plain cases (strings end to end, unsigned decimals); anything
 * with padding, precision or floats still uses stdio, on paths that need it.
 */
#ifndef KEEL_UTIL_STR_H
#define KEEL_UTIL_STR_H

#include <stddef.h>

/* The strings up to the NULL, end to end, in a new malloc'd string the
 * caller frees; NULL when out of memory. */
char *keel_str_join(const char *first, ...) __attribute__((sentinel));

/* The same into buf of size bytes: 0, or -ENAMETOOLONG when it does not
 * fit (buf then holds as much as fits, terminated). */
int keel_str_join_buf(char *buf, size_t size, const char *first, ...) __attribute__((sentinel));

/* An unsigned decimal of digits only (no sign, space or base prefix) at
 * s: 0 with *out and, if end, *end after the last digit; -EINVAL if s
 * does not start with a digit, -ERANGE on overflow. */
int keel_str_to_ull(const char *s, const char **end, unsigned long long *out);

#endif
