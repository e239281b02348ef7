/*
 * Private: clone3(CLONE_VM | CLONE_VFORK) onto a stack of its own.
 *
 * A fork-like clone copies the caller's page tables and then pays a
 * copy-on-write fault for every page either side writes until the child
 * execs: for a container start that was ~0.4 ms, more in a big caller.
 * A child that shares the caller's memory copies nothing. It is what
 * posix_spawn does, and it has the same rules:
 *
 *  - the calling thread sleeps until the child has exec'd or exited
 *    (CLONE_VFORK), so the child may use this thread's errno and TLS,
 *    which it shares;
 *  - the child writes only its own stack and its own kernel state
 *    (fds, namespaces, mounts, credentials: none of those is shared, only
 *    memory is), never the heap or globals that the caller's other
 *    threads may be using at the same time; it runs the same
 *    async-signal-safe code as a fork-like child (util/child.h);
 *  - the child needs a stack: clone3 switches to it, so the switch and
 *    the call of the child's function must be in assembly.
 *
 * Only where that assembly exists (x86-64), and not under AddressSanitizer,
 * which cannot follow instrumented code onto a stack it did not make; the
 * fork-like clone remains the path everywhere else.
 */
#ifndef KEEL_UTIL_VFORK_H
#define KEEL_UTIL_VFORK_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define KEEL_VFORK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEL_VFORK_SANITIZED 1
#endif
#endif

#if defined(__x86_64__) && !defined(KEEL_VFORK_SANITIZED)
#define KEEL_HAVE_VFORK_CLONE 1
#else
#define KEEL_HAVE_VFORK_CLONE 0
#endif

struct clone_args;

/* The child's stack: big enough for the deepest child path (a few KiB
 * of frames and PATH_MAX buffers) many times over; a guard page below. */
#define KEEL_VFORK_STACK_SIZE (128 * 1024)

/*
 * clone3(args, size) where args has CLONE_VM | CLONE_VFORK and a stack.
 * In the child, calls fn(arg) on that stack and exits with its return
 * value (fn normally execs or _exits first). In the caller, returns the
 * child's pid once it has exec'd or exited, or -errno (-ENOSYS without
 * clone3, or where KEEL_HAVE_VFORK_CLONE is 0).
 */
long keel_clone3_vfork(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);

/* A child stack of KEEL_VFORK_STACK_SIZE bytes (its lowest address; a
 * guard page lies below it), and its release; NULL on failure, errno set.
 * One released stack is kept for the next spawn (thread-safe, lock-free). */
void *keel_vfork_stack_new(void);
void keel_vfork_stack_free(void *stack);

#endif
