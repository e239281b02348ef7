/*
 * Async-signal-safe helpers for code that runs between clone and execve.
 * Nothing here allocates, locks or touches errno-dependent libc state.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "util/child.h"

size_t keel_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = 0;

	if (!size)
		return 0;
	while (src[n] && n + 1 < size) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
	return n;
}

size_t keel_strlcat(char *dst, const char *src, size_t size)
{
	size_t used = 0;

	while (used < size && dst[used])
		used++;
	if (used >= size)
		return used;
	return used + keel_strlcpy(dst + used, src, size - used);
}

char *keel_utoa(unsigned long long v, char *buf)
{
	char tmp[24];
	int i = 0, j = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		buf[j++] = tmp[--i];
	buf[j] = '\0';
	return buf;
}

void keel_report_append(struct keel_child_report *rep, const char *text)
{
	keel_strlcat(rep->msg, text, sizeof(rep->msg));
}

int keel_report_fail(struct keel_child_report *rep, int code, int errnum,
		     const char *step, const char *object)
{
	rep->code = code;
	rep->errnum = errnum;
	rep->msg[0] = '\0';
	keel_report_append(rep, step ? step : "setup");
	if (object) {
		keel_report_append(rep, " ");
		keel_report_append(rep, object);
	}
	return errnum > 0 ? -errnum : -EINVAL;
}
