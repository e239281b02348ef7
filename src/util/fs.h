/*
 * Private: small file helpers for the parent side (they may allocate).
 * All return 0 or a negative errno and fill err with the path in the message.
 */
#ifndef KEEL_UTIL_FS_H
#define KEEL_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <keel/common.h>

/* Read a whole (small) file at dirfd/path into a NUL-terminated malloc'd
 * buffer; *len (may be NULL) gets its length. dirfd may be AT_FDCWD. */
int keel_read_file_at(int dirfd, const char *path, char **out, size_t *len, keel_error **err);

/* Write data to an existing file (O_WRONLY|O_TRUNC), as one write(2) so that
 * kernel interface files (cgroup, /proc) see one value. */
int keel_write_file_at(int dirfd, const char *path, const char *data, keel_error **err);

/* mkdir -p with mode; existing directories are fine. */
int keel_mkdir_p(const char *path, mode_t mode, keel_error **err);

/* rm -rf that does not cross mount points; a missing path is fine. */
int keel_rm_rf(const char *path, keel_error **err);

/* Find the mount point of the first filesystem of type fstype in
 * /proc/self/mountinfo (for example "cgroup2"). *out is malloc'd; -ENOENT
 * with a clear message when there is none. */
int keel_find_mount(const char *fstype, char **out, keel_error **err);

/* The same, and *mnt_id (may be NULL) gets its mount id (mountinfo's first
 * field, statx()'s STATX_MNT_ID). */
int keel_find_mount_id(const char *fstype, char **out, uint64_t *mnt_id, keel_error **err);

#endif
