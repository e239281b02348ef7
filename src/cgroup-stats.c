/*
 * cgroup: typed stats, the state in cgroup.events and waiting on it, and
 * the events fd.
 * See cgroup.c for the whole subsystem.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/syscall.h>

#include <keel/cgroup.h>

#include "cgroup-internal.h"
#include "error.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/syscall.h"

/* ---------------------------------------------------------------- stats -- */

KEEL_PUBLIC int keel_cgroup_get_memory_current(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.current", bytes, 0, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_peak(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.peak", bytes, 0, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_stat(keel_cgroup *cg, const char *field, uint64_t *value,
					    keel_error **err)
{
	return get_field(cg, "memory.stat", field, value, err);
}

static const char *memory_event_name(keel_cgroup_memory_event which)
{
	switch (which) {
	case KEEL_CGROUP_MEMORY_EVENT_LOW: return "low";
	case KEEL_CGROUP_MEMORY_EVENT_HIGH: return "high";
	case KEEL_CGROUP_MEMORY_EVENT_MAX: return "max";
	case KEEL_CGROUP_MEMORY_EVENT_OOM: return "oom";
	case KEEL_CGROUP_MEMORY_EVENT_OOM_KILL: return "oom_kill";
	case KEEL_CGROUP_MEMORY_EVENT_OOM_GROUP_KILL: return "oom_group_kill";
	}
	return NULL;
}

KEEL_PUBLIC int keel_cgroup_get_memory_event(keel_cgroup *cg, keel_cgroup_memory_event which,
					     uint64_t *value, keel_error **err)
{
	const char *name = memory_event_name(which);

	if (!name)
		return keel_error_invalid(err, "cgroup: read memory.events: unknown counter %d", (int)which);
	return get_field(cg, "memory.events", name, value, err);
}

static const char *cpu_stat_name(keel_cgroup_cpu_stat which)
{
	switch (which) {
	case KEEL_CGROUP_CPU_USAGE_USEC: return "usage_usec";
	case KEEL_CGROUP_CPU_USER_USEC: return "user_usec";
	case KEEL_CGROUP_CPU_SYSTEM_USEC: return "system_usec";
	case KEEL_CGROUP_CPU_NR_PERIODS: return "nr_periods";
	case KEEL_CGROUP_CPU_NR_THROTTLED: return "nr_throttled";
	case KEEL_CGROUP_CPU_THROTTLED_USEC: return "throttled_usec";
	}
	return NULL;
}

KEEL_PUBLIC int keel_cgroup_get_cpu_stat(keel_cgroup *cg, keel_cgroup_cpu_stat which,
					 uint64_t *value, keel_error **err)
{
	const char *name = cpu_stat_name(which);

	if (!name)
		return keel_error_invalid(err, "cgroup: read cpu.stat: unknown field %d", (int)which);
	return get_field(cg, "cpu.stat", name, value, err);
}

KEEL_PUBLIC int keel_cgroup_get_pids_current(keel_cgroup *cg, uint64_t *count, keel_error **err)
{
	return get_u64_key(cg, "pids.current", count, 0, err);
}

static const char *io_stat_name(keel_cgroup_io_stat which)
{
	switch (which) {
	case KEEL_CGROUP_IO_STAT_RBYTES: return "rbytes";
	case KEEL_CGROUP_IO_STAT_WBYTES: return "wbytes";
	case KEEL_CGROUP_IO_STAT_RIOS: return "rios";
	case KEEL_CGROUP_IO_STAT_WIOS: return "wios";
	case KEEL_CGROUP_IO_STAT_DBYTES: return "dbytes";
	case KEEL_CGROUP_IO_STAT_DIOS: return "dios";
	}
	return NULL;
}

KEEL_PUBLIC int keel_cgroup_get_io_stat(keel_cgroup *cg, unsigned major, unsigned minor,
					keel_cgroup_io_stat which, uint64_t *value, keel_error **err)
{
	const char *name = io_stat_name(which);

	if (!cg || !value)
		return keel_error_invalid(err, "cgroup: read io.stat: no cgroup or no place for the result");
	if (!name)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "read io.stat: unknown counter %d", (int)which);
	/* no line: nothing was accounted to the device yet */
	return read_device_value(cg, "io.stat", major, minor, name, 0, parse_u64, value, err);
}

/* --------------------------------------------------- cgroup.events state -- */


/* Read cgroup.events, and memory.events when oom counts are wanted (only
 * the events API wants them: a state check need not look for a file that
 * exists only with a memory limit). */
static int read_events_oom(keel_cgroup *cg, struct cg_state *st, int oom, keel_error **err)
{
	const char *v;
	char *text = NULL;
	int ret;

	ret = read_at(cg->dirfd, "cgroup.events", &text);
	if (ret < 0)
		return cg_sys(cg, err, -ret, "read cgroup.events");
	v = find_line(text, "populated");
	st->populated = v ? parse_int(v) : 0;
	v = find_line(text, "frozen");
	st->frozen = v ? parse_int(v) : 0;
	free(text);
	st->oom = st->oom_kill = 0;
	if (oom && read_at(cg->dirfd, "memory.events", &text) == 0) {
		if ((v = find_line(text, "oom")))
			parse_u64(v, &st->oom);
		if ((v = find_line(text, "oom_kill")))
			parse_u64(v, &st->oom_kill);
		free(text);
	}
	return 0;
}

int read_events(keel_cgroup *cg, struct cg_state *st, keel_error **err)
{
	return read_events_oom(cg, st, 0, err);
}

KEEL_PUBLIC int keel_cgroup_is_populated(keel_cgroup *cg, int *populated, keel_error **err)
{
	struct cg_state st;
	int ret;

	if (!cg || !populated)
		return keel_error_invalid(err, "cgroup: populated: no cgroup or no place for the result");
	ret = read_events(cg, &st, err);
	if (ret == 0)
		*populated = st.populated;
	return ret;
}

KEEL_PUBLIC int keel_cgroup_is_frozen(keel_cgroup *cg, int *frozen, keel_error **err)
{
	struct cg_state st;
	int ret;

	if (!cg || !frozen)
		return keel_error_invalid(err, "cgroup: frozen: no cgroup or no place for the result");
	ret = read_events(cg, &st, err);
	if (ret == 0)
		*frozen = st.frozen;
	return ret;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}


static int reached(const struct cg_state *st, enum cg_wait_for want)
{
	return (want == WAIT_FROZEN && st->frozen) || (want == WAIT_THAWED && !st->frozen) ||
	       (want == WAIT_EMPTY && !st->populated);
}

/*
 * Wait until cgroup.events shows the state wanted, watching it with
 * inotify so that no change is missed between a read and the sleep.
 * Returns 0, -ETIMEDOUT, or a negative errno (with err filled).
 */
int wait_events(keel_cgroup *cg, enum cg_wait_for want, int timeout_ms, keel_error **err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char file[PATH_MAX];
	struct cg_state st;
	int fd, ret;

	/* Already there (the common case: removing the cgroup of an init that
	 * was reaped): no watch. Closing an inotify instance waits for an
	 * SRCU grace period in the kernel, 10-20 ms on a busy machine, far
	 * more than the rest of a container start. */
	ret = read_events(cg, &st, err);
	if (ret < 0)
		return ret;
	if (reached(&st, want))
		return 0;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return cg_sys(cg, err, errno, "watch cgroup.events");
	snprintf(file, sizeof(file), "%s/cgroup.events", cg->path);
	if (inotify_add_watch(fd, file, IN_MODIFY) < 0) {
		ret = cg_sys(cg, err, errno, "watch %s", file);
		close(fd);
		return ret;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms;

		ret = read_events(cg, &st, err);
		if (ret < 0)
			break;
		if (reached(&st, want))
			break;
		if (deadline >= 0 && now_ms() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		wait_ms = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (deadline >= 0 && wait_ms < 0)
			wait_ms = 0;
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
			ret = cg_sys(cg, err, errno, "wait for cgroup.events");
			break;
		}
		drain(fd);
	}
	close(fd);
	return ret;
}

/* --------------------------------------------------------------- events -- */

/* Watch memory.events as soon as it exists (a memory limit enables it). */
void refresh_watches(keel_cgroup *cg)
{
	char file[PATH_MAX];

	if (cg->events_fd < 0 || cg->wd_memory >= 0)
		return;
	snprintf(file, sizeof(file), "%s/memory.events", cg->path);
	cg->wd_memory = inotify_add_watch(cg->events_fd, file, IN_MODIFY);
}

KEEL_PUBLIC int keel_cgroup_events_fd(keel_cgroup *cg, keel_error **err)
{
	struct cg_state st;
	char file[PATH_MAX];
	int fd, ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: events: no cgroup given");
	if (cg->events_fd >= 0)
		return cg->events_fd;
	ret = read_events(cg, &st, err);
	if (ret < 0)
		return ret;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return cg_sys(cg, err, errno, "events: inotify");
	snprintf(file, sizeof(file), "%s/cgroup.events", cg->path);
	if (inotify_add_watch(fd, file, IN_MODIFY) < 0) {
		ret = cg_sys(cg, err, errno, "events: watch %s", file);
		close(fd);
		return ret;
	}
	cg->events_fd = fd;
	cg->wd_memory = -1;
	refresh_watches(cg);
	/* the baseline is read again now that the watches are in place, so a
	 * change between the two reads is reported, not lost */
	if (read_events_oom(cg, &st, 1, NULL) == 0) {
		cg->last_populated = st.populated;
		cg->last_frozen = st.frozen;
		cg->last_oom = st.oom;
		cg->last_oom_kill = st.oom_kill;
	}
	return fd;
}

KEEL_PUBLIC int keel_cgroup_events_read(keel_cgroup *cg, unsigned *what, keel_error **err)
{
	struct cg_state st;
	unsigned bits = 0;
	int ret;

	if (!cg || !what)
		return keel_error_invalid(err, "cgroup: events: no cgroup or no place for the result");
	if (cg->events_fd < 0)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"events: no events fd yet (call keel_cgroup_events_fd first)");
	drain(cg->events_fd);
	refresh_watches(cg);
	ret = read_events_oom(cg, &st, 1, err);
	if (ret < 0)
		return ret;
	if (st.populated != cg->last_populated)
		bits |= KEEL_CGROUP_EVENT_POPULATED;
	if (st.frozen != cg->last_frozen)
		bits |= KEEL_CGROUP_EVENT_FROZEN;
	if (st.oom > cg->last_oom)
		bits |= KEEL_CGROUP_EVENT_OOM;
	if (st.oom_kill > cg->last_oom_kill)
		bits |= KEEL_CGROUP_EVENT_OOM_KILL;
	cg->last_populated = st.populated;
	cg->last_frozen = st.frozen;
	cg->last_oom = st.oom;
	cg->last_oom_kill = st.oom_kill;
	*what = bits;
	return 0;
}
