/*
 * Private: what the files of cgroup share.
 *
 *   cgroup.c            lifecycle: create, open, free, path, name, fd
 *   cgroup-discovery.c  where cgroup2 is mounted (and its cache), the
 *                       default parent
 *   cgroup-limits.c     controllers and their delegation, reading and
 *                       writing interface files, typed limits, add_pid
 *   cgroup-stats.c      typed stats, cgroup.events, waiting on it, the
 *                       events fd
 *   cgroup-control.c    freeze and thaw, kill, remove
 *   cgroup-utils.c      messages and parsing of interface files
 */
#ifndef KEEL_PRIV_CGROUP_INTERNAL_H
#define KEEL_PRIV_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keel/cgroup.h>

#include "cgroup.h"
#include "error.h"

/* How long remove and kill wait for exiting processes to leave. */
#define WAIT_EMPTY_MS 10000

struct keel_cgroup {
	char *mount;            /* where cgroup2 is mounted */
	char *path;             /* absolute path of this cgroup */
	char *name;             /* path relative to the mount, "/" for the root */
	int dirfd;              /* O_DIRECTORY on path */
	int events_fd;          /* inotify for keel_cgroup_events_fd(), or -1 */
	int wd_memory;          /* its watch on memory.events, or -1 */
	int last_populated;     /* state at the last keel_cgroup_events_read() */
	int last_frozen;
	uint64_t last_oom;
	uint64_t last_oom_kill;
};

/* Controllers whose interface files are named "<controller>.<key>". */
static const char *const known_controllers[] = {
	"cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc", NULL
};

/* What cgroup.events (and memory.events, for oom) say (cgroup-stats.c). */
struct cg_state {
	int populated, frozen;
	uint64_t oom, oom_kill;
};

enum cg_wait_for { WAIT_FROZEN, WAIT_THAWED, WAIT_EMPTY };

/* Functions one file defines for the others. */

/* cgroup-discovery.c */
int default_parent(const char *mount, char **out, keel_error **err);

/* cgroup-limits.c */
int get_field(keel_cgroup *cg, const char *key, const char *field, uint64_t *out, keel_error **err);
int get_u64_key(keel_cgroup *cg, const char *key, uint64_t *out, int allow_max, keel_error **err);
int read_at(int dirfd, const char *path, char **out);
int read_device_value(keel_cgroup *cg, const char *file, unsigned major, unsigned minor, const char *key,
		      uint64_t fallback, int (*parse)(const char *, uint64_t *), uint64_t *value, keel_error **err);

/* cgroup-stats.c */
int64_t now_ms(void);
int read_events(keel_cgroup *cg, struct cg_state *st, keel_error **err);
void refresh_watches(keel_cgroup *cg);
int wait_events(keel_cgroup *cg, enum cg_wait_for want, int timeout_ms, keel_error **err);

/* cgroup-utils.c */
int KEEL_PRINTF(4, 5) cg_sys(const keel_cgroup *cg, keel_error **err, int errnum, const char *fmt, ...);
int KEEL_PRINTF(5, 6) cg_plain(const keel_cgroup *cg, keel_error **err, int code, int errnum,
		const char *fmt, ...);
void chomp(char *s);
const char *find_line(const char *text, const char *key);
const char *find_word_value(const char *line, const char *key);
void format_limit(uint64_t v, char *buf, size_t size);
int has_word(const char *list, const char *word);
const char *key_controller(const char *key);
int parse_int(const char *s);
int parse_limit(const char *s, uint64_t *out);
int parse_u64(const char *s, uint64_t *out);
int valid_key(const char *key);

#endif
