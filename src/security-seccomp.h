/*
 * Private: what security.c needs from the seccomp filter builder.
 */
#ifndef KEEL_PRIV_SECURITY_SECCOMP_H
#define KEEL_PRIV_SECURITY_SECCOMP_H

#include <stddef.h>
#include <linux/filter.h>
#include <keel/security.h>

/*
 * Compile the filter to a classic BPF program, or reuse the program compiled
 * before if no rule or architecture was added since. *prog is owned by
 * filter and valid until the filter changes or is freed; *len counts
 * instructions.
 */
int keel_seccomp_compile(keel_seccomp *filter, const struct sock_filter **prog, size_t *len,
			 keel_error **err);

#endif
