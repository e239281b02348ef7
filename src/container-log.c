/*
 * The log of a detached container: its init's stdout and stderr go to a
 * pipe, and a small logger process the library forks reads the pipe and
 * writes <state dir>/container.log, rotating it to container.log.1 when
 * it would pass the size cap (so at most twice the cap is on disk).
 *
 * Why a logger process and not the file itself as the init's stdout: a
 * file cannot be capped or rotated behind the writer's back. Why a
 * separate process and not a thread: the log must outlive the process that
 * created the container (keel-run -d exits at once), as conmon's does for
 * podman. The logger double-forks and starts a new session, so neither the
 * creator's exit nor its terminal's signals end it; it ends at EOF, when
 * the last process of the container holding the pipe has gone.
 *
 * Between fork and its exit the logger runs only system calls on memory
 * prepared before the fork (paths on the caller's stack, a stack buffer):
 * it is safe in a multithreaded caller.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-log.h"
#include "error.h"

/* Write all of buf; 0, or -1 when the file cannot take it. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* container.log -> container.log.1 (replacing it), a fresh container.log. */
static int rotate(int fd, const char *path, const char *old)
{
	close(fd);
	rename(path, old);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
}

/* The logger's loop, in the grandchild: stdin is the pipe. Never returns. */
static void logger_loop(const char *path, const char *old, uint64_t max_bytes)
{
	char buf[8192];
	struct stat st;
	uint64_t size = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd >= 0 && fstat(fd, &st) == 0)
		size = (uint64_t)st.st_size;
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		if (fd >= 0 && size > 0 && size + (uint64_t)n > max_bytes) {
			fd = rotate(fd, path, old);
			size = 0;
		}
		/* A chunk larger than the cap alone: keep its tail, which is
		 * what a reader of the newest lines wants. */
		if ((uint64_t)n > max_bytes) {
			memmove(buf, buf + (n - (ssize_t)max_bytes), max_bytes);
			n = (ssize_t)max_bytes;
		}
		if (fd >= 0 && write_all(fd, buf, (size_t)n) == 0)
			size += (uint64_t)n;
	}
}

/* In the first child: a session of its own, fork the logger, exit. */
static void logger_child(int rfd, int wfd, const char *path, const char *old, uint64_t max_bytes)
{
	pid_t pid;
	int null;

	setsid();
	pid = fork();
	if (pid != 0)
		_exit(pid < 0 ? 1 : 0);
	signal(SIGHUP, SIG_IGN); /* this process's own disposition, not the caller's */
	close(wfd);
	if (dup2(rfd, 0) < 0)
		_exit(1);
	/* Nothing of the caller's stays open in the logger: it must not
	 * keep a lock, a pidfd or the other end of some pipe alive. */
	if (syscall(SYS_close_range, 1U, ~0U, 0U) < 0)
		for (int fd = 1; fd < 1024; fd++)
			close(fd);
	null = open("/dev/null", O_RDWR);
	if (null >= 0 && null != 1)
		dup2(null, 1);
	dup2(1, 2);
	logger_loop(path, old, max_bytes);
}

int keel_container_log_start(const char *dir, uint64_t max_bytes, int *write_fd, keel_error **err)
{
	char path[4096], old[4100];
	int fds[2], status = 0;
	pid_t pid;

	if (snprintf(path, sizeof(path), "%s/" KEEL_CONTAINER_LOG_NAME, dir) >= (int)sizeof(path))
		return keel_error_invalid(err, "log: state directory path too long: %s", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return keel_error_sys(err, errno, "log: pipe for %s", path);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return keel_error_sys(err, e, "log: fork the logger of %s", path);
	}
	if (pid == 0)
		logger_child(fds[0], fds[1], path, old, max_bytes);
	close(fds[0]);
	/* ECHILD: the caller ignores SIGCHLD, the kernel reaped it */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		close(fds[1]);
		return keel_error_sys(err, EAGAIN, "log: the logger of %s did not start", path);
	}
	*write_fd = fds[1];
	return 0;
}
