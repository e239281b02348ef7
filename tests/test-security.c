/*
 * security suite: capabilities, seccomp, no_new_privs, rlimits, sysctls.
 *
 * Spawn is another subsystem, so these tests play its part with fork(): the
 * child unshares the namespaces a test needs, runs the three apply steps
 * exactly as spawn will (early, pre_user, the uid change, late), then execs
 * busybox from the test rootfs or tests/security-probe, which makes one
 * system call and exits with its errno. Every assertion is on what the
 * kernel did: exit codes, terminating signals, /proc/self/status of the
 * exec'd program, files it changed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>
#include <seccomp.h>

#include "security.h"
#include "security-bpf.h"
#include "security-seccomp.h"
#include "util/child.h"
#include "util/fs.h"
#include "harness.h"
#include "host-probe.h"

/* Docker's default set as /proc/PID/status prints it. */
#define DOCKER_CAPS 0x00000000a80425fbULL
#define TARGET_UID 1000
#define APPARMOR_PARSER "/usr/sbin/apparmor_parser"
#define APPARMOR_PROFILES "/sys/kernel/security/apparmor/profiles"

/* ---------------------------------------------------------- the runner --- */

struct run {
	const keel_security *sec;
	int unshare;            /* CLONE_NEW* flags the child unshares first */
	int uid;                /* switch to this uid/gid between pre_user and late; -1 stays root */
	int notify_sock;        /* send the seccomp notify fd here, or -1 */
	const char *argv[8];
};

struct outcome {
	int status;                     /* wait status of the child */
	int setup_failed;               /* a step failed before exec: rep says which */
	struct keel_child_report rep;
	char out[16384];                /* the program's stdout */
};

struct guard {
	pid_t pid;
	int reaped;
};

static void guard_kill(void *data)
{
	struct guard *g = data;

	if (!g->reaped && g->pid > 0 && kill(g->pid, SIGKILL) == 0)
		waitpid(g->pid, NULL, 0);
	free(g);
}

static const char *probe(void)
{
	static char path[4096];
	const char *top = getenv("KEEL_TOP_BUILDDIR");

	snprintf(path, sizeof(path), "%s/tests/security-probe", top ? top : ".");
	ck_assert_msg(access(path, X_OK) == 0, "no %s: run the suite with make check", path);
	return path;
}

static const char *busybox(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/bin/busybox", kt_rootfs());
	return path;
}

static void send_fd(int sock, int fd)
{
	char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) < 0)
		_exit(124);
}

static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &msg, 0) <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* What spawn will do, in a forked child. Runs only system calls between
 * fork and exec, like the real thing. */
static void child(const struct run *r, const struct keel_security_plan *plan, int out, int repfd)
{
	struct keel_child_report rep = { 0 };
	int nfd = -1;

	if (dup2(out, 1) < 0)
		_exit(123);
	if (r->unshare && unshare(r->unshare) < 0) {
		keel_report_fail(&rep, KEEL_ERROR_CHILD, errno, "unshare", NULL);
		goto fail;
	}
	if ((r->unshare & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		keel_report_fail(&rep, KEEL_ERROR_CHILD, errno, "make / private", NULL);
		goto fail;
	}
	if (keel_security_plan_apply_early(plan, &rep) < 0 || keel_security_plan_apply_pre_user(plan, &rep) < 0)
		goto fail;
	if (r->uid >= 0 && (setgroups(0, NULL) < 0 || setresgid(r->uid, r->uid, r->uid) < 0 ||
			    setresuid(r->uid, r->uid, r->uid) < 0)) {
		keel_report_fail(&rep, KEEL_ERROR_CHILD, errno, "switch user", NULL);
		goto fail;
	}
	if (keel_security_plan_apply_late(plan, &nfd, &rep) < 0)
		goto fail;
	if (nfd >= 0 && r->notify_sock >= 0) {
		send_fd(r->notify_sock, nfd);
		close(nfd);
	}
	execv(r->argv[0], (char *const *)r->argv);
	keel_report_fail(&rep, KEEL_ERROR_EXEC, errno, "execve", r->argv[0]);
fail:
	if (write(repfd, &rep, sizeof(rep)) < 0)
		_exit(126);
	_exit(125);
}

/* Start the child; *during (may be NULL) runs once the child has finished
 * its set-up (exec'd or failed), before its output is read. */
static void run_with(const struct run *r, struct outcome *o, void (*during)(void *), void *arg)
{
	struct keel_security_plan *plan = NULL;
	keel_error *err = NULL;
	struct guard *g;
	int outp[2], repp[2];
	size_t used = 0;
	ssize_t n;

	memset(o, 0, sizeof(*o));
	ck_assert_msg(keel_security_plan_prepare(r->sec, &plan, &err) == 0, "prepare: %s", keel_error_message(err));
	ck_assert_int_eq(pipe2(outp, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(repp, O_CLOEXEC), 0);
	g = calloc(1, sizeof(*g));
	ck_assert_ptr_nonnull(g);
	kt_defer_fn(guard_kill, g);
	g->pid = fork();
	ck_assert_int_ge(g->pid, 0);
	if (g->pid == 0) {
		close(outp[0]);
		close(repp[0]);
		child(r, plan, outp[1], repp[1]);
	}
	close(outp[1]);
	close(repp[1]);
	keel_security_plan_free(plan);
	n = read(repp[0], &o->rep, sizeof(o->rep));
	o->setup_failed = n == (ssize_t)sizeof(o->rep);
	close(repp[0]);
	if (during && !o->setup_failed)
		during(arg);
	while (used < sizeof(o->out) - 1 && (n = read(outp[0], o->out + used, sizeof(o->out) - 1 - used)) > 0)
		used += (size_t)n;
	o->out[used] = '\0';
	close(outp[0]);
	ck_assert_int_eq(waitpid(g->pid, &o->status, 0), g->pid);
	g->reaped = 1;
}

static void run(const struct run *r, struct outcome *o)
{
	run_with(r, o, NULL, NULL);
}

/* The errno the probe exited with (0: the call worked). */
static int probe_errno(const keel_security *sec, int unshare_flags, int uid, const char *cmd)
{
	struct run r = { .sec = sec, .unshare = unshare_flags, .uid = uid, .notify_sock = -1,
			 .argv = { probe(), cmd } };
	struct outcome o;

	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s: set-up failed: %s (errno %d)", cmd, o.rep.msg, o.rep.errnum);
	ck_assert_msg(WIFEXITED(o.status), "%s: killed by signal %d", cmd, WTERMSIG(o.status));
	return WEXITSTATUS(o.status);
}

/* A hex field of the exec'd probe's /proc/self/status. */
static unsigned long long status_field(const struct outcome *o, const char *field)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\n%s:", field);
	p = strstr(o->out, key);
	ck_assert_msg(p, "no %s in the child's /proc/self/status", field);
	return strtoull(p + strlen(key), NULL, 16);
}

static void run_status(const keel_security *sec, int uid, struct outcome *o)
{
	struct run r = { .sec = sec, .uid = uid, .notify_sock = -1, .argv = { probe(), "status" } };

	run(&r, o);
	ck_assert_msg(!o->setup_failed, "set-up failed: %s (errno %d)", o->rep.msg, o->rep.errnum);
	ck_assert_int_eq(WEXITSTATUS(o->status), 0);
}

static keel_security *new_sec(void)
{
	keel_security *sec = NULL;

	ck_assert_int_eq(keel_security_new(&sec, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_security_free, sec);
	return sec;
}

static keel_seccomp *new_default_filter(void)
{
	keel_seccomp *f = NULL;
	keel_error *err = NULL;

	ck_assert_msg(keel_seccomp_new_default(&f, &err) == 0, "%s", keel_error_message(err));
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	return f;
}

/* ---------------------------------------------------------- capabilities --- */

START_TEST(default_caps_let_chown_work)
{
	keel_security *sec = new_sec();
	char file[4096];
	struct stat st;
	struct run r = { .sec = sec, .uid = -1, .notify_sock = -1 };
	struct outcome o;
	int fd;

	snprintf(file, sizeof(file), "%s/owned", kt_tmpdir());
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	r.argv[0] = busybox();
	r.argv[1] = "chown";
	r.argv[2] = "1000:1000";
	r.argv[3] = file;
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_int_eq(WEXITSTATUS(o.status), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_uid, 1000);

	/* and without CAP_CHOWN the same chown is refused */
	ck_assert_int_eq(keel_security_cap_drop(sec, "CHOWN", NULL), 0);
	r.argv[2] = "2000:2000";
	run(&r, &o);
	ck_assert_int_ne(WEXITSTATUS(o.status), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_uid, 1000);
}
END_TEST

START_TEST(default_caps_read_back_with_no_new_privs)
{
	keel_security *sec = new_sec();
	struct outcome o;

	run_status(sec, -1, &o);
	ck_assert_uint_eq(status_field(&o, "CapBnd"), DOCKER_CAPS);
	ck_assert_uint_eq(status_field(&o, "CapPrm"), DOCKER_CAPS);
	ck_assert_uint_eq(status_field(&o, "CapEff"), DOCKER_CAPS);
	ck_assert_uint_eq(status_field(&o, "CapInh"), 0);
	ck_assert_uint_eq(status_field(&o, "CapAmb"), 0);
	ck_assert_uint_eq(status_field(&o, "NoNewPrivs"), 1);
	ck_assert_uint_eq(status_field(&o, "Seccomp"), 0);

	keel_security_set_no_new_privs(sec, 0);
	run_status(sec, -1, &o);
	ck_assert_uint_eq(status_field(&o, "NoNewPrivs"), 0);
}
END_TEST

START_TEST(default_caps_refuse_module_clock_and_mount)
{
	keel_security *sec = new_sec();
	char *mi = kt_read("/proc/self/mountinfo"), dev[256] = "/dev/vda", fstype[64] = "ext4";
	const char *p;
	struct run r = { .sec = sec, .unshare = CLONE_NEWNS, .uid = -1, .notify_sock = -1 };
	struct outcome o;

	/* Without CONFIG_MODULES the kernel answers init_module with ENOSYS
	 * before any capability check, so only a kernel with modules can show
	 * CAP_SYS_MODULE at work; the default seccomp profile below refuses
	 * module loading on every kernel. */
	if (access("/proc/modules", F_OK) == 0)
		ck_assert_int_eq(probe_errno(sec, 0, -1, "init-module"), EPERM);
	else
		fprintf(stderr, "note: this kernel has no module support; CAP_SYS_MODULE is checked by the seccomp test only\n");
	ck_assert_int_eq(probe_errno(sec, 0, -1, "settime"), EPERM);

	/* the host's root filesystem: "... / / ... - ext4 /dev/vda rw" */
	ck_assert_ptr_nonnull(mi);
	p = strstr(mi, " / / ");
	ck_assert_ptr_nonnull(p);
	p = strstr(p, " - ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, " - %63s %255s", fstype, dev), 2);
	r.argv[0] = probe();
	r.argv[1] = "mount";
	r.argv[2] = dev;
	r.argv[3] = kt_tmpdir();
	r.argv[4] = fstype;
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_int_eq(WEXITSTATUS(o.status), EPERM);

	/* the control: with every capability, the same calls are not refused for lack of one */
	keel_security_caps_set_all(sec);
	ck_assert_int_ne(probe_errno(sec, 0, -1, "init-module"), EPERM);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "settime"), 0);
}
END_TEST

START_TEST(dropping_net_raw_stops_raw_sockets)
{
	keel_security *sec = new_sec();

	ck_assert_int_eq(probe_errno(sec, CLONE_NEWNET, -1, "raw-socket"), 0);
	ck_assert_int_eq(keel_security_cap_drop(sec, "CAP_NET_RAW", NULL), 0);
	ck_assert_int_eq(probe_errno(sec, CLONE_NEWNET, -1, "raw-socket"), EPERM);
}
END_TEST

START_TEST(non_root_user_has_empty_effective_caps)
{
	keel_security *sec = new_sec();
	struct outcome o;

	run_status(sec, TARGET_UID, &o);
	ck_assert_ptr_nonnull(strstr(o.out, "\nUid:\t1000\t1000\t1000\t1000"));
	ck_assert_uint_eq(status_field(&o, "CapEff"), 0);
	ck_assert_uint_eq(status_field(&o, "CapPrm"), 0);
	ck_assert_uint_eq(status_field(&o, "CapAmb"), 0);
	ck_assert_uint_eq(status_field(&o, "CapBnd"), DOCKER_CAPS);
}
END_TEST

START_TEST(keep_caps_makes_them_ambient_for_non_root)
{
	keel_security *sec = new_sec();
	struct outcome o;

	keel_security_caps_clear(sec);
	ck_assert_int_eq(keel_security_cap_add(sec, "net_bind_service", NULL), 0);
	keel_security_set_keep_caps(sec, 1);
	run_status(sec, TARGET_UID, &o);
	ck_assert_uint_eq(status_field(&o, "CapEff"), 1ULL << 10);
	ck_assert_uint_eq(status_field(&o, "CapPrm"), 1ULL << 10);
	ck_assert_uint_eq(status_field(&o, "CapAmb"), 1ULL << 10);
	ck_assert_uint_eq(status_field(&o, "CapBnd"), 1ULL << 10);
}
END_TEST

START_TEST(capability_bad_input_is_refused_early)
{
	keel_security *sec = new_sec();
	struct keel_security_plan *plan = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_security_cap_add(sec, "NET_ADMN", &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "unknown capability 'NET_ADMN'");
	ck_assert_int_eq(keel_security_cap_drop(sec, "CAP_", NULL), -EINVAL);
	ck_assert_int_eq(keel_security_cap_add(sec, NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_security_cap_add_num(sec, 64, NULL), -EINVAL);
	ck_assert_int_eq(keel_security_cap_set(sec, 0, "CHOWN", 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_security_cap_set(sec, 64, "CHOWN", 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_security_cap_get(sec, KEEL_CAPSET_EFFECTIVE, "cap_chown", NULL), 1);
	ck_assert_int_eq(keel_security_cap_get(sec, KEEL_CAPSET_AMBIENT, "CHOWN", NULL), 0);
	ck_assert_int_eq(keel_security_cap_get(sec, 3, "CHOWN", NULL), -EINVAL);

	/* effective without permitted: the kernel would refuse it; we say so first */
	ck_assert_int_eq(keel_security_cap_set(sec, KEEL_CAPSET_EFFECTIVE, "SYS_ADMIN", 1, NULL), 0);
	ck_assert_int_eq(keel_security_plan_prepare(sec, &plan, &err), -EINVAL);
	ck_assert_ptr_null(plan);
	ck_assert_str_eq(keel_error_message(err),
			 "capabilities: sys_admin is in the effective set but not in the permitted set");
	/* a number the kernel does not know */
	keel_security_caps_set_default(sec);
	ck_assert_int_eq(keel_security_cap_add_num(sec, 62, NULL), 0);
	ck_assert_int_eq(keel_security_plan_prepare(sec, &plan, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "capability 62 is not known to this kernel"));
	keel_error_free(err);
}
END_TEST

/* In a fresh process: the default set, numbers and a plan need no
 * libcap-ng; the first capability name loads it. Exit code: which step. */
static int child_capng_at_first_name(void)
{
	struct keel_security_plan *plan = NULL;
	keel_security *sec = NULL;

	if (kt_mapped("libcap-ng.so") != 0)
		return 2;
	if (keel_security_new(&sec, NULL) < 0)
		return 3;
	keel_security_caps_set_default(sec);
	if (keel_security_cap_drop_num(sec, CAP_NET_RAW, NULL) < 0 ||
	    keel_security_plan_prepare(sec, &plan, NULL) < 0)
		return 4;
	keel_security_plan_free(plan);
	if (kt_mapped("libcap-ng.so") != 0)
		return 5;
	if (keel_security_cap_add(sec, "CAP_NET_ADMIN", NULL) < 0 ||
	    keel_security_cap_get(sec, KEEL_CAPSET_EFFECTIVE, "net_admin", NULL) != 1)
		return 6;
	if (kt_mapped("libcap-ng.so") != 1)
		return 7;
	keel_security_free(sec);
	return 0;
}

START_TEST(libcap_ng_is_loaded_at_the_first_capability_name)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_capng_at_first_name());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* 2: mapped at start, 5: mapped by the default set or a plan, 7: not by a name */
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}
END_TEST

/* ---------------------------------------------------------------- seccomp --- */

START_TEST(default_profile_denies_keyctl_and_runs_programs)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = new_default_filter();
	struct run r = { .sec = sec, .uid = -1, .notify_sock = -1 };
	struct outcome o;

	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl"), 0); /* the controls */
	ck_assert_int_eq(probe_errno(sec, 0, -1, "clone-user"), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl"), EPERM);
	/* clone may not make namespaces (an unconditional "clone" in the
	 * allow-list once let it); a plain one works */
	ck_assert_int_eq(probe_errno(sec, 0, -1, "clone-user"), EPERM);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "clone-plain"), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "init-module"), EPERM);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "settime"), EPERM);

	run_status(sec, -1, &o);
	ck_assert_uint_eq(status_field(&o, "Seccomp"), 2);

	r.argv[0] = busybox();
	r.argv[1] = "sh";
	r.argv[2] = "-c";
	r.argv[3] = "ls / >/dev/null && cat /proc/self/status | grep -q Seccomp && echo hello | tr a-z A-Z && "
		    "mount >/dev/null && ps >/dev/null && date >/dev/null && id -u && echo done";
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_msg(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0, "busybox sh: status 0x%x, out: %s",
		      o.status, o.out);
	ck_assert_str_eq(o.out, "HELLO\n0\ndone\n");
}
END_TEST

/* The 32-bit entry (int $0x80) meets the same filter. Added only where a
 * plain int $0x80 works (i386_entry_missing() in main()); the compat
 * verdict itself is proven in BPF by flattened_default_profile_gives_
 * libseccomp_verdicts on every host. */
START_TEST(default_profile_denies_keyctl_through_the_32bit_entry)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = new_default_filter();

	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl-i386"), 0); /* the control */
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl-i386"), EPERM);
}
END_TEST

START_TEST(default_profile_denies_user_namespaces_to_unprivileged)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = new_default_filter();

	/* the control: an unprivileged user may make a user namespace here */
	ck_assert_int_eq(probe_errno(sec, 0, TARGET_UID, "unshare-user"), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, 0, TARGET_UID, "unshare-user"), EPERM);
	ck_assert_int_eq(probe_errno(sec, 0, TARGET_UID, "keyctl"), EPERM);
}
END_TEST

START_TEST(kill_rule_kills_with_sigsys)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = NULL;
	struct run r = { .sec = sec, .uid = -1, .notify_sock = -1, .argv = { probe(), "getppid" } };
	struct outcome o;

	ck_assert_int_eq(keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_KILL_PROCESS, "getppid", NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	/* no core file from the SIGSYS */
	ck_assert_int_eq(keel_security_set_rlimit(sec, RLIMIT_CORE, 0, 0, NULL), 0);
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_msg(WIFSIGNALED(o.status), "not killed: status 0x%x", o.status);
	ck_assert_int_eq(WTERMSIG(o.status), SIGSYS);
	ck_assert_str_eq(o.out, "");

	/* on top of the default profile, which allows getppid, the newer rule wins */
	f = new_default_filter();
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_KILL_PROCESS, "getppid", NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	run(&r, &o);
	ck_assert_msg(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGSYS, "status 0x%x", o.status);
}
END_TEST

/* The precompiled default profile is constant data that security handles
 * point at rather than copy: each handle must keep working after the
 * filter is freed, and free only programs that are its own (the ASan
 * build would catch a wrong free). */
START_TEST(security_handles_share_the_default_profile_and_free_only_their_own)
{
	keel_security *a = new_sec(), *b = new_sec();
	keel_seccomp *f = NULL, *custom = NULL;

	ck_assert_int_eq(keel_seccomp_new_default(&f, NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(a, f, NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(b, f, NULL), 0);
	keel_seccomp_free(f);
	ck_assert_int_eq(probe_errno(a, 0, -1, "keyctl"), EPERM);
	/* b: replaced by a program of its own, which it copies */
	ck_assert_int_eq(keel_seccomp_new(&custom, KEEL_SECCOMP_ALLOW, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_errno(custom, "keyctl", ENOKEY, NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(b, custom, NULL), 0);
	keel_seccomp_free(custom);
	ck_assert_int_eq(probe_errno(b, 0, -1, "keyctl"), ENOKEY);
	/* a: removed */
	ck_assert_int_eq(keel_security_set_seccomp(a, NULL, NULL), 0);
	ck_assert_int_eq(probe_errno(a, 0, -1, "keyctl"), 0);
}
END_TEST

START_TEST(errno_and_argument_rules)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = NULL;

	ck_assert_int_eq(keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	/* socket(AF_INET, ...) fails with EAFNOSUPPORT; other families are untouched */
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(EAFNOSUPPORT), "socket", 0,
						   KEEL_SECCOMP_CMP_EQ, AF_INET, 0, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_errno(f, "keyctl", ENOKEY, NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, CLONE_NEWNET, -1, "raw-socket"), EAFNOSUPPORT);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl"), ENOKEY);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "unshare-user"), 0);
}
END_TEST

struct notify_ctx {
	int sock;
	int got_nr;
};

/* Play the supervisor: take the listener, answer the child's getppid with 4242. */
static void supervise(void *data)
{
	struct notify_ctx *n = data;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int fd = recv_fd(n->sock);

	if (fd < 0)
		return;
	memset(&req, 0, sizeof(req));
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
		n->got_nr = req.data.nr;
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.val = 4242;
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	close(fd);
}

START_TEST(notify_rule_hands_back_a_listener)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = NULL;
	struct notify_ctx n = { .got_nr = -1 };
	int sv[2];
	struct run r = { .sec = sec, .uid = -1, .argv = { probe(), "getppid" } };
	struct outcome o;

	ck_assert_int_eq(keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	ck_assert_int_eq(keel_seccomp_has_notify(f), 0);
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_NOTIFY, "getppid", NULL), 0);
	ck_assert_int_eq(keel_seccomp_has_notify(f), 1);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	kt_defer_close(sv[0]);
	kt_defer_close(sv[1]);
	r.notify_sock = sv[1];
	n.sock = sv[0];
	run_with(&r, &o, supervise, &n);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_int_eq(n.got_nr, SYS_getppid);
	ck_assert_str_eq(o.out, "4242\n");
	ck_assert_int_eq(WEXITSTATUS(o.status), 0);
}
END_TEST

START_TEST(seccomp_bad_input_is_refused_at_build_time)
{
	keel_seccomp *f = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_seccomp_new(&f, 0, &err), -EINVAL);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(keel_seccomp_new(&f, KEEL_SECCOMP_ERRNO(EPERM), NULL), 0);
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);

	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_KILL_PROCESS, "keytcl", &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "seccomp: unknown system call 'keytcl'");
	ck_assert_int_eq(keel_seccomp_add_rule(f, 99, "read", NULL), -EINVAL);
	ck_assert_int_eq(keel_seccomp_add_rule_errno(f, "read", 5000, NULL), -EINVAL);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ALLOW, "read", 6, KEEL_SECCOMP_CMP_EQ, 0, 0, NULL),
			 -EINVAL);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ALLOW, "read", 0, 0, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(keel_seccomp_add_arch(f, "pdp11", &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "seccomp: unknown architecture 'pdp11'");
	ck_assert_int_eq(keel_seccomp_add_arch(f, "x86", NULL), 0); /* already covered: fine */
	/* a rule with the default action changes nothing and is accepted */
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_ERRNO(EPERM), "read", NULL), 0);
	/* a call that exists only on the compat architecture */
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_ALLOW, "chown32", NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(NULL, f, NULL), -EINVAL);
	keel_error_free(err);
}
END_TEST

/* ------------------------------------------------ libseccomp at first use --- */

/* libseccomp's native architecture, asked of libseccomp itself: the suite
 * does not link it (libkeel opens it at first use), so open it here; with
 * RTLD_NOLOAD only if it is loaded already. 0 when it cannot be had. */
static uint32_t libseccomp_native_arch(int flags)
{
	void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL | flags);
	uint32_t (*native)(void) = h ? (uint32_t (*)(void))dlsym(h, "seccomp_arch_native") : NULL;

	return native ? native() : 0;
}

/*
 * In a grandchild: the plan's three steps as spawn runs them, then
 * keyctl(KEYCTL_GET_KEYRING_ID) itself; the errno it met (0: it worked),
 * 100+ when a step failed.
 */
static int keyctl_under(const keel_security *sec)
{
	struct keel_security_plan *plan = NULL;
	struct keel_child_report rep = { 0 };
	int status, nfd = -1;
	pid_t pid;

	if (keel_security_plan_prepare(sec, &plan, NULL) < 0)
		return 100;
	pid = fork();
	if (pid < 0)
		return 101;
	if (pid == 0) {
		if (keel_security_plan_apply_early(plan, &rep) < 0 || keel_security_plan_apply_pre_user(plan, &rep) < 0 ||
		    keel_security_plan_apply_late(plan, &nfd, &rep) < 0)
			_exit(102);
		_exit(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0 ? errno : 0);
	}
	keel_security_plan_free(plan);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 103;
	return WEXITSTATUS(status);
}

/* The precompiled default profile, compiled and applied: keyctl is refused.
 * Returns 0, or which step failed (10 + ...). */
static int default_profile_works(keel_security *sec)
{
	const struct sock_filter *prog = NULL;
	keel_seccomp *f = NULL;
	size_t len = 0;
	int r;

	if (keel_seccomp_new_default(&f, NULL) < 0)
		return 10;
	/* it is the precompiled program, which needs no libseccomp ... */
	r = keel_seccomp_compile(f, &prog, &len, NULL) < 0 || !keel_seccomp_is_static(prog) ? 11 : 0;
	/* ... and it works in the kernel */
	if (!r && keel_security_set_seccomp(sec, f, NULL) < 0)
		r = 12;
	if (!r && keyctl_under(sec) != EPERM)
		r = 13;
	keel_seccomp_free(f);
	return r;
}

/* In a fresh process: the default profile, compiled and applied, maps no
 * libseccomp; a filter built from rules loads it, and works. Exit code:
 * which step failed. */
static int child_libseccomp_at_first_rule(void)
{
	keel_security *sec = NULL;
	keel_seccomp *f = NULL;
	int r;

	if (kt_mapped("libseccomp.so") != 0)
		return 2;
	if (keel_security_new(&sec, NULL) < 0)
		return 3;
	r = default_profile_works(sec);
	if (r)
		return r;
	if (kt_mapped("libseccomp.so") != 0)
		return 4;
	if (keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, NULL) < 0 ||
	    keel_seccomp_add_rule_errno(f, "keyctl", ENOKEY, NULL) < 0)
		return 5;
	if (kt_mapped("libseccomp.so") != 1)
		return 6;
	if (keel_security_set_seccomp(sec, f, NULL) < 0 || keyctl_under(sec) != ENOKEY)
		return 7;
	keel_seccomp_free(f);
	/* the architecture libkeel takes for native without asking libseccomp
	 * is libseccomp's, which also made the precompiled program */
	if (libseccomp_native_arch(RTLD_NOLOAD) != keel_seccomp_default_arch)
		return 8;
	keel_security_free(sec);
	return 0;
}

/*
 * In a fresh child whose view of libseccomp is an empty file (a private
 * mount namespace: nothing outside this child sees it): the default
 * profile still works, and what needs libseccomp fails with a clear
 * error, the same every time, leaving the default profile as it was.
 */
static int child_without_libseccomp(const char *empty)
{
	char lib[4096], *slash;
	keel_security *sec = NULL;
	keel_seccomp *f = NULL, *def = NULL;
	keel_error *err = NULL;
	Dl_info libc;
	int i, r;

	/* libseccomp sits next to libc in Debian's multiarch directory. */
	if (!dladdr((void *)getpid, &libc) || !libc.dli_fname || !(slash = strrchr(libc.dli_fname, '/')))
		return 20;
	snprintf(lib, sizeof(lib), "%.*s/libseccomp.so.2", (int)(slash - libc.dli_fname), libc.dli_fname);
	if (access(lib, F_OK) < 0)
		return 21;
	if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(empty, lib, NULL, MS_BIND, NULL) < 0)
		return 22;
	if (keel_security_new(&sec, NULL) < 0)
		return 23;
	r = default_profile_works(sec);
	if (r)
		return r;
	if (keel_seccomp_new_default(&def, NULL) < 0)
		return 24;
	for (i = 0; i < 2; i++) {
		r = keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, &err);
		if (r != -ELIBACC || f || keel_error_code(err) != KEEL_ERROR_UNSUPPORTED ||
		    !strstr(keel_error_message(err), "seccomp: cannot load libseccomp.so.2: "))
			return 25;
		if (getenv("KEEL_TEST_SHOW_ERRORS"))
			fprintf(stderr, "%s\n", keel_error_message(err));
		keel_error_free(err);
		err = NULL;
		if (keel_seccomp_add_rule(def, KEEL_SECCOMP_ALLOW, "keyctl", NULL) != -ELIBACC ||
		    keel_seccomp_add_arch(def, "x32", NULL) != -ELIBACC)
			return 26;
	}
	/* the refused changes left the default profile as it was */
	if (keel_security_set_seccomp(sec, def, NULL) < 0 || keyctl_under(sec) != EPERM)
		return 27;
	keel_seccomp_free(def);
	if (kt_mapped("libseccomp.so") != 0)
		return 28;
	keel_security_free(sec);
	return 0;
}

static void run_libseccomp_child(int hide)
{
	char path[4096];
	int status, fd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/empty", kt_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(hide ? child_without_libseccomp(path) : child_libseccomp_at_first_rule());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* the exit code is the step that failed: see the child functions */
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

START_TEST(libseccomp_is_loaded_at_the_first_rule)
{
	run_libseccomp_child(0);
}
END_TEST

START_TEST(missing_libseccomp_leaves_the_default_profile_working)
{
	run_libseccomp_child(1);
}
END_TEST

/* Find "ld [4]; jeq #arch" checks in a classic BPF program. */
/* Does the program know arch: does a call on it (number 0) get another
 * verdict than on an architecture no filter knows? */
static int bpf_checks_arch(const struct sock_filter *prog, size_t len, unsigned int arch)
{
	struct seccomp_data known = { .nr = 0, .arch = arch }, unknown = { .nr = 0, .arch = 0xffffffffu };

	return keel_bpf_run(prog, len, &known) != keel_bpf_run(prog, len, &unknown);
}

START_TEST(compiled_filter_covers_compat_arches_and_is_cached)
{
	keel_seccomp *f = new_default_filter();
	const struct sock_filter *p1, *p2, *p3;
	size_t l1, l2, l3;

	struct sock_filter *before;

	ck_assert_int_eq(keel_seccomp_compile(f, &p1, &l1, NULL), 0);
	ck_assert_int_eq(keel_seccomp_compile(f, &p2, &l2, NULL), 0);
	ck_assert_ptr_eq(p1, p2);
	ck_assert_uint_eq(l1, l2);
	before = malloc(l1 * sizeof(*before));
	ck_assert_ptr_nonnull(before);
	kt_defer_fn(free, before);
	memcpy(before, p1, l1 * sizeof(*before));
#if defined(__x86_64__)
	ck_assert(bpf_checks_arch(p1, l1, AUDIT_ARCH_X86_64));
	ck_assert(bpf_checks_arch(p1, l1, AUDIT_ARCH_I386));
#endif
	/* a change recompiles */
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_KILL_PROCESS, "getppid", NULL), 0);
	ck_assert_int_eq(keel_seccomp_compile(f, &p3, &l3, NULL), 0);
	ck_assert(l3 != l1 || memcmp(p3, before, l1 * sizeof(*before)) != 0);
}
END_TEST

/* The program of a filter, copied (the filter's own is valid only until it
 * changes). */
static struct sock_filter *program_of(keel_seccomp *f, size_t *len)
{
	const struct sock_filter *p;
	struct sock_filter *copy;
	keel_error *err = NULL;

	ck_assert_msg(keel_seccomp_compile(f, &p, len, &err) == 0, "%s", keel_error_message(err));
	ck_assert_uint_gt(*len, 0);
	copy = malloc(*len * sizeof(*copy));
	ck_assert_ptr_nonnull(copy);
	kt_defer_fn(free, copy);
	memcpy(copy, p, *len * sizeof(*copy));
	return copy;
}

static keel_seccomp *build_default_filter(void)
{
	keel_seccomp *f = NULL;
	keel_error *err = NULL;

	ck_assert_msg(keel_seccomp_build_default(&f, &err) == 0, "%s", keel_error_message(err));
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	return f;
}

static void assert_same_program(keel_seccomp *a, keel_seccomp *b, const char *what)
{
	size_t la, lb;
	struct sock_filter *pa = program_of(a, &la), *pb = program_of(b, &lb);

	ck_assert_msg(la == lb, "%s: %zu instructions against %zu", what, la, lb);
	ck_assert_msg(!memcmp(pa, pb, la * sizeof(*pa)), "%s: the programs differ", what);
}

START_TEST(default_profile_is_precompiled_as_libseccomp_compiles_it)
{
	keel_seccomp *pre = new_default_filter(), *rt = build_default_filter();
	const struct sock_filter *p;
	size_t len;

	/* A native build has the precompiled program, and the default profile
	 * hands it out without compiling anything. */
	ck_assert_uint_eq(keel_seccomp_default_arch, libseccomp_native_arch(0));
	ck_assert_uint_gt(keel_seccomp_default_len, 0);
	ck_assert_int_eq(keel_seccomp_compile(pre, &p, &len, NULL), 0);
	ck_assert_ptr_eq(p, keel_seccomp_default_bpf);
	ck_assert_uint_eq(len, keel_seccomp_default_len);
	/* It is what libseccomp compiles from the same rules at run time. */
	assert_same_program(pre, rt, "precompiled against run-time default profile");
}
END_TEST

/*
 * The flattened program (src/security-bpf.c) must give libseccomp's own
 * program's verdict for every system call number of every architecture
 * (and for architectures the filter does not know), with argument values
 * on both sides of the ones the rules compare with.
 */
static const uint32_t test_arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0xffffffffu };

/* Every number below 640 (no architecture has more system calls) and
 * the x32 ones, with each of values in each argument up to max_arg.
 * Kept to some 10^5 runs: the suite also runs under ASan in an emulated
 * VM. */
static void assert_same_verdicts(const struct sock_filter *a, size_t la, const struct sock_filter *b, size_t lb,
				 const uint64_t *values, size_t n_values, int max_arg, const char *what)
{
	static const uint32_t nr_bases[] = { 0, 0x40000000u };
	struct seccomp_data d;
	size_t ai, bi, vi, checked = 0;
	uint32_t nr, va, vb;
	int arg;

	for (ai = 0; ai < sizeof(test_arches) / sizeof(test_arches[0]); ai++)
		for (bi = 0; bi < 2; bi++)
			for (nr = nr_bases[bi]; nr < nr_bases[bi] + 640; nr++)
				for (arg = -1; arg <= max_arg; arg++)
					for (vi = 0; vi < (arg < 0 ? 1 : n_values); vi++) {
						memset(&d, 0, sizeof(d));
						d.nr = (int)nr;
						d.arch = test_arches[ai];
						d.instruction_pointer = 0x7f0000001000ULL;
						if (arg >= 0)
							d.args[arg] = values[vi];
						va = keel_bpf_run(a, la, &d);
						vb = keel_bpf_run(b, lb, &d);
						ck_assert_msg(va == vb,
							      "%s: arch 0x%x nr %u arg%d=0x%llx: 0x%x against 0x%x",
							      what, d.arch, nr, arg,
							      arg < 0 ? 0ULL : (unsigned long long)values[vi], va, vb);
						checked++;
					}
	ck_assert_uint_gt(checked, 50000);
}

static uint32_t verdict(const struct sock_filter *p, size_t len, uint32_t arch, int nr, uint64_t arg0)
{
	struct seccomp_data d = { .nr = nr, .arch = arch, .args = { arg0 } };

	return keel_bpf_run(p, len, &d);
}

START_TEST(flattened_default_profile_gives_libseccomp_verdicts)
{
	static const uint64_t values[] = { 1, 2, AF_VSOCK - 1, AF_VSOCK, AF_VSOCK + 1, 0x8, 0x20000, 0x20008,
					   0xffffffffULL, 0x1ffffffffULL, 0x100000000ULL, 0xffffffff00000000ULL,
					   CLONE_NEWUSER, CLONE_NEWNET | CLONE_VM, CLONE_VM | CLONE_FS | SIGCHLD,
					   CLONE_NEWNS, 0x7ffffffe };
	keel_seccomp *f = build_default_filter();
	struct sock_filter *raw = NULL, *flat;
	size_t raw_len = 0, flat_len;
	keel_error *err = NULL;

	ck_assert_msg(keel_seccomp_export(f, &raw, &raw_len, &err) == 0, "%s", keel_error_message(err));
	kt_defer_fn(free, raw);
	flat = program_of(f, &flat_len);
	/* The rewrite applied, and pays: under half of libseccomp's length. */
	ck_assert_msg(flat_len * 2 < raw_len, "flattened %zu instructions, libseccomp %zu", flat_len, raw_len);
	/* its rules look at the first argument only */
	assert_same_verdicts(raw, raw_len, flat, flat_len, values, sizeof(values) / sizeof(values[0]), 0,
			     "default profile");
#if defined(__x86_64__)
	/* And the interpreter says what the profile means (the kernel's
	 * verdicts in a container are in the tests above). */
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_getpid, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_keyctl, 0), SECCOMP_RET_ERRNO | EPERM);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_clone3, 0), SECCOMP_RET_ERRNO | ENOSYS);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_clone, SIGCHLD), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_clone, CLONE_NEWUSER | SIGCHLD),
			  SECCOMP_RET_ERRNO | EPERM);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_socket, AF_INET), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_X86_64, __NR_socket, AF_VSOCK),
			  SECCOMP_RET_ERRNO | EPERM);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_I386, 288 /* i386 keyctl */, 0), SECCOMP_RET_ERRNO | EPERM);
	ck_assert_uint_eq(verdict(flat, flat_len, AUDIT_ARCH_AARCH64, __NR_getpid, 0) & SECCOMP_RET_ACTION_FULL,
			  verdict(flat, flat_len, 0xffffffffu, __NR_getpid, 0) & SECCOMP_RET_ACTION_FULL);
	ck_assert_uint_ne(verdict(flat, flat_len, 0xffffffffu, __NR_getpid, 0), SECCOMP_RET_ALLOW);
#endif
}
END_TEST

/* The same for a filter with rules on several arguments and actions. */
START_TEST(flattened_filter_with_argument_rules_gives_libseccomp_verdicts)
{
	static const uint64_t values[] = { 0, 1, 2, 3, 9, 10, 11, 0x40, 0x41, 0xff, 0x100, 0xfffffffeULL,
					   0xffffffffULL, 0x100000000ULL, 0x100000001ULL, 0xffffffff00000000ULL,
					   0x8000000000000000ULL, ~0ULL };
	keel_seccomp *f = NULL;
	struct sock_filter *raw = NULL, *flat;
	size_t raw_len = 0, flat_len;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_seccomp_new(&f, KEEL_SECCOMP_ALLOW, NULL), 0);
	kt_defer_fn((void (*)(void *))keel_seccomp_free, f);
	ck_assert_int_eq(keel_seccomp_add_rule_errno(f, "keyctl", ENOKEY, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule(f, KEEL_SECCOMP_KILL_PROCESS, "kexec_load", NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(EBADF), "write", 0, KEEL_SECCOMP_CMP_GT, 10,
						   0, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(EACCES), "openat", 2,
						   KEEL_SECCOMP_CMP_MASKED_EQ, 0x40, 0x41, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(EPERM), "kill", 1, KEEL_SECCOMP_CMP_EQ, 9, 0,
						   NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(ERANGE), "lseek", 1, KEEL_SECCOMP_CMP_LE,
						   0xffffffffULL, 0, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(EINVAL), "mmap", 5, KEEL_SECCOMP_CMP_GE,
						   0x100000000ULL, 0, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_arg(f, KEEL_SECCOMP_ERRNO(E2BIG), "read", 0, KEEL_SECCOMP_CMP_LT, 3,
						   0, NULL), 0);
	ck_assert_msg(keel_seccomp_export(f, &raw, &raw_len, &err) == 0, "%s", keel_error_message(err));
	kt_defer_fn(free, raw);
	flat = program_of(f, &flat_len);
	assert_same_verdicts(raw, raw_len, flat, flat_len, values, sizeof(values) / sizeof(values[0]), 5,
			     "filter with argument rules");
}
END_TEST

/* Programs the rewrite does not model are refused, never mistranslated. */
START_TEST(flatten_refuses_what_it_does_not_model)
{
	static const struct sock_filter masks_the_number[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, 0 },
		{ BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xff },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 39 },
		{ BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | EPERM },
		{ BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW },
	};
	static const struct sock_filter jumps_out[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, 0 },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 9, 39 },
		{ BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW },
	};
	static const struct sock_filter tests_a_bit[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, 0 },
		{ BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x40000000 },
		{ BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | EPERM },
		{ BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW },
	};
	struct sock_filter *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(keel_bpf_flatten(masks_the_number, 5, &out, &len), -ENOTSUP);
	ck_assert_int_eq(keel_bpf_flatten(tests_a_bit, 4, &out, &len), -ENOTSUP);
	ck_assert_int_eq(keel_bpf_flatten(jumps_out, 3, &out, &len), -EINVAL);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(precompiled_default_profile_takes_changes_like_a_built_one)
{
	keel_seccomp *pre = new_default_filter(), *rt = build_default_filter();
	const struct sock_filter *p;
	size_t len;

#if defined(__x86_64__)
	/* an architecture it already covers changes nothing */
	ck_assert_int_eq(keel_seccomp_add_arch(pre, "x86", NULL), 0);
	ck_assert_int_eq(keel_seccomp_compile(pre, &p, &len, NULL), 0);
	ck_assert_ptr_eq(p, keel_seccomp_default_bpf);
#endif
	/* a bad rule is refused and leaves it precompiled */
	ck_assert_int_eq(keel_seccomp_add_rule(pre, KEEL_SECCOMP_ALLOW, "keytcl", NULL), -EINVAL);
	ck_assert_int_eq(keel_seccomp_compile(pre, &p, &len, NULL), 0);
	ck_assert_ptr_eq(p, keel_seccomp_default_bpf);
	/* the same changes on both give the same program */
	ck_assert_int_eq(keel_seccomp_add_rule_errno(pre, "getppid", ENOKEY, NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule_errno(rt, "getppid", ENOKEY, NULL), 0);
	assert_same_program(pre, rt, "default profile + an errno rule");
	ck_assert_int_eq(keel_seccomp_add_rule(pre, KEEL_SECCOMP_ALLOW, "keyctl", NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_rule(rt, KEEL_SECCOMP_ALLOW, "keyctl", NULL), 0);
	assert_same_program(pre, rt, "default profile + an allow rule");

#if defined(__x86_64__)
	/* a new architecture: the rules are compiled for it too */
	pre = new_default_filter();
	rt = build_default_filter();
	ck_assert_int_eq(keel_seccomp_add_arch(pre, "arm", NULL), 0);
	ck_assert_int_eq(keel_seccomp_add_arch(rt, "arm", NULL), 0);
	assert_same_program(pre, rt, "default profile + an architecture");
	ck_assert(bpf_checks_arch(program_of(pre, &len), len, AUDIT_ARCH_ARM));
#endif
}
END_TEST

START_TEST(rule_added_to_precompiled_default_profile_works_in_the_kernel)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = new_default_filter();

	/* the precompiled profile lets getppid through and denies keyctl */
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "getppid"), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl"), EPERM);
	/* after a change it is compiled from the rules: the new rule and
	 * the old ones, 32-bit entry included, are all in force */
	ck_assert_int_eq(keel_seccomp_add_rule_errno(f, "getppid", ENOKEY, NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "getppid"), ENOKEY);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl"), EPERM);
}
END_TEST

/* The same through the 32-bit entry, where the host has it. */
START_TEST(rule_added_to_precompiled_default_profile_holds_on_the_32bit_entry)
{
	keel_security *sec = new_sec();
	keel_seccomp *f = new_default_filter();

	ck_assert_int_eq(keel_seccomp_add_rule_errno(f, "getppid", ENOKEY, NULL), 0);
	ck_assert_int_eq(keel_security_set_seccomp(sec, f, NULL), 0);
	ck_assert_int_eq(probe_errno(sec, 0, -1, "keyctl-i386"), EPERM);
}
END_TEST

/* ------------------------------------------------- rlimits, oom, uts, sysctl --- */

START_TEST(rlimit_nofile_reads_back_inside)
{
	keel_security *sec = new_sec();
	keel_error *err = NULL;
	struct run r = { .sec = sec, .uid = -1, .notify_sock = -1, .argv = { probe(), "rlimit-nofile" } };
	struct outcome o;

	ck_assert_int_eq(keel_security_set_rlimit(sec, RLIMIT_NOFILE, 123, 456, NULL), 0);
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_str_eq(o.out, "123 456\n");

	ck_assert_int_eq(keel_security_set_rlimit(sec, -1, 1, 1, NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_rlimit(sec, RLIM_NLIMITS, 1, 1, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "unknown resource"));
	ck_assert_int_eq(keel_security_set_rlimit(sec, RLIMIT_NOFILE, 10, 5, &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "rlimit NOFILE: soft limit 10 is above the hard limit 5");
	keel_error_free(err);
}
END_TEST

START_TEST(oom_score_adj_reads_back_inside)
{
	keel_security *sec = new_sec();
	struct run r = { .sec = sec, .uid = -1, .notify_sock = -1 };
	struct outcome o;

	ck_assert_int_eq(keel_security_set_oom_score_adj(sec, 1001, NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_oom_score_adj(sec, 517, NULL), 0);
	r.argv[0] = busybox();
	r.argv[1] = "cat";
	r.argv[2] = "/proc/self/oom_score_adj";
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_str_eq(o.out, "517\n");
}
END_TEST

START_TEST(hostname_needs_and_uses_a_uts_namespace)
{
	keel_security *sec = new_sec();
	const char *name = kt_name("h");
	char want[128];
	struct utsname before, after;
	struct run r = { .sec = sec, .unshare = CLONE_NEWUTS, .uid = -1, .notify_sock = -1 };
	struct outcome o;

	ck_assert_int_eq(keel_security_set_hostname(sec, "", NULL), -EINVAL);
	{
		static const char *const bad[] = { "a\nb", "a/b", "a b", "\xff\xfe", "caf\xc3", "\xc0\xaf",
						   "\xed\xa0\x80", "tab\there", "del\x7f" };
		keel_error *e = NULL;
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ck_assert_msg(keel_security_set_hostname(sec, bad[i], &e) == -EINVAL, "accepted #%zu", i);
			ck_assert_ptr_nonnull(strstr(keel_error_message(e), "hostname: the name holds"));
			keel_error_free(e);
			e = NULL;
			ck_assert_int_eq(keel_security_set_domainname(sec, bad[i], NULL), -EINVAL);
		}
		ck_assert_int_eq(keel_security_set_hostname(sec, "caf\xc3\xa9-web_1.example", NULL), 0);
	}
	ck_assert_int_eq(keel_security_set_hostname(sec, name, NULL), 0);
	ck_assert_int_eq(keel_security_set_domainname(sec, "example.test", NULL), 0);
	ck_assert_int_eq(uname(&before), 0);
	r.argv[0] = busybox();
	r.argv[1] = "sh";
	r.argv[2] = "-c";
	r.argv[3] = "hostname; cat /proc/sys/kernel/domainname";
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_int_eq(uname(&after), 0);
	ck_assert_str_eq(after.nodename, before.nodename);
	snprintf(want, sizeof(want), "%s\nexample.test\n", name);
	ck_assert_str_eq(o.out, want);

	/* without a UTS namespace of its own, it refuses instead of renaming the host */
	r.unshare = 0;
	run(&r, &o);
	ck_assert(o.setup_failed);
	ck_assert_ptr_nonnull(strstr(o.rep.msg, "has no UTS namespace of its own"));
	ck_assert_int_eq(uname(&after), 0);
	ck_assert_str_eq(after.nodename, before.nodename);
}
END_TEST

START_TEST(namespaced_sysctls_are_written_inside_only)
{
	keel_security *sec = new_sec();
	char *host_before = strdup(kt_read("/proc/sys/net/ipv4/ip_forward"));
	struct run r = { .sec = sec, .unshare = CLONE_NEWNET | CLONE_NEWIPC, .uid = -1, .notify_sock = -1 };
	struct outcome o;
	const char *want;

	ck_assert_ptr_nonnull(host_before);
	want = host_before[0] == '1' ? "0" : "1";
	ck_assert_int_eq(keel_security_set_sysctl(sec, "net.ipv4.ip_forward", want, NULL), 0);
	ck_assert_int_eq(keel_security_set_sysctl(sec, "kernel.shmmni", "1234", NULL), 0);
	r.argv[0] = busybox();
	r.argv[1] = "cat";
	r.argv[2] = "/proc/sys/net/ipv4/ip_forward";
	r.argv[3] = "/proc/sys/kernel/shmmni";
	run(&r, &o);
	ck_assert_msg(!o.setup_failed, "%s", o.rep.msg);
	ck_assert_int_eq(o.out[0], want[0]);
	ck_assert_str_eq(o.out + 1, "\n1234\n");
	ck_assert_str_eq(kt_read("/proc/sys/net/ipv4/ip_forward"), host_before);

	/* in the host's network namespace it refuses */
	r.unshare = CLONE_NEWIPC;
	run(&r, &o);
	ck_assert(o.setup_failed);
	ck_assert_str_eq(o.rep.msg, "sysctl net.ipv4.ip_forward: the container has no network namespace of its own "
				    "(it would change the host)");
	ck_assert_str_eq(kt_read("/proc/sys/net/ipv4/ip_forward"), host_before);
	free(host_before);
}
END_TEST

START_TEST(sysctl_bad_input_is_refused)
{
	keel_security *sec = new_sec();
	keel_error *err = NULL;

	ck_assert_int_eq(keel_security_set_sysctl(sec, "vm.swappiness", "10", &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "sysctl vm.swappiness is not namespaced; it would change the host");
	ck_assert_int_eq(keel_security_set_sysctl(sec, "kernel.hostname", "x", NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_sysctl(sec, "net..ipv4", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_sysctl(sec, "net/../../vm/swappiness", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_sysctl(sec, "net.ipv4.", "1", NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_sysctl(sec, "net.ipv4.ip_forward", NULL, NULL), -EINVAL);
	keel_error_free(err);
}
END_TEST

START_TEST(lsm_labels_follow_feature_discovery)
{
	keel_security *sec = new_sec();
	struct keel_security_plan *plan = NULL;
	keel_features *feat = NULL;
	keel_error *err = NULL;
	int ret;

	ck_assert_int_eq(keel_features_probe(&feat, NULL), 0);
	ck_assert_int_eq(keel_security_set_apparmor_profile(sec, "", NULL), -EINVAL);
	ck_assert_int_eq(keel_security_set_apparmor_profile(sec, "keel-default", NULL), 0);
	ret = keel_security_plan_prepare(sec, &plan, &err);
	if (keel_features_has(feat, KEEL_FEATURE_APPARMOR)) {
		/* with AppArmor, only a loaded profile passes (no one loads this one) */
		ck_assert_int_eq(ret, access(APPARMOR_PROFILES, R_OK) == 0 ? -ENOENT : 0);
	} else {
		ck_assert_int_eq(ret, -ENOTSUP);
		ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_UNSUPPORTED);
		ck_assert_str_eq(keel_error_message(err), "apparmor profile keel-default: AppArmor is not enabled on "
							  "this host: Operation not supported");
	}
	keel_security_plan_free(plan);
	plan = NULL;
	ck_assert_int_eq(keel_security_set_apparmor_profile(sec, NULL, NULL), 0);
	ck_assert_int_eq(keel_security_set_selinux_label(sec, "system_u:system_r:container_t:s0", NULL), 0);
	ret = keel_security_plan_prepare(sec, &plan, NULL);
	ck_assert_int_eq(ret == 0, keel_features_has(feat, KEEL_FEATURE_SELINUX));
	keel_security_plan_free(plan);
	keel_features_free(feat);
	keel_error_free(err);
}
END_TEST

/* ------------------------------------------------------------- AppArmor --- */

#define SECRET "/keel-lsm-secret"

/* Run apparmor_parser with one option on file; its wait status. */
static int apparmor_parser(const char *option, const char *file)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* no parser.conf in the test VM: say there is none rather than warn */
		execl(APPARMOR_PARSER, APPARMOR_PARSER, "--config-file=/dev/null", "--skip-cache", option, file,
		      (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

struct loaded_profile {
	char name[64];
	char file[4096];
	int loaded;
};

static void unload_profile(void *data)
{
	struct loaded_profile *lp = data;

	if (lp->loaded)
		apparmor_parser("--remove", lp->file);
	free(lp);
}

/* Load a profile that lets a busybox do anything but read SECRET; its
 * name is unique to this process. Unloaded at cleanup. */
static struct loaded_profile *load_deny_profile(void)
{
	struct loaded_profile *lp = calloc(1, sizeof(*lp));
	FILE *f;
	char line[256];

	ck_assert_ptr_nonnull(lp);
	snprintf(lp->name, sizeof(lp->name), "keel-test-deny-%d", (int)getpid());
	snprintf(lp->file, sizeof(lp->file), "%s/profile", kt_tmpdir());
	/* after the directory's removal was registered, so it runs before it */
	kt_defer_fn(unload_profile, lp);
	ck_assert_ptr_nonnull(f = fopen(lp->file, "we"));
	/* attach_disconnected: the container's files live on an overlay whose
	 * paths are outside the host's view of the mount namespace */
	fprintf(f, "profile %s flags=(attach_disconnected,mediate_deleted) {\n"
		   "  file,\n  capability,\n  network,\n  signal,\n  ptrace,\n  unix,\n"
		   "  mount,\n  umount,\n  pivot_root,\n"
		   "  deny " SECRET " r,\n}\n",
		lp->name);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(apparmor_parser("--replace", lp->file), 0);
	lp->loaded = 1;
	snprintf(line, sizeof(line), "%s (enforce)\n", lp->name);
	ck_assert_msg(strstr(kt_read(APPARMOR_PROFILES), line), "%s is not listed in " APPARMOR_PROFILES, lp->name);
	return lp;
}

/* A layer (over the busybox rootfs) holding SECRET, readable by all. */
static const char *secret_layer(void)
{
	const char *dir = kt_tmpdir();
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s" SECRET, dir);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), 0);
	ck_assert_int_eq(write(fd, "secret\n", 7), 7);
	close(fd);
	return dir;
}

/* A container on the busybox rootfs and the secret layer running argv with
 * stdout and stderr on out; deleted at cleanup whatever happens. */
static keel_container *lsm_container(const char *id, const char *root, const char *layer, const char *const argv[],
				     int out)
{
	keel_container *c = NULL;
	keel_error *err = NULL;

	kt_defer_container(id, root, 1);
	ck_assert_msg(keel_container_new(&c, id, root, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(keel_container_add_layer(c, kt_rootfs(), NULL), 0);
	ck_assert_int_eq(keel_container_add_layer(c, layer, NULL), 0);
	ck_assert_int_eq(keel_rootfs_add_defaults(keel_container_rootfs(c), NULL), 0);
	ck_assert_int_eq(keel_process_set_args(keel_container_process(c), argv, NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(c), -1, out, out, NULL), 0);
	return c;
}

/* Read fd into buf until it holds "rc=N\n" (the scripts' last line) or
 * EOF; a container that hangs is caught by the test's timeout. */
static const char *read_to_rc(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	buf[0] = '\0';
	while (used < size - 1) {
		const char *rc = strstr(buf, "rc=");

		if (rc && strchr(rc, '\n'))
			break;
		if ((n = read(fd, buf + used, size - 1 - used)) <= 0)
			break;
		used += (size_t)n;
		buf[used] = '\0';
	}
	return buf;
}

/* The label of pid as /proc/PID/attr/current (and, where the kernel has
 * it, attr/apparmor/current, which must agree) reads it. */
static const char *label_of(pid_t pid)
{
	static char label[256];
	char path[64];
	const char *s;

	snprintf(path, sizeof(path), "/proc/%d/attr/current", (int)pid);
	ck_assert_ptr_nonnull(s = kt_read(path));
	snprintf(label, sizeof(label), "%s", s);
	snprintf(path, sizeof(path), "/proc/%d/attr/apparmor/current", (int)pid);
	if (access(path, F_OK) == 0)
		ck_assert_str_eq(kt_read(path), label);
	return label;
}

/* What `sh -c script` exec'd in c prints (stdout and stderr), through a
 * handle that created c or one that loaded it. */
static const char *exec_in(keel_container *c, const char *script, char *buf, size_t size)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	int out[2], code = -1;

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(keel_process_new(&p, NULL), 0);
	ck_assert_int_eq(keel_process_set_args(p, argv, NULL), 0);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, out[1], out[1], NULL), 0);
	ck_assert_msg(keel_container_exec(c, p, &child, &err) == 0, "%s", keel_error_message(err));
	close(out[1]);
	read_to_rc(out[0], buf, size);
	close(out[0]);
	ck_assert_int_eq(keel_child_wait(child, 0, &code, NULL, NULL), 1);
	keel_child_free(child);
	keel_process_free(p);
	return buf;
}

static const char *const read_secret[] = { "/bin/sh", "-c",
	"cat " SECRET "; echo rc=$?; exec sleep 1000", NULL };
#define EXEC_SCRIPT "cat /proc/self/attr/current; cat " SECRET "; echo rc=$?"

/* The profile given to the container is the label of its init and of what
 * is exec'd in it (from this handle and from one that loaded the state):
 * the kernel refuses them the one read the profile denies, which the same
 * container without the profile makes. */
START_TEST(apparmor_profile_confines_the_init_and_its_execs)
{
	struct loaded_profile *lp = load_deny_profile();
	const char *root = kt_tmpdir(), *layer = secret_layer(), *id = kt_name("aa");
	char want[256], buf[1024];
	keel_container *c, *loaded = NULL;
	keel_error *err = NULL;
	int out[2], code = -1;

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	c = lsm_container(id, root, layer, read_secret, out[1]);
	ck_assert_int_eq(keel_security_set_apparmor_profile(keel_container_security(c), lp->name, NULL), 0);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	close(out[1]);
	read_to_rc(out[0], buf, sizeof(buf));
	close(out[0]);
	ck_assert_msg(strstr(buf, "cat: can't open '" SECRET "': Permission denied\nrc=1\n"), "init said: %s", buf);
	snprintf(want, sizeof(want), "%s (enforce)\n", lp->name);
	ck_assert_str_eq(label_of(keel_container_pid(c)), want);

	snprintf(want, sizeof(want), "%s (enforce)\ncat: can't open '" SECRET "': Permission denied\nrc=1\n", lp->name);
	ck_assert_str_eq(exec_in(c, EXEC_SCRIPT, buf, sizeof(buf)), want);
	ck_assert_msg(keel_container_load(&loaded, id, root, &err) == 0, "%s", keel_error_message(err));
	ck_assert_str_eq(exec_in(loaded, EXEC_SCRIPT, buf, sizeof(buf)), want);
	keel_container_free(loaded);
	ck_assert_int_eq(keel_container_kill(c, SIGKILL, 0, NULL), 0);
	ck_assert_int_eq(keel_container_wait(c, 0, NULL, NULL, NULL), 1);
	ck_assert_int_eq(keel_container_delete(c, 0, NULL), 0);
	keel_container_free(c);

	/* the same container without the profile reads the file, unconfined */
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	c = lsm_container(kt_name("aa"), root, layer, read_secret, out[1]);
	ck_assert_msg(keel_container_run(c, &err) == 0, "%s", keel_error_message(err));
	close(out[1]);
	ck_assert_str_eq(read_to_rc(out[0], buf, sizeof(buf)), "secret\nrc=0\n");
	close(out[0]);
	ck_assert_str_eq(label_of(keel_container_pid(c)), "unconfined\n");
	ck_assert_str_eq(exec_in(c, EXEC_SCRIPT, buf, sizeof(buf)), "unconfined\nsecret\nrc=0\n");
	ck_assert_int_eq(keel_container_kill(c, SIGKILL, 0, NULL), 0);
	ck_assert_int_eq(keel_container_wait(c, 0, &code, NULL, NULL), 1);
	keel_container_free(c);
}
END_TEST

/* A profile the kernel does not have fails create before anything is made,
 * saying so, and leaves no state directory, cgroup or mount. */
START_TEST(unknown_apparmor_profile_fails_create_and_leaves_nothing)
{
	const char *root = kt_tmpdir(), *id = kt_name("aa");
	const char *const argv[] = { "/bin/true", NULL };
	char name[64], want[512], path[4096], *cg2 = NULL;
	keel_container *c;
	keel_error *err = NULL;

	snprintf(name, sizeof(name), "keel-test-nope-%d", (int)getpid());
	c = lsm_container(id, root, secret_layer(), argv, 2);
	ck_assert_int_eq(keel_security_set_apparmor_profile(keel_container_security(c), name, NULL), 0);
	ck_assert_int_eq(keel_container_create(c, &err), -ENOENT);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_NOT_FOUND);
	snprintf(want, sizeof(want), "container %s: apparmor profile %s: no such profile is loaded (not in "
		 APPARMOR_PROFILES "; load it with apparmor_parser -r FILE): No such file or directory", id, name);
	ck_assert_str_eq(keel_error_message(err), want);
	keel_error_free(err);
	keel_container_free(c);
	snprintf(path, sizeof(path), "%s/%s", root, id);
	ck_assert_msg(access(path, F_OK) < 0 && errno == ENOENT, "%s is left", path);
	ck_assert_int_eq(keel_find_mount("cgroup2", &cg2, NULL), 0);
	snprintf(path, sizeof(path), "%s/keel/%s", cg2, id);
	free(cg2);
	ck_assert_msg(access(path, F_OK) < 0 && errno == ENOENT, "cgroup %s is left", path);
	ck_assert_msg(!strstr(kt_read("/proc/self/mountinfo"), root), "a mount under %s is left", root);
}
END_TEST


/* Apply plan's late step in a child that then exits; 1 with *rep filled if
 * the step failed, 0 if it worked. */
static int apply_late_in_child(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	int repp[2], status;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe2(repp, O_CLOEXEC), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		int nfd;

		memset(rep, 0, sizeof(*rep));
		if (keel_security_plan_apply_late(plan, &nfd, rep) < 0 && write(repp[1], rep, sizeof(*rep)) < 0)
			_exit(126);
		_exit(0);
	}
	close(repp[1]);
	n = read(repp[0], rep, sizeof(*rep));
	close(repp[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert(n == 0 || n == (ssize_t)sizeof(*rep));
	return n > 0;
}

/* A profile unloaded between the parent's check and the child's write (a
 * race the parent cannot close) fails in the child, and says why. */
START_TEST(profile_unloaded_after_prepare_fails_in_the_child)
{
	struct loaded_profile *lp = load_deny_profile();
	keel_security *sec = new_sec();
	struct keel_security_plan *plan = NULL;
	struct keel_child_report rep;
	keel_error *err = NULL;
	char want[256];

	ck_assert_int_eq(keel_security_set_apparmor_profile(sec, lp->name, NULL), 0);
	ck_assert_msg(keel_security_plan_prepare(sec, &plan, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(apparmor_parser("--remove", lp->file), 0);
	lp->loaded = 0;
	ck_assert_int_eq(apply_late_in_child(plan, &rep), 1);
	keel_security_plan_free(plan);
	ck_assert_int_eq(rep.errnum, ENOENT);
	/* the parent adds ": No such file or directory" when it makes the error */
	snprintf(want, sizeof(want), "apparmor profile %s (no such profile is loaded)", lp->name);
	ck_assert_str_eq(rep.msg, want);
	ck_assert_msg(!strstr(kt_read(APPARMOR_PROFILES), lp->name), "%s is still loaded", lp->name);
}
END_TEST

/* Names the profiles list does not show are left to the kernel: it takes
 * "unconfined" (what an OCI config may ask for) and refuses a stack of an
 * unknown profile itself. */
START_TEST(unlisted_apparmor_names_are_left_to_the_kernel)
{
	keel_security *sec = new_sec();
	struct keel_security_plan *plan = NULL;
	struct keel_child_report rep;
	keel_error *err = NULL;
	const char *names[] = { "unconfined", "unconfined//&keel-test-nope" };
	int i;

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(keel_security_set_apparmor_profile(sec, names[i], NULL), 0);
		ck_assert_msg(keel_security_plan_prepare(sec, &plan, &err) == 0, "%s", keel_error_message(err));
		/* the first is applied, the second refused */
		ck_assert_int_eq(apply_late_in_child(plan, &rep), i);
		keel_security_plan_free(plan);
		plan = NULL;
	}
	ck_assert_msg(rep.errnum == ENOENT, "%s (errno %d)", rep.msg, rep.errnum);
}
END_TEST

/* Host probe, outside the code under test: a child does a plain int $0x80
 * getpid (i386 number 20) with no filter. NULL when that returns the
 * child's pid, else why the 32-bit entry cannot be used here. */
static const char *i386_entry_missing(void)
{
#if defined(__x86_64__)
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		long ret;

		/* a sanitizer's SIGSEGV handler would turn the fault into exit 1 */
		signal(SIGSEGV, SIG_DFL);
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		_exit(ret == (long)getpid() ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return "no 32-bit system call entry: the int $0x80 probe could not run";
	if (WIFSIGNALED(status))
		return "no 32-bit system call entry: a plain int $0x80 getpid is killed by a signal here";
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return "no 32-bit system call entry: a plain int $0x80 getpid returns the wrong pid here";
	return NULL;
#else
	return "no 32-bit x86 entry: not an x86-64 host";
#endif
}

int main(void)
{
	const char *no_i386 = i386_entry_missing();
	const char *no_apparmor = kt_missing_apparmor(APPARMOR_PARSER);

	Suite *s = suite_create("security");
	TCase *tc = kt_tcase("capabilities", 30);

	tcase_add_test(tc, default_caps_let_chown_work);
	tcase_add_test(tc, default_caps_read_back_with_no_new_privs);
	tcase_add_test(tc, default_caps_refuse_module_clock_and_mount);
	tcase_add_test(tc, dropping_net_raw_stops_raw_sockets);
	tcase_add_test(tc, non_root_user_has_empty_effective_caps);
	tcase_add_test(tc, keep_caps_makes_them_ambient_for_non_root);
	tcase_add_test(tc, capability_bad_input_is_refused_early);
	tcase_add_test(tc, libcap_ng_is_loaded_at_the_first_capability_name);
	suite_add_tcase(s, tc);
	tc = kt_tcase("seccomp", 30);
	tcase_add_test(tc, default_profile_denies_keyctl_and_runs_programs);
	kt_add_test_needs(tc, default_profile_denies_keyctl_through_the_32bit_entry, no_i386);
	tcase_add_test(tc, security_handles_share_the_default_profile_and_free_only_their_own);
	tcase_add_test(tc, default_profile_denies_user_namespaces_to_unprivileged);
	tcase_add_test(tc, kill_rule_kills_with_sigsys);
	tcase_add_test(tc, errno_and_argument_rules);
	tcase_add_test(tc, notify_rule_hands_back_a_listener);
	tcase_add_test(tc, seccomp_bad_input_is_refused_at_build_time);
	tcase_add_test(tc, compiled_filter_covers_compat_arches_and_is_cached);
	tcase_add_test(tc, default_profile_is_precompiled_as_libseccomp_compiles_it);
	tcase_add_test(tc, flattened_default_profile_gives_libseccomp_verdicts);
	tcase_add_test(tc, flattened_filter_with_argument_rules_gives_libseccomp_verdicts);
	tcase_add_test(tc, flatten_refuses_what_it_does_not_model);
	tcase_add_test(tc, precompiled_default_profile_takes_changes_like_a_built_one);
	tcase_add_test(tc, rule_added_to_precompiled_default_profile_works_in_the_kernel);
	kt_add_test_needs(tc, rule_added_to_precompiled_default_profile_holds_on_the_32bit_entry, no_i386);
	tcase_add_test(tc, libseccomp_is_loaded_at_the_first_rule);
	tcase_add_test(tc, missing_libseccomp_leaves_the_default_profile_working);
	suite_add_tcase(s, tc);
	tc = kt_tcase("limits", 30);
	tcase_add_test(tc, rlimit_nofile_reads_back_inside);
	tcase_add_test(tc, oom_score_adj_reads_back_inside);
	tcase_add_test(tc, hostname_needs_and_uses_a_uts_namespace);
	tcase_add_test(tc, namespaced_sysctls_are_written_inside_only);
	tcase_add_test(tc, sysctl_bad_input_is_refused);
	tcase_add_test(tc, lsm_labels_follow_feature_discovery);
	suite_add_tcase(s, tc);
	/* loading a profile and booting a container take a while under TCG */
	tc = kt_tcase("apparmor", 60);
	kt_add_test_needs(tc, apparmor_profile_confines_the_init_and_its_execs, no_apparmor);
	kt_add_test_needs(tc, unknown_apparmor_profile_fails_create_and_leaves_nothing, no_apparmor);
	kt_add_test_needs(tc, profile_unloaded_after_prepare_fails_in_the_child, no_apparmor);
	kt_add_test_needs(tc, unlisted_apparmor_names_are_left_to_the_kernel, no_apparmor);
	suite_add_tcase(s, tc);
	return kt_run(s);
}
