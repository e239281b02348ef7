/**
 * @file keel/error.h
 * @brief The error model: every fallible call returns 0 or a negative errno,
 * and fills an optional keel_error with what, on what, and why.
 *
 * @code
 * keel_error *err = NULL;
 * if (keel_cgroup_set_memory_max(cg, 64 << 20, &err) < 0) {
 *     fprintf(stderr, "%s\n", keel_error_message(err));
 *     keel_error_free(err);
 * }
 * @endcode
 *
 * Errors are plain heap objects handed to the caller: nothing is kept in
 * thread-local storage, so a Go goroutine that moves between threads, or a
 * Python thread, always sees the error of its own call.
 */
#ifndef KEEL_ERROR_H
#define KEEL_ERROR_H

#include <keel/common.h>

KEEL_BEGIN_DECLS

/**
 * What kind of failure an error is, as returned by keel_error_code().
 * Values are fixed forever.
 * @since 1.0
 */
enum keel_error_code {
	KEEL_ERROR_OK = 0,          /**< no error */
	KEEL_ERROR_SYSTEM = 1,      /**< a system call failed; keel_error_errno() says why */
	KEEL_ERROR_INVALID = 2,     /**< the caller's input was wrong (EINVAL and friends) */
	KEEL_ERROR_UNSUPPORTED = 3, /**< this kernel or build lacks the feature */
	KEEL_ERROR_STATE = 4,       /**< not allowed in the object's current state */
	KEEL_ERROR_CHILD = 5,       /**< setup inside the new process failed before exec */
	KEEL_ERROR_EXEC = 6,        /**< execve of the requested program failed */
	KEEL_ERROR_NOT_FOUND = 7,   /**< the named object does not exist (ENOENT, ESRCH, ENODEV) */
	KEEL_ERROR_EXISTS = 8       /**< the named object exists already (EEXIST) */
};

/**
 * The kind of failure.
 * @param err an error, or NULL (which gives KEEL_ERROR_OK)
 * @return an enum keel_error_code value
 * @since 1.0
 */
KEEL_PUBLIC int keel_error_code(const keel_error *err);

/**
 * The errno behind the failure, as a positive number (ENOENT, EPERM ...).
 * Equals minus the value the failing call returned.
 * @param err an error, or NULL (which gives 0)
 * @return a positive errno, or 0 for NULL
 * @since 1.0
 */
KEEL_PUBLIC int keel_error_errno(const keel_error *err);

/**
 * The message: what failed, on which object, and why, in the words of the
 * request, for example
 * `mount overlay on /run/keel/web/rootfs: No such device`.
 * @param err an error, or NULL (which gives "no error")
 * @return a NUL-terminated string owned by @p err; valid until keel_error_free()
 * @since 1.0
 */
KEEL_PUBLIC const char *keel_error_message(const keel_error *err);

/**
 * Free an error.
 * @param err an error from a libkeel call, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_error_free(keel_error *err);

KEEL_END_DECLS

#endif
