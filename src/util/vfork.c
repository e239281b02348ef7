/*
 * clone3(CLONE_VM | CLONE_VFORK) onto a stack of its own: see vfork.h for
 * the rules the child lives by.
 */
#include "config.h"

#include <errno.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "util/vfork.h"

#define GUARD_SIZE 4096
#define KEEL_XSTR(x) #x
#define KEEL_STR(x) KEEL_XSTR(x)

#if KEEL_HAVE_VFORK_CLONE
/*
 * x86-64. In:  rdi = args, rsi = size, rdx = fn, rcx = arg.
 * The syscall instruction clobbers rcx and r11 only, and the child starts
 * with the caller's registers on the new stack (rsp = stack + stack_size,
 * 16-byte aligned, so the call below leaves the ABI's alignment), so fn
 * and arg travel in r9 and r8. The child never returns through here:
 * rbp is zeroed and the return address is marked undefined, so a
 * debugger's backtrace ends at the child's first frame.
 */
__asm__(".text\n"
	".globl keel_clone3_vfork\n"
	".hidden keel_clone3_vfork\n"
	".type keel_clone3_vfork, @function\n"
	"keel_clone3_vfork:\n"
	"	.cfi_startproc\n"
	"	movq %rdx, %r9\n"
	"	movq %rcx, %r8\n"
	"	movl $" KEEL_STR(SYS_clone3) ", %eax\n"
	"	syscall\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	ret\n"
	"1:\n"
	"	.cfi_undefined %rip\n"
	"	xorl %ebp, %ebp\n"
	"	movq %r8, %rdi\n"
	"	callq *%r9\n"
	"	movl %eax, %edi\n"
	"	movl $" KEEL_STR(SYS_exit) ", %eax\n"
	"	syscall\n"
	"	hlt\n"
	"	.cfi_endproc\n"
	".size keel_clone3_vfork, .-keel_clone3_vfork\n");
#else
long keel_clone3_vfork(struct clone_args *args, size_t size, int (*fn)(void *), void *arg)
{
	(void)args;
	(void)size;
	(void)fn;
	(void)arg;
	return -ENOSYS;
}
#endif

/*
 * One spare stack, kept between spawns: a new mapping costs an mmap, an
 * mprotect for the guard, a munmap (with a TLB flush on every CPU that
 * runs one of our threads) and a fault per stack page touched, ~15 us of
 * a ~3.5 ms start. Taken and given back with atomic exchanges, so
 * concurrent spawns never wait on each other: a second one in flight just
 * maps its own. Unmapped when the library is unloaded.
 */
static void *spare_stack;

static void *stack_map(void)
{
	char *p;

	/* One mapping: a PROT_NONE guard page, then the stack above it, so
	 * an overflow faults instead of writing into the caller's memory. */
	p = mmap(NULL, GUARD_SIZE + KEEL_VFORK_STACK_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + GUARD_SIZE, KEEL_VFORK_STACK_SIZE, PROT_READ | PROT_WRITE) < 0) {
		int e = errno;

		munmap(p, GUARD_SIZE + KEEL_VFORK_STACK_SIZE);
		errno = e;
		return NULL;
	}
	return p + GUARD_SIZE;
}

static void stack_unmap(void *stack)
{
	munmap((char *)stack - GUARD_SIZE, GUARD_SIZE + KEEL_VFORK_STACK_SIZE);
}

void *keel_vfork_stack_new(void)
{
	void *stack = __atomic_exchange_n(&spare_stack, NULL, __ATOMIC_ACQUIRE);

	return stack ? stack : stack_map();
}

void keel_vfork_stack_free(void *stack)
{
	void *none = NULL;

	if (stack && !__atomic_compare_exchange_n(&spare_stack, &none, stack, 0, __ATOMIC_RELEASE,
						  __ATOMIC_RELAXED))
		stack_unmap(stack);
}

__attribute__((destructor)) static void stack_release_spare(void)
{
	void *stack = __atomic_exchange_n(&spare_stack, NULL, __ATOMIC_ACQUIRE);

	if (stack)
		stack_unmap(stack);
}
