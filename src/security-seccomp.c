/*
 * seccomp filters: rules in, BPF out.
 *
 * A keel_seccomp is built in the parent with libseccomp and is never seen
 * by the child: the child only receives the BPF program that
 * keel_seccomp_compile() exports, and loads it with the raw seccomp(2)
 * system call (security.c). That keeps libseccomp, which allocates, out of
 * the code that runs between clone and execve.
 *
 * The handle keeps two things:
 *  - a live libseccomp context, to which every rule is added at once, so
 *    that a bad rule (an unknown system call, an argument libseccomp cannot
 *    compare on some architecture) fails in the call that added it;
 *  - the list of rules as given, because libseccomp applies a rule only to
 *    the architectures present when it was added: adding an architecture
 *    later rebuilds the context from that list.
 * The compiled program is cached until the next change, so attaching one
 * filter to many containers compiles it once.
 *
 * The default profile is different: building it with libseccomp costs about
 * 1 MiB of heap and over a millisecond (some 330 rules, a ~950-instruction
 * program), which a short-lived program like keel-run pays on every start.
 * So the build runs this very code once (tools/seccomp-default-gen.c) and
 * keeps the result as a constant array (src/security-seccomp-default.c, generated).
 * keel_seccomp_new_default() hands that out as the filter's program, with
 * no libseccomp context and no rules ("prebuilt"); the first change (a rule
 * or an architecture added) builds the context and the rules as before,
 * so from then on the filter behaves exactly like one built by hand. The
 * precompiled program is only used when the build's architecture is this
 * machine's native one; otherwise, and in a cross build, the default
 * profile is compiled at run time as before.
 *
 * libseccomp itself is not linked: it is opened with dlopen the first time
 * a filter is built from rules (util/dl.h), so that a program that only
 * uses the precompiled default profile never maps it nor relocates it
 * (keel-run: ~0.1 MiB of its peak RSS). Its functions are listed once, in
 * SCMP_FUNCTIONS, and called through the table `scmp`, typed by
 * libseccomp's own prototypes. `scmp` is filled once under pthread_once
 * and only read after: the one global state here. A keel_seccomp
 * handle has a libseccomp context only once the load has succeeded, so the
 * functions that take one use the table without a check; the entry points
 * that make a context or resolve a name call scmp_ready() first. A missing
 * libseccomp is an error of those calls, never a crash, and leaves the
 * precompiled default profile working.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "error.h"
#include "security-bpf.h"
#include "security-seccomp.h"
#include "util/dl.h"

/* The errno range a seccomp action can carry (SECCOMP_RET_DATA, MAX_ERRNO). */
#define ERRNO_ACTION_BASE 0x10000u
#define ERRNO_MAX 4095

struct rule {
	uint32_t action;        /* keel form: keel_seccomp_action or KEEL_SECCOMP_ERRNO(e) */
	int nr;                 /* libseccomp's number (negative for compat-only calls) */
	char *name;
	bool has_arg;
	struct scmp_arg_cmp arg;
};

struct keel_seccomp {
	uint32_t default_action;
	scmp_filter_ctx ctx;
	uint32_t *arches;       /* besides the native one */
	size_t n_arches;
	struct rule *rules;
	size_t n_rules, cap_rules;
	bool notify;
	bool prebuilt;          /* the default profile as precompiled: no ctx, no rules yet */
	struct sock_filter *bpf;  /* cached compiled program, NULL when stale */
	size_t bpf_len;
};

/* --------------------------------------------------- libseccomp, lazily --- */

#define SCMP_SONAME "libseccomp.so.2"

/* Every libseccomp function this file calls. */
#define SCMP_FUNCTIONS(F) \
	F(seccomp_arch_add) F(seccomp_arch_native) F(seccomp_arch_resolve_name) F(seccomp_attr_set) \
	F(seccomp_export_bpf) F(seccomp_init) F(seccomp_release) F(seccomp_rule_add_array) \
	F(seccomp_syscall_resolve_name)

/* The table: one pointer per function, of the function's own type. */
static struct scmp_api {
#define SCMP_SLOT(f) typeof(&f) f;
	SCMP_FUNCTIONS(SCMP_SLOT)
#undef SCMP_SLOT
} scmp;

#define SCMP_SYM(f) { #f, offsetof(struct scmp_api, f) },
static const struct keel_dl_sym scmp_syms[] = { SCMP_FUNCTIONS(SCMP_SYM) };
#undef SCMP_SYM

KEEL_DL_ONCE(scmp_lib, scmp, { SCMP_SONAME, scmp_syms, KEEL_DL_N_OF(scmp_syms) })

/* Load libseccomp if this is the first use; fails with "seccomp: why". */
static int scmp_ready(keel_error **err)
{
	int status = scmp_lib_ready();

	if (status < 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -status, "seccomp: %s", scmp_lib.why);
	return 0;
}

/*
 * The architecture libseccomp calls native (the one it was built for, which
 * is ours: it is the same process), known at compile time where we can
 * tell, so that asking needs no libseccomp. Elsewhere ask it; 0 (no
 * architecture) when it cannot be loaded.
 */
static uint32_t native_arch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
	return SCMP_ARCH_X32;
#elif defined(__x86_64__)
	return SCMP_ARCH_X86_64;
#elif defined(__i386__)
	return SCMP_ARCH_X86;
#elif defined(__aarch64__)
	return SCMP_ARCH_AARCH64;
#else
	return scmp_ready(NULL) == 0 ? scmp.seccomp_arch_native() : 0;
#endif
}

/* ---------------------------------------------------------------- actions --- */

static bool action_valid(uint32_t action)
{
	if (action >= KEEL_SECCOMP_ALLOW && action <= KEEL_SECCOMP_NOTIFY)
		return true;
	return (action & ~0xffffu) == ERRNO_ACTION_BASE && (action & 0xffffu) <= ERRNO_MAX;
}

static uint32_t action_to_scmp(uint32_t action)
{
	switch (action) {
	case KEEL_SECCOMP_ALLOW:
		return SCMP_ACT_ALLOW;
	case KEEL_SECCOMP_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case KEEL_SECCOMP_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case KEEL_SECCOMP_TRAP:
		return SCMP_ACT_TRAP;
	case KEEL_SECCOMP_LOG:
		return SCMP_ACT_LOG;
	case KEEL_SECCOMP_NOTIFY:
		return SCMP_ACT_NOTIFY;
	default:
		return SCMP_ACT_ERRNO(action & 0xffffu);
	}
}

static int check_action(uint32_t action, keel_error **err)
{
	if (action_valid(action))
		return 0;
	return keel_error_invalid(err, "seccomp: invalid action 0x%x (a keel_seccomp_action or KEEL_SECCOMP_ERRNO(0..4095))",
				  action);
}

/* ------------------------------------------------------- the live context --- */

static void invalidate(keel_seccomp *f)
{
	free(f->bpf);
	f->bpf = NULL;
	f->bpf_len = 0;
}

/* Add one recorded rule to f->ctx. A rule with the default action is a no-op
 * that libseccomp refuses with EACCES; we accept it. */
static int ctx_add_rule(keel_seccomp *f, const struct rule *r, keel_error **err)
{
	int ret;

	if (r->action == f->default_action)
		return 0;
	if (r->has_arg)
		ret = scmp.seccomp_rule_add_array(f->ctx, action_to_scmp(r->action), r->nr, 1, &r->arg);
	else
		ret = scmp.seccomp_rule_add_array(f->ctx, action_to_scmp(r->action), r->nr, 0, NULL);
	if (ret == -EACCES)
		return 0;
	if (ret < 0)
		return keel_error_sys(err, -ret, "seccomp: rule for system call '%s'", r->name);
	return 0;
}

/* Make a fresh context with the default action, the native architecture,
 * the recorded extra architectures, and every recorded rule. */
static int ctx_rebuild(keel_seccomp *f, keel_error **err)
{
	scmp_filter_ctx ctx;
	size_t i;
	int ret;

	ret = scmp_ready(err);
	if (ret < 0)
		return ret;
	ctx = scmp.seccomp_init(action_to_scmp(f->default_action));
	if (!ctx)
		return keel_error_sys(err, ENOMEM, "seccomp: create a filter");
	/* A binary tree over the system call numbers rather than libseccomp's
	 * default linear list: for the default profile the kernel's
	 * seccomp(2) load, which runs the filter for every system call number
	 * of every architecture to fill its allow cache, goes from ~1.6 to
	 * ~0.5 ms per container, and each call the container makes walks a
	 * few compares instead of up to some 300. Same verdicts. */
	ret = scmp.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (ret < 0) {
		scmp.seccomp_release(ctx);
		return keel_error_sys(err, -ret, "seccomp: ask for a binary-tree filter");
	}
	for (i = 0; i < f->n_arches; i++) {
		ret = scmp.seccomp_arch_add(ctx, f->arches[i]);
		if (ret < 0 && ret != -EEXIST) {
			scmp.seccomp_release(ctx);
			return keel_error_sys(err, -ret, "seccomp: add architecture 0x%x", f->arches[i]);
		}
	}
	if (f->ctx)
		scmp.seccomp_release(f->ctx);
	f->ctx = ctx;
	f->notify = f->default_action == KEEL_SECCOMP_NOTIFY;
	for (i = 0; i < f->n_rules; i++) {
		ret = ctx_add_rule(f, &f->rules[i], err);
		if (ret < 0)
			return ret;
		if (f->rules[i].action == KEEL_SECCOMP_NOTIFY)
			f->notify = true;
	}
	invalidate(f);
	return 0;
}

static int record_arch(keel_seccomp *f, uint32_t arch, keel_error **err)
{
	uint32_t *a;
	size_t i;

	if (arch == native_arch())
		return 0;
	for (i = 0; i < f->n_arches; i++)
		if (f->arches[i] == arch)
			return 0;
	a = realloc(f->arches, (f->n_arches + 1) * sizeof(*a));
	if (!a)
		return keel_error_sys(err, ENOMEM, "seccomp: add architecture");
	a[f->n_arches++] = arch;
	f->arches = a;
	return 1;
}

/* ----------------------------------------------------------------- public --- */

KEEL_PUBLIC void keel_seccomp_free(keel_seccomp *f)
{
	size_t i;

	if (!f)
		return;
	if (f->ctx)
		scmp.seccomp_release(f->ctx);
	for (i = 0; i < f->n_rules; i++)
		free(f->rules[i].name);
	free(f->rules);
	free(f->arches);
	free(f->bpf);
	free(f);
}

/* A filter with its default action and architectures, but no libseccomp
 * context yet. */
static int filter_alloc(keel_seccomp **out, uint32_t default_action, keel_error **err)
{
	keel_seccomp *f;
	int ret;

	if (!out)
		return keel_error_invalid(err, "seccomp: no place for the new filter (out is NULL)");
	*out = NULL;
	ret = check_action(default_action, err);
	if (ret < 0)
		return ret;
	f = calloc(1, sizeof(*f));
	if (!f)
		return keel_error_sys(err, ENOMEM, "seccomp: create a filter");
	f->default_action = default_action;
	f->notify = default_action == KEEL_SECCOMP_NOTIFY;
	/* The compat architectures of the native one, so that a 32-bit call
	 * (int 0x80, x32) meets the same rules. */
	switch (native_arch()) {
	case SCMP_ARCH_X86_64:
		ret = record_arch(f, SCMP_ARCH_X86, err);
		if (ret >= 0)
			ret = record_arch(f, SCMP_ARCH_X32, err);
		break;
	case SCMP_ARCH_AARCH64:
		ret = record_arch(f, SCMP_ARCH_ARM, err);
		break;
	default:
		ret = 0;
	}
	if (ret < 0) {
		keel_seccomp_free(f);
		return ret;
	}
	*out = f;
	return 0;
}

KEEL_PUBLIC int keel_seccomp_new(keel_seccomp **out, uint32_t default_action, keel_error **err)
{
	int ret;

	ret = filter_alloc(out, default_action, err);
	if (ret < 0)
		return ret;
	ret = ctx_rebuild(*out, err);
	if (ret < 0) {
		keel_seccomp_free(*out);
		*out = NULL;
	}
	return ret;
}

static int add_default_rules(keel_seccomp *f, keel_error **err);

/* Give a prebuilt default profile its libseccomp context and rules, before
 * its first change. On failure it stays prebuilt, unchanged. */
static int materialize(keel_seccomp *f, keel_error **err)
{
	size_t i;
	int ret;

	if (!f->prebuilt)
		return 0;
	f->prebuilt = false;
	ret = ctx_rebuild(f, err);
	if (ret >= 0)
		ret = add_default_rules(f, err);
	if (ret < 0) {
		if (f->ctx)
			scmp.seccomp_release(f->ctx);
		f->ctx = NULL;
		for (i = 0; i < f->n_rules; i++)
			free(f->rules[i].name);
		f->n_rules = 0;
		f->notify = false;
		invalidate(f);
		f->prebuilt = true;
		return keel_error_wrap(err, ret, "seccomp: default profile");
	}
	return 0;
}

KEEL_PUBLIC int keel_seccomp_add_arch(keel_seccomp *f, const char *arch, keel_error **err)
{
	uint32_t token;
	int ret;

	if (!f || !arch)
		return keel_error_invalid(err, "seccomp: add architecture: filter and name are required");
	ret = scmp_ready(err);
	if (ret < 0)
		return ret;
	token = scmp.seccomp_arch_resolve_name(arch);
	if (!token)
		return keel_error_invalid(err, "seccomp: unknown architecture '%s'", arch);
	ret = record_arch(f, token, err);
	if (ret <= 0)
		return ret;
	if (f->prebuilt) {
		/* builds the context with the new architecture among the others */
		ret = materialize(f, err);
		if (ret < 0)
			f->n_arches--; /* the precompiled program does not cover it */
	} else {
		ret = ctx_rebuild(f, err);
	}
	return ret < 0 ? keel_error_wrap(err, ret, "seccomp: add architecture %s", arch) : 0;
}

/* Drop the recorded rules that r replaces: for a rule without an argument
 * comparison, every rule for the same call; for one with a comparison, a
 * rule with the same comparison. Returns how many were dropped. */
static size_t forget_replaced(keel_seccomp *f, const struct rule *r)
{
	size_t i, kept = 0, dropped = 0;

	for (i = 0; i < f->n_rules; i++) {
		struct rule *old = &f->rules[i];
		bool same = old->nr == r->nr &&
			    (!r->has_arg || (old->has_arg && !memcmp(&old->arg, &r->arg, sizeof(r->arg))));

		if (same) {
			free(old->name);
			dropped++;
		} else {
			f->rules[kept++] = *old;
		}
	}
	f->n_rules = kept;
	return dropped;
}

static int add_rule(keel_seccomp *f, uint32_t action, const char *name, const struct scmp_arg_cmp *arg,
		    keel_error **err)
{
	struct rule r = { .action = action };
	int ret;

	if (!f || !name)
		return keel_error_invalid(err, "seccomp: add rule: filter and system call name are required");
	ret = check_action(action, err);
	if (ret >= 0)
		ret = scmp_ready(err);
	if (ret < 0)
		return ret;
	r.nr = scmp.seccomp_syscall_resolve_name(name);
	if (r.nr == __NR_SCMP_ERROR)
		return keel_error_invalid(err, "seccomp: unknown system call '%s'", name);
	if (arg) {
		r.has_arg = true;
		r.arg = *arg;
	}
	ret = materialize(f, err);
	if (ret < 0)
		return ret;
	if (f->n_rules == f->cap_rules) {
		size_t n = f->cap_rules ? f->cap_rules * 2 : 64;
		struct rule *rules = realloc(f->rules, n * sizeof(*rules));

		if (!rules)
			return keel_error_sys(err, ENOMEM, "seccomp: add rule for '%s'", name);
		f->rules = rules;
		f->cap_rules = n;
	}
	r.name = strdup(name);
	if (!r.name)
		return keel_error_sys(err, ENOMEM, "seccomp: add rule for '%s'", name);
	if (forget_replaced(f, &r)) {
		/* libseccomp keeps the first of two rules for one call: rebuild
		 * without the replaced ones so that the newest rule wins. */
		f->rules[f->n_rules++] = r;
		return ctx_rebuild(f, err);
	}
	ret = ctx_add_rule(f, &r, err);
	if (ret < 0) {
		free(r.name);
		return ret;
	}
	f->rules[f->n_rules++] = r;
	if (action == KEEL_SECCOMP_NOTIFY)
		f->notify = true;
	invalidate(f);
	return 0;
}

KEEL_PUBLIC int keel_seccomp_add_rule(keel_seccomp *f, uint32_t action, const char *syscall, keel_error **err)
{
	return add_rule(f, action, syscall, NULL, err);
}

KEEL_PUBLIC int keel_seccomp_add_rule_errno(keel_seccomp *f, const char *syscall, int errnum, keel_error **err)
{
	if (errnum < 0 || errnum > ERRNO_MAX)
		return keel_error_invalid(err, "seccomp: rule for '%s': errno %d is out of range (0 to %d)",
					  syscall ? syscall : "(null)", errnum, ERRNO_MAX);
	return add_rule(f, KEEL_SECCOMP_ERRNO(errnum), syscall, NULL, err);
}

KEEL_PUBLIC int keel_seccomp_add_rule_arg(keel_seccomp *f, uint32_t action, const char *syscall,
					  unsigned int arg_index, keel_seccomp_cmp op, uint64_t value,
					  uint64_t mask, keel_error **err)
{
	static const enum scmp_compare ops[] = {
		[KEEL_SECCOMP_CMP_NE] = SCMP_CMP_NE,
		[KEEL_SECCOMP_CMP_LT] = SCMP_CMP_LT,
		[KEEL_SECCOMP_CMP_LE] = SCMP_CMP_LE,
		[KEEL_SECCOMP_CMP_EQ] = SCMP_CMP_EQ,
		[KEEL_SECCOMP_CMP_GE] = SCMP_CMP_GE,
		[KEEL_SECCOMP_CMP_GT] = SCMP_CMP_GT,
		[KEEL_SECCOMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
	};
	struct scmp_arg_cmp arg = { .arg = arg_index };
	const char *name = syscall ? syscall : "(null)";

	if (arg_index > 5)
		return keel_error_invalid(err, "seccomp: rule for '%s': argument index %u is out of range (0 to 5)",
					  name, arg_index);
	if (op < KEEL_SECCOMP_CMP_NE || op > KEEL_SECCOMP_CMP_MASKED_EQ)
		return keel_error_invalid(err, "seccomp: rule for '%s': invalid comparison %d", name, (int)op);
	arg.op = ops[op];
	/* libseccomp's layout: datum_a is the mask for MASKED_EQ, else the value. */
	if (op == KEEL_SECCOMP_CMP_MASKED_EQ) {
		arg.datum_a = mask;
		arg.datum_b = value;
	} else {
		arg.datum_a = value;
	}
	return add_rule(f, action, syscall, &arg, err);
}

KEEL_PUBLIC int keel_seccomp_has_notify(const keel_seccomp *f)
{
	return f && f->notify;
}

/* The default profile precompiled for this machine, or NULL when this build
 * has none for it. The generator itself is built without one: it is what
 * makes it. */
static const struct sock_filter *prebuilt_default(size_t *len)
{
#ifndef KEEL_SECCOMP_GENERATOR
	if (keel_seccomp_default_len > 0 && keel_seccomp_default_arch == native_arch()) {
		*len = keel_seccomp_default_len;
		return keel_seccomp_default_bpf;
	}
#endif
	*len = 0;
	return NULL;
}

bool keel_seccomp_is_static(const struct sock_filter *prog)
{
	size_t len;

	return prog && prog == prebuilt_default(&len);
}

/* libseccomp 2.5 exports only to an fd: export into a memfd, read it back.
 * *prog is malloc'd. */
int keel_seccomp_export(keel_seccomp *f, struct sock_filter **prog, size_t *len, keel_error **err)
{
	struct stat st;
	void *buf = NULL;
	ssize_t got;
	int fd, ret;

	fd = memfd_create("keel-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "seccomp: compile the filter: memfd_create");
	ret = scmp.seccomp_export_bpf(f->ctx, fd);
	if (ret < 0) {
		keel_error_sys(err, -ret, "seccomp: compile the filter");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = keel_error_sys(err, errno, "seccomp: compile the filter: fstat");
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) || st.st_size > 0x7fffffff) {
		ret = keel_error_set(err, KEEL_ERROR_SYSTEM, EIO, "seccomp: compile the filter: %lld bytes of BPF",
				     (long long)st.st_size);
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		ret = keel_error_sys(err, ENOMEM, "seccomp: compile the filter");
		goto out;
	}
	got = pread(fd, buf, (size_t)st.st_size, 0);
	if (got != st.st_size) {
		ret = keel_error_sys(err, got < 0 ? errno : EIO, "seccomp: compile the filter: read back");
		free(buf);
		goto out;
	}
	*prog = buf;
	*len = (size_t)st.st_size / sizeof(struct sock_filter);
	ret = 0;
out:
	close(fd);
	return ret;
}

/*
 * libseccomp's program, flattened (src/security-bpf.c) where that makes it
 * smaller: the kernel's cost of installing a filter grows with its length,
 * and every container pays it. Where the flattening does not apply, the
 * program is libseccomp's as it is.
 */
int keel_seccomp_compile(keel_seccomp *f, const struct sock_filter **prog, size_t *len, keel_error **err)
{
	struct sock_filter *raw = NULL, *flat = NULL;
	size_t raw_len = 0, flat_len = 0;
	int ret;

	if (f->prebuilt) {
		*prog = prebuilt_default(len);
		return 0;
	}
	if (!f->bpf) {
		ret = keel_seccomp_export(f, &raw, &raw_len, err);
		if (ret < 0)
			return ret;
		if (keel_bpf_flatten(raw, raw_len, &flat, &flat_len) == 0) {
			free(raw);
			raw = flat;
			raw_len = flat_len;
		}
		f->bpf = raw;
		f->bpf_len = raw_len;
	}
	*prog = f->bpf;
	*len = f->bpf_len;
	return 0;
}

/* ---------------------------------------------------------- default profile --- */

/*
 * What ordinary programs use. Names libseccomp does not know are skipped
 * (they stay denied), names that exist only on a compat architecture apply
 * there. Deliberately absent, so they fail with EPERM: kernel modules
 * (init_module, finit_module, delete_module), kexec_load, kexec_file_load,
 * mount, umount, umount2, pivot_root, the new mount API (fsopen, fsmount,
 * fsconfig, fspick, move_mount, open_tree, mount_setattr), setns, unshare,
 * keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd,
 * open_by_handle_at, ptrace, process_vm_readv/writev, process_madvise,
 * pidfd_getfd, kcmp, swapon, swapoff, reboot, settimeofday, stime,
 * clock_settime, clock_adjtime, adjtimex, acct, quotactl, quotactl_fd,
 * lookup_dcookie, vm86, vm86old, iopl, ioperm, syslog, chroot, sethostname,
 * setdomainname, fanotify_init, nfsservctl, uselib, ustat, sysfs, _sysctl,
 * vhangup, mbind, set_mempolicy, get_mempolicy, migrate_pages, move_pages,
 * name_to_handle_at.
 */
static const char *const default_allow[] = {
	/* files and directories */
	"access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range",
	"creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
	"fallocate", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
	"fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr",
	"fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
	"futimesat", "getcwd", "getdents", "getdents64", "getxattr", "inotify_add_watch",
	"inotify_init", "inotify_init1", "inotify_rm_watch", "lchown", "lchown32", "lgetxattr",
	"link", "linkat", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
	"lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat", "newfstatat", "open", "openat",
	"openat2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read",
	"readahead", "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat",
	"renameat2", "rmdir", "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64",
	"statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
	"tee", "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
	"utimensat_time64", "utimes", "vmsplice", "write", "writev", "fanotify_mark",
	/* memory */
	"brk", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mlock", "mlock2",
	"mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
	"pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages",
	/* processes, threads, signals */
	"arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork",
	"vfork", "futex", "futex_time64", "futex_waitv", "get_robust_list", "set_robust_list",
	"get_thread_area", "set_thread_area", "set_tid_address", "getpid", "getppid", "gettid",
	"getpgid", "getpgrp", "getsid", "setpgid", "setsid", "kill", "tgkill", "tkill",
	"pidfd_open", "pidfd_send_signal", "prctl", "restart_syscall", "rseq", "rt_sigaction",
	"rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sigaltstack",
	"signalfd", "signalfd4", "sigprocmask", "sigreturn", "wait4", "waitid", "waitpid",
	"modify_ldt", "process_mrelease", "seccomp", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self",
	/* credentials and limits */
	"getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
	"getgroups32", "getresgid", "getresgid32", "getresuid", "getresuid32", "getuid", "getuid32",
	"setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
	"setgroups32", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setuid", "setuid32", "getrlimit", "ugetrlimit",
	"setrlimit", "prlimit64", "getrusage", "getpriority", "setpriority", "ioprio_get",
	"ioprio_set",
	/* scheduling */
	"sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
	"sched_setscheduler", "sched_yield", "getcpu",
	/* time (reading it, sleeping, timers) */
	"alarm", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
	"clock_nanosleep", "clock_nanosleep_time64", "getitimer", "setitimer", "gettimeofday",
	"nanosleep", "time", "times", "timer_create", "timer_delete", "timer_getoverrun",
	"timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
	/* waiting for events */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
	"epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "pause", "poll", "ppoll",
	"ppoll_time64", "pselect6", "pselect6_time64", "select", "_newselect",
	/* asynchronous I/O */
	"io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	"io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioctl",
	/* pipes, sockets (socket itself is below, with AF_VSOCK refused) */
	"pipe", "pipe2", "accept", "accept4", "bind", "connect", "getpeername", "getsockname",
	"getsockopt", "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
	"send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown", "socketcall",
	"socketpair",
	/* System V and POSIX IPC (isolated by the IPC namespace) */
	"ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "mq_getsetattr", "mq_notify",
	"mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
	"mq_timedsend_time64", "mq_unlink",
	/* about the system */
	"getrandom", "sysinfo", "uname",
};

/* CLONE_NEW* flags that clone must not carry: the container may not make
 * namespaces of its own (user namespaces in particular, a large attack
 * surface), as in Docker's profile. clone is therefore not in
 * default_allow: an unconditional rule there would win over this one. */
#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
			CLONE_NEWPID | CLONE_NEWNET)

/* The personalities ordinary programs ask for; others (READ_IMPLIES_EXEC,
 * ADDR_NO_RANDOMIZE ...) weaken the process. 0xffffffff only queries. */
static const uint64_t allowed_personalities[] = { PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32,
						   0xffffffffULL };

static int add_default_rules(keel_seccomp *f, keel_error **err)
{
	size_t i;
	int ret;

	for (i = 0; i < sizeof(default_allow) / sizeof(default_allow[0]); i++) {
		if (scmp.seccomp_syscall_resolve_name(default_allow[i]) == __NR_SCMP_ERROR)
			continue; /* newer than this libseccomp: stays denied */
		ret = keel_seccomp_add_rule(f, KEEL_SECCOMP_ALLOW, default_allow[i], err);
		if (ret < 0)
			return ret;
	}
	ret = keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ALLOW, "clone", 0, KEEL_SECCOMP_CMP_MASKED_EQ, 0,
					CLONE_NS_FLAGS, err);
	if (ret < 0)
		return ret;
	/* clone3 passes its flags in memory, which seccomp cannot read: make
	 * it look absent so that libc falls back to clone. */
	ret = keel_seccomp_add_rule_errno(f, "clone3", ENOSYS, err);
	if (ret < 0)
		return ret;
	ret = keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ALLOW, "socket", 0, KEEL_SECCOMP_CMP_NE, AF_VSOCK, 0, err);
	if (ret < 0)
		return ret;
	for (i = 0; i < sizeof(allowed_personalities) / sizeof(allowed_personalities[0]); i++) {
		ret = keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ALLOW, "personality", 0, KEEL_SECCOMP_CMP_EQ,
						allowed_personalities[i], 0, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int keel_seccomp_build_default(keel_seccomp **out, keel_error **err)
{
	keel_seccomp *f = NULL;
	int ret;

	ret = keel_seccomp_new(&f, KEEL_SECCOMP_ERRNO(EPERM), err);
	if (ret < 0)
		return ret;
	ret = add_default_rules(f, err);
	if (ret < 0) {
		keel_seccomp_free(f);
		return keel_error_wrap(err, ret, "seccomp: default profile");
	}
	*out = f;
	return 0;
}

KEEL_PUBLIC int keel_seccomp_new_default(keel_seccomp **out, keel_error **err)
{
	size_t len;
	int ret;

	if (!prebuilt_default(&len))
		return keel_seccomp_build_default(out, err);
	ret = filter_alloc(out, KEEL_SECCOMP_ERRNO(EPERM), err);
	if (ret < 0)
		return ret;
	(*out)->prebuilt = true;
	return 0;
}
