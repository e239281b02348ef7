/*
 * Private: classic BPF for seccomp, beyond what libseccomp does for us.
 *
 * keel_bpf_flatten() rewrites a seccomp program into a smaller one with
 * the same verdicts; keel_bpf_run() evaluates a program the way the kernel
 * does, which is how the tests prove "the same verdicts".
 */
#ifndef KEEL_PRIV_SECURITY_BPF_H
#define KEEL_PRIV_SECURITY_BPF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/*
 * Rewrite prog (a seccomp filter) into an equivalent program that
 * dispatches on the architecture, then on the system call number by a
 * binary search over ranges of numbers with the same outcome, and keeps
 * only the argument checks of the calls whose verdict depends on their
 * arguments. On success *out is malloc'd (the caller frees it) and
 * *out_len counts instructions. -ENOTSUP when prog uses the number or the
 * architecture in a way this rewrite does not model (arithmetic on them, a
 * bit test, a comparison with a register); -E2BIG when the result would
 * not be smaller than prog; -ENOMEM; -EINVAL when prog is malformed. The
 * caller then keeps prog as it is.
 */
int keel_bpf_flatten(const struct sock_filter *prog, size_t len, struct sock_filter **out, size_t *out_len);

/*
 * Run prog on d as the kernel would and return the filter's verdict
 * (SECCOMP_RET_*). A malformed program (a jump out of it, a load out of
 * seccomp_data) returns 0, which the kernel would never load.
 */
uint32_t keel_bpf_run(const struct sock_filter *prog, size_t len, const struct seccomp_data *d);

#endif
