/*
 * File helpers for the parent side of the library.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util/fs.h"
#include "util/str.h"

int keel_read_file_at(int dirfd, const char *path, char **out, size_t *len, keel_error **err)
{
	size_t size = 0, cap = 4096;
	char *buf, *grown;
	ssize_t n;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "open %s", path);
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return keel_error_sys(err, ENOMEM, "read %s", path);
	}
	for (;;) {
		if (size + 1 >= cap) {
			grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				close(fd);
				return keel_error_sys(err, ENOMEM, "read %s", path);
			}
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + size, cap - size - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return keel_error_sys(err, e, "read %s", path);
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	close(fd);
	buf[size] = '\0';
	*out = buf;
	if (len)
		*len = size;
	return 0;
}

int keel_write_file_at(int dirfd, const char *path, const char *data, keel_error **err)
{
	size_t len = strlen(data);
	ssize_t n;
	int fd;

	fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "open %s", path);
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		close(fd);
		return keel_error_sys(err, e, "write '%s' to %s", data, path);
	}
	close(fd);
	if ((size_t)n != len)
		return keel_error_sys(err, EIO, "write '%s' to %s: short write", data, path);
	return 0;
}

int keel_mkdir_p(const char *path, mode_t mode, keel_error **err)
{
	char *copy, *p;
	int ret = 0;

	if (!path || !*path)
		return keel_error_invalid(err, "mkdir: empty path");
	copy = strdup(path);
	if (!copy)
		return keel_error_sys(err, ENOMEM, "mkdir %s", path);
	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			ret = keel_error_sys(err, errno, "mkdir %s", copy);
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(copy);
	return ret;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, keel_error **err, const char *top);

static int rm_children(int fd, dev_t dev, keel_error **err, const char *top)
{
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return keel_error_sys(err, errno, "remove %s", top);
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = rm_rf_at(dirfd(dir), de->d_name, dev, err, top);
		if (ret < 0)
			break;
	}
	closedir(dir);
	return ret;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, keel_error **err, const char *top)
{
	struct stat st;
	int fd, ret;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : keel_error_sys(err, errno, "remove %s: stat %s", top, name);
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != dev)
			return keel_error_sys(err, EBUSY, "remove %s: %s is a mount point", top, name);
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return keel_error_sys(err, errno, "remove %s: open %s", top, name);
		ret = rm_children(fd, dev, err, top);
		if (ret < 0)
			return ret;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return keel_error_sys(err, errno, "remove %s: rmdir %s", top, name);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return keel_error_sys(err, errno, "remove %s: unlink %s", top, name);
	return 0;
}

int keel_rm_rf(const char *path, keel_error **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : keel_error_sys(err, errno, "remove %s", path);
	return rm_rf_at(AT_FDCWD, path, st.st_dev, err, path);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int keel_find_mount_id(const char *fstype, char **out, uint64_t *mnt_id, keel_error **err)
{
	char *text = NULL, *line, *next;
	unsigned long long v;
	int ret;

	/* One read of the whole file rather than stdio: fewer system calls,
	 * and no FILE machinery on a container's start path. */
	ret = keel_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &text, NULL, err);
	if (ret < 0)
		return ret;
	ret = -ENOENT;
	for (line = text; line && *line; line = next) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source super */
		char *mnt = NULL, *id = NULL, *sep, *type, *cur, *tok;
		int field = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* plain loops, not strstr()/strtok_r(): see util/str.h */
		for (sep = strchr(line, ' '); sep && (sep[1] != '-' || sep[2] != ' '); sep = strchr(sep + 1, ' '))
			;
		if (!sep)
			continue;
		*sep = '\0';
		cur = sep + 3;
		type = keel_str_tok(&cur, " ");
		if (!type || strcmp(type, fstype) != 0)
			continue;
		cur = line;
		while ((tok = keel_str_tok(&cur, " "))) {
			if (++field == 1)
				id = tok;
			if (field == 5) {
				mnt = tok;
				break;
			}
		}
		if (!mnt)
			continue;
		unescape_octal(mnt);
		if (mnt_id)	/* 0 for no digits, as strtoull() gave */
			*mnt_id = keel_str_to_ull(id, NULL, &v) == 0 ? v : 0;
		*out = strdup(mnt);
		ret = *out ? 0 : keel_error_sys(err, ENOMEM, "find %s mount", fstype);
		break;
	}
	free(text);
	if (ret == -ENOENT)
		keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENOENT,
			       "no %s filesystem is mounted (looked in /proc/self/mountinfo)", fstype);
	return ret;
}

int keel_find_mount(const char *fstype, char **out, keel_error **err)
{
	return keel_find_mount_id(fstype, out, NULL, err);
}
