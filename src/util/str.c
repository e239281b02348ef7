/*
 * Joining strings and reading decimals without stdio: see str.h for why.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
