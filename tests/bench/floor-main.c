/*
 * keel-floor: the plain-C floor as a program, the smallest launcher that
 * starts a container with the isolation libkeel gives (see floor.c). The
 * bench runs it fork+exec style so that its peak RSS and its exec cost can
 * be compared with the keel-run CLI's.
 *
 *   keel-floor [--full] [--cgroup DIR] ROOTFS CMD [ARG...]
 *
 * --cgroup DIR makes DIR (a new cgroup2 directory), starts the container
 * in it with CLONE_INTO_CGROUP and removes it after the container exits.
 * Exits with the container's exit code, or 125 when it could not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor.h"

static int usage(void)
{
	fprintf(stderr, "usage: keel-floor [--full] [--cgroup DIR] ROOTFS CMD [ARG...]\n");
	return 125;
}

int main(int argc, char **argv)
{
	struct floor_plan plan = { NULL, FLOOR_MIN, -1, NULL, 0, NULL, 0 };
	const char *cgroup = NULL;
	char why[512];
	int i = 1, status, ret = 125;
	pid_t pid;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--full"))
			plan.level = FLOOR_FULL;
		else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc)
			cgroup = argv[++i];
		else
			return usage();
	}
	if (argc - i < 2)
		return usage();
	plan.rootfs = argv[i];
	plan.argv = argv + i + 1;
	if (cgroup) {
		if (mkdir(cgroup, 0755)) {
			fprintf(stderr, "keel-floor: mkdir cgroup %s: %s\n", cgroup, strerror(errno));
			return 125;
		}
		plan.cgroup_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (plan.cgroup_fd < 0) {
			fprintf(stderr, "keel-floor: open cgroup %s: %s\n", cgroup, strerror(errno));
			rmdir(cgroup);
			return 125;
		}
	}
	pid = floor_spawn(&plan, why, sizeof(why));
	if (pid < 0)
		fprintf(stderr, "keel-floor: %s\n", why);
	else if (waitpid(pid, &status, 0) != pid)
		fprintf(stderr, "keel-floor: waitpid: %s\n", strerror(errno));
	else
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (cgroup && rmdir(cgroup)) {
		fprintf(stderr, "keel-floor: rmdir cgroup %s: %s\n", cgroup, strerror(errno));
		ret = 125;
	}
	return ret;
}
