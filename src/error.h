/*
 * Private: how library code makes and wraps errors.
 *
 * Every fallible internal function follows the public rule: return 0 or a
 * negative errno, and, when err is not NULL, leave a keel_error in *err.
 * As an error travels up, each layer may prefix its own context with
 * keel_error_wrap(), so the caller reads the whole story on one line:
 *   "container web: container init: mount overlay on /run/keel/web/layer/merged: No such device"
 */
#ifndef KEEL_PRIV_ERROR_H
#define KEEL_PRIV_ERROR_H

#include <stdarg.h>
#include <keel/error.h>

#define KEEL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * Fill *err (if err is not NULL) with code, errnum and a message made from
 * fmt; when errnum is not 0, ": <strerror(errnum)>" is appended.
 * Returns -errnum, or -EINVAL when errnum is 0, so callers can write
 *   return keel_error_set(err, KEEL_ERROR_INVALID, EINVAL, "bad name '%s'", n);
 * An existing *err is freed first: the newest failure wins.
 */
int keel_error_set(keel_error **err, int code, int errnum, const char *fmt, ...) KEEL_PRINTF(4, 5);
int keel_error_setv(keel_error **err, int code, int errnum, const char *fmt, va_list ap);

/* Like keel_error_set(), but the message is used as it is, without
 * ": <strerror>": for failures whose message already says why (a cgroup
 * controller that is "not available (not listed in ...)"). errnum must be
 * positive; returns -errnum. */
int keel_error_plain(keel_error **err, int code, int errnum, const char *fmt, ...) KEEL_PRINTF(4, 5);

/* The code for a failure with errnum, the same in every subsystem:
 * NOT_FOUND for ENOENT, ESRCH and ENODEV; EXISTS for EEXIST; INVALID for
 * EINVAL and ERANGE; UNSUPPORTED for ENOSYS, EOPNOTSUPP (== ENOTSUP) and
 * EAFNOSUPPORT; SYSTEM for every other errno. */
int keel_error_code_for_errno(int errnum);

/* A system call failed with errnum: the code keel_error_code_for_errno()
 * gives, so callers can branch on the kind. */
int keel_error_sys(keel_error **err, int errnum, const char *fmt, ...) KEEL_PRINTF(3, 4);

/* The caller passed something wrong: KEEL_ERROR_INVALID, EINVAL, no strerror. */
int keel_error_invalid(keel_error **err, const char *fmt, ...) KEEL_PRINTF(2, 3);

/* Prefix "<context>: " to the message in *err and return ret unchanged.
 * If err or *err is NULL, only returns ret. */
int keel_error_wrap(keel_error **err, int ret, const char *fmt, ...) KEEL_PRINTF(3, 4);

#endif
