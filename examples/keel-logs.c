/*
 * keel-logs: a small `docker logs` on libkeel.
 *
 *   keel-logs [-f] [--tail N] ID
 *
 * Prints the log of a container started with keel-run -d (its stdout and
 * stderr, written by the library's logger: keel_container_set_log()):
 * the rotated file, then the current one. --tail N prints only the last N
 * lines; -f keeps printing what is written until the container stops,
 * and follows the log across a rotation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-logs";

/* Up to 1 MiB cap per file x 2: the whole log fits in memory. */
struct text {
	char *s;
	size_t n;
};

static int append_file(struct text *t, const char *path, off_t *end)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *s = realloc(t->s, t->n + (size_t)n);

		if (!s) {
			close(fd);
			return -ENOMEM;
		}
		memcpy(s + t->n, buf, (size_t)n);
		t->s = s;
		t->n += (size_t)n;
	}
	if (end)
		*end = lseek(fd, 0, SEEK_CUR);
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Where the last `lines` lines of t begin (all of it for -1). */
static size_t tail_start(const struct text *t, long lines)
{
	size_t i = t->n;

	if (lines < 0)
		return 0;
	if (lines == 0)
		return t->n;
	if (i > 0 && t->s[i - 1] == '\n')
		i--; /* the final newline ends the last line, it does not begin one */
	for (; i > 0; i--)
		if (t->s[i - 1] == '\n' && --lines == 0)
			return i;
	return 0;
}

static int stopped(const char *id)
{
	keel_container *c = NULL;
	int st = KEEL_STATE_STOPPED;

	if (keel_container_load(&c, id, kx_state_root(), NULL) == 0)
		keel_container_state(c, &st, NULL);
	keel_container_free(c);
	return st == KEEL_STATE_STOPPED;
}

/* Print what is written to path from offset on; reopen when the file was
 * rotated (another inode at the path), end when the container stopped
 * and nothing more came. */
static int follow(const char *id, const char *path, off_t offset)
{
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	struct stat at, open_st;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), done = 0;
	ssize_t n;

	if (fd >= 0)
		lseek(fd, offset, SEEK_SET);
	for (;;) {
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
		fflush(stdout);
		if (done)
			break;
		done = stopped(id); /* one more read after it stopped */
		if (!done)
			nanosleep(&pause, NULL);
		if (stat(path, &at) == 0 && (fd < 0 || (fstat(fd, &open_st) == 0 && open_st.st_ino != at.st_ino))) {
			if (fd >= 0) /* the rest of the rotated file first */
				while ((n = read(fd, buf, sizeof(buf))) > 0)
					fwrite(buf, 1, (size_t)n, stdout);
			if (fd >= 0)
				close(fd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

static const char *usage_line = "[-f] [--tail N] ID";

static int usage(void)
{
	fprintf(stderr, "usage: %s %s\n" KX_STATE_HELP, prog, usage_line);
	return 2;
}

int main(int argc, char **argv)
{
	keel_container *c = NULL;
	keel_error *err = NULL;
	char *path = NULL, *old = NULL, *endp;
	struct text t = { NULL, 0 };
	long lines = -1;
	int i, f = 0, ret = 0;
	off_t end = 0;
	size_t from;

	if (kx_help(argc, argv, prog, usage_line))
		return 0;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow")) {
			f = 1;
		} else if (!strcmp(argv[i], "--tail") && i + 1 < argc) {
			errno = 0;
			lines = strtol(argv[++i], &endp, 10);
			if (errno || *endp || lines < 0 || endp == argv[i]) {
				fprintf(stderr, "%s: --tail %s: give a number of lines, 0 or more\n", prog, argv[i]);
				return 2;
			}
		} else {
			return usage();
		}
	}
	if (i + 1 != argc)
		return usage();
	if (kx_check_state_root(prog) < 0)
		return 1;
	if (keel_container_load(&c, argv[i], kx_state_root(), &err) < 0 ||
	    keel_container_log_path(c, 0, &path, &err) < 0 || keel_container_log_path(c, 1, &old, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
		keel_error_free(err);
		keel_container_free(c);
		return 1;
	}
	keel_container_free(c);
	if (access(path, F_OK) < 0 && access(old, F_OK) < 0) {
		fprintf(stderr, "%s: container %s has no log (%s): it was not started with keel-run -d\n", prog,
			argv[i], path);
		ret = 1;
	} else if ((ret = append_file(&t, old, NULL)) < 0 || (ret = append_file(&t, path, &end)) < 0) {
		fprintf(stderr, "%s: read %s: %s\n", prog, path, strerror(-ret));
		ret = 1;
	} else {
		from = tail_start(&t, lines);
		fwrite(t.s + from, 1, t.n - from, stdout);
		fflush(stdout);
		ret = f ? follow(argv[i], path, end) : 0;
	}
	free(t.s);
	free(path);
	free(old);
	return ret;
}
