/*
 * Private: what security.c needs from the seccomp filter builder.
 */
#ifndef KEEL_PRIV_SECURITY_SECCOMP_H
#define KEEL_PRIV_SECURITY_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <keel/security.h>

/*
 * libseccomp's program for the filter, as it is: *prog is malloc'd (the
 * caller frees it), *len counts instructions. keel_seccomp_compile() is
 * this, flattened; the tests compare the two.
 */
int keel_seccomp_export(keel_seccomp *filter, struct sock_filter **prog, size_t *len, keel_error **err);

/*
 * Compile the filter to a classic BPF program (libseccomp's, made smaller
 * by keel_bpf_flatten() where it applies), or reuse the program compiled
 * before if no rule or architecture was added since. *prog is owned by
 * filter and valid until the filter changes or is freed; *len counts
 * instructions.
 */
int keel_seccomp_compile(keel_seccomp *filter, const struct sock_filter **prog, size_t *len,
			 keel_error **err);

/*
 * Build the default profile from its rules with libseccomp, never from the
 * precompiled program below: what keel_seccomp_new_default() does when
 * there is no precompiled program for this machine, what a precompiled
 * default profile turns into at its first change, and what the build-time
 * generator (tools/seccomp-default-gen.c) and the test that the two agree
 * run.
 */
int keel_seccomp_build_default(keel_seccomp **out, keel_error **err);

/*
 * The default profile compiled to BPF when libkeel was built, by the code
 * above, for the architecture keel_seccomp_default_arch (a libseccomp
 * SCMP_ARCH_* token, 0 when there is none): the generated file
 * src/security-seccomp-default.c. Constant data, shared by every process.
 * keel_seccomp_default_len is 0 when the build could not run the generator
 * (a cross build); keel_seccomp_new_default() then compiles at run time.
 */
extern const uint32_t keel_seccomp_default_arch;
/* Is prog the precompiled default profile above (constant data, which a
 * holder may point at instead of copying)? */
bool keel_seccomp_is_static(const struct sock_filter *prog);
extern const size_t keel_seccomp_default_len;
extern const struct sock_filter keel_seccomp_default_bpf[];

#endif
