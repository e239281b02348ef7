/*
 * security-probe: make one system call and report how it went, for
 * tests/test-security.c, which execs it under a prepared security plan.
 *
 *   security-probe CMD [ARGS]
 *
 * Exit status: 0 when the call succeeded, else its errno (EPERM is 1), so
 * the test sees what the kernel said. 200+ means the probe itself was used
 * wrongly. Commands that read state print it on stdout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int result(long ret)
{
	return ret < 0 ? errno : 0;
}

/* keyctl(KEYCTL_GET_KEYRING_ID) through the 32-bit entry (int 0x80), to
 * show the filter covers the compat architecture. i386 numbers: keyctl 288. */
static int keyctl_i386(void)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(288L), "b"((long)KEYCTL_GET_KEYRING_ID), "c"((long)KEY_SPEC_SESSION_KEYRING), "d"(0L)
			 : "memory");
	return ret < 0 && ret > -4096 ? (int)-ret : 0;
#else
	return 202;
#endif
}

/* clone(2) itself (not unshare, not clone3), with or without a new user
 * namespace: the child exits at once. */
static int clone_probe(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int cat(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return n < 0 ? errno : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "keyctl"))
		return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	if (!strcmp(cmd, "keyctl-i386"))
		return keyctl_i386();
	if (!strcmp(cmd, "unshare-user"))
		return result(unshare(CLONE_NEWUSER));
	if (!strcmp(cmd, "clone-user") || !strcmp(cmd, "clone-plain"))
		return clone_probe(!strcmp(cmd, "clone-user") ? CLONE_NEWUSER : 0);
	if (!strcmp(cmd, "raw-socket"))
		return result(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	if (!strcmp(cmd, "init-module"))
		/* no image: with CAP_SYS_MODULE this fails later (EFAULT/ENOEXEC), never loads */
		return result(syscall(SYS_init_module, NULL, 0UL, ""));
	if (!strcmp(cmd, "settime"))
		/* both NULL: only the permission check runs; the clock is never changed */
		return result(syscall(SYS_settimeofday, NULL, NULL));
	if (!strcmp(cmd, "mount") && argc == 5)
		return result(mount(argv[2], argv[3], argv[4], MS_RDONLY, NULL));
	if (!strcmp(cmd, "getppid")) {
		long r = syscall(SYS_getppid);

		printf("%ld\n", r);
		return r < 0 ? errno : 0;
	}
	if (!strcmp(cmd, "status"))
		return cat("/proc/self/status");
	if (!strcmp(cmd, "rlimit-nofile")) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return errno;
		printf("%llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
		return 0;
	}
	fprintf(stderr, "security-probe: unknown command '%s'\n", cmd);
	return 200;
}
