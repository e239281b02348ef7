/*
 * Private: the child side of a spawn.
 *
 * Between clone and execve the child may run only system calls on memory
 * prepared before the clone: no malloc, no stdio, no locks, no libnl or
 * libseccomp (docs/architecture.md, "The child side is its own library";
 * the code is in src/child/). Every step that runs there has
 * the shape
 *
 *     int step(const void *prepared, struct keel_child_report *rep);
 *
 * and on failure fills *rep with keel_report_fail(), which copies strings
 * into a fixed buffer with no allocation. The spawn code sends the report
 * back to the parent, which turns it into a keel_error such as
 *     "container init: chdir /srv: No such file or directory".
 */
#ifndef KEEL_UTIL_CHILD_H
#define KEEL_UTIL_CHILD_H

#include <stddef.h>

#define KEEL_REPORT_MSG_MAX 512

struct keel_child_report {
	int code;                        /* keel_error_code, 0 while all is well */
	int errnum;                      /* positive errno, 0 when none applies */
	char msg[KEEL_REPORT_MSG_MAX];   /* "step object", strerror added by the parent */
};

/*
 * Record a failure: msg becomes "<step> <object>" (object may be NULL).
 * Returns -errnum (or -EINVAL when errnum is 0) for `return keel_report_fail(...)`.
 * Async-signal-safe.
 */
int keel_report_fail(struct keel_child_report *rep, int code, int errnum,
		     const char *step, const char *object);

/* Append text to rep->msg, truncating safely. Async-signal-safe. */
void keel_report_append(struct keel_child_report *rep, const char *text);

/* Async-signal-safe helpers usable in the child. */
size_t keel_strlcpy(char *dst, const char *src, size_t size);
size_t keel_strlcat(char *dst, const char *src, size_t size);
/* Write the decimal form of v into buf (size >= 24). Returns buf. */
char *keel_utoa(unsigned long long v, char *buf);

#endif
