/* Host probes for the test suites (see host-probe.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "host-probe.h"

/* A reason in static storage: main() keeps several at once. */
static const char *reason(const char *fmt, ...)
{
	static char slots[32][256];
	static unsigned next;
	char *s = slots[next++ % 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(slots[0]), fmt, ap);
	va_end(ap);
	return s;
}

/* Run fn in a child; its exit code is 0 for success or an errno.
 * Returns that, or -1 if the child died or could not run. */
static int in_child(int (*fn)(const void *), const void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void put_attr(struct nlmsghdr *n, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* RTM_NEWLINK "kprobe0" of the kind, in a fresh network namespace that
 * dies with the child, so nothing is left anywhere. */
static int make_link(const void *arg)
{
	const char *kind = arg;
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char attrs[256];
	} req = { .n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = RTM_NEWLINK,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL } };
	char buf[4096];
	struct rtattr *info;
	struct nlmsghdr *ack = (struct nlmsghdr *)buf;
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return errno;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return errno;
	put_attr(&req.n, IFLA_IFNAME, "kprobe0", 8);
	info = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.n.nlmsg_len));
	put_attr(&req.n, IFLA_LINKINFO, NULL, 0);
	put_attr(&req.n, IFLA_INFO_KIND, kind, strlen(kind) + 1);
	info->rta_len = (unsigned short)((char *)&req + req.n.nlmsg_len - (char *)info);
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0 || recv(fd, buf, sizeof(buf), 0) < (ssize_t)sizeof(*ack))
		return errno;
	if (ack->nlmsg_type != NLMSG_ERROR)
		return EPROTO;
	return -((struct nlmsgerr *)NLMSG_DATA(ack))->error;
}

const char *kt_missing_link_kind(const char *kind)
{
	int e = in_child(make_link, kind);

	if (e == 0)
		return NULL;
	return reason("cannot create a %s link in a new network namespace: %s (kernel module %s missing?)", kind,
		      e > 0 ? strerror(e) : "the probe died", kind);
}

const char *kt_missing_fs(const char *type)
{
	int fd = (int)syscall(SYS_fsopen, type, 1 /* FSOPEN_CLOEXEC */);

	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	return reason("no %s filesystem in this kernel: fsopen(\"%s\"): %s", type, type, strerror(errno));
}

static int make_userns(const void *arg)
{
	unsigned uid = *(const unsigned *)arg;

	if (uid && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0))
		return errno;
	return unshare(CLONE_NEWUSER) < 0 ? errno : 0;
}

/* "name=value" of a sysctl, or "" when the host does not have it. */
static const char *sysctl_said(const char *name, const char *path)
{
	char v[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, v, sizeof(v) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return "";
	v[n] = '\0';
	v[strcspn(v, "\n")] = '\0';
	return reason(", %s=%s", name, v);
}

const char *kt_missing_userns(unsigned uid)
{
	int e = in_child(make_userns, &uid);

	if (e == 0)
		return NULL;
	return reason("uid %u cannot make a user namespace: unshare(CLONE_NEWUSER): %s (sysctl%s%s%s)", uid,
		      e > 0 ? strerror(e) : "the probe died",
		      sysctl_said("user.max_user_namespaces", "/proc/sys/user/max_user_namespaces"),
		      sysctl_said("kernel.unprivileged_userns_clone", "/proc/sys/kernel/unprivileged_userns_clone"),
		      sysctl_said("kernel.apparmor_restrict_unprivileged_userns",
				  "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"));
}

const char *kt_missing_tool(const char *path, int setuid, const char *package)
{
	struct stat st;

	if (stat(path, &st) < 0 || access(path, X_OK) < 0)
		return reason("%s is not installed (Debian package %s)", path, package);
	if (setuid && !((st.st_mode & S_ISUID) && st.st_uid == 0) &&
	    getxattr(path, "security.capability", NULL, 0) <= 0)
		return reason("%s is neither setuid root nor has file capabilities (reinstall %s)", path, package);
	return NULL;
}

const char *kt_missing_apparmor(const char *parser)
{
	char on = 'N';
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &on, 1) != 1)
			on = 'N';
		close(fd);
	}
	if (on != 'Y')
		return reason("AppArmor is not enabled in this kernel (%s; tests/vm boots with apparmor=1 security=apparmor)",
			      fd < 0 ? "no /sys/module/apparmor" : "/sys/module/apparmor/parameters/enabled is not Y");
	if (access("/sys/kernel/security/apparmor/profiles", R_OK) < 0)
		return reason("AppArmor's policy is not visible: /sys/kernel/security/apparmor/profiles: %s "
			      "(mount -t securityfs securityfs /sys/kernel/security)",
			      strerror(errno));
	return kt_missing_tool(parser, 0, "apparmor");
}

/* The session's v1 devices cgroup, if it has one: "devices:/path". */
static void devices_cgroup(char *out, size_t size)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");

	snprintf(out, size, "no v1 devices cgroup");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ":devices:");

		if (p) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, size, "v1 devices cgroup %s", p + 9);
			break;
		}
	}
	if (f)
		fclose(f);
}

const char *kt_missing_device(const char *path, int flags)
{
	char where[512];
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	fd = errno;
	devices_cgroup(where, sizeof(where));
	return reason("cannot open %s on this host: %s (this session is in %s)", path, strerror(fd), where);
}

const char *kt_first_missing(const char *a, const char *b)
{
	return a ? a : b;
}
