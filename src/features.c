/*
 * features: ask the running kernel what it supports.
 *
 * Each probe makes the real system call with arguments that cannot change
 * anything, and reads the errno: ENOSYS means "not in this kernel", any
 * other answer means the call exists. Files under /proc and /sys answer
 * the rest. Nothing is inferred from the kernel version string.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <keel/features.h>

#include "error.h"
#include "util/fs.h"
#include "util/syscall.h"

#define FEATURE_MAX 32

struct keel_features {
	unsigned char has[FEATURE_MAX];
	char *cgroup2_path;
	char *cgroup2_controllers;
};

static const char *const feature_names[FEATURE_MAX] = {
	[KEEL_FEATURE_CLONE3] = "clone3",
	[KEEL_FEATURE_PIDFD] = "pidfd",
	[KEEL_FEATURE_CGROUP2] = "cgroup2",
	[KEEL_FEATURE_OVERLAYFS] = "overlayfs",
	[KEEL_FEATURE_IDMAPPED_MOUNTS] = "idmapped-mounts",
	[KEEL_FEATURE_TIME_NS] = "time-namespace",
	[KEEL_FEATURE_USER_NS] = "user-namespace",
	[KEEL_FEATURE_SECCOMP_NOTIFY] = "seccomp-notify",
	[KEEL_FEATURE_OPENAT2] = "openat2",
	[KEEL_FEATURE_CGROUP_KILL] = "cgroup-kill",
	[KEEL_FEATURE_NEWUIDMAP] = "newuidmap",
	[KEEL_FEATURE_APPARMOR] = "apparmor",
	[KEEL_FEATURE_SELINUX] = "selinux",
	[KEEL_FEATURE_CGROUP_NS] = "cgroup-namespace",
};

/* A syscall exists when calling it with bad arguments fails with anything but ENOSYS. */
static int syscall_exists(long ret)
{
	return ret == 0 || errno != ENOSYS;
}

static int probe_clone3(void)
{
	/* size 0 is below CLONE_ARGS_SIZE_VER0: EINVAL where clone3 exists. */
	return syscall_exists(keel_sys_clone3(NULL, 0));
}

static int probe_pidfd(void)
{
	int fd = keel_sys_pidfd_open(getpid(), 0);

	if (fd < 0)
		return 0;
	close(fd);
	/* signal 0 through the pidfd: checks pidfd_send_signal too. */
	return keel_sys_pidfd_send_signal(fd, 0, NULL, 0) == 0 || errno != ENOSYS;
}

static int probe_overlayfs(void)
{
	/* fsopen() asks the kernel to load the module if needed, like mount(2). */
	int fd = keel_sys_fsopen("overlay", FSOPEN_CLOEXEC);
	char *fs = NULL;
	int found;

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno != ENOSYS)
		return 0;
	if (keel_read_file_at(AT_FDCWD, "/proc/filesystems", &fs, NULL, NULL) < 0)
		return 0;
	found = strstr(fs, "\toverlay\n") != NULL;
	free(fs);
	return found;
}

static int probe_idmapped_mounts(void)
{
	/* mount_setattr(-1, ...) fails with EBADF/EINVAL where it exists;
	 * MOUNT_ATTR_IDMAP arrived with the syscall (5.12). */
	return syscall_exists(keel_sys_mount_setattr(-1, "", 0, NULL, 0));
}

static int probe_openat2(void)
{
	return syscall_exists(keel_sys_openat2(-1, "", NULL, 0));
}

static int probe_seccomp_notify(void)
{
	unsigned int action = SECCOMP_RET_USER_NOTIF;

	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

static int path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int probe_user_ns(void)
{
	char *v = NULL;
	int ok = path_exists("/proc/self/ns/user");

	if (ok && keel_read_file_at(AT_FDCWD, "/proc/sys/user/max_user_namespaces", &v, NULL, NULL) == 0) {
		ok = atol(v) > 0;
		free(v);
	}
	/* Debian's switch for unprivileged creation; root is not affected by it. */
	return ok;
}

static int probe_apparmor(void)
{
	char *v = NULL;
	int on = 0;

	if (keel_read_file_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", &v, NULL, NULL) == 0) {
		on = v[0] == 'Y';
		free(v);
	}
	return on;
}

static int in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		if (len && len + strlen(name) + 2 < sizeof(buf)) {
			memcpy(buf, path, len);
			buf[len] = '/';
			strcpy(buf + len + 1, name);
			if (access(buf, X_OK) == 0)
				return 1;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	return 0;
}

/* cgroup.kill exists in every non-root cgroup of a kernel that has it, so
 * look in the caller's own cgroup, or in any child of the root. */
static int probe_cgroup_kill(const char *mnt)
{
	char *self = NULL, *line, *save = NULL, path[4096];
	struct dirent *de;
	int found = 0;
	DIR *dir;

	if (keel_read_file_at(AT_FDCWD, "/proc/self/cgroup", &self, NULL, NULL) == 0) {
		for (line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (!strncmp(line, "0::", 3) && strcmp(line + 3, "/") != 0) {
				snprintf(path, sizeof(path), "%s%s/cgroup.kill", mnt, line + 3);
				found = path_exists(path);
			}
		free(self);
	}
	if (found || !(dir = opendir(mnt)))
		return found;
	while (!found && (de = readdir(dir))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/cgroup.kill", mnt, de->d_name);
		found = path_exists(path);
	}
	closedir(dir);
	return found;
}

static int probe_cgroup2(keel_features *f)
{
	char path[4096];
	char *ctl = NULL;
	size_t len;

	if (keel_find_mount("cgroup2", &f->cgroup2_path, NULL) < 0) {
		f->cgroup2_path = NULL;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", f->cgroup2_path);
	if (keel_read_file_at(AT_FDCWD, path, &ctl, &len, NULL) == 0) {
		while (len && (ctl[len - 1] == '\n' || ctl[len - 1] == ' '))
			ctl[--len] = '\0';
		f->cgroup2_controllers = ctl;
	}
	f->has[KEEL_FEATURE_CGROUP_KILL] = (unsigned char)probe_cgroup_kill(f->cgroup2_path);
	return 1;
}

KEEL_PUBLIC int keel_features_probe(keel_features **out, keel_error **err)
{
	keel_features *f;

	if (!out)
		return keel_error_invalid(err, "probe features: out is NULL");
	f = calloc(1, sizeof(*f));
	if (!f)
		return keel_error_sys(err, ENOMEM, "probe features");
	f->has[KEEL_FEATURE_CLONE3] = (unsigned char)probe_clone3();
	f->has[KEEL_FEATURE_PIDFD] = (unsigned char)probe_pidfd();
	f->has[KEEL_FEATURE_CGROUP2] = (unsigned char)probe_cgroup2(f);
	f->has[KEEL_FEATURE_OVERLAYFS] = (unsigned char)probe_overlayfs();
	f->has[KEEL_FEATURE_IDMAPPED_MOUNTS] = (unsigned char)probe_idmapped_mounts();
	f->has[KEEL_FEATURE_TIME_NS] = (unsigned char)path_exists("/proc/self/ns/time");
	f->has[KEEL_FEATURE_USER_NS] = (unsigned char)probe_user_ns();
	f->has[KEEL_FEATURE_SECCOMP_NOTIFY] = (unsigned char)probe_seccomp_notify();
	f->has[KEEL_FEATURE_OPENAT2] = (unsigned char)probe_openat2();
	f->has[KEEL_FEATURE_NEWUIDMAP] = (unsigned char)(in_path("newuidmap") && in_path("newgidmap"));
	f->has[KEEL_FEATURE_APPARMOR] = (unsigned char)probe_apparmor();
	f->has[KEEL_FEATURE_SELINUX] = (unsigned char)path_exists("/sys/fs/selinux/enforce");
	f->has[KEEL_FEATURE_CGROUP_NS] = (unsigned char)path_exists("/proc/self/ns/cgroup");
	if (!f->cgroup2_controllers && !(f->cgroup2_controllers = strdup(""))) {
		keel_features_free(f);
		return keel_error_sys(err, ENOMEM, "probe features");
	}
	*out = f;
	return 0;
}

KEEL_PUBLIC int keel_features_has(const keel_features *f, keel_feature feature)
{
	if (!f || (unsigned)feature >= FEATURE_MAX)
		return 0;
	return f->has[feature];
}

KEEL_PUBLIC const char *keel_feature_name(keel_feature feature)
{
	if ((unsigned)feature >= FEATURE_MAX)
		return NULL;
	return feature_names[feature];
}

KEEL_PUBLIC const char *keel_features_cgroup2_path(const keel_features *f)
{
	return f ? f->cgroup2_path : NULL;
}

KEEL_PUBLIC const char *keel_features_cgroup2_controllers(const keel_features *f)
{
	return f && f->cgroup2_controllers ? f->cgroup2_controllers : "";
}

KEEL_PUBLIC void keel_features_free(keel_features *f)
{
	if (!f)
		return;
	free(f->cgroup2_path);
	free(f->cgroup2_controllers);
	free(f);
}
