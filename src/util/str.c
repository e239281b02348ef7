/*
 * Joining strings and reading decimals without stdio: see str.h for why.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/child.h"
#include "util/str.h"

char *keel_str_join(const char *first, ...)
{
	const char *s;
	size_t len = 0;
	va_list ap;
	char *out, *w;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	if (!(out = malloc(len + 1)))
		return NULL;
	w = out;
	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		memcpy(w, s, n);
		w += n;
	}
	va_end(ap);
	*w = '\0';
	return out;
}

int keel_str_join_buf(char *buf, size_t size, const char *first, ...)
{
	const char *s;
	size_t used = 0;
	va_list ap;
	int ret = 0;

	if (size == 0)
		return -ENAMETOOLONG;
	va_start(ap, first);
	for (s = first; s && ret == 0; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		if (n >= size - used) {
			n = size - used - 1;
			ret = -ENAMETOOLONG;
		}
		memcpy(buf + used, s, n);
		used += n;
	}
	va_end(ap);
	buf[used] = '\0';
	return ret;
}

int keel_str_to_ull(const char *s, const char **end, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	if (end)
		*end = s;
	return 0;
}

int keel_str_to_ll(const char *s, const char **end, long long *out)
{
	unsigned long long mag, lim = LLONG_MAX;
	int neg = 0, ret;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if ((ret = keel_str_to_ull(s, &s, &mag)) < 0)
		return ret;
	if (neg)
		lim++;		/* -LLONG_MIN: one more than LLONG_MAX */
	if (mag > lim)
		return -ERANGE;
	/* the magnitude negated in unsigned arithmetic: right for LLONG_MIN too */
	*out = neg ? (long long)(0 - mag) : (long long)mag;
	if (end)
		*end = s;
	return 0;
}

char *keel_str_from_ll(long long v, char *buf)
{
	if (v >= 0)
		return keel_utoa((unsigned long long)v, buf);
	/* the magnitude negated in unsigned arithmetic: right for LLONG_MIN too */
	buf[0] = '-';
	keel_utoa(0 - (unsigned long long)v, buf + 1);
	return buf;
}

static bool is_delim(char c, const char *delims)
{
	for (; *delims; delims++)
		if (*delims == c)
			return true;
	return false;
}

char *keel_str_tok(char **cursor, const char *delims)
{
	char *s = *cursor, *tok;

	while (*s && is_delim(*s, delims))
		s++;
	if (!*s) {
		*cursor = s;
		return NULL;
	}
	tok = s;
	while (*s && !is_delim(*s, delims))
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return tok;
}

static void strbuf_grow(struct keel_strbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 512;
	char *grown;

	while (cap <= need)
		cap *= 2;
	if (cap == b->cap)
		return;
	if (!(grown = realloc(b->buf, cap))) {
		b->failed = true;
		return;
	}
	b->buf = grown;
	b->cap = cap;
}

void keel_strbuf_add(struct keel_strbuf *b, const char *first, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s && !b->failed; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		strbuf_grow(b, b->len + n);
		if (b->failed)
			break;
		memcpy(b->buf + b->len, s, n);
		b->len += n;
		b->buf[b->len] = '\0';
	}
	va_end(ap);
}

/* ------------------------------------------- NULL-terminated arrays --- */

void keel_strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int keel_strv_append(char ***v, size_t *n, char *s)
{
	char **grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = s;
	*v = grown;
	return 0;
}

int keel_strv_append_dup(char ***v, size_t *n, const char *s)
{
	char *copy = s ? strdup(s) : NULL;

	if ((s && !copy) || keel_strv_append(v, n, copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

int keel_cstrv_push(char ***v, const char *s)
{
	size_t n = 0;
	char **grown, *copy;

	while (*v && (*v)[n])
		n++;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	grown = realloc(*v, (n + 2) * sizeof(char *));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*v = grown;
	return 0;
}
