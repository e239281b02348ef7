/*
 * keel-run without root; see rootless.h.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootless.h"

/* Is an executable named name in $PATH? (what libkeel's spawn runs) */
static int in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	char file[PATH_MAX];

	for (p = path && *path ? path : "/usr/bin:/bin"; *p; p = colon + 1) {
		colon = strchr(p, ':');
		if (!colon)
			colon = p + strlen(p);
		snprintf(file, sizeof(file), "%.*s/%s", (int)(colon - p), p, name);
		if (colon > p && access(file, X_OK) == 0)
			return 1;
		if (!*colon)
			break;
	}
	return 0;
}

/*
 * The first range of user name (or of its uid written as a number) in an
 * /etc/subuid-format file: "name:start:count" lines. 1 with *start and
 * *count when found, 0 when not (no file, no line, a bad line).
 */
static int sub_range(const char *file, const char *name, unsigned id, unsigned *start, unsigned *count)
{
	char line[512], num[16], *first, *second, *end;
	unsigned long s, n;
	FILE *f = fopen(file, "re");
	int found = 0;

	if (!f)
		return 0;
	snprintf(num, sizeof(num), "%u", id);
	while (!found && fgets(line, sizeof(line), f)) {
		if (!(first = strchr(line, ':')) || !(second = strchr(first + 1, ':')))
			continue;
		*first = *second = '\0';
		if (strcmp(line, num) && (!name || strcmp(line, name)))
			continue;
		errno = 0;
		s = strtoul(first + 1, &end, 10);
		if (errno || end == first + 1 || *end)
			continue;
		n = strtoul(second + 1, &end, 10);
		if (errno || end == second + 1 || (*end && *end != '\n') || n == 0 || s > UINT_MAX ||
		    n > UINT_MAX - s)
			continue;
		*start = (unsigned)s;
		*count = (unsigned)n;
		found = 1;
	}
	fclose(f);
	return found;
}

/* The subordinate range to map after id 0, or 0 with a note saying why
 * there is none. The caller's own id must not lie in it (the kernel
 * refuses maps whose outside ranges overlap). */
static int pick_range(const char *prog, const char *file, const char *what, const char *name, unsigned me,
		      int quiet, unsigned *start, unsigned *count)
{
	if (!sub_range(file, name, me, start, count)) {
		if (!quiet)
			fprintf(stderr, "%s: note: no %s range for user %s: only %s %u is mapped (root in the container); "
			"add a line such as %s:100000:65536 to /etc/subuid and /etc/subgid for more\n",
			prog, file, name ? name : "(no name)", what, me, name ? name : "UID");
		return 0;
	}
	if (me >= *start && me - *start < *count) {
		fprintf(stderr, "%s: note: the %s range %u-%u of user %s holds %s %u itself: only %s %u is mapped\n",
			prog, file, *start, *start + *count - 1, name ? name : "(no name)", what, me, what, me);
		return 0;
	}
	return 1;
}

/* Are the subordinate ranges usable at all? Root writes any map itself;
 * anyone else needs the setuid helpers of the uidmap package. */
static int helpers_usable(const char *prog, unsigned me)
{
	if (geteuid() == 0 || (in_path("newuidmap") && in_path("newgidmap")))
		return 1;
	fprintf(stderr, "%s: note: newuidmap and newgidmap are not installed (package uidmap, shadow-utils): "
		"only uid %u is mapped (root in the container)\n", prog, me);
	return 0;
}

int kx_userns_configure(keel_container *c, const char *prog, keel_error **err)
{
	keel_ns *ns = keel_container_ns(c);
	struct passwd *pw = getpwuid(geteuid());
	const char *name = pw ? pw->pw_name : NULL;
	unsigned uid = (unsigned)geteuid(), gid = (unsigned)getegid(), start, count;
	int ret, uid_range;

	if ((ret = keel_container_set_namespaces(c, KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_UTS | KEEL_NS_IPC |
						 KEEL_NS_NET | KEEL_NS_CGROUP | KEEL_NS_USER, err)) < 0)
		return ret;
	if ((ret = keel_ns_add_uid_map(ns, 0, uid, 1, err)) < 0 || (ret = keel_ns_add_gid_map(ns, 0, gid, 1, err)) < 0)
		return ret;
	if (!helpers_usable(prog, uid))
		return 0;
	/* one note when both files lack the user: the first says it all */
	uid_range = pick_range(prog, "/etc/subuid", "uid", name, uid, 0, &start, &count);
	if (uid_range && (ret = keel_ns_add_uid_map(ns, 1, start, count, err)) < 0)
		return ret;
	if (pick_range(prog, "/etc/subgid", "gid", name, gid, !uid_range, &start, &count) &&
	    (ret = keel_ns_add_gid_map(ns, 1, start, count, err)) < 0)
		return ret;
	return 0;
}

/* Do we own the cgroup directory dir, and may we move processes through
 * it (its cgroup.procs)? That is what delegation gives (cgroups(7)). */
static int delegated(const char *dir)
{
	char procs[PATH_MAX];
	struct stat sb;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	return stat(dir, &sb) == 0 && sb.st_uid == geteuid() && access(dir, W_OK) == 0 &&
	       access(procs, W_OK) == 0;
}

/* Our own cgroup2 directory (the 0:: line of /proc/self/cgroup under the
 * mount); 1 when it is the root of the hierarchy, 0 for any other, -1
 * when there is none to find. */
static int own_cgroup(char *buf, size_t size)
{
	char line[PATH_MAX], *mount = NULL;
	FILE *f;
	int ret = -1;

	if (keel_cgroup_mount_path(&mount, NULL) < 0)
		return -1;
	if ((f = fopen("/proc/self/cgroup", "re"))) {
		while (ret < 0 && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "0::/", 4))
				continue;
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, size, "%s%s", mount, strcmp(line + 3, "/") ? line + 3 : "");
			ret = strcmp(line + 3, "/") == 0;
		}
		fclose(f);
	}
	free(mount);
	return ret;
}

int kx_rootless_cgroup(keel_container *c, const char *prog, int want_limits, keel_error **err)
{
	char self[PATH_MAX], parent[PATH_MAX], *slash;
	int where = own_cgroup(self, sizeof(self));

	if (where >= 0) {
		snprintf(parent, sizeof(parent), "%s", self);
		if ((slash = strrchr(parent, '/')))
			*slash = '\0';
		/* as root would: keel/<id> beside our own cgroup (or in the
		 * root, when we are in it: the library's default parent) */
		if (delegated(where ? self : parent))
			return 0;
		/* a delegated leaf: <id> inside it (no controllers for it
		 * while we are in it too, see cgroups(7)) */
		if (delegated(self))
			return keel_container_set_cgroup_parent(c, self, err);
	} else {
		snprintf(self, sizeof(self), "(no cgroup2 mount)");
	}
	if (want_limits) {
		fprintf(stderr, "%s: --memory, --pids and --cpus need a cgroup delegated to uid %u, and this "
			"process's cgroup %s is not (a cgroup2 directory the user owns, e.g. from systemd's "
			"Delegate=yes or a chown by root)\n", prog, (unsigned)geteuid(), self);
		return -1;
	}
	fprintf(stderr, "%s: note: no cgroup delegated to uid %u (this process's cgroup %s, and the one "
		"above it, are not that uid's): the container gets no cgroup, so limits are not available\n", prog,
		(unsigned)geteuid(), self);
	return keel_container_set_cgroup_mode(c, KEEL_CONTAINER_CGROUP_NONE, err);
}
