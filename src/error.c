/*
 * error: the keel_error object.
 *
 * An error is a heap object the caller owns. When the allocation for an
 * error itself fails, the caller still gets a valid error: a static
 * "out of memory" object that keel_error_free() knows not to free.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct keel_error {
	int code;
	int errnum;
	char *message;
};

static struct keel_error oom_error = {
	.code = KEEL_ERROR_SYSTEM,
	.errnum = ENOMEM,
	.message = "out of memory",
};

KEEL_PUBLIC int keel_error_code(const keel_error *err)
{
	return err ? err->code : KEEL_ERROR_OK;
}

KEEL_PUBLIC int keel_error_errno(const keel_error *err)
{
	return err ? err->errnum : 0;
}

KEEL_PUBLIC const char *keel_error_message(const keel_error *err)
{
	return err ? err->message : "no error";
}

KEEL_PUBLIC void keel_error_free(keel_error *err)
{
	if (!err || err == &oom_error)
		return;
	free(err->message);
	free(err);
}

static void install(keel_error **err, int code, int errnum, char *message)
{
	keel_error *e;

	keel_error_free(*err);
	*err = &oom_error;
	if (!message)
		return;
	e = malloc(sizeof(*e));
	if (!e) {
		free(message);
		return;
	}
	e->code = code;
	e->errnum = errnum;
	e->message = message;
	*err = e;
}

int keel_error_setv(keel_error **err, int code, int errnum, const char *fmt, va_list ap)
{
	int ret = errnum > 0 ? -errnum : -EINVAL;
	char *text = NULL, *message = NULL;
	char buf[256];

	if (!err)
		return ret;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	if (text && errnum > 0) {
		/* GNU strerror_r: thread-safe, returns the string to use. */
		const char *why = strerror_r(errnum, buf, sizeof(buf));
		if (asprintf(&message, "%s: %s", text, why) < 0)
			message = NULL;
		free(text);
	} else {
		message = text;
	}
	install(err, code, errnum > 0 ? errnum : EINVAL, message);
	return ret;
}

int keel_error_set(keel_error **err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = keel_error_setv(err, code, errnum, fmt, ap);
	va_end(ap);
	return ret;
}

int keel_error_plain(keel_error **err, int code, int errnum, const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;

	if (errnum <= 0)
		errnum = EINVAL;
	if (!err)
		return -errnum;
	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	install(err, code, errnum, message);
	return -errnum;
}

/*
 * The one errno -> code table, for every subsystem: a caller (Go's
 * ErrorNotFound, Python's KeelNotFound) sees the same code for the same
 * errno whichever part of the library failed.
 */
static const struct {
	int errnum;
	int code;
} errno_codes[] = {
	{ ENOENT, KEEL_ERROR_NOT_FOUND },     { ESRCH, KEEL_ERROR_NOT_FOUND },
	{ ENODEV, KEEL_ERROR_NOT_FOUND },     { EEXIST, KEEL_ERROR_EXISTS },
	{ EINVAL, KEEL_ERROR_INVALID },       { ERANGE, KEEL_ERROR_INVALID },
	{ ENOSYS, KEEL_ERROR_UNSUPPORTED },   { EOPNOTSUPP, KEEL_ERROR_UNSUPPORTED },
	{ EAFNOSUPPORT, KEEL_ERROR_UNSUPPORTED },
};

int keel_error_code_for_errno(int errnum)
{
	size_t i;

	for (i = 0; i < sizeof(errno_codes) / sizeof(errno_codes[0]); i++)
		if (errno_codes[i].errnum == errnum)
			return errno_codes[i].code;
	return KEEL_ERROR_SYSTEM;
}

int keel_error_sys(keel_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = keel_error_setv(err, keel_error_code_for_errno(errnum), errnum, fmt, ap);
	va_end(ap);
	return ret;
}

int keel_error_invalid(keel_error **err, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = keel_error_setv(err, KEEL_ERROR_INVALID, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int keel_error_wrap(keel_error **err, int ret, const char *fmt, ...)
{
	char *context = NULL, *message = NULL;
	va_list ap;

	if (!err || !*err || *err == &oom_error)
		return ret;
	va_start(ap, fmt);
	if (vasprintf(&context, fmt, ap) < 0)
		context = NULL;
	va_end(ap);
	if (context && asprintf(&message, "%s: %s", context, (*err)->message) >= 0) {
		free((*err)->message);
		(*err)->message = message;
	}
	free(context);
	return ret;
}
