/*
 * stress-probe: a static program the stress suite puts into a container
 * (as an image layer) to look at the container from inside. It links only
 * libc statically, so it runs on the busybox image. Subcommands:
 *
 *   fds            print each open fd but 0-2 as "fd N -> TARGET"; exit 1 if any
 *   climb          chdir("..") 64 times from the cwd; exit 1 (and say so) if
 *                  that reaches a directory that is not the container's "/"
 *   syscalls       try keyctl, bpf, kexec_load, open_by_handle_at,
 *                  unshare(CLONE_NEWUSER) and mount; print "NAME errno" and
 *                  exit 1 if one of them was not refused with EPERM/ENOSYS
 *   exe-watch SEC  for SEC seconds hold an O_PATH fd on /proc/PID/exe of
 *                  every other process that appears, and try to reopen each
 *                  for writing through /proc/self/fd (CVE-2019-5736); print
 *                  "ESCAPE pid N exe PATH" for every one that opens and is
 *                  not the file its path names inside the container; exit 1
 *                  if there was one. Nothing is ever written.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int list_fds(void)
{
	char link[64], target[4096];
	struct dirent *e;
	int bad = 0, self;
	DIR *d = opendir("/proc/self/fd");
	ssize_t n;

	if (!d) {
		perror("opendir /proc/self/fd");
		return 2;
	}
	self = dirfd(d);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd <= 2 || fd == self)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		printf("fd %d -> %s\n", fd, target);
		bad = 1;
	}
	closedir(d);
	return bad;
}

static int climb(void)
{
	struct stat root, here;
	int i;

	if (stat("/", &root) < 0) {
		perror("stat /");
		return 2;
	}
	for (i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	if (stat(".", &here) < 0) {
		perror("stat .");
		return 2;
	}
	if (here.st_dev != root.st_dev || here.st_ino != root.st_ino) {
		printf("ESCAPE: .. from the cwd reaches %u:%lu, not the container's / %u:%lu\n",
		       (unsigned)here.st_dev, (unsigned long)here.st_ino, (unsigned)root.st_dev,
		       (unsigned long)root.st_ino);
		return 1;
	}
	printf("cwd climbs to the container's /\n");
	return 0;
}

static int refused(const char *name, long ret)
{
	int e = errno;

	printf("%s %s\n", name, ret >= 0 ? "ALLOWED" : strerror(e));
	return ret >= 0 || (e != EPERM && e != ENOSYS);
}

static int try_syscalls(void)
{
	int bad = 0;
	char handle[64] = { 0 };

	errno = 0;
	bad |= refused("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
	bad |= refused("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0));
	bad |= refused("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	bad |= refused("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY));
	bad |= refused("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
	bad |= refused("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	return bad;
}

/* --------------------------------------------------------- exe-watch -- */

#define MAX_HELD 256

struct held {
	int fd;
	pid_t pid;
};

static int is_held(const struct held *h, int n, pid_t pid)
{
	int i;

	for (i = 0; i < n; i++)
		if (h[i].pid == pid)
			return 1;
	return 0;
}

/* O_PATH fds on the exe of every process not seen before. */
static int grab_exes(struct held *h, int n)
{
	char path[64];
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return n;
	while ((e = readdir(d)) && n < MAX_HELD) {
		pid_t pid = atoi(e->d_name);
		int fd;

		if (pid <= 0 || pid == getpid() || is_held(h, n, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		h[n].fd = fd;
		h[n++].pid = pid;
	}
	closedir(d);
	return n;
}

/* Is the file open on fd the one its own path names inside the container?
 * (Then it is a file of the image, which the container may write.) */
static int reachable(pid_t pid, int fd)
{
	char link[64], target[4096];
	struct stat st, in;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0 || fstat(fd, &st) < 0)
		return 0;
	target[n] = '\0';
	if (stat(target, &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino)
		return 1;
	printf("ESCAPE pid %d exe %s (%u:%lu) opened for writing\n", pid, target, (unsigned)st.st_dev,
	       (unsigned long)st.st_ino);
	return 0;
}

/* Whether any held exe now opens for writing and is not a file of the
 * container's own (a file of the image opens, legitimately). */
static int try_write(struct held *h, int n)
{
	char path[64];
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		int fd;

		if (h[i].fd < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", h[i].fd);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!reachable(h[i].pid, fd))
			bad = 1;
		close(fd);
		close(h[i].fd);
		h[i].fd = -1;
	}
	return bad;
}

static int exe_watch(int seconds)
{
	static struct held h[MAX_HELD];
	struct timespec t0, now, nap = { 0, 200000 };
	int n = 0, bad = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		n = grab_exes(h, n);
		bad |= try_write(h, n);
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < seconds);
	printf("exe-watch: %d processes watched, %s\n", n, bad ? "a host binary opened for writing" : "none writable");
	return bad;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "fds"))
		return list_fds();
	if (argc >= 2 && !strcmp(argv[1], "climb"))
		return climb();
	if (argc >= 2 && !strcmp(argv[1], "syscalls"))
		return try_syscalls();
	if (argc >= 3 && !strcmp(argv[1], "exe-watch"))
		return exe_watch(atoi(argv[2]));
	fprintf(stderr, "usage: stress-probe fds|climb|syscalls|exe-watch SECONDS\n");
	return 2;
}
