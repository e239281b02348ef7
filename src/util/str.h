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

#include <stdbool.h>
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

/* A signed decimal read as strtoll(s, &end, 10) reads it in the C
 * locale: white space (" \t\n\v\f\r"), an optional '+' or '-', then
 * digits. 0 with *out and, if end, *end after the last digit; -EINVAL
 * when there are no digits, -ERANGE when it does not fit a long long. */
int keel_str_to_ll(const char *s, const char **end, long long *out);

/* The real-time signals as glibc numbers them (and so Docker, whose map
 * is fixed at these), and the highest signal the kernel has (_NSIG - 1). */
#define KEEL_SIG_RTMIN 34
#define KEEL_SIG_MAX 64

/* A signal as Docker reads a StopSignal or `docker kill -s`: a decimal
 * from 1 to KEEL_SIG_MAX, or a name in any case, with or without "SIG"
 * ("KILL", "SIGUSR1", "sigterm", "SIGRTMIN+3", "RTMAX-1"). Its number,
 * or -1. No libc call: nothing new is imported into libkeel. */
int keel_str_to_signal(const char *s);

/* Room for any decimal keel_str_from_ll() or keel_utoa() writes. */
#define KEEL_STR_DEC_SIZE 24

/* The decimal form of v, as printf's "%lld" writes it, into buf (at
 * least KEEL_STR_DEC_SIZE bytes). Returns buf. */
char *keel_str_from_ll(long long v, char *buf);

/* The next token of the text at *cursor, as strtok_r() gives it: the
 * delimiters before it are skipped, the one after it is overwritten
 * with a NUL and *cursor moves past it. NULL when no token is left. */
char *keel_str_tok(char **cursor, const char *delims);

/* A string that grows, and remembers running out of memory: start it
 * zeroed, append, check failed once at the end, free buf. buf is
 * NUL-terminated once anything was added; len excludes the NUL. */
struct keel_strbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};

/* Append the strings up to the NULL. */
void keel_strbuf_add(struct keel_strbuf *b, const char *first, ...) __attribute__((sentinel));

/* NULL-terminated arrays of malloc'd strings. */

/* Free each string of v, then v; v may be NULL. */
void keel_strv_free(char **v);

/* Append s (taken over, may be NULL: the terminator) to the array *v of
 * *n entries, growing it; -ENOMEM leaves *v, *n and s to the caller. The
 * array must have been made by these calls alone (or be NULL with *n 0):
 * its room is kept as the next power of two at or above *n. */
int keel_strv_append(char ***v, size_t *n, char *s);

/* The same with a copy of s (NULL appends the terminator); frees nothing
 * of v on failure. */
int keel_strv_append_dup(char ***v, size_t *n, const char *s);

/* Append a copy of s to the NULL-terminated *v (NULL: empty), keeping it
 * terminated; -ENOMEM leaves *v as it was. */
int keel_cstrv_push(char ***v, const char *s);

#endif
