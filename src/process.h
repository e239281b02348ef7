/*
 * Private: the process description as spawn reads it.
 */
#ifndef KEEL_PRIV_PROCESS_H
#define KEEL_PRIV_PROCESS_H

#include <stddef.h>
#include <keel/process.h>
#include "util/str.h"

struct keel_process {
	char **argv;                 /* NULL-terminated copy */
	int clear_env;               /* start from an empty environment */
	char **set_env;              /* "NAME=value" entries, n_set of them */
	size_t n_set;
	size_t *env_index;           /* set_env by name: open addressing, slots hold */
	size_t env_index_cap;        /* index + 1 (0 empty), at most half full */
	char **unset_env;            /* names to drop from the inherited environment */
	size_t n_unset;
	char *cwd;
	int has_user;
	uid_t uid;
	gid_t gid;
	int has_groups;
	gid_t *groups;
	size_t n_groups;
	int has_umask;
	mode_t umask;
	unsigned preserve_fds;       /* keel_process_set_preserve_fds() */
	int has_stdio;
	int stdio[3];                /* caller's fds, -1 for /dev/null */
	int tty;
	const keel_security *security; /* borrowed */
};

/*
 * Build the environment the process starts with: the caller's (unless
 * cleared), minus unset names, with set names replaced or added.
 * *out is a malloc'd NULL-terminated array of malloc'd strings, freed with
 * keel_strv_free().
 */
int keel_process_build_env(const keel_process *p, char ***out, keel_error **err);

#endif
