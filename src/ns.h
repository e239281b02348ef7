/*
 * Private: the namespace description as spawn reads it.
 *
 * A keel_ns only records what the caller asked for; spawn turns it into
 * clone flags, setns calls, id-map strings and a timens_offsets string
 * before the clone (see src/spawn.c).
 */
#ifndef KEEL_PRIV_NS_H
#define KEEL_PRIV_NS_H

#include <keel/ns.h>

#define KEEL_NS_NTYPES 8
#define KEEL_NS_MAX_MAPS 340 /* the kernel's limit on uid_map lines */

struct keel_idmap {
	unsigned inside, outside, count;
};

struct keel_ns {
	unsigned create;                  /* keel_ns_type flags to make new */
	int join_fd[KEEL_NS_NTYPES];      /* by type index; -1 when not joined */
	struct keel_idmap *uid_maps, *gid_maps;
	size_t n_uid_maps, n_gid_maps;
	int has_time_offsets;
	long long mono_sec, boot_sec;
	long mono_nsec, boot_nsec;
};

/* Index 0..7 of a single keel_ns_type flag, -1 for anything else. */
int keel_ns_index(unsigned type);

/* The kernel's CLONE_NEW* value for a set of keel_ns_type flags. */
unsigned long keel_ns_clone_flags(unsigned flags);

#endif
