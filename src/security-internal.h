/*
 * Private: the security plan as both sides see it (src/security.c makes
 * it in the parent, src/child/security.c applies it in the child).
 */
#ifndef KEEL_PRIV_SECURITY_INTERNAL_H
#define KEEL_PRIV_SECURITY_INTERNAL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "security.h"

#define CAP_MAX_NUM 63          /* the masks are 64 bits wide */

/* Which namespace makes a sysctl the container's own. */
enum ns_kind { NS_NET, NS_IPC, N_NS };
static const char *const ns_files[N_NS] = { "/proc/self/ns/net", "/proc/self/ns/ipc" };
static const char *const ns_words[N_NS] = { "network", "IPC" };

struct plan_sysctl {
	const char *key;        /* for messages */
	char *path;             /* /proc/sys/net/ipv4/ip_forward */
	const char *value;
	size_t value_len;
	int ns;                 /* enum ns_kind */
};

struct plan_rlimit {
	int resource;
	struct rlimit lim;
};

struct ns_id {
	dev_t dev;
	ino_t ino;
	bool known;
};

struct keel_security_plan {
	/* apply_early */
	const char *hostname, *domainname;
	size_t hostname_len, domainname_len;
	struct ns_id parent_uts;
	struct ns_id parent_ns[N_NS];
	struct plan_sysctl *sysctls;
	size_t n_sysctls;
	struct plan_rlimit rlimits[RLIM_NLIMITS];
	size_t n_rlimits;
	bool has_oom;
	char oom_str[16];
	size_t oom_len;
	/* apply_pre_user */
	int last_cap;
	uint64_t bounding;
	/* apply_late */
	uint64_t permitted, effective, inheritable, ambient;
	bool no_new_privs;
	struct sock_fprog prog;   /* filter NULL when there is no seccomp */
	bool prog_static;         /* filter is the library's constant, not ours */
	bool notify;
	const char *lsm_path[2];  /* candidates, the first that exists is used */
	char *lsm_value;
	size_t lsm_len;
	const char *lsm_what;
	size_t lsm_name_off;      /* where the name starts in lsm_value (after "exec ") */
	/* the strings above point into copies owned here */
	char *owned_hostname, *owned_domainname;
};

/* The RLIMIT_* names, by number (src/child/security.c, for both sides). */
extern const char *const rlimit_names[RLIM_NLIMITS];

#endif
