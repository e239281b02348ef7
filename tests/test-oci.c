/*
 * OCI suite: config.json onto a container, each field checked by the
 * kernel object it makes (what the init reports about itself from inside,
 * /proc/PID/ns, /proc/PID/mountinfo, /proc/PID/status, the cgroup
 * directory), and every refusal by its JSON path. The documents libkeel
 * writes (state, spec, features) are parsed back; tests/oci/check-spec.py
 * validates the spec against the runtime-spec's own JSON schema.
 *
 * Every bundle is a config.json in a kt_tmpdir() whose root.path is the
 * busybox rootfs, read-only (writes go to tmpfs mounts); every container
 * lives in a state root under kt_tmpdir() and is force-deleted at cleanup.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "util/fs.h"
#include "harness.h"

static char *cg2_mount;

/*
 * A config.json: sh -c script as the process (with extra process members),
 * the busybox rootfs read-only, /proc, a /dev tmpfs with /dev/pts, a /tmp
 * tmpfs, then extra mounts, and the linux object with the namespaces given
 * plus extra linux members. Each extra is "" or ',"key":value...'.
 */
static char *config(const char *script, const char *proc_extra, const char *mounts_extra, const char *ns,
		    const char *linux_extra, const char *top_extra)
{
	char *json = NULL;

	ck_assert_int_gt(asprintf(&json,
				  "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"%s\"],"
				  "\"cwd\":\"/\",\"env\":[\"PATH=/bin:/sbin\"]%s},"
				  "\"root\":{\"path\":\"%s\",\"readonly\":true},\"hostname\":\"ocihost\","
				  "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
				  "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]},"
				  "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"newinstance\",\"ptmxmode=0666\"]},"
				  "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}%s],"
				  "\"linux\":{\"namespaces\":[%s]%s}%s}",
				  script, proc_extra, kt_rootfs(), mounts_extra, ns, linux_extra, top_extra),
			 0);
	return json;
}

#define ALL_NS "{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}"

struct run {
	keel_container *c;
	keel_oci *oci;
	char root[4096];
	int out[2];
};

/* Load the config, configure a container with its stdout and stderr on a
 * pipe, create it (not started). */
static void prepare(struct run *r, const char *json)
{
	keel_error *err = NULL;
	const char *id = kt_name("oc");

	snprintf(r->root, sizeof(r->root), "%s/state", kt_tmpdir());
	kt_defer_container(id, r->root, 1);
	ck_assert_msg(keel_oci_load_data(&r->oci, kt_tmpdir(), json, strlen(json), &err) == 0, "%s",
		      keel_error_message(err));
	ck_assert_int_eq(keel_container_new(&r->c, id, r->root, NULL), 0);
	ck_assert_msg(keel_oci_configure(r->oci, r->c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(pipe2(r->out, O_CLOEXEC), 0);
	kt_defer_close(r->out[0]);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(r->c), -1, r->out[1], r->out[1], NULL), 0);
	ck_assert_msg(keel_container_create(r->c, &err) == 0, "%s", keel_error_message(err));
	close(r->out[1]);
}

/* Start, wait, and return what the process wrote (static buffer). */
static const char *finish(struct run *r, int *code)
{
	static char buf[8192];
	keel_error *err = NULL;
	size_t n = 0;
	ssize_t k;

	ck_assert_msg(keel_container_start(r->c, &err) == 0, "%s", keel_error_message(err));
	while (n < sizeof(buf) - 1 && (k = read(r->out[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	ck_assert_int_eq(keel_container_wait(r->c, 0, code, NULL, NULL), 1);
	ck_assert_msg(keel_container_delete(r->c, 0, &err) == 0, "%s", keel_error_message(err));
	keel_container_free(r->c);
	keel_oci_free(r->oci);
	r->c = NULL;
	return buf;
}

static const char *run_config(const char *json, int *code)
{
	struct run r = { 0 };

	prepare(&r, json);
	return finish(&r, code);
}

static void assert_has(const char *out, const char *want)
{
	ck_assert_msg(strstr(out, want) != NULL, "expected \"%s\" in:\n%s", want, out);
}

/* ------------------------------------------------------------ process --- */

START_TEST(process_fields_reach_the_process)
{
	char *json = config("id -u; id -g; id -G; umask; pwd; echo FOO=$FOO; grep -E 'NoNewPrivs|CapEff|CapBnd' "
			    "/proc/self/status; grep 'open files' /proc/self/limits; cat /proc/self/oom_score_adj",
			    ",\"user\":{\"uid\":1000,\"gid\":1001,\"umask\":18,\"additionalGids\":[5,7]},"
			    "\"cwd\":\"/tmp\",\"env\":[\"PATH=/bin\",\"FOO=bar\"],\"noNewPrivileges\":true,"
			    "\"oomScoreAdj\":321,\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":200,\"hard\":300}],"
			    "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"],"
			    "\"permitted\":[\"CAP_KILL\"],\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}",
			    "", ALL_NS, "", "");
	int code = -1;
	const char *out = run_config(json, &code);

	ck_assert_int_eq(code, 0);
	assert_has(out, "1000\n1001\n1001 5 7\n0022\n/tmp\nFOO=bar\n");
	assert_has(out, "NoNewPrivs:\t1");
	assert_has(out, "CapEff:\t0000000000000020"); /* KILL = 5 */
	assert_has(out, "CapBnd:\t0000000000000021"); /* and CHOWN = 0 */
	assert_has(out, "Max open files            200                  300");
	assert_has(out, "321");
	free(json);
}
END_TEST

START_TEST(missing_capabilities_mean_none)
{
	char *json = config("grep CapBnd /proc/self/status", "", "", ALL_NS, "", "");
	int code = -1;

	assert_has(run_config(json, &code), "CapBnd:\t0000000000000000");
	free(json);
}
END_TEST

/* --------------------------------------------------------- namespaces --- */

static ino_t ns_ino(pid_t pid, const char *ns)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_ino;
}

START_TEST(namespaces_are_made_or_joined_by_path)
{
	char *json, extra[256];
	struct run r = { 0 };
	int code = -1, ready[2];
	pid_t holder;
	char c;

	/* a network namespace of our own making, held by a child */
	ck_assert_int_eq(pipe(ready), 0);
	holder = fork();
	ck_assert_int_ge(holder, 0);
	if (holder == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	kt_defer_kill(holder);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	snprintf(extra, sizeof(extra), "{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
		 "{\"type\":\"network\",\"path\":\"/proc/%d/ns/net\"}", (int)holder);
	json = config("hostname", "", "", extra, "", "");
	prepare(&r, json);
	ck_assert_uint_eq(ns_ino(keel_container_pid(r.c), "net"), ns_ino(holder, "net"));
	ck_assert_uint_ne(ns_ino(keel_container_pid(r.c), "uts"), ns_ino(getpid(), "uts"));
	ck_assert_uint_ne(ns_ino(keel_container_pid(r.c), "pid"), ns_ino(getpid(), "pid"));
	/* no ipc namespace asked for: the host's */
	ck_assert_uint_eq(ns_ino(keel_container_pid(r.c), "ipc"), ns_ino(getpid(), "ipc"));
	assert_has(finish(&r, &code), "ocihost");
	close(ready[0]);
	close(ready[1]);
	free(json);
}
END_TEST

START_TEST(user_namespace_gets_the_maps)
{
	char *json = config("cat /proc/self/uid_map /proc/self/gid_map",
			    "", "", ALL_NS ",{\"type\":\"user\"}",
			    ",\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":1000}],"
			    "\"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":500}]", "");
	int code = -1;
	const char *out = run_config(json, &code);

	ck_assert_int_eq(code, 0);
	assert_has(out, "100000");
	assert_has(out, "1000");
	assert_has(out, "200000");
	free(json);
}
END_TEST

/* ------------------------------------------------------------- mounts --- */

START_TEST(mounts_have_their_options)
{
	char extra[8192], *json;
	const char *host = kt_tmpdir();
	char file[4096];
	int code = -1;
	const char *out;
	FILE *f;

	snprintf(file, sizeof(file), "%s/hello", host);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("from the host\n", f);
	fclose(f);
	snprintf(extra, sizeof(extra),
		 ",{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]},"
		 "{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"noexec\",\"size=1m\",\"mode=1777\"]}",
		 host);
	json = config("cat /data/hello; touch /data/x 2>&1; grep -E ' /data | /scratch ' /proc/self/mountinfo; "
		      "stat -c %a /scratch; cat /proc/cpuinfo | wc -c; echo 1 > /proc/sys/net/ipv4/ip_forward",
		      "", extra, ALL_NS, ",\"maskedPaths\":[\"/proc/cpuinfo\"],\"readonlyPaths\":[\"/proc/sys\"]", "");
	out = run_config(json, &code);
	assert_has(out, "from the host");
	assert_has(out, "Read-only file system");
	assert_has(out, " /data ro,nosuid,nodev");
	assert_has(out, " /scratch rw,noexec");
	assert_has(out, "size=1024k");
	assert_has(out, "1777\n0\n");
	assert_has(out, "ip_forward: Read-only file system");
	free(json);
}
END_TEST

START_TEST(default_devices_are_made_in_dev)
{
	char *json = config("ls /dev; echo x > /dev/null && echo null-ok", "", "", ALL_NS, "", "");
	int code = -1;
	const char *out = run_config(json, &code);

	assert_has(out, "full\n");
	assert_has(out, "urandom\n");
	assert_has(out, "null-ok");
	free(json);
}
END_TEST

/* ------------------------------------------------------------- cgroup --- */

START_TEST(cgroups_path_and_device_rules)
{
	char path[128], cg[4096], extra[1024], *json;
	struct run r = { 0 };
	int code = -1;
	const char *out;
	char *procs;

	snprintf(path, sizeof(path), "%s/ctr", kt_name("cgp"));
	snprintf(cg, sizeof(cg), "%s/%s", cg2_mount, path);
	kt_defer_rmdir_cgroup(cg);
	*strrchr(cg, '/') = '\0';
	kt_defer_rmdir_cgroup(cg);
	/* deny everything but mknod of c 4:1; the default devices stay usable */
	snprintf(extra, sizeof(extra), ",\"cgroupsPath\":\"/%s\",\"resources\":{\"devices\":["
		 "{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":4,\"minor\":1,"
		 "\"access\":\"m\"}],\"unified\":{\"cgroup.max.descendants\":\"3\"}}", path);
	json = config("echo x > /dev/null && head -c1 /dev/zero >/dev/null && echo defaults-ok; "
		      "mknod /tmp/sda b 8 0 2>&1; mknod /tmp/tty1 c 4 1 && echo mknod-ok; cat /tmp/tty1 2>&1",
		      ",\"capabilities\":{\"bounding\":[\"CAP_MKNOD\"],\"effective\":[\"CAP_MKNOD\"],"
		      "\"permitted\":[\"CAP_MKNOD\"]}", "", ALL_NS, extra, "");
	prepare(&r, json);
	snprintf(cg, sizeof(cg), "%s/%s/cgroup.procs", cg2_mount, path);
	procs = kt_read(cg);
	ck_assert_ptr_nonnull(procs);
	ck_assert_int_eq(atoi(procs), keel_container_pid(r.c));
	snprintf(cg, sizeof(cg), "%s/%s/cgroup.max.descendants", cg2_mount, path);
	ck_assert_str_eq(kt_read(cg), "3\n");
	out = finish(&r, &code);
	assert_has(out, "defaults-ok");
	assert_has(out, "mknod: /tmp/sda: Operation not permitted");
	assert_has(out, "mknod-ok");
	assert_has(out, "'/tmp/tty1': Operation not permitted");
	free(json);
}
END_TEST

START_TEST(update_writes_the_live_cgroup)
{
	char *json = config("sleep 1000", "", "", ALL_NS, "", "");
	static const char res[] = "{\"unified\":{\"cgroup.max.depth\":\"4\"}}";
	struct run r = { 0 };
	keel_error *err = NULL;
	char p[4096];

	prepare(&r, json);
	ck_assert_msg(keel_oci_update(r.c, res, strlen(res), &err) == 0, "%s", keel_error_message(err));
	snprintf(p, sizeof(p), "%s/cgroup.max.depth", keel_cgroup_path(keel_container_cgroup(r.c)));
	ck_assert_str_eq(kt_read(p), "4\n");
	ck_assert_int_lt(keel_oci_update(r.c, "{\"devices\":[]}", 14, &err), 0);
	ck_assert_msg(strstr(keel_error_message(err), "resources.devices: not supported"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	ck_assert_int_eq(keel_container_delete(r.c, KEEL_DELETE_FORCE, NULL), 0);
	keel_container_free(r.c);
	keel_oci_free(r.oci);
	free(json);
}
END_TEST

/* ------------------------------------------------------- seccomp, sysctl --- */

START_TEST(seccomp_profile_and_sysctl)
{
	char *json = config("grep Seccomp: /proc/self/status; mkdir /tmp/d 2>&1; cat /proc/sys/net/ipv4/ip_forward", "",
			    "", ALL_NS,
			    ",\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			    "\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\","
			    "\"no_such_call_anywhere\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}", "");
	int code = -1;
	const char *out = run_config(json, &code);

	assert_has(out, "Seccomp:\t2");
	assert_has(out, "Function not implemented"); /* ENOSYS = 38 */
	assert_has(out, "\n1\n");
	free(json);
}
END_TEST

/* -------------------------------------------------------------- hooks --- */

START_TEST(hooks_get_the_state_on_stdin)
{
	char hooks[10240], *json, created[2048], stopped[2048], *got;
	int code = -1;

	snprintf(created, sizeof(created), "%s/created.json", kt_tmpdir());
	snprintf(stopped, sizeof(stopped), "%s/stopped.json", kt_tmpdir());
	snprintf(hooks, sizeof(hooks), ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
		 "\"cat > %s\"]}],\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > %s\"],\"timeout\":5}]}",
		 created, stopped);
	json = config("true", "", "", ALL_NS, "", hooks);
	run_config(json, &code);
	got = kt_read(created);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "\"status\":\"creating\"") && strstr(got, "\"pid\":") && strstr(got, "\"id\":\"koc"),
		      "%s", got);
	got = kt_read(stopped);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "\"status\":\"stopped\""), "%s", got);
	free(json);
}
END_TEST

START_TEST(failing_hook_fails_create_and_leaves_nothing)
{
	char *json = config("true", "", "", ALL_NS, "",
			    ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/false\"}]}");
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	char root[2048], dir[4096];
	const char *id = kt_name("oh");
	struct stat st;

	snprintf(root, sizeof(root), "%s/state", kt_tmpdir());
	kt_defer_container(id, root, 1);
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), NULL), 0);
	ck_assert_int_eq(keel_container_new(&c, id, root, NULL), 0);
	ck_assert_int_eq(keel_oci_configure(oci, c, NULL), 0);
	ck_assert_int_lt(keel_container_create(c, &err), 0);
	ck_assert_msg(strstr(keel_error_message(err), "createRuntime hook /bin/false: exit status 1"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	ck_assert_int_lt(stat(dir, &st), 0);
	snprintf(dir, sizeof(dir), "%s/keel/%s", cg2_mount, id);
	ck_assert_int_lt(stat(dir, &st), 0);
	keel_container_free(c);
	keel_oci_free(oci);
	free(json);
}
END_TEST

/* ------------------------------------------------------------- errors --- */

static const struct {
	const char *proc, *mounts, *linux_extra, *top, *want;
} refusals[] = {
	{ "", "", ",\"intelRdt\":{\"closID\":\"x\"}", "", "linux.intelRdt: not supported" },
	{ ",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\"}", "", "", "", "process.ioPriority: not supported" },
	{ "", ",{\"destination\":\"/m\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"bind\",\"idmap\"]}", "", "",
	  "mounts[4].options[1]: 'idmap' is not supported" },
	{ "", "", ",\"resources\":{\"memory\":{\"kernel\":1000000}}", "",
	  "linux.resources.memory.kernel: not supported (cgroup v2 has no kernel memory limit)" },
	{ "", "", ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_BOGUS\"}", "",
	  "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_BOGUS'" },
	{ ",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]", "", "", "",
	  "process.rlimits[0].type: unknown resource 'RLIMIT_BOGUS'" },
	{ "", "", ",\"cgroupsPath\":\"system.slice:keel:x\"", "", "linux.cgroupsPath: 'system.slice:keel:x': the systemd" },
	{ "", ",{\"type\":\"tmpfs\"}", "", "", "mounts[4].destination: missing" },
	{ ",\"user\":{\"uid\":\"root\"}", "", "", "", "process.user.uid: must be an integer of at least 0" },
	{ ",\"user\":{\"uid\":-1}", "", "", "", "process.user.uid: must be an integer of at least 0" },
	{ ",\"terminal\":\"yes\"", "", "", "", "process.terminal: must be true or false" },
	{ ",\"oomScoreAdj\":\"low\"", "", "", "", "process.oomScoreAdj: must be an integer" },
	{ ",\"env\":\"A=1\"", "", "", "", "process.env: must be an array" },
	{ ",\"cwd\":7", "", "", "", "process.cwd: must be a string" },
	{ "", "", ",\"rootfsPropagation\":\"sideways\"", "", "linux.rootfsPropagation: unknown value 'sideways'" },
	{ "", "", "", ",\"solaris\":{}", "solaris: not supported" },
	{ "", "", ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
	  "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
	  "{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}", "",
	  "linux.seccomp.syscalls[0].args: comparisons of different arguments in one rule are not supported" },
};

START_TEST(refusals_name_the_json_path)
{
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	char *json;
	int ret;

	json = config("true", refusals[_i].proc, refusals[_i].mounts, ALL_NS, refusals[_i].linux_extra,
		      refusals[_i].top);
	ret = keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), &err);
	if (ret == 0) {
		ck_assert_int_eq(keel_container_new(&c, kt_name("or"), kt_tmpdir(), NULL), 0);
		ret = keel_oci_configure(oci, c, &err);
	}
	ck_assert_int_lt(ret, 0);
	ck_assert_msg(strstr(keel_error_message(err), refusals[_i].want), "want \"%s\", got \"%s\"", refusals[_i].want,
		      keel_error_message(err));
	keel_error_free(err);
	keel_container_free(c);
	keel_oci_free(oci);
	free(json);
}
END_TEST

START_TEST(unknown_fields_are_ignored_and_versions_checked)
{
	static const char v2[] = "{\"ociVersion\":\"2.0.0\"}";
	char *json = config("true", ",\"futureField\":1", "", ALL_NS, ",\"futureLinux\":{}", ",\"futureTop\":[]");
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), NULL), 0);
	ck_assert_int_eq(keel_container_new(&c, kt_name("ou"), kt_tmpdir(), NULL), 0);
	ck_assert_msg(keel_oci_configure(oci, c, &err) == 0, "%s", keel_error_message(err));
	keel_container_free(c);
	keel_oci_free(oci);
	oci = NULL;
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), v2, strlen(v2), &err), -ENOTSUP);
	ck_assert_msg(strstr(keel_error_message(err), "ociVersion: '2.0.0' is not supported"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	free(json);
}
END_TEST

/* ---------------------------------------------------------- documents --- */

START_TEST(state_document_follows_the_lifecycle)
{
	char *json = config("sleep 1000", "", "", ALL_NS, "", ",\"annotations\":{\"org.example.k\":\"v\"}");
	struct run r = { 0 };
	char *state = NULL, want[128];

	prepare(&r, json);
	ck_assert_int_eq(keel_oci_state(r.c, r.oci, &state, NULL), 0);
	snprintf(want, sizeof(want), "\"pid\":%d", (int)keel_container_pid(r.c));
	ck_assert_msg(strstr(state, "\"status\":\"created\"") && strstr(state, want) &&
			      strstr(state, "\"org.example.k\":\"v\"") && strstr(state, "\"ociVersion\":\"1.2.0\""),
		      "%s", state);
	free(state);
	ck_assert_int_eq(keel_container_start(r.c, NULL), 0);
	ck_assert_int_eq(keel_oci_state(r.c, r.oci, &state, NULL), 0);
	ck_assert_msg(strstr(state, "\"status\":\"running\""), "%s", state);
	free(state);
	ck_assert_int_eq(keel_container_kill(r.c, SIGKILL, 0, NULL), 0);
	ck_assert_int_eq(keel_container_wait(r.c, 0, NULL, NULL, NULL), 1);
	ck_assert_int_eq(keel_oci_state(r.c, r.oci, &state, NULL), 0);
	ck_assert_msg(strstr(state, "\"status\":\"stopped\""), "%s", state);
	free(state);
	ck_assert_int_eq(keel_container_delete(r.c, 0, NULL), 0);
	keel_container_free(r.c);
	keel_oci_free(r.oci);
	free(json);
}
END_TEST

START_TEST(spec_and_features_parse_back)
{
	char *spec = NULL, *features = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;

	ck_assert_int_eq(keel_oci_spec(0, &spec, NULL), 0);
	ck_assert_msg(keel_oci_load_data(&oci, kt_tmpdir(), spec, strlen(spec), &err) == 0, "%s",
		      keel_error_message(err));
	keel_oci_free(oci);
	free(spec);
	ck_assert_int_eq(keel_oci_spec(KEEL_OCI_SPEC_ROOTLESS, &spec, NULL), 0);
	ck_assert_ptr_nonnull(strstr(spec, "\"uidMappings\""));
	ck_assert_ptr_null(strstr(spec, "\"network\""));
	free(spec);
	ck_assert_int_eq(keel_oci_spec(8, &spec, NULL), -EINVAL);
	ck_assert_int_eq(keel_oci_features(&features, NULL), 0);
	ck_assert_ptr_nonnull(strstr(features, "\"ociVersionMax\": \"1.2.0\""));
	ck_assert_ptr_nonnull(strstr(features, "\"createRuntime\""));
	free(features);
}
END_TEST

/* ------------------------------------------------------------ loading --- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The number of fds this process has open: a failed load must not keep one. */
static int open_fds(void)
{
	int n = 0;
	FILE *f = popen("ls /proc/$PPID/fd | wc -l", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

START_TEST(bundle_is_loaded_from_a_relative_directory)
{
	char bundle[2048], file[4096], link[4096], cwd[4096], *json;
	const char *tmp = kt_tmpdir(); /* a new one at each call */
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	struct run r = { 0 };
	int code = -1;

	/* root.path "rootfs" relative to the bundle, the bundle relative to
	 * the cwd, as podman and containerd give them */
	snprintf(bundle, sizeof(bundle), "%s/bundle", tmp);
	ck_assert_int_eq(mkdir(bundle, 0700), 0);
	snprintf(link, sizeof(link), "%s/rootfs", bundle);
	ck_assert_int_eq(symlink(kt_rootfs(), link), 0);
	ck_assert_int_gt(asprintf(&json, "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/cat\",\"/etc/hostname\"],"
				  "\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"rel\","
				  "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
				  "{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"hostname\","
				  "\"options\":[\"bind\",\"ro\"]}],"
				  "\"linux\":{\"namespaces\":[" ALL_NS "]}}"),
			 0);
	snprintf(file, sizeof(file), "%s/config.json", bundle);
	write_text(file, json);
	snprintf(file, sizeof(file), "%s/hostname", bundle);
	write_text(file, "from-the-bundle\n");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmp), 0);
	ck_assert_msg(keel_oci_load(&oci, "bundle", &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(keel_oci_bundle(oci), bundle);
	ck_assert_ptr_null(keel_oci_bundle(NULL));
	/* the handle works as one from keel_oci_load_data(): run it */
	snprintf(r.root, sizeof(r.root), "%s/state", tmp);
	r.oci = oci;
	{
		const char *id = kt_name("ob");

		kt_defer_container(id, r.root, 1);
		ck_assert_int_eq(keel_container_new(&r.c, id, r.root, NULL), 0);
	}
	ck_assert_msg(keel_oci_configure(r.oci, r.c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_int_eq(pipe2(r.out, O_CLOEXEC), 0);
	kt_defer_close(r.out[0]);
	ck_assert_int_eq(keel_process_set_stdio(keel_container_process(r.c), -1, r.out[1], r.out[1], NULL), 0);
	ck_assert_msg(keel_container_create(r.c, &err) == 0, "%s", keel_error_message(err));
	close(r.out[1]);
	ck_assert_str_eq(finish(&r, &code), "from-the-bundle\n");
	ck_assert_int_eq(code, 0);
	free(json);
}
END_TEST

START_TEST(bad_bundles_are_clear_errors_and_keep_nothing)
{
	static const struct {
		const char *content, *want;
		int ret;
	} cases[] = {
		{ NULL, "config.json: No such file or directory", -ENOENT },
		{ "{\"ociVersion\": \"1.2.0\", ", "config.json", -EINVAL },
		{ "[1, 2]", "config.json: not a JSON object", -EINVAL },
		{ "{\"ociVersion\":\"1.2.0\",\"hooks\":{\"poststop\":[{\"path\":\"true\"}]}}",
		  "hooks.poststop[0].path: must be an absolute path", -EINVAL },
		{ "", "config.json", -EFBIG }, /* made 5 MiB below */
	};
	char dir[2048], file[4096];
	size_t i;
	int before = open_fds();

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		keel_oci *oci = (keel_oci *)&oci; /* must become NULL */
		keel_error *err = NULL;
		int ret;

		snprintf(dir, sizeof(dir), "%s/b%zu", kt_tmpdir(), i);
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		snprintf(file, sizeof(file), "%s/config.json", dir);
		if (cases[i].ret == -EFBIG) {
			FILE *f = fopen(file, "w");

			ck_assert_ptr_nonnull(f);
			fputs("{\"ociVersion\":\"1.2.0\",\"annotations\":{\"a\":\"", f);
			for (int k = 0; k < 5 << 20; k += 64)
				fputs("0123456789012345678901234567890123456789012345678901234567890123", f);
			fputs("\"}}", f);
			ck_assert_int_eq(fclose(f), 0);
		} else if (cases[i].content) {
			write_text(file, cases[i].content);
		}
		ret = keel_oci_load(&oci, dir, &err);
		ck_assert_msg(ret == cases[i].ret, "case %zu: %d, want %d (%s)", i, ret, cases[i].ret,
			      keel_error_message(err));
		ck_assert_ptr_null(oci);
		ck_assert_msg(strstr(keel_error_message(err), cases[i].want), "case %zu: want \"%s\", got \"%s\"", i,
			      cases[i].want, keel_error_message(err));
		keel_error_free(err);
	}
	/* a bundle that is not there, and no handle to fill */
	ck_assert_int_eq(keel_oci_load(NULL, kt_tmpdir(), NULL), -EINVAL);
	{
		keel_oci *oci = NULL;
		keel_error *err = NULL;

		snprintf(dir, sizeof(dir), "%s/no-such-bundle", kt_tmpdir());
		ck_assert_int_eq(keel_oci_load(&oci, dir, &err), -ENOENT);
		ck_assert_msg(strstr(keel_error_message(err), "no-such-bundle"), "%s", keel_error_message(err));
		keel_error_free(err);
	}
	ck_assert_int_eq(open_fds(), before);
}
END_TEST

/* --------------------------------------------------------- terminal --- */

START_TEST(console_size_reaches_the_terminal)
{
	char *json = config("stty size", ",\"terminal\":true,\"consoleSize\":{\"height\":31,\"width\":101}", "", ALL_NS,
			    "", "");
	char *plain = config("true", "", "", ALL_NS, "", "");
	keel_oci *oci = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	const char *id = kt_name("ot");
	char root[4096], *out;
	struct winsize ws = { 0 };
	unsigned rows = 0, cols = 0;
	int master, code = -1;

	/* no consoleSize, no handle: 0, and the outputs untouched */
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), plain, strlen(plain), NULL), 0);
	rows = cols = 7;
	ck_assert_int_eq(keel_oci_console_size(oci, &rows, &cols), 0);
	ck_assert_uint_eq(rows, 7);
	ck_assert_uint_eq(cols, 7);
	keel_oci_free(oci);
	ck_assert_int_eq(keel_oci_console_size(NULL, &rows, &cols), 0);
	oci = NULL;

	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), NULL), 0);
	ck_assert_int_eq(keel_oci_console_size(oci, NULL, NULL), 1);
	ck_assert_int_eq(keel_oci_console_size(oci, &rows, &cols), 1);
	ck_assert_uint_eq(rows, 31);
	ck_assert_uint_eq(cols, 101);
	/* what keelrt does with it: the size of the container's terminal */
	snprintf(root, sizeof(root), "%s/state", kt_tmpdir());
	kt_defer_container(id, root, 1);
	ck_assert_int_eq(keel_container_new(&c, id, root, NULL), 0);
	ck_assert_msg(keel_oci_configure(oci, c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_msg(keel_container_create(c, &err) == 0, "%s", keel_error_message(err));
	master = keel_container_tty_fd(c);
	ck_assert_int_ge(master, 0);
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	ck_assert_int_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
	ck_assert_msg(keel_container_start(c, &err) == 0, "%s", keel_error_message(err));
	out = kt_read_tty(master);
	ck_assert_int_eq(keel_container_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 0);
	assert_has(out, "31 101");
	ck_assert_int_eq(keel_container_delete(c, 0, NULL), 0);
	keel_container_free(c);
	keel_oci_free(oci);
	free(json);
	free(plain);
}
END_TEST

START_TEST(bad_console_sizes_name_the_field)
{
	static const char *const bad[][2] = {
		{ ",\"consoleSize\":{\"height\":-1,\"width\":80}", "process.consoleSize.height" },
		{ ",\"consoleSize\":{\"height\":24,\"width\":\"wide\"}", "process.consoleSize.width" },
		{ ",\"consoleSize\":[24,80]", "process.consoleSize" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *json = config("true", bad[i][0], "", ALL_NS, "", "");
		keel_oci *oci = NULL;
		keel_container *c = NULL;
		keel_error *err = NULL;
		int ret = keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), &err);

		if (ret == 0) {
			ck_assert_int_eq(keel_container_new(&c, kt_name("os"), kt_tmpdir(), NULL), 0);
			ret = keel_oci_configure(oci, c, &err);
		}
		ck_assert_msg(ret == -EINVAL, "%s: %d", bad[i][0], ret);
		ck_assert_msg(strstr(keel_error_message(err), bad[i][1]), "want \"%s\", got \"%s\"", bad[i][1],
			      keel_error_message(err));
		keel_error_free(err);
		keel_container_free(c);
		keel_oci_free(oci);
		free(json);
	}
}
END_TEST

/* ------------------------------------------------------ exec process --- */

/* Exec p in the running container with its stdout on a pipe; what it wrote. */
static const char *exec_output(keel_container *c, keel_process *p, int *code)
{
	static char buf[4096];
	keel_child *child = NULL;
	keel_error *err = NULL;
	int out[2];
	size_t n = 0;
	ssize_t k;

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(keel_process_set_stdio(p, -1, out[1], out[1], NULL), 0);
	ck_assert_msg(keel_container_exec(c, p, &child, &err) == 0, "%s", keel_error_message(err));
	kt_defer_kill(keel_child_pid(child));
	close(out[1]);
	while (n < sizeof(buf) - 1 && (k = read(out[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	close(out[0]);
	ck_assert_int_eq(keel_child_wait(child, 0, code, NULL, NULL), 1);
	keel_child_free(child);
	return buf;
}

START_TEST(exec_process_object_replaces_the_process)
{
	/* the container's own process: uid 0, FOO=init, a seccomp profile
	 * that makes mkdir ENOSYS, which an exec keeps */
	char *json = config("sleep 1000", ",\"env\":[\"PATH=/bin\",\"FOO=init\"]", "", ALL_NS,
			    ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\","
			    "\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}", "");
	static const char obj[] = "{\"args\":[\"/bin/sh\",\"-c\",\"id -u; id -g; echo FOO=$FOO; pwd; "
				  "grep CapBnd /proc/self/status; mkdir /tmp/x 2>&1; true\"],"
				  "\"env\":[\"PATH=/bin\",\"FOO=exec\"],\"cwd\":\"/tmp\",\"user\":{\"uid\":123,\"gid\":456},"
				  "\"capabilities\":{\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],"
				  "\"bounding\":[\"CAP_KILL\"]}}";
	struct run r = { 0 };
	keel_process *p = NULL;
	keel_security *sec = NULL;
	keel_error *err = NULL;
	const char *out;
	int code = -1;

	prepare(&r, json);
	ck_assert_int_eq(keel_container_start(r.c, NULL), 0);
	ck_assert_msg(keel_oci_process(r.oci, obj, strlen(obj), &p, &sec, &err) == 0, "%s", keel_error_message(err));
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(sec);
	out = exec_output(r.c, p, &code);
	ck_assert_int_eq(code, 0);
	assert_has(out, "123\n456\nFOO=exec\n/tmp\n");
	assert_has(out, "CapBnd:\t0000000000000020"); /* uid 123: no effective ones after its exec */
	assert_has(out, "Function not implemented");
	keel_process_free(p);
	p = NULL;
	/* NULL: config.json's own process (its env), args replaced by the caller */
	ck_assert_msg(keel_oci_process(r.oci, NULL, 0, &p, NULL, &err) == 0, "%s", keel_error_message(err));
	{
		static const char *const argv[] = { "/bin/sh", "-c", "echo FOO=$FOO; id -u", NULL };

		ck_assert_int_eq(keel_process_set_args(p, argv, NULL), 0);
	}
	out = exec_output(r.c, p, &code);
	ck_assert_str_eq(out, "FOO=init\n0\n");
	keel_process_free(p);
	ck_assert_int_eq(keel_container_kill(r.c, SIGKILL, 0, NULL), 0);
	ck_assert_int_eq(keel_container_wait(r.c, 0, NULL, NULL, NULL), 1);
	ck_assert_int_eq(keel_container_delete(r.c, 0, NULL), 0);
	keel_container_free(r.c);
	keel_oci_free(r.oci);
	free(json);
}
END_TEST

START_TEST(bad_exec_process_objects_name_the_field)
{
	static const char *const bad[][2] = {
		{ "{\"args\":\"sh\"}", "process.args" },
		{ "{\"args\":[\"sh\"],\"user\":{\"uid\":-5}}", "process.user.uid" },
		{ "{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_NOPE\",\"soft\":1,\"hard\":1}]}",
		  "process.rlimits[0].type" },
		{ "{\"args\":[\"sh\"],\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}}", "process.capabilities.bounding[0]" },
		{ "not json", "process" },
		{ "[]", "process" },
	};
	char *json = config("true", "", "", ALL_NS, "", "");
	keel_oci *oci = NULL;
	keel_process *p = (keel_process *)&p;
	keel_error *err = NULL;
	size_t i;

	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = keel_oci_process(oci, bad[i][0], strlen(bad[i][0]), &p, NULL, &err);

		ck_assert_msg(ret < 0, "%s: accepted", bad[i][0]);
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(keel_error_message(err), bad[i][1]), "%s: want \"%s\", got \"%s\"", bad[i][0],
			      bad[i][1], keel_error_message(err));
		keel_error_free(err);
		err = NULL;
	}
	ck_assert_int_eq(keel_oci_process(NULL, "{}", 2, &p, NULL, NULL), -EINVAL);
	ck_assert_int_eq(keel_oci_process(oci, "{}", 2, NULL, NULL, NULL), -EINVAL);
	keel_oci_free(oci);
	/* a config.json without a process: nothing to exec */
	oci = NULL;
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), "{\"ociVersion\":\"1.2.0\"}", 22, NULL), 0);
	ck_assert_int_eq(keel_oci_process(oci, NULL, 0, &p, NULL, &err), -EINVAL);
	ck_assert_msg(strstr(keel_error_message(err), "process: missing in config.json"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	keel_oci_free(oci);
	free(json);
}
END_TEST

/* ----------------------------------------------- hooks of a loaded one --- */

START_TEST(hooks_of_a_container_loaded_elsewhere)
{
	char hooks[10240], *json, f_start[2048], f_post[2048], f_stop[2048], *got;
	struct run r = { 0 };
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	struct stat st;
	char id[64];
	int code = -1;

	snprintf(f_start, sizeof(f_start), "%s/start.json", kt_tmpdir());
	snprintf(f_post, sizeof(f_post), "%s/poststart.json", kt_tmpdir());
	snprintf(f_stop, sizeof(f_stop), "%s/poststop.json", kt_tmpdir());
	snprintf(hooks, sizeof(hooks), ",\"hooks\":{"
		 "\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > %s\"]}],"
		 "\"poststart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > %s\"]}],"
		 "\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > $OUT\"],\"env\":[\"OUT=%s\"]}]}",
		 f_start, f_post, f_stop);
	json = config("exit 3", "", "", ALL_NS, "", hooks);
	/* `keelrt create`: this handle's hooks are not the ones that run */
	prepare(&r, json);
	ck_assert_int_lt(stat(f_start, &st), 0);
	snprintf(id, sizeof(id), "%s", keel_container_id(r.c));
	keel_container_free(r.c);
	/* `keelrt start` and `delete`, in another handle */
	ck_assert_int_eq(keel_container_load(&c, id, r.root, NULL), 0);
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), NULL), 0);
	ck_assert_msg(keel_oci_set_hooks(oci, c, &err) == 0, "%s", keel_error_message(err));
	ck_assert_msg(keel_container_start(c, &err) == 0, "%s", keel_error_message(err));
	got = kt_read(f_start);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "\"status\":\"created\"") && strstr(got, keel_container_id(c)), "%s", got);
	got = kt_read(f_post);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "\"status\":\"running\""), "%s", got);
	ck_assert_int_eq(keel_container_wait(c, 0, &code, NULL, NULL), 1);
	ck_assert_int_eq(code, 3);
	ck_assert_int_lt(stat(f_stop, &st), 0);
	ck_assert_msg(keel_container_delete(c, 0, &err) == 0, "%s", keel_error_message(err));
	got = kt_read(f_stop);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "\"status\":\"stopped\""), "%s", got);
	keel_container_free(c);
	keel_oci_free(oci);
	keel_oci_free(r.oci);
	ck_assert_int_eq(keel_oci_set_hooks(NULL, NULL, &err), -EINVAL);
	keel_error_free(err);
	free(json);
}
END_TEST

START_TEST(a_hook_past_its_timeout_is_killed_and_fails_create)
{
	char *json = config("true", "", "", ALL_NS, "",
			    ",\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/sleep\",\"args\":[\"sleep\",\"100\"],"
			    "\"timeout\":1}]}");
	char *bad = config("true", "", "", ALL_NS, "",
			   ",\"hooks\":{\"poststart\":[{\"path\":\"/bin/true\",\"timeout\":0}]}");
	keel_container *c = NULL;
	keel_oci *oci = NULL;
	keel_error *err = NULL;
	const char *id = kt_name("ok");
	char root[2048], dir[4096];
	struct stat st;
	time_t t0;

	snprintf(root, sizeof(root), "%s/state", kt_tmpdir());
	kt_defer_container(id, root, 1);
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), json, strlen(json), NULL), 0);
	ck_assert_int_eq(keel_container_new(&c, id, root, NULL), 0);
	ck_assert_int_eq(keel_oci_configure(oci, c, NULL), 0);
	t0 = time(NULL);
	ck_assert_int_lt(keel_container_create(c, &err), 0);
	ck_assert_int_lt(time(NULL) - t0, 30);
	ck_assert_msg(strstr(keel_error_message(err), "createRuntime hook /bin/sleep: killed after its timeout of 1 s"),
		      "%s", keel_error_message(err));
	keel_error_free(err);
	err = NULL;
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	ck_assert_int_lt(stat(dir, &st), 0);
	keel_container_free(c);
	keel_oci_free(oci);
	oci = NULL;
	ck_assert_int_eq(keel_oci_load_data(&oci, kt_tmpdir(), bad, strlen(bad), &err), -EINVAL);
	ck_assert_ptr_null(oci);
	ck_assert_msg(strstr(keel_error_message(err), "hooks.poststart[0].timeout: must be at least 1 second"), "%s",
		      keel_error_message(err));
	keel_error_free(err);
	free(json);
	free(bad);
}
END_TEST

static Suite *oci_suite(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = kt_tcase("config", 60);
	const char *no_bpf = NULL;

	tcase_add_test(tc, process_fields_reach_the_process);
	tcase_add_test(tc, missing_capabilities_mean_none);
	tcase_add_test(tc, namespaces_are_made_or_joined_by_path);
	tcase_add_test(tc, user_namespace_gets_the_maps);
	tcase_add_test(tc, mounts_have_their_options);
	tcase_add_test(tc, default_devices_are_made_in_dev);
	/* BPF device programs need a cgroup2 mount; probed by its presence */
	if (!cg2_mount)
		no_bpf = "no cgroup2 mount";
	kt_add_test_needs(tc, cgroups_path_and_device_rules, no_bpf);
	kt_add_test_needs(tc, update_writes_the_live_cgroup, no_bpf);
	tcase_add_test(tc, seccomp_profile_and_sysctl);
	tcase_add_test(tc, hooks_get_the_state_on_stdin);
	tcase_add_test(tc, failing_hook_fails_create_and_leaves_nothing);
	tcase_add_test(tc, bundle_is_loaded_from_a_relative_directory);
	tcase_add_test(tc, console_size_reaches_the_terminal);
	tcase_add_test(tc, exec_process_object_replaces_the_process);
	tcase_add_test(tc, hooks_of_a_container_loaded_elsewhere);
	tcase_add_test(tc, a_hook_past_its_timeout_is_killed_and_fails_create);
	suite_add_tcase(s, tc);
	tc = kt_tcase("documents", 30);
	tcase_add_loop_test(tc, refusals_name_the_json_path, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, unknown_fields_are_ignored_and_versions_checked);
	tcase_add_test(tc, bad_bundles_are_clear_errors_and_keep_nothing);
	tcase_add_test(tc, bad_console_sizes_name_the_field);
	tcase_add_test(tc, bad_exec_process_objects_name_the_field);
	tcase_add_test(tc, state_document_follows_the_lifecycle);
	tcase_add_test(tc, spec_and_features_parse_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	keel_find_mount("cgroup2", &cg2_mount, NULL);
	return kt_run(oci_suite());
}
