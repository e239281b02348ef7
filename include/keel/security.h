/**
 * @file keel/security.h
 * @brief What a container's process may do: capabilities, seccomp,
 * no_new_privs, rlimits, oom_score_adj, hostname, namespaced sysctls.
 *
 * A container's root must not be the host's root. A keel_security says how
 * much of root the container keeps; the spawn code applies it inside the new
 * process, the last part (capabilities, no_new_privs, seccomp) right before
 * execve.
 *
 * @code
 * keel_security *sec = NULL;
 * keel_seccomp *filter = NULL;
 * keel_error *err = NULL;
 *
 * if (keel_security_new(&sec, &err) < 0)       // Docker's default capabilities,
 *         goto fail;                           // no_new_privs on, no seccomp yet
 * keel_security_cap_drop(sec, "NET_RAW", &err);
 * keel_security_set_rlimit(sec, RLIMIT_NOFILE, 1024, 4096, &err);
 * keel_security_set_sysctl(sec, "net.ipv4.ip_forward", "1", &err);
 *
 * if (keel_seccomp_new_default(&filter, &err) < 0)   // Docker-like profile
 *         goto fail;
 * keel_seccomp_add_rule_errno(filter, "mkdir", EACCES, &err);
 * keel_security_set_seccomp(sec, filter, &err);      // compiled and copied here
 * keel_seccomp_free(filter);                         // sec keeps its own copy
 *
 * // ... give sec to the process / container, then:
 * keel_security_free(sec);
 * @endcode
 *
 * Names of capabilities are accepted with or without the "CAP_" prefix and
 * in any case ("net_raw", "CAP_NET_RAW"). Every setter validates its input
 * at once, so a typo is an error at the call, never a failure in the child.
 */
#ifndef KEEL_SECURITY_H
#define KEEL_SECURITY_H

#include <stdint.h>
#include <keel/common.h>

KEEL_BEGIN_DECLS

/** What a process may do: capabilities, seccomp, rlimits. @since 1.0 */
typedef struct keel_security keel_security;

/**
 * A seccomp filter under construction: rules, a default action and the
 * architectures it covers. Opaque; free with keel_seccomp_free().
 * @since 1.0
 */
typedef struct keel_seccomp keel_seccomp;

/**
 * The capability sets of a process, as bits so that several can be named in
 * one call (KEEL_CAPSET_PERMITTED | KEEL_CAPSET_EFFECTIVE). Values are fixed.
 * @since 1.0
 */
typedef enum keel_capset {
	KEEL_CAPSET_BOUNDING = 1,    /**< the most the process and its children can ever gain */
	KEEL_CAPSET_PERMITTED = 2,   /**< what the process may make effective */
	KEEL_CAPSET_EFFECTIVE = 4,   /**< what the kernel checks */
	KEEL_CAPSET_INHERITABLE = 8, /**< kept across execve of a program with matching file capabilities */
	KEEL_CAPSET_AMBIENT = 16,    /**< kept across execve of any program, also as a non-root user */
	KEEL_CAPSET_ALL = 31         /**< all five */
} keel_capset;

/**
 * An action of a seccomp rule or filter. Values are fixed. To fail a system
 * call with an errno instead, use KEEL_SECCOMP_ERRNO(e).
 * @since 1.0
 */
typedef enum keel_seccomp_action {
	KEEL_SECCOMP_ALLOW = 1,        /**< let the call run */
	KEEL_SECCOMP_KILL_PROCESS = 2, /**< kill the whole process with SIGSYS */
	KEEL_SECCOMP_KILL_THREAD = 3,  /**< kill the calling thread with SIGSYS */
	KEEL_SECCOMP_TRAP = 4,         /**< send SIGSYS, which the program may catch */
	KEEL_SECCOMP_LOG = 5,          /**< let the call run and log it in the kernel's audit log */
	KEEL_SECCOMP_NOTIFY = 6        /**< ask a supervisor through the user-notification fd */
} keel_seccomp_action;

/**
 * The seccomp action "fail the call with errno @p e" (0 <= e < 4096), for
 * every parameter that takes an action. Its value is 0x10000 + e, forever.
 * @since 1.0
 */
#define KEEL_SECCOMP_ERRNO(e) ((uint32_t)(0x10000u | ((uint32_t)(e) & 0xffffu)))

/**
 * How a seccomp rule compares a system call argument. Values are fixed.
 * @since 1.0
 */
typedef enum keel_seccomp_cmp {
	KEEL_SECCOMP_CMP_NE = 1,        /**< arg != value */
	KEEL_SECCOMP_CMP_LT = 2,        /**< arg < value */
	KEEL_SECCOMP_CMP_LE = 3,        /**< arg <= value */
	KEEL_SECCOMP_CMP_EQ = 4,        /**< arg == value */
	KEEL_SECCOMP_CMP_GE = 5,        /**< arg >= value */
	KEEL_SECCOMP_CMP_GT = 6,        /**< arg > value */
	KEEL_SECCOMP_CMP_MASKED_EQ = 7  /**< (arg & mask) == value */
} keel_seccomp_cmp;

/** An rlimit value meaning "no limit" (RLIM_INFINITY). @since 1.0 */
#define KEEL_RLIMIT_INFINITY (~0ULL)

/* ------------------------------------------------------------ security --- */

/**
 * Make a security description with the defaults of Docker and runc: the
 * bounding, permitted and effective sets hold Docker's default capabilities
 * (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
 * NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP), the
 * inheritable and ambient sets are empty, no_new_privs is on, capabilities
 * are not kept across a change to a non-root user, and there is no seccomp
 * filter, rlimit, sysctl, hostname or oom_score_adj until one is set.
 * @param[out] out receives the new handle; the caller frees it with
 *             keel_security_free()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL if @p out is NULL, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_new(keel_security **out, keel_error **err);

/**
 * Free a security description and the seccomp program it holds.
 * @param sec the handle, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_security_free(keel_security *sec);

/**
 * Add a capability to the bounding, permitted and effective sets (and so to
 * the ambient set too when keel_security_set_keep_caps() is on).
 * @param sec the handle
 * @param name a capability name: "NET_ADMIN", "cap_net_admin" ...
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for a NULL argument or an unknown name
 *         ("unknown capability 'NET_ADMN'")
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_cap_add(keel_security *sec, const char *name, keel_error **err);

/**
 * Remove a capability from all five sets.
 * @param sec the handle
 * @param name a capability name, as for keel_security_cap_add()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for a NULL argument or an unknown name
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_cap_drop(keel_security *sec, const char *name, keel_error **err);

/**
 * keel_security_cap_add() by number (CAP_NET_ADMIN from <linux/capability.h>).
 * @param sec the handle
 * @param cap a capability number, 0 to 63; numbers beyond what the running
 *            kernel knows are refused when the plan is prepared
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for a NULL @p sec or a number out of range
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_cap_add_num(keel_security *sec, int cap, keel_error **err);

/**
 * keel_security_cap_drop() by number.
 * @param sec the handle
 * @param cap a capability number, 0 to 63
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for a NULL @p sec or a number out of range
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_cap_drop_num(keel_security *sec, int cap, keel_error **err);

/**
 * Fine control: put a capability in, or take it out of, the named sets.
 * The sets must stay consistent for the kernel (effective, inheritable
 * and ambient within permitted, permitted within bounding, ambient within
 * inheritable: keel_security adds ambient capabilities to the inheritable
 * set itself); an inconsistency is reported when the plan is prepared.
 * @param sec the handle
 * @param sets one or more keel_capset bits
 * @param name a capability name, as for keel_security_cap_add()
 * @param on 1 to add, 0 to remove
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for a NULL argument, no or unknown set bits, or an
 *         unknown name
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_cap_set(keel_security *sec, unsigned int sets, const char *name, int on,
				      keel_error **err);

/**
 * Whether a capability is in one set of this description (not of any
 * process).
 * @param sec the handle
 * @param set exactly one keel_capset bit
 * @param name a capability name, as for keel_security_cap_add()
 * @param[out] err receives an error on failure (may be NULL)
 * @return 1 if present, 0 if not, -EINVAL for a bad argument
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_cap_get(const keel_security *sec, keel_capset set, const char *name,
				      keel_error **err);

/**
 * Empty all five capability sets: the process keeps no capability at all.
 * @param sec the handle (NULL is ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_security_caps_clear(keel_security *sec);

/**
 * Reset the capability sets to Docker's default set (see
 * keel_security_new()), inheritable and ambient empty.
 * @param sec the handle (NULL is ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_security_caps_set_default(keel_security *sec);

/**
 * Give every capability the running kernel knows, and the calling process
 * has in its own bounding set, to the bounding, permitted and effective
 * sets, as a "privileged" container has.
 * @param sec the handle (NULL is ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_security_caps_set_all(keel_security *sec);

/**
 * Keep capabilities across the change to a non-root user. Off by default:
 * a process started as uid 1000 then has empty effective and permitted sets
 * after execve. On, the effective set is also made ambient (and
 * inheritable), so the program keeps it under any uid.
 * @param sec the handle (NULL is ignored)
 * @param on 1 to keep, 0 not to
 * @since 1.0
 */
KEEL_PUBLIC void keel_security_set_keep_caps(keel_security *sec, int on);

/**
 * Set no_new_privs (on by default): execve can then never grant privileges
 * (setuid bits, file capabilities). With it off, loading a seccomp filter
 * needs CAP_SYS_ADMIN in the process's effective set at that point.
 * @param sec the handle (NULL is ignored)
 * @param on 1 to set it, 0 not to
 * @since 1.0
 */
KEEL_PUBLIC void keel_security_set_no_new_privs(keel_security *sec, int on);

/**
 * Set a resource limit for the process (setting it again replaces it).
 * @param sec the handle
 * @param resource an RLIMIT_* value from <sys/resource.h>
 * @param soft the soft limit, or KEEL_RLIMIT_INFINITY
 * @param hard the hard limit, or KEEL_RLIMIT_INFINITY; at least @p soft
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for an unknown resource or soft > hard, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_rlimit(keel_security *sec, int resource, unsigned long long soft,
					 unsigned long long hard, keel_error **err);

/**
 * Set the process's /proc/PID/oom_score_adj.
 * @param sec the handle
 * @param adj -1000 (never OOM-kill) to 1000 (kill first)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, or -EINVAL for a value out of range
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_oom_score_adj(keel_security *sec, int adj, keel_error **err);

/**
 * Set the hostname inside the container. The container must have a UTS
 * namespace of its own: otherwise the spawn fails with an error saying so,
 * instead of renaming the host.
 * @param sec the handle
 * @param name 1 to 64 characters of valid UTF-8, with no control
 *        character, space or '/' (checked since 1.1); copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for NULL, empty, too long or holding what @p name
 *         may not, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_hostname(keel_security *sec, const char *name, keel_error **err);

/**
 * Set the NIS domain name inside the container; like
 * keel_security_set_hostname().
 * @param sec the handle
 * @param name 1 to 64 characters of valid UTF-8, with no control
 *        character, space or '/' (checked since 1.1); copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for NULL, empty, too long or holding what @p name
 *         may not, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_domainname(keel_security *sec, const char *name, keel_error **err);

/**
 * Set a sysctl inside the container (setting one again replaces it). Only
 * namespaced sysctls are accepted, those that change the container's own
 * namespaces and not the host: net.* (network namespace), kernel.shm*,
 * kernel.msg*, kernel.sem and fs.mqueue.* (IPC namespace). At spawn, the
 * container must have that namespace of its own, or the spawn fails saying
 * so. Use keel_security_set_hostname() for kernel.hostname.
 * @param sec the handle
 * @param key the dotted name, "net.ipv4.ip_forward"; copied
 * @param value the value written to /proc/sys/...; copied
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for NULL, a malformed name or a sysctl that is not
 *         namespaced ("sysctl vm.swappiness is not namespaced; it would
 *         change the host"), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_sysctl(keel_security *sec, const char *key, const char *value,
					 keel_error **err);

/**
 * Use a seccomp filter. The filter is compiled to BPF here (once per
 * version of @p filter: attaching the same unchanged filter again reuses
 * the compiled program; libseccomp's program is rewritten into a smaller
 * one with the same verdicts, a binary search over ranges of system call
 * numbers, which the kernel installs faster) and @p sec keeps its own
 * copy of the program, so
 * @p filter may be changed or freed afterwards without affecting @p sec.
 * The filter is loaded in the container as the last step before execve.
 * If it has NOTIFY rules, the spawn hands the user-notification fd back.
 * @param sec the handle
 * @param filter the filter, or NULL to remove the one set before
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p sec, -ENOMEM, or the negative errno of a
 *         failed compilation
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_seccomp(keel_security *sec, keel_seccomp *filter, keel_error **err);

/**
 * Apply an AppArmor profile to the program at execve (the way
 * aa_change_onexec() does): the container's init, and what is exec'd into
 * the container with its settings, run confined by it. The host must have
 * AppArmor (see KEEL_FEATURE_APPARMOR); if it does not, the spawn fails
 * with KEEL_ERROR_UNSUPPORTED when the plan is prepared. The profile must be
 * loaded (apparmor_parser): where /sys/kernel/security/apparmor/profiles
 * can be read, a name it does not list fails the spawn (and a container's
 * create) before anything is made, with -ENOENT and KEEL_ERROR_NOT_FOUND
 * ("apparmor profile web: no such profile is loaded ..."); otherwise the
 * kernel's refusal comes back from the child with the same errno.
 * @param sec the handle
 * @param profile the profile name; copied; NULL removes it
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p sec or an empty or over-long name, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_apparmor_profile(keel_security *sec, const char *profile,
						   keel_error **err);

/**
 * Apply an SELinux label ("system_u:system_r:container_t:s0") to the program
 * at execve. The host must have SELinux (see KEEL_FEATURE_SELINUX); if it
 * does not, the spawn fails with KEEL_ERROR_UNSUPPORTED when the plan is
 * prepared.
 * @param sec the handle
 * @param label the label; copied; NULL removes it
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p sec or an empty or over-long label, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_security_set_selinux_label(keel_security *sec, const char *label, keel_error **err);

/* ------------------------------------------------------------- seccomp --- */

/**
 * Make an empty seccomp filter. It covers the native architecture and its
 * compat ones (x86 and x32 on x86_64, arm on aarch64), so a 32-bit system
 * call cannot slip past; a call from any other architecture kills the
 * thread.
 * @param[out] out receives the new filter; the caller frees it with
 *             keel_seccomp_free()
 * @param default_action what calls that match no rule do: a
 *                       keel_seccomp_action or KEEL_SECCOMP_ERRNO(e)
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p out or a bad action, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_new(keel_seccomp **out, uint32_t default_action, keel_error **err);

/**
 * Make the default profile, in the spirit of Docker's: calls fail with
 * EPERM unless they are on an allow list of what ordinary programs use. Not
 * allowed, among others: loading kernel modules, kexec, mount, umount2,
 * pivot_root, setns, unshare, clone with namespace flags (clone3 fails with
 * ENOSYS so libc falls back to clone), keyctl, add_key, request_key, bpf,
 * perf_event_open, userfaultfd, open_by_handle_at, ptrace,
 * process_vm_readv/writev, kcmp, swapon/swapoff, reboot, setting the clocks,
 * acct, quotactl, lookup_dcookie, vm86, iopl/ioperm, personality other than
 * the ordinary ones, sockets of family AF_VSOCK. Unlike Docker, ptrace
 * stays denied on every kernel; add an ALLOW rule to permit it.
 * @param[out] out receives the new filter; the caller frees it with
 *             keel_seccomp_free(); rules may still be added to it
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL @p out, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_new_default(keel_seccomp **out, keel_error **err);

/**
 * Free a filter.
 * @param filter the filter, or NULL (ignored)
 * @since 1.0
 */
KEEL_PUBLIC void keel_seccomp_free(keel_seccomp *filter);

/**
 * Add a rule: every call of @p syscall gets @p action. It replaces every
 * rule given before for that call (so a rule added to the default profile
 * wins over the profile's own). A rule whose action is the default action
 * is accepted and makes the call take the default action.
 * @param filter the filter
 * @param action a keel_seccomp_action or KEEL_SECCOMP_ERRNO(e)
 * @param syscall a system call name, "keyctl"; names that exist only on a
 *                covered compat architecture ("chown32") are accepted
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL argument, a bad action or an unknown name
 *         ("seccomp: unknown system call 'keytcl'"), -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_add_rule(keel_seccomp *filter, uint32_t action, const char *syscall,
				      keel_error **err);

/**
 * Add a rule that fails every call of @p syscall with @p errnum.
 * @param filter the filter
 * @param syscall a system call name
 * @param errnum the errno the call returns, 0 to 4095
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_seccomp_add_rule(); -EINVAL for @p errnum out of range
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_add_rule_errno(keel_seccomp *filter, const char *syscall, int errnum,
					    keel_error **err);

/**
 * Add a rule that applies only when one argument compares as given, for
 * example "clone with (flags & CLONE_NEWUSER) == CLONE_NEWUSER: EPERM".
 * Several rules with different comparisons for the same call act as "or";
 * a rule with the same comparison as an earlier one replaces it.
 * @param filter the filter
 * @param action a keel_seccomp_action or KEEL_SECCOMP_ERRNO(e)
 * @param syscall a system call name
 * @param arg_index which argument, 0 to 5
 * @param op the comparison
 * @param value the value to compare with
 * @param mask for KEEL_SECCOMP_CMP_MASKED_EQ, the mask applied to the
 *             argument first; ignored otherwise
 * @param[out] err receives an error on failure (may be NULL)
 * @return as keel_seccomp_add_rule(); -EINVAL for a bad index or operator
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_add_rule_arg(keel_seccomp *filter, uint32_t action, const char *syscall,
					  unsigned int arg_index, keel_seccomp_cmp op, uint64_t value,
					  uint64_t mask, keel_error **err);

/**
 * Cover one more architecture ("x86", "x32", "x86_64", "arm", "aarch64" ...
 * in libseccomp's names). Adding one already covered does nothing.
 * @param filter the filter
 * @param arch the architecture name
 * @param[out] err receives an error on failure (may be NULL)
 * @return 0, -EINVAL for a NULL argument or an unknown name, -ENOMEM
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_add_arch(keel_seccomp *filter, const char *arch, keel_error **err);

/**
 * Whether the filter has NOTIFY rules, so that a spawn with it hands back a
 * user-notification fd.
 * @param filter the filter
 * @return 1 or 0 (0 also for NULL)
 * @since 1.0
 */
KEEL_PUBLIC int keel_seccomp_has_notify(const keel_seccomp *filter);

KEEL_END_DECLS

#endif
