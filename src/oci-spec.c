/*
 * oci-spec: the documents libkeel writes rather than reads: a default
 * config.json (`keelrt spec`, runc's template, so that tools and tutorials
 * written for `runc spec` keep working) and the features document
 * (features.md) that says what this build and kernel support.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel/features.h>
#include <keel/version.h>

#include "error.h"
#include "oci-internal.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char spec_template[] =
	"{\"ociVersion\":\"" OCI_VERSION "\","
	"\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
	"\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\"],"
	"\"cwd\":\"/\",\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"keel\","
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
	"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
	"\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	"{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
	"\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

/* The pretty JSON of obj in a malloc'd string. */
static char *pretty(const struct keel_json_api *J, struct json_object *obj, keel_error **err)
{
	const char *s = J->json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_SPACED |
								       JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = s ? strdup(s) : NULL;

	if (!copy)
		keel_error_sys(err, ENOMEM, "JSON document");
	return copy;
}

static struct json_object *id_map(const struct keel_json_api *J, unsigned host)
{
	struct json_object *arr = J->json_object_new_array(), *m = J->json_object_new_object();

	J->json_object_object_add(m, "containerID", J->json_object_new_int(0));
	J->json_object_object_add(m, "hostID", J->json_object_new_int64(host));
	J->json_object_object_add(m, "size", J->json_object_new_int(1));
	J->json_object_array_add(arr, m);
	return arr;
}

/* As `runc spec --rootless`: a user namespace instead of a network one,
 * /sys bound from the host (sysfs needs a network namespace of its own),
 * no cgroup mount, no devpts gid, no device rules. */
static void make_rootless(const struct keel_json_api *J, struct json_object *doc)
{
	struct json_object *lx = NULL, *mounts = NULL, *ns, *m, *nm, *opts;
	size_t i;

	J->json_object_object_get_ex(doc, "linux", &lx);
	J->json_object_object_get_ex(doc, "mounts", &mounts);
	J->json_object_object_del(lx, "resources");
	ns = J->json_object_new_array();
	static const char *const types[] = { "pid", "ipc", "uts", "mount", "cgroup", "user" };
	for (i = 0; i < N_OF(types); i++) {
		m = J->json_object_new_object();
		J->json_object_object_add(m, "type", J->json_object_new_string(types[i]));
		J->json_object_array_add(ns, m);
	}
	J->json_object_object_add(lx, "namespaces", ns);
	J->json_object_object_add(lx, "uidMappings", id_map(J, getuid()));
	J->json_object_object_add(lx, "gidMappings", id_map(J, getgid()));
	nm = J->json_object_new_array();
	for (i = 0; i < J->json_object_array_length(mounts); i++) {
		struct json_object *d = NULL;
		const char *dest;

		m = J->json_object_array_get_idx(mounts, i);
		J->json_object_object_get_ex(m, "destination", &d);
		dest = J->json_object_get_string(d);
		if (strcmp(dest, "/sys/fs/cgroup") == 0)
			continue;
		if (strcmp(dest, "/sys") == 0) {
			m = J->json_object_new_object();
			J->json_object_object_add(m, "destination", J->json_object_new_string("/sys"));
			J->json_object_object_add(m, "type", J->json_object_new_string("none"));
			J->json_object_object_add(m, "source", J->json_object_new_string("/sys"));
			opts = J->json_object_new_array();
			static const char *const o[] = { "rbind", "nosuid", "noexec", "nodev", "ro" };
			for (size_t k = 0; k < N_OF(o); k++)
				J->json_object_array_add(opts, J->json_object_new_string(o[k]));
			J->json_object_object_add(m, "options", opts);
			J->json_object_array_add(nm, m);
			continue;
		}
		if (strcmp(dest, "/dev/pts") == 0 && J->json_object_object_get_ex(m, "options", &opts))
			J->json_object_array_put_idx(opts, 5, J->json_object_new_string("mode=0620"));
		J->json_object_array_add(nm, J->json_object_get(m));
	}
	J->json_object_object_add(doc, "mounts", nm);
}

KEEL_PUBLIC int keel_oci_spec(unsigned flags, char **json, keel_error **err)
{
	const struct keel_json_api *J;
	struct json_object *doc = NULL;
	int ret;

	if (!json || (flags & ~(unsigned)KEEL_OCI_SPEC_ROOTLESS))
		return keel_error_invalid(err, "oci spec: NULL result or unknown flags 0x%x", flags);
	if (!(J = keel_json(err, "spec")))
		return -ENOTSUP;
	if ((ret = keel_json_parse(spec_template, sizeof(spec_template) - 1, "spec", &doc, err)) < 0)
		return ret;
	if (flags & KEEL_OCI_SPEC_ROOTLESS)
		make_rootless(J, doc);
	*json = pretty(J, doc, err);
	J->json_object_put(doc);
	return *json ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ features --- */

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static const char *const hooks[] = { "prestart", "createRuntime", "createContainer", "startContainer",
				     "poststart", "poststop" };

static const char *const mount_options[] = {
	"async", "atime", "bind", "defaults", "dev", "exec", "noatime", "nodev", "noexec", "norelatime",
	"nostrictatime", "nosuid", "private", "rbind", "rdev", "relatime", "rexec", "rnoatime", "rnodev",
	"rnoexec", "rnosuid", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime",
	"rsuid", "runbindable", "rw", "shared", "slave", "strictatime", "suid", "unbindable",
};

static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts" };

static const char *const seccomp_actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
					       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
					       "SCMP_ACT_TRAP" };

static const char *const seccomp_ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
					   "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE" };

static const char *const seccomp_archs[] = { "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
					     "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64" };

static struct json_object *strings(const struct keel_json_api *J, const char *const *v, size_t n)
{
	struct json_object *arr = J->json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		J->json_object_array_add(arr, J->json_object_new_string(v[i]));
	return arr;
}

static struct json_object *enabled(const struct keel_json_api *J, int on)
{
	struct json_object *o = J->json_object_new_object();

	J->json_object_object_add(o, "enabled", J->json_object_new_boolean(on));
	return o;
}

#define ADD(o, k, v) J->json_object_object_add(o, k, v)
#define STRS(a) strings(J, a, N_OF(a))

static struct json_object *linux_features(const struct keel_json_api *J, const keel_features *f)
{
	struct json_object *l = J->json_object_new_object(), *cg = J->json_object_new_object(),
			   *sc = J->json_object_new_object(), *me = J->json_object_new_object();

	ADD(l, "namespaces", STRS(namespaces));
	ADD(l, "capabilities", STRS(cap_names));
	ADD(cg, "v1", J->json_object_new_boolean(0));
	ADD(cg, "v2", J->json_object_new_boolean(keel_features_has(f, KEEL_FEATURE_CGROUP2)));
	ADD(cg, "systemd", J->json_object_new_boolean(0));
	ADD(cg, "systemdUser", J->json_object_new_boolean(0));
	ADD(cg, "rdma", J->json_object_new_boolean(0));
	ADD(l, "cgroup", cg);
	ADD(sc, "enabled", J->json_object_new_boolean(1));
	ADD(sc, "actions", STRS(seccomp_actions));
	ADD(sc, "operators", STRS(seccomp_ops));
	ADD(sc, "archs", STRS(seccomp_archs));
	ADD(sc, "knownFlags", J->json_object_new_array());
	ADD(sc, "supportedFlags", J->json_object_new_array());
	ADD(l, "seccomp", sc);
	ADD(l, "apparmor", enabled(J, keel_features_has(f, KEEL_FEATURE_APPARMOR)));
	ADD(l, "selinux", enabled(J, keel_features_has(f, KEEL_FEATURE_SELINUX)));
	ADD(l, "intelRdt", enabled(J, 0));
	ADD(me, "idmap", enabled(J, 0));
	ADD(l, "mountExtensions", me);
	return l;
}

KEEL_PUBLIC int keel_oci_features(char **json, keel_error **err)
{
	const struct keel_json_api *J;
	struct json_object *doc, *ann;
	keel_features *f = NULL;
	int ret;

	if (!json)
		return keel_error_invalid(err, "oci features: NULL result");
	if (!(J = keel_json(err, "features")))
		return -ENOTSUP;
	if ((ret = keel_features_probe(&f, err)) < 0)
		return ret;
	doc = J->json_object_new_object();
	ADD(doc, "ociVersionMin", J->json_object_new_string("1.0.0"));
	ADD(doc, "ociVersionMax", J->json_object_new_string(OCI_VERSION));
	ADD(doc, "hooks", STRS(hooks));
	ADD(doc, "mountOptions", STRS(mount_options));
	ADD(doc, "linux", linux_features(J, f));
	ann = J->json_object_new_object();
	ADD(ann, "io.github.keel.version", J->json_object_new_string(keel_version()));
	ADD(doc, "annotations", ann);
	keel_features_free(f);
	*json = pretty(J, doc, err);
	J->json_object_put(doc);
	return *json ? 0 : -ENOMEM;
}
