/*
 * security: how much of root a container keeps.
 *
 * A keel_security describes, in the caller's words, the capabilities, the
 * seccomp filter, no_new_privs, rlimits, oom_score_adj, hostname and
 * namespaced sysctls of a container's process. It is applied in two halves
 * (the contract is in security.h):
 *
 *  - in the parent, keel_security_plan_prepare() turns it into a plan:
 *    capability names are already numbers in 64-bit masks (libcap-ng,
 *    opened at the first name lookup, is used only here), the seccomp filter is already BPF, sysctl names are
 *    /proc/sys paths, and every check that can be made early is made there;
 *  - in the child, the apply_* steps replay the plan with raw system calls
 *    only: prctl, capset, setrlimit, open/write, seccomp. Nothing in them
 *    allocates or calls a library that could, so they are safe between
 *    clone and execve in a multithreaded caller.
 *
 * Capabilities follow runc: the bounding set is dropped before the uid
 * change, capabilities are kept across it (PR_SET_KEEPCAPS, reset by
 * execve), then capset() installs permitted/effective/inheritable, the
 * ambient set is raised (only when asked: a non-root program otherwise ends
 * with empty sets at execve), no_new_privs is set, and the seccomp filter is
 * loaded as the very last step, so that it need not allow the set-up calls.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cap-ng.h>

#include "error.h"
#include "security.h"
#include "security-internal.h"
#include "security-seccomp.h"
#include "util/dl.h"
#include "util/fs.h"
#include "util/str.h"

#define NAME_MAX_UTS 64         /* __NEW_UTS_LEN */
#define LSM_LABEL_MAX 4000      /* well under a page, which /proc/self/attr takes */

/* The five sets, indexed by the bit position of their keel_capset value. */
enum { SET_BOUNDING, SET_PERMITTED, SET_EFFECTIVE, SET_INHERITABLE, SET_AMBIENT, N_SETS };

/* Docker's default capability set. */
static const int docker_default_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID,
	CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD, CAP_AUDIT_WRITE,
	CAP_SETFCAP,
};

struct sysctl {
	char *key, *value;
};

struct keel_security {
	uint64_t caps[N_SETS];
	bool keep_caps;
	bool no_new_privs;
	bool rlimit_set[RLIM_NLIMITS];
	unsigned long long rlimit_soft[RLIM_NLIMITS], rlimit_hard[RLIM_NLIMITS];
	bool has_oom;
	int oom_score_adj;
	char *hostname, *domainname;
	struct sysctl *sysctls;
	size_t n_sysctls;
	const struct sock_filter *bpf; /* the compiled filter: our own copy, or */
	bool bpf_static;               /* the library's precompiled default profile */
	size_t bpf_len;
	bool bpf_notify;
	char *apparmor, *selinux;
};

/* ----------------------------------------------------------- capabilities --- */

/*
 * Capability names are libcap-ng's, but libkeel does not link it: it is
 * opened the first time a name is translated (util/dl.h), so a program that
 * only uses the default set or numbers never maps it nor runs its
 * constructor (~0.2 MiB of keel-run's peak RSS). `capng` is filled once
 * under pthread_once and only read after: the one global state here.
 */
#define CAPNG_SONAME "libcap-ng.so.0"

static struct capng_api {
	typeof(&capng_name_to_capability) name_to_capability;
	typeof(&capng_capability_to_name) capability_to_name;
} capng;

static const struct keel_dl_sym capng_syms[] = {
	{ "capng_name_to_capability", offsetof(struct capng_api, name_to_capability) },
	{ "capng_capability_to_name", offsetof(struct capng_api, capability_to_name) },
};

KEEL_DL_ONCE(capng_lib, capng, { CAPNG_SONAME, capng_syms, KEEL_DL_N_OF(capng_syms) })

static bool capng_ready(void)
{
	return capng_lib_ready() == 0;
}

/* "NET_RAW", "cap_net_raw", "CAP_NET_RAW" -> 13; -1 if unknown. */
static int cap_from_name(const char *name)
{
	if (strncasecmp(name, "cap_", 4) == 0)
		name += 4;
	if (!*name)
		return -1;
	return capng.name_to_capability(name);
}

static int cap_lookup(const char *name, keel_error **err)
{
	int cap;

	if (!name)
		return keel_error_invalid(err, "capability: no name given");
	if (!capng_ready())
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, -capng_lib.status, "capability %s: %s", name,
					capng_lib.why);
	cap = cap_from_name(name);
	if (cap < 0 || cap > CAP_MAX_NUM)
		return keel_error_invalid(err, "unknown capability '%s'", name);
	return cap;
}

/* A capability's name for a message ("net_raw"), or its number when
 * libcap-ng does not know it or cannot be loaded. */
static const char *cap_name(int cap, char *buf, size_t len)
{
	const char *n = capng_ready() ? capng.capability_to_name((unsigned int)cap) : NULL;

	if (n)
		return n;
	snprintf(buf, len, "capability %d", cap);
	return buf;
}

/* The highest capability number the running kernel knows. It cannot
 * change while the kernel runs, so it is read once per process, not on
 * every container start. */
static pthread_once_t last_cap_once = PTHREAD_ONCE_INIT;
static int last_cap_value = CAP_LAST_CAP;

static void read_last_cap(void)
{
	unsigned long long last;
	char *s = NULL;

	if (keel_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &s, NULL, NULL) == 0 &&
	    keel_str_to_ull(s, NULL, &last) == 0 && last > 0 && last <= CAP_MAX_NUM)
		last_cap_value = (int)last;
	free(s);
}

static int kernel_last_cap(void)
{
	pthread_once(&last_cap_once, read_last_cap);
	return last_cap_value;
}

static void caps_update(keel_security *sec, unsigned int sets, int cap, bool on)
{
	int i;

	for (i = 0; i < N_SETS; i++) {
		if (!(sets & (1u << i)))
			continue;
		if (on)
			sec->caps[i] |= 1ULL << cap;
		else
			sec->caps[i] &= ~(1ULL << cap);
	}
}

#define SETS_ADD (KEEL_CAPSET_BOUNDING | KEEL_CAPSET_PERMITTED | KEEL_CAPSET_EFFECTIVE)

KEEL_PUBLIC int keel_security_cap_add_num(keel_security *sec, int cap, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "capability: no security handle");
	if (cap < 0 || cap > CAP_MAX_NUM)
		return keel_error_invalid(err, "capability number %d is out of range (0 to %d)", cap, CAP_MAX_NUM);
	caps_update(sec, SETS_ADD, cap, true);
	return 0;
}

KEEL_PUBLIC int keel_security_cap_drop_num(keel_security *sec, int cap, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "capability: no security handle");
	if (cap < 0 || cap > CAP_MAX_NUM)
		return keel_error_invalid(err, "capability number %d is out of range (0 to %d)", cap, CAP_MAX_NUM);
	caps_update(sec, KEEL_CAPSET_ALL, cap, false);
	return 0;
}

KEEL_PUBLIC int keel_security_cap_add(keel_security *sec, const char *name, keel_error **err)
{
	int cap = cap_lookup(name, err);

	return cap < 0 ? cap : keel_security_cap_add_num(sec, cap, err);
}

KEEL_PUBLIC int keel_security_cap_drop(keel_security *sec, const char *name, keel_error **err)
{
	int cap = cap_lookup(name, err);

	return cap < 0 ? cap : keel_security_cap_drop_num(sec, cap, err);
}

KEEL_PUBLIC int keel_security_cap_set(keel_security *sec, unsigned int sets, const char *name, int on,
				      keel_error **err)
{
	int cap;

	if (!sec)
		return keel_error_invalid(err, "capability: no security handle");
	if (!sets || (sets & ~(unsigned int)KEEL_CAPSET_ALL))
		return keel_error_invalid(err, "capability %s: invalid set bits 0x%x", name ? name : "(null)", sets);
	cap = cap_lookup(name, err);
	if (cap < 0)
		return cap;
	caps_update(sec, sets, cap, on != 0);
	return 0;
}

KEEL_PUBLIC int keel_security_cap_get(const keel_security *sec, keel_capset set, const char *name,
				      keel_error **err)
{
	int cap, i;

	if (!sec)
		return keel_error_invalid(err, "capability: no security handle");
	for (i = 0; i < N_SETS; i++)
		if ((unsigned int)set == 1u << i)
			break;
	if (i == N_SETS)
		return keel_error_invalid(err, "capability %s: %d is not one capability set", name ? name : "(null)",
					  (int)set);
	cap = cap_lookup(name, err);
	if (cap < 0)
		return cap;
	return (sec->caps[i] >> cap) & 1;
}

KEEL_PUBLIC void keel_security_caps_clear(keel_security *sec)
{
	if (sec)
		memset(sec->caps, 0, sizeof(sec->caps));
}

KEEL_PUBLIC void keel_security_caps_set_default(keel_security *sec)
{
	size_t i;

	if (!sec)
		return;
	keel_security_caps_clear(sec);
	for (i = 0; i < sizeof(docker_default_caps) / sizeof(docker_default_caps[0]); i++)
		caps_update(sec, SETS_ADD, docker_default_caps[i], true);
}

/* "All" is what the caller itself could pass on: a capability outside its
 * own bounding set could not be given to the child anyway. */
KEEL_PUBLIC void keel_security_caps_set_all(keel_security *sec)
{
	int cap, last = kernel_last_cap();

	if (!sec)
		return;
	for (cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			caps_update(sec, SETS_ADD, cap, true);
}

KEEL_PUBLIC void keel_security_set_keep_caps(keel_security *sec, int on)
{
	if (sec)
		sec->keep_caps = on != 0;
}

KEEL_PUBLIC void keel_security_set_no_new_privs(keel_security *sec, int on)
{
	if (sec)
		sec->no_new_privs = on != 0;
}

/* ------------------------------------------------------------ the handle --- */

KEEL_PUBLIC int keel_security_new(keel_security **out, keel_error **err)
{
	keel_security *sec;

	if (!out)
		return keel_error_invalid(err, "security: no place for the new handle (out is NULL)");
	sec = calloc(1, sizeof(*sec));
	if (!sec) {
		*out = NULL;
		return keel_error_sys(err, ENOMEM, "security: create");
	}
	keel_security_caps_set_default(sec);
	sec->no_new_privs = true;
	*out = sec;
	return 0;
}

/* Forget the compiled filter, freeing it if it is our copy. */
static void drop_bpf(keel_security *sec)
{
	if (!sec->bpf_static)
		free((void *)sec->bpf);
	sec->bpf = NULL;
	sec->bpf_static = false;
	sec->bpf_len = 0;
	sec->bpf_notify = false;
}

KEEL_PUBLIC void keel_security_free(keel_security *sec)
{
	size_t i;

	if (!sec)
		return;
	for (i = 0; i < sec->n_sysctls; i++) {
		free(sec->sysctls[i].key);
		free(sec->sysctls[i].value);
	}
	free(sec->sysctls);
	free(sec->hostname);
	free(sec->domainname);
	drop_bpf(sec);
	free(sec->apparmor);
	free(sec->selinux);
	free(sec);
}

/* ----------------------------------------------------- rlimits, oom, uts --- */

KEEL_PUBLIC int keel_security_set_rlimit(keel_security *sec, int resource, unsigned long long soft,
					 unsigned long long hard, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "rlimit: no security handle");
	if (resource < 0 || resource >= RLIM_NLIMITS)
		return keel_error_invalid(err, "rlimit: unknown resource %d (RLIMIT_* is 0 to %d)", resource,
					  RLIM_NLIMITS - 1);
	if (soft > hard)
		return keel_error_invalid(err, "rlimit %s: soft limit %llu is above the hard limit %llu",
					  rlimit_names[resource], soft, hard);
	sec->rlimit_set[resource] = true;
	sec->rlimit_soft[resource] = soft;
	sec->rlimit_hard[resource] = hard;
	return 0;
}

KEEL_PUBLIC int keel_security_set_oom_score_adj(keel_security *sec, int adj, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "oom_score_adj: no security handle");
	if (adj < -1000 || adj > 1000)
		return keel_error_invalid(err, "oom_score_adj %d is out of range (-1000 to 1000)", adj);
	sec->has_oom = true;
	sec->oom_score_adj = adj;
	return 0;
}

/* The length of the UTF-8 sequence at s (1-4), or 0 when it is not valid
 * UTF-8 (overlong forms, surrogates and code points above U+10FFFF too). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A host or domain name other programs can print and put in a path: valid
 * UTF-8 with no control character, no white space and no '/'. */
static const char *uts_name_problem(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n;

	while (*p) {
		if (*p < 0x20 || *p == 0x7f)
			return "a control character (a newline?)";
		if (*p == ' ')
			return "a space";
		if (*p == '/')
			return "a '/'";
		if (!(n = utf8_len(p)))
			return "bytes that are not UTF-8";
		p += n;
	}
	return NULL;
}

static int set_uts_name(char **slot, const char *what, const char *name, keel_error **err)
{
	const char *why;
	char *copy;

	if (!name || !*name || strlen(name) > NAME_MAX_UTS)
		return keel_error_invalid(err, "%s '%s': must be 1 to %d characters", what, name ? name : "(null)",
					  NAME_MAX_UTS);
	if ((why = uts_name_problem(name)))
		return keel_error_invalid(err, "%s: the name holds %s", what, why);
	copy = strdup(name);
	if (!copy)
		return keel_error_sys(err, ENOMEM, "%s %s", what, name);
	free(*slot);
	*slot = copy;
	return 0;
}

KEEL_PUBLIC int keel_security_set_hostname(keel_security *sec, const char *name, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "hostname: no security handle");
	return set_uts_name(&sec->hostname, "hostname", name, err);
}

KEEL_PUBLIC int keel_security_set_domainname(keel_security *sec, const char *name, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "domainname: no security handle");
	return set_uts_name(&sec->domainname, "domainname", name, err);
}

/* ---------------------------------------------------------------- sysctls --- */

/* Which namespace owns a sysctl, or -1 when it is not namespaced (and so
 * would change the host). */
static int sysctl_namespace(const char *key)
{
	if (strncmp(key, "net.", 4) == 0)
		return NS_NET;
	if (strncmp(key, "kernel.shm", 10) == 0 || strncmp(key, "kernel.msg", 10) == 0 ||
	    strcmp(key, "kernel.sem") == 0 || strncmp(key, "fs.mqueue.", 10) == 0)
		return NS_IPC;
	return -1;
}

static bool sysctl_key_wellformed(const char *key)
{
	const char *p;
	char prev = '.';

	for (p = key; *p; prev = *p++) {
		if (*p == '.' && prev == '.')
			return false;
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	}
	return p != key && prev != '.';
}

KEEL_PUBLIC int keel_security_set_sysctl(keel_security *sec, const char *key, const char *value,
					 keel_error **err)
{
	struct sysctl *list;
	char *k, *v;
	size_t i;

	if (!sec || !key || !value)
		return keel_error_invalid(err, "sysctl: security handle, name and value are required");
	if (!sysctl_key_wellformed(key))
		return keel_error_invalid(err, "sysctl '%s': not a sysctl name (like net.ipv4.ip_forward)", key);
	if (sysctl_namespace(key) < 0)
		return keel_error_invalid(err, "sysctl %s is not namespaced; it would change the host", key);
	v = strdup(value);
	if (!v)
		return keel_error_sys(err, ENOMEM, "sysctl %s", key);
	for (i = 0; i < sec->n_sysctls; i++) {
		if (strcmp(sec->sysctls[i].key, key) == 0) {
			free(sec->sysctls[i].value);
			sec->sysctls[i].value = v;
			return 0;
		}
	}
	k = strdup(key);
	list = realloc(sec->sysctls, (sec->n_sysctls + 1) * sizeof(*list));
	if (!k || !list) {
		free(k);
		free(v);
		if (list)
			sec->sysctls = list;
		return keel_error_sys(err, ENOMEM, "sysctl %s", key);
	}
	list[sec->n_sysctls].key = k;
	list[sec->n_sysctls].value = v;
	sec->sysctls = list;
	sec->n_sysctls++;
	return 0;
}

/* ---------------------------------------------------------- seccomp, LSM --- */

KEEL_PUBLIC int keel_security_set_seccomp(keel_security *sec, keel_seccomp *filter, keel_error **err)
{
	const struct sock_filter *prog;
	struct sock_filter *copy;
	size_t len;
	int ret;

	if (!sec)
		return keel_error_invalid(err, "seccomp: no security handle");
	if (!filter) {
		drop_bpf(sec);
		return 0;
	}
	ret = keel_seccomp_compile(filter, &prog, &len, err);
	if (ret < 0)
		return ret;
	if (len > BPF_MAXINSNS)
		return keel_error_set(err, KEEL_ERROR_INVALID, E2BIG,
				      "seccomp: the filter compiles to %zu instructions, more than the kernel's %d",
				      len, BPF_MAXINSNS);
	if (keel_seccomp_is_static(prog)) {
		/* constant data of the library: nothing to copy (3 KiB less
		 * per container handle) */
		drop_bpf(sec);
		sec->bpf = prog;
		sec->bpf_static = true;
	} else {
		copy = malloc(len * sizeof(*copy));
		if (!copy)
			return keel_error_sys(err, ENOMEM, "seccomp: attach the filter");
		memcpy(copy, prog, len * sizeof(*copy));
		drop_bpf(sec);
		sec->bpf = copy;
	}
	sec->bpf_len = len;
	sec->bpf_notify = keel_seccomp_has_notify(filter);
	return 0;
}

void keel_security_get_bpf(const keel_security *sec, const struct sock_filter **prog, size_t *len)
{
	*prog = sec ? sec->bpf : NULL;
	*len = sec && sec->bpf ? sec->bpf_len : 0;
}

int keel_security_set_bpf(keel_security *sec, const struct sock_filter *prog, size_t len, keel_error **err)
{
	struct sock_filter *copy;

	if (!sec || !prog || !len || len > BPF_MAXINSNS)
		return keel_error_invalid(err, "seccomp: a program of %zu instructions (1 to %d)", len, BPF_MAXINSNS);
	copy = malloc(len * sizeof(*copy));
	if (!copy)
		return keel_error_sys(err, ENOMEM, "seccomp: attach the filter");
	memcpy(copy, prog, len * sizeof(*copy));
	drop_bpf(sec);
	sec->bpf = copy;
	sec->bpf_len = len;
	return 0;
}

static int set_label(char **slot, const char *what, const char *label, keel_error **err)
{
	char *copy = NULL;

	if (label) {
		if (!*label || strlen(label) > LSM_LABEL_MAX || strchr(label, '\n'))
			return keel_error_invalid(err, "%s '%s': must be one line of 1 to %d characters", what, label,
						  LSM_LABEL_MAX);
		copy = strdup(label);
		if (!copy)
			return keel_error_sys(err, ENOMEM, "%s %s", what, label);
	}
	free(*slot);
	*slot = copy;
	return 0;
}

KEEL_PUBLIC int keel_security_set_apparmor_profile(keel_security *sec, const char *profile, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "apparmor profile: no security handle");
	return set_label(&sec->apparmor, "apparmor profile", profile, err);
}

KEEL_PUBLIC int keel_security_set_selinux_label(keel_security *sec, const char *label, keel_error **err)
{
	if (!sec)
		return keel_error_invalid(err, "selinux label: no security handle");
	return set_label(&sec->selinux, "selinux label", label, err);
}

/* ------------------------------------------------- the profile of execs --- */

/*
 * What a process exec'd into a container must share with its init, as
 * text, one "key=value" per line:
 *   caps=BOUNDING PERMITTED EFFECTIVE INHERITABLE AMBIENT   (hex masks)
 *   keep_caps=0|1  no_new_privs=0|1
 *   rlimit=RESOURCE SOFT HARD                               (repeated)
 *   apparmor=PROFILE  selinux=LABEL
 * Not the hostname, domain name or sysctls: they belong to namespaces the
 * exec joins, already set. Nor the seccomp program: the container keeps
 * it in a file of its own (keel_security_get_bpf()).
 */
char *keel_security_profile_format(const keel_security *sec)
{
	size_t cap = 512 + RLIM_NLIMITS * 64 + (sec->apparmor ? strlen(sec->apparmor) : 0) +
		     (sec->selinux ? strlen(sec->selinux) : 0);
	char *out = malloc(cap);
	size_t used;
	int r;

	if (!out)
		return NULL;
	used = (size_t)snprintf(out, cap, "caps=%llx %llx %llx %llx %llx\nkeep_caps=%d\nno_new_privs=%d\n",
				(unsigned long long)sec->caps[SET_BOUNDING], (unsigned long long)sec->caps[SET_PERMITTED],
				(unsigned long long)sec->caps[SET_EFFECTIVE],
				(unsigned long long)sec->caps[SET_INHERITABLE], (unsigned long long)sec->caps[SET_AMBIENT],
				sec->keep_caps, sec->no_new_privs);
	for (r = 0; r < RLIM_NLIMITS; r++)
		if (sec->rlimit_set[r])
			used += (size_t)snprintf(out + used, cap - used, "rlimit=%d %llu %llu\n", r, sec->rlimit_soft[r],
						 sec->rlimit_hard[r]);
	if (sec->apparmor)
		used += (size_t)snprintf(out + used, cap - used, "apparmor=%s\n", sec->apparmor);
	if (sec->selinux)
		snprintf(out + used, cap - used, "selinux=%s\n", sec->selinux);
	return out;
}

/* n unsigned numbers separated by one space, base 16 or 10, nothing after. */
static int parse_numbers(const char *v, int base, unsigned long long *out, int n)
{
	char *end;
	int i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)*v) || (base == 10 && !isdigit((unsigned char)*v)))
			return -1;
		errno = 0;
		out[i] = strtoull(v, &end, base);
		if (errno || end == v || *end != (i + 1 < n ? ' ' : '\0'))
			return -1;
		v = end + (i + 1 < n);
	}
	return 0;
}

static int parse_profile_line(keel_security *sec, const char *key, const char *v)
{
	unsigned long long n[N_SETS];
	int i;

	if (!strcmp(key, "caps")) {
		if (parse_numbers(v, 16, n, N_SETS) < 0)
			return -1;
		for (i = 0; i < N_SETS; i++)
			sec->caps[i] = n[i];
	} else if (!strcmp(key, "keep_caps") || !strcmp(key, "no_new_privs")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return -1;
		*(key[0] == 'k' ? &sec->keep_caps : &sec->no_new_privs) = v[0] == '1';
	} else if (!strcmp(key, "rlimit")) {
		if (parse_numbers(v, 10, n, 3) < 0 || n[0] >= RLIM_NLIMITS || n[1] > n[2])
			return -1;
		sec->rlimit_set[n[0]] = true;
		sec->rlimit_soft[n[0]] = n[1];
		sec->rlimit_hard[n[0]] = n[2];
	} else if (!strcmp(key, "apparmor") || !strcmp(key, "selinux")) {
		return set_label(key[0] == 'a' ? &sec->apparmor : &sec->selinux, key, v, NULL) < 0 ? -1 : 0;
	}
	return 0; /* an unknown key: a later version's, ignored */
}

int keel_security_profile_parse(keel_security *sec, const char *text, keel_error **err)
{
	const char *line = text, *eol;
	char buf[LSM_LABEL_MAX + 64], *eq;
	int lineno = 0;

	for (; *line; line = *eol ? eol + 1 : eol) {
		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		lineno++;
		if (eol == line)
			continue;
		if ((size_t)(eol - line) >= sizeof(buf))
			goto bad;
		memcpy(buf, line, (size_t)(eol - line));
		buf[eol - line] = '\0';
		if (!(eq = strchr(buf, '=')) || eq == buf)
			goto bad;
		*eq = '\0';
		if (parse_profile_line(sec, buf, eq + 1) < 0)
			goto bad;
	}
	return 0;
bad:
	return keel_error_sys(err, EIO, "security profile: line %d does not parse", lineno);
}

/* ================================================================ the plan === */

/* The plan's types are in security-internal.h; the child applies it in
 * src/child/security.c. */

void keel_security_plan_free(struct keel_security_plan *plan)
{
	size_t i;

	if (!plan)
		return;
	for (i = 0; i < plan->n_sysctls; i++) {
		free(plan->sysctls[i].path);
		free((char *)plan->sysctls[i].key);
		free((char *)plan->sysctls[i].value);
	}
	free(plan->sysctls);
	if (!plan->prog_static)
		free(plan->prog.filter);
	free(plan->lsm_value);
	free(plan->owned_hostname);
	free(plan->owned_domainname);
	free(plan);
}

static void ns_id_of(const char *path, struct ns_id *id)
{
	struct stat st;

	id->known = stat(path, &st) == 0;
	if (id->known) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
}

/* Check the capability sets against the kernel's rules (capset(2),
 * PR_CAP_AMBIENT_RAISE), so an inconsistent request fails here and not in
 * the child. */
static int prepare_caps(const keel_security *sec, struct keel_security_plan *plan, keel_error **err)
{
	static const char *const set_names[N_SETS] = { "bounding", "permitted", "effective", "inheritable",
						       "ambient" };
	uint64_t known, all = 0, bad;
	char num[24];
	int i;

	plan->last_cap = kernel_last_cap();
	known = plan->last_cap >= 63 ? ~0ULL : (1ULL << (plan->last_cap + 1)) - 1;
	plan->bounding = sec->caps[SET_BOUNDING];
	plan->permitted = sec->caps[SET_PERMITTED];
	plan->effective = sec->caps[SET_EFFECTIVE];
	plan->ambient = sec->caps[SET_AMBIENT];
	if (sec->keep_caps)
		plan->ambient |= plan->effective;
	/* The kernel raises an ambient capability only if it is inheritable. */
	plan->inheritable = sec->caps[SET_INHERITABLE] | plan->ambient;

	for (i = 0; i < N_SETS; i++)
		all |= sec->caps[i];
	if (all & ~known) {
		i = __builtin_ctzll(all & ~known);
		return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, EINVAL,
				      "capabilities: capability %d is not known to this kernel (its last is %d)", i,
				      plan->last_cap);
	}
#define SUBSET(a, b, an, bn)                                                                              \
	do {                                                                                              \
		bad = (a) & ~(b);                                                                         \
		if (bad)                                                                                  \
			return keel_error_invalid(err, "capabilities: %s is in the %s set but not in the %s set", \
						  cap_name(__builtin_ctzll(bad), num, sizeof(num)), an, bn); \
	} while (0)
	SUBSET(plan->effective, plan->permitted, set_names[SET_EFFECTIVE], set_names[SET_PERMITTED]);
	SUBSET(plan->permitted, plan->bounding, set_names[SET_PERMITTED], set_names[SET_BOUNDING]);
	SUBSET(plan->ambient, plan->permitted, set_names[SET_AMBIENT], set_names[SET_PERMITTED]);
	SUBSET(plan->inheritable, plan->bounding, set_names[SET_INHERITABLE], set_names[SET_BOUNDING]);
#undef SUBSET
	return 0;
}

static int prepare_sysctls(const keel_security *sec, struct keel_security_plan *plan, keel_error **err)
{
	size_t i;
	char *p;

	if (!sec->n_sysctls)
		return 0;
	plan->sysctls = calloc(sec->n_sysctls, sizeof(*plan->sysctls));
	if (!plan->sysctls)
		return keel_error_sys(err, ENOMEM, "sysctls");
	for (i = 0; i < sec->n_sysctls; i++) {
		struct plan_sysctl *ps = &plan->sysctls[plan->n_sysctls];

		ps->key = strdup(sec->sysctls[i].key);
		ps->value = strdup(sec->sysctls[i].value);
		ps->path = malloc(strlen("/proc/sys/") + strlen(sec->sysctls[i].key) + 1);
		plan->n_sysctls++;
		if (!ps->key || !ps->value || !ps->path)
			return keel_error_sys(err, ENOMEM, "sysctl %s", sec->sysctls[i].key);
		strcpy(ps->path, "/proc/sys/");
		strcat(ps->path, ps->key);
		for (p = ps->path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		ps->value_len = strlen(ps->value);
		ps->ns = sysctl_namespace(ps->key);
	}
	return 0;
}

/* Where the loaded AppArmor profiles are listed, one "NAME (MODE)" a line. */
#define APPARMOR_PROFILES "/sys/kernel/security/apparmor/profiles"

/* Is profile loaded? Asked in the parent, so that a name the kernel does not
 * know fails before anything is made, with a message that says what to do,
 * rather than as a bare ENOENT from the child's write to attr/exec. Where
 * the list cannot be read (securityfs not mounted) the child's write still
 * decides. */
static int apparmor_check_loaded(const char *profile, keel_error **err)
{
	char *list = NULL, *line;
	size_t n = strlen(profile);
	bool found = false;

	/* names the list does not show as they are written: the namespace's
	 * unconfined label, a profile in a policy namespace (":ns:name") and a
	 * stack ("a//&b"); the kernel judges those */
	if (!strcmp(profile, "unconfined") || strchr(profile, ':') || strchr(profile, '&'))
		return 0;
	if (keel_read_file_at(AT_FDCWD, APPARMOR_PROFILES, &list, NULL, NULL) < 0)
		return 0;
	for (line = list; line && !found;) {
		found = !strncmp(line, profile, n) && line[n] == ' ' && line[n + 1] == '(';
		if ((line = strchr(line, '\n')))
			line++;
	}
	free(list);
	if (found)
		return 0;
	return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENOENT,
			      "apparmor profile %s: no such profile is loaded (not in " APPARMOR_PROFILES
			      "; load it with apparmor_parser -r FILE)",
			      profile);
}

static int prepare_lsm(const keel_security *sec, struct keel_security_plan *plan, keel_error **err)
{
	char *enabled = NULL;
	bool on;
	int ret;

	if (sec->apparmor && sec->selinux)
		return keel_error_invalid(err, "security: both an AppArmor profile and an SELinux label are set");
	if (sec->apparmor) {
		on = keel_read_file_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", &enabled, NULL,
				       NULL) == 0 && enabled[0] == 'Y';
		free(enabled);
		if (!on)
			return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP,
					      "apparmor profile %s: AppArmor is not enabled on this host", sec->apparmor);
		if ((ret = apparmor_check_loaded(sec->apparmor, err)) < 0)
			return ret;
		plan->lsm_what = "apparmor profile";
		plan->lsm_name_off = 5;
		plan->lsm_path[0] = "/proc/thread-self/attr/apparmor/exec";
		plan->lsm_path[1] = "/proc/thread-self/attr/exec";
		/* the format libapparmor's aa_change_onexec() writes */
		plan->lsm_value = malloc(strlen(sec->apparmor) + 6);
		if (!plan->lsm_value)
			return keel_error_sys(err, ENOMEM, "apparmor profile %s", sec->apparmor);
		strcpy(plan->lsm_value, "exec ");
		strcat(plan->lsm_value, sec->apparmor);
	} else if (sec->selinux) {
		if (access("/sys/fs/selinux/enforce", F_OK) != 0)
			return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP,
					      "selinux label %s: SELinux is not enabled on this host", sec->selinux);
		plan->lsm_what = "selinux label";
		plan->lsm_path[0] = "/proc/thread-self/attr/exec";
		plan->lsm_value = strdup(sec->selinux);
		if (!plan->lsm_value)
			return keel_error_sys(err, ENOMEM, "selinux label %s", sec->selinux);
	} else {
		return 0;
	}
	plan->lsm_len = strlen(plan->lsm_value);
	return 0;
}

static int prepare_uts(const keel_security *sec, struct keel_security_plan *plan, keel_error **err)
{
	if (sec->hostname) {
		plan->owned_hostname = strdup(sec->hostname);
		if (!plan->owned_hostname)
			return keel_error_sys(err, ENOMEM, "hostname %s", sec->hostname);
		plan->hostname = plan->owned_hostname;
		plan->hostname_len = strlen(plan->hostname);
	}
	if (sec->domainname) {
		plan->owned_domainname = strdup(sec->domainname);
		if (!plan->owned_domainname)
			return keel_error_sys(err, ENOMEM, "domainname %s", sec->domainname);
		plan->domainname = plan->owned_domainname;
		plan->domainname_len = strlen(plan->domainname);
	}
	return 0;
}

int keel_security_plan_prepare(const keel_security *sec, struct keel_security_plan **out, keel_error **err)
{
	struct keel_security_plan *plan;
	int i, ret;

	if (!out)
		return keel_error_invalid(err, "security: no place for the plan");
	*out = NULL;
	if (!sec)
		return keel_error_invalid(err, "security: no security handle");
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return keel_error_sys(err, ENOMEM, "security: prepare");

	/* Who we are now, so the child can tell whether it has a namespace of
	 * its own before it changes a host-wide setting (only looked up for
	 * the settings that are there). */
	if (sec->hostname || sec->domainname)
		ns_id_of("/proc/self/ns/uts", &plan->parent_uts);
	for (i = 0; i < N_NS && sec->n_sysctls > 0; i++)
		ns_id_of(ns_files[i], &plan->parent_ns[i]);

	ret = prepare_caps(sec, plan, err);
	if (ret >= 0)
		ret = prepare_uts(sec, plan, err);
	if (ret >= 0)
		ret = prepare_sysctls(sec, plan, err);
	if (ret >= 0)
		ret = prepare_lsm(sec, plan, err);
	if (ret < 0)
		goto fail;

	for (i = 0; i < RLIM_NLIMITS; i++) {
		struct plan_rlimit *r;

		if (!sec->rlimit_set[i])
			continue;
		r = &plan->rlimits[plan->n_rlimits++];
		r->resource = i;
		r->lim.rlim_cur = sec->rlimit_soft[i] == KEEL_RLIMIT_INFINITY ? RLIM_INFINITY : sec->rlimit_soft[i];
		r->lim.rlim_max = sec->rlimit_hard[i] == KEEL_RLIMIT_INFINITY ? RLIM_INFINITY : sec->rlimit_hard[i];
	}
	if (sec->has_oom) {
		char num[24];

		plan->has_oom = true;
		plan->oom_str[0] = '\0';
		if (sec->oom_score_adj < 0)
			keel_strlcat(plan->oom_str, "-", sizeof(plan->oom_str));
		keel_strlcat(plan->oom_str, keel_utoa((unsigned long long)abs(sec->oom_score_adj), num),
			     sizeof(plan->oom_str));
		plan->oom_len = strlen(plan->oom_str);
	}

	plan->no_new_privs = sec->no_new_privs;
	if (sec->bpf) {
		if (sec->bpf_static) {
			/* seccomp(2) only reads it */
			plan->prog.filter = (struct sock_filter *)sec->bpf;
			plan->prog_static = true;
		} else {
			plan->prog.filter = malloc(sec->bpf_len * sizeof(*sec->bpf));
			if (!plan->prog.filter) {
				ret = keel_error_sys(err, ENOMEM, "seccomp: prepare");
				goto fail;
			}
			memcpy(plan->prog.filter, sec->bpf, sec->bpf_len * sizeof(*sec->bpf));
		}
		plan->prog.len = (unsigned short)sec->bpf_len;
		plan->notify = sec->bpf_notify;
	}
	*out = plan;
	return 0;
fail:
	keel_security_plan_free(plan);
	return ret;
}
