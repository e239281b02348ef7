/*
 * cgroup-device: device access rules, compiled into an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE and attached to a cgroup v2 directory.
 *
 * The kernel calls the program for every open() of a device node and every
 * mknod() by a process of the cgroup, with a struct bpf_cgroup_dev_ctx:
 *
 *     u32 access_type   (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
 *     u32 major, minor
 *
 * and denies the request (EPERM) when it returns 0. The program written
 * here (as crun's and runc's are, by hand; there is no compiler at run
 * time) loads the four fields into registers once, then tests the rules
 * from the last to the first, each as a block of compares that jumps to
 * the next block on a mismatch and returns the rule's verdict on a match;
 * after the last block it returns 0 (deny):
 *
 *     r2 = ctx->access_type & 0xffff    device type
 *     r3 = ctx->access_type >> 16       requested access
 *     r4 = ctx->major, r5 = ctx->minor
 *     rule N:   if r2 != TYPE goto N-1        (not for 'a')
 *               r1 = r3; r1 &= ~ACCESS; if r1 != 0 goto N-1   (not for rwm)
 *               if r4 != MAJOR goto N-1       (not for *)
 *               if r5 != MINOR goto N-1       (not for *)
 *               r0 = ALLOW; exit
 *     ...
 *     r0 = 0; exit
 *
 * Loading costs a verifier pass and a JIT; the rule list caches the loaded
 * fd so a list shared by many containers is loaded once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-device.h"
#include "error.h"

/* Highest major and minor numbers a dev_t holds (12 and 20 bits). */
#define MAJOR_MAX 4095
#define MINOR_MAX 1048575

struct keel_device_rules {
	struct keel_device_rule *v;
	size_t n, cap;
	int prog_fd;          /* the loaded program of the rules as they are, or -1 */
};

/* ----------------------------------------------------------- the list -- */

KEEL_PUBLIC int keel_device_rules_new(keel_device_rules **out, keel_error **err)
{
	keel_device_rules *r;

	if (!out)
		return keel_error_invalid(err, "device rules: out is NULL");
	if (!(r = calloc(1, sizeof(*r))))
		return keel_error_sys(err, ENOMEM, "device rules");
	r->prog_fd = -1;
	*out = r;
	return 0;
}

static void drop_prog(keel_device_rules *r)
{
	if (r->prog_fd >= 0)
		close(r->prog_fd);
	r->prog_fd = -1;
}

KEEL_PUBLIC void keel_device_rules_free(keel_device_rules *r)
{
	if (!r)
		return;
	drop_prog(r);
	free(r->v);
	free(r);
}

KEEL_PUBLIC int keel_device_rules_copy(keel_device_rules **out, const keel_device_rules *r, keel_error **err)
{
	keel_device_rules *c = NULL;
	int ret;

	if (!r)
		return keel_error_invalid(err, "device rules: copy of NULL");
	if ((ret = keel_device_rules_new(&c, err)) < 0)
		return ret;
	if (r->n && !(c->v = malloc(r->n * sizeof(*c->v)))) {
		keel_device_rules_free(c);
		return keel_error_sys(err, ENOMEM, "device rules: copy");
	}
	if (r->n)
		memcpy(c->v, r->v, r->n * sizeof(*c->v));
	c->n = c->cap = r->n;
	if (r->prog_fd >= 0 && (c->prog_fd = fcntl(r->prog_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		ret = keel_error_sys(err, errno, "device rules: copy the loaded program");
		keel_device_rules_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

const struct keel_device_rule *keel_device_rules_get(const keel_device_rules *r, size_t *n)
{
	*n = r ? r->n : 0;
	return r ? r->v : NULL;
}

static int check_rule(const struct keel_device_rule *rule, keel_error **err)
{
	if (rule->type != KEEL_DEVICE_ALL && rule->type != KEEL_DEVICE_BLOCK && rule->type != KEEL_DEVICE_CHAR)
		return keel_error_invalid(err, "device rule: type %d is not 'a', 'b' or 'c'", (int)rule->type);
	if (rule->major != KEEL_DEVICE_ANY && (rule->major < 0 || rule->major > MAJOR_MAX))
		return keel_error_invalid(err, "device rule: major %lld out of range (0-%d, or any)",
					  (long long)rule->major, MAJOR_MAX);
	if (rule->minor != KEEL_DEVICE_ANY && (rule->minor < 0 || rule->minor > MINOR_MAX))
		return keel_error_invalid(err, "device rule: minor %lld out of range (0-%d, or any)",
					  (long long)rule->minor, MINOR_MAX);
	if (!rule->access || (rule->access & ~(unsigned)KEEL_DEVICE_RWM))
		return keel_error_invalid(err, "device rule: access 0x%x is not a combination of r, w and m",
					  rule->access);
	return 0;
}

static int push_rule(keel_device_rules *r, const struct keel_device_rule *rule, keel_error **err)
{
	struct keel_device_rule *grown;
	size_t cap;
	int ret;

	if (!r)
		return keel_error_invalid(err, "device rules: handle is NULL");
	if ((ret = check_rule(rule, err)) < 0)
		return ret;
	if (r->n == r->cap) {
		cap = r->cap ? r->cap * 2 : 16;
		if (!(grown = realloc(r->v, cap * sizeof(*grown))))
			return keel_error_sys(err, ENOMEM, "device rules");
		r->v = grown;
		r->cap = cap;
	}
	r->v[r->n++] = *rule;
	drop_prog(r); /* the loaded program no longer says what the list does */
	return 0;
}

KEEL_PUBLIC int keel_device_rules_add(keel_device_rules *r, int allow, keel_device_type type, int64_t major,
				      int64_t minor, unsigned access, keel_error **err)
{
	struct keel_device_rule rule = {
		.allow = !!allow, .type = type, .major = major, .minor = minor, .access = access
	};

	return push_rule(r, &rule, err);
}

/* ------------------------------------------------------------ parsing -- */

int keel_device_access_parse(const char *s, unsigned *out)
{
	unsigned bits = 0, bit;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		bit = *s == 'r' ? KEEL_DEVICE_READ : *s == 'w' ? KEEL_DEVICE_WRITE : *s == 'm' ? KEEL_DEVICE_MKNOD : 0;
		if (!bit || (bits & bit))
			return -EINVAL;
		bits |= bit;
	}
	*out = bits;
	return 0;
}

/* A decimal number of at most max, or '*'; *end past it. */
static int parse_number(const char *s, const char **end, int64_t max, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;

	if (*p == '*') {
		*out = KEEL_DEVICE_ANY;
		*end = p + 1;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > max)
			return -ERANGE;
	*out = v;
	*end = p;
	return 0;
}

int keel_device_rule_parse(const char *s, int allow, struct keel_device_rule *out, keel_error **err)
{
	struct keel_device_rule rule = { .allow = !!allow };
	const char *p = s;
	int ret;

	if (!s)
		return keel_error_invalid(err, "device rule: NULL");
	if ((*p != 'a' && *p != 'b' && *p != 'c') || p[1] != ' ')
		goto bad;
	rule.type = (keel_device_type)*p;
	p += 2;
	if ((ret = parse_number(p, &p, MAJOR_MAX, &rule.major)) < 0 || *p++ != ':' ||
	    (ret = parse_number(p, &p, MINOR_MAX, &rule.minor)) < 0 || *p++ != ' ')
		goto bad;
	if (keel_device_access_parse(p, &rule.access) < 0)
		goto bad;
	*out = rule;
	return 0;
bad:
	return keel_error_invalid(err, "device rule '%s': expected TYPE MAJOR:MINOR ACCESS, such as 'c 10:200 rwm' "
				  "(TYPE a, b or c; MAJOR 0-%d or *; MINOR 0-%d or *; ACCESS of r, w, m)",
				  s, MAJOR_MAX, MINOR_MAX);
}

KEEL_PUBLIC int keel_device_rules_add_string(keel_device_rules *r, int allow, const char *s, keel_error **err)
{
	struct keel_device_rule rule;
	int ret;

	if (!r)
		return keel_error_invalid(err, "device rules: handle is NULL");
	if ((ret = keel_device_rule_parse(s, allow, &rule, err)) < 0)
		return ret;
	return push_rule(r, &rule, err);
}

/* What runc, crun and Docker allow by default (OCI runtime-spec's
 * "default devices", plus mknod of anything and the pts terminals). */
static const struct keel_device_rule default_rules[] = {
	{ 1, KEEL_DEVICE_CHAR, KEEL_DEVICE_ANY, KEEL_DEVICE_ANY, KEEL_DEVICE_MKNOD },
	{ 1, KEEL_DEVICE_BLOCK, KEEL_DEVICE_ANY, KEEL_DEVICE_ANY, KEEL_DEVICE_MKNOD },
	{ 1, KEEL_DEVICE_CHAR, 1, 3, KEEL_DEVICE_RWM },   /* null */
	{ 1, KEEL_DEVICE_CHAR, 1, 5, KEEL_DEVICE_RWM },   /* zero */
	{ 1, KEEL_DEVICE_CHAR, 1, 7, KEEL_DEVICE_RWM },   /* full */
	{ 1, KEEL_DEVICE_CHAR, 1, 8, KEEL_DEVICE_RWM },   /* random */
	{ 1, KEEL_DEVICE_CHAR, 1, 9, KEEL_DEVICE_RWM },   /* urandom */
	{ 1, KEEL_DEVICE_CHAR, 5, 0, KEEL_DEVICE_RWM },   /* tty */
	{ 1, KEEL_DEVICE_CHAR, 5, 1, KEEL_DEVICE_RWM },   /* console */
	{ 1, KEEL_DEVICE_CHAR, 5, 2, KEEL_DEVICE_RWM },   /* ptmx */
	{ 1, KEEL_DEVICE_CHAR, 136, KEEL_DEVICE_ANY, KEEL_DEVICE_RWM }, /* /dev/pts/N */
};

KEEL_PUBLIC int keel_device_rules_add_defaults(keel_device_rules *r, keel_error **err)
{
	size_t i;
	int ret;

	for (i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
		if ((ret = push_rule(r, &default_rules[i], err)) < 0)
			return ret;
	return 0;
}

/* ---------------------------------------------------------- compiling -- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_REG(dst, src) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The prologue: the context's fields into r2 (type), r3 (access), r4, r5. */
static const struct bpf_insn prologue[] = {
	LDX_W(BPF_REG_2, BPF_REG_1, 0),
	ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff),
	LDX_W(BPF_REG_3, BPF_REG_1, 0),
	ALU32_IMM(BPF_RSH, BPF_REG_3, 16),
	LDX_W(BPF_REG_4, BPF_REG_1, 4),
	LDX_W(BPF_REG_5, BPF_REG_1, 8),
};

/* The kernel's access bits, from ours (r=READ, w=WRITE, m=MKNOD). */
static int kernel_access(unsigned a)
{
	return ((a & KEEL_DEVICE_READ) ? BPF_DEVCG_ACC_READ : 0) | ((a & KEEL_DEVICE_WRITE) ? BPF_DEVCG_ACC_WRITE : 0) |
	       ((a & KEEL_DEVICE_MKNOD) ? BPF_DEVCG_ACC_MKNOD : 0);
}

/*
 * One rule's block into out (at most 7 instructions); returns its length.
 * Every compare jumps to the end of the block (the next rule) on a
 * mismatch: its offset is the number of instructions after it.
 */
static size_t emit_rule(const struct keel_device_rule *rule, struct bpf_insn *out)
{
	struct bpf_insn b[8];
	size_t n = 0, i;
	int16_t jumps[4];
	size_t n_jumps = 0;

	if (rule->type != KEEL_DEVICE_ALL) {
		jumps[n_jumps++] = (int16_t)n;
		b[n++] = JNE_IMM(BPF_REG_2, rule->type == KEEL_DEVICE_BLOCK ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
	}
	if (rule->access != KEEL_DEVICE_RWM) {
		b[n++] = MOV64_REG(BPF_REG_1, BPF_REG_3);
		b[n++] = ALU32_IMM(BPF_AND, BPF_REG_1, ~kernel_access(rule->access));
		jumps[n_jumps++] = (int16_t)n;
		b[n++] = JNE_IMM(BPF_REG_1, 0, 0);
	}
	if (rule->major != KEEL_DEVICE_ANY) {
		jumps[n_jumps++] = (int16_t)n;
		b[n++] = JNE_IMM(BPF_REG_4, (int32_t)rule->major, 0);
	}
	if (rule->minor != KEEL_DEVICE_ANY) {
		jumps[n_jumps++] = (int16_t)n;
		b[n++] = JNE_IMM(BPF_REG_5, (int32_t)rule->minor, 0);
	}
	b[n++] = MOV64_IMM(BPF_REG_0, rule->allow ? 1 : 0);
	b[n++] = EXIT();
	for (i = 0; i < n_jumps; i++)
		b[jumps[i]].off = (int16_t)(n - (size_t)jumps[i] - 1);
	memcpy(out, b, n * sizeof(*b));
	return n;
}

/* A rule that matches every request (an OCI config's leading "deny a
 * *:* rwm"): its block has no compare, so nothing after it is reached,
 * and the verifier refuses unreachable instructions. */
static int matches_all(const struct keel_device_rule *rule)
{
	return rule->type == KEEL_DEVICE_ALL && rule->access == KEEL_DEVICE_RWM && rule->major == KEEL_DEVICE_ANY &&
	       rule->minor == KEEL_DEVICE_ANY;
}

int keel_device_rules_compile(const keel_device_rules *r, struct bpf_insn **out, size_t *len, keel_error **err)
{
	size_t n_pro = sizeof(prologue) / sizeof(prologue[0]);
	size_t max, n, i;
	struct bpf_insn *p;

	if (!r || !out || !len)
		return keel_error_invalid(err, "device rules: compile: NULL argument");
	max = n_pro + r->n * 8 + 2;
	if (!(p = malloc(max * sizeof(*p))))
		return keel_error_sys(err, ENOMEM, "device rules: compile");
	memcpy(p, prologue, sizeof(prologue));
	n = n_pro;
	for (i = r->n; i-- > 0;) { /* the last rule first: it wins */
		n += emit_rule(&r->v[i], p + n);
		if (matches_all(&r->v[i]))
			break;
	}
	if (i == (size_t)-1) { /* no rule matched everything: deny the rest */
		p[n++] = MOV64_IMM(BPF_REG_0, 0);
		p[n++] = EXIT();
	}
	*out = p;
	*len = n;
	return 0;
}

/* ------------------------------------------------------------ loading -- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Why the kernel refused, in words a user can act on. */
static const char *load_hint(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return " (loading BPF programs needs CAP_BPF or CAP_SYS_ADMIN; rootless callers cannot)";
	case ENOSYS:
		return " (this kernel has no bpf() system call)";
	case EINVAL:
		return " (this kernel may lack BPF_PROG_TYPE_CGROUP_DEVICE, CONFIG_CGROUP_BPF)";
	default:
		return "";
	}
}

static int load(const struct bpf_insn *insns, size_t n, keel_error **err)
{
	union bpf_attr attr;
	char log[512] = "";
	int fd, e;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	strncpy(attr.prog_name, "keel_devices", sizeof(attr.prog_name) - 1);
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	e = errno;
	if (e == EINVAL || e == EACCES) {
		/* Load again with a verifier log, only to say what it disliked. */
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = sizeof(log);
		attr.log_level = 1;
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
		if (fd >= 0)
			return fd;
	}
	log[sizeof(log) - 1] = '\0';
	return keel_error_set(err, e == ENOSYS || e == EINVAL ? KEEL_ERROR_UNSUPPORTED : KEEL_ERROR_SYSTEM, e,
			      "load a BPF_PROG_TYPE_CGROUP_DEVICE program of %zu instructions%s%s%s", n, load_hint(e),
			      *log ? "; verifier: " : "", log);
}

int keel_device_rules_prog_fd(keel_device_rules *r, keel_error **err)
{
	struct bpf_insn *insns = NULL;
	size_t n;
	int fd;

	if (!r)
		return keel_error_invalid(err, "device rules: handle is NULL");
	if (r->prog_fd >= 0)
		return r->prog_fd;
	if ((fd = keel_device_rules_compile(r, &insns, &n, err)) < 0)
		return fd;
	fd = load(insns, n, err);
	free(insns);
	if (fd >= 0)
		r->prog_fd = fd;
	return fd;
}

/* ---------------------------------------------------------- attaching -- */

/* bpf(2) wants a real fd of the directory; keel_cgroup_fd() is O_PATH. */
static int open_cgroup_dir(keel_cgroup *cg, keel_error **err)
{
	int fd = openat(keel_cgroup_fd(cg), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return keel_error_sys(err, errno, "open cgroup %s", keel_cgroup_path(cg));
	return fd;
}

#define MAX_ATTACHED 64

/* The ids of the device programs attached to the cgroup itself. */
static int query(int cgfd, uint32_t *ids, uint32_t *n, keel_error **err)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = MAX_ATTACHED;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return keel_error_sys(err, errno, "query the device programs attached");
	*n = attr.query.prog_cnt;
	return 0;
}

static int prog_fd_by_id(uint32_t id, keel_error **err)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return keel_error_sys(err, errno, "open the attached device program %u", id);
	return fd;
}

static int prog_id(int fd)
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? -errno : (int)info.id;
}

static int attach(int cgfd, int prog, int replace_fd, keel_error **err)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI | (replace_fd >= 0 ? BPF_F_REPLACE : 0);
	attr.replace_bpf_fd = replace_fd >= 0 ? (uint32_t)replace_fd : 0;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return keel_error_sys(err, errno, "attach the device program%s", errno == EPERM ?
				      " (an ancestor may hold an exclusive device program, or CAP_SYS_ADMIN is missing)" : "");
	return 0;
}

static int detach(int cgfd, int prog, keel_error **err)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		return keel_error_sys(err, errno, "detach the old device program");
	return 0;
}

/* Detach every program in ids but keep (its id, or -1). */
static int detach_ids(int cgfd, const uint32_t *ids, uint32_t n, int keep, keel_error **err)
{
	uint32_t i;
	int fd, ret = 0;

	for (i = 0; i < n && ret == 0; i++) {
		if ((int)ids[i] == keep)
			continue;
		if ((fd = prog_fd_by_id(ids[i], err)) < 0) {
			ret = fd == -ENOENT ? 0 : fd; /* detached meanwhile */
			continue;
		}
		ret = detach(cgfd, fd, err);
		close(fd);
	}
	return ret;
}

/*
 * Attach prog, then take away what was there: with one old program, in
 * one step (BPF_F_REPLACE); with several, one after the other once the
 * new one is in. Either way no request passes without a filter.
 */
static int replace(int cgfd, int prog, keel_error **err)
{
	uint32_t ids[MAX_ATTACHED], n = 0;
	int id, old, ret;

	if ((ret = query(cgfd, ids, &n, err)) < 0)
		return ret;
	if ((id = prog_id(prog)) < 0)
		return keel_error_sys(err, -id, "read the device program's id");
	if (n == 1 && (int)ids[0] == id)
		return 0; /* attached already */
	if (n == 1 && (old = prog_fd_by_id(ids[0], NULL)) >= 0) {
		ret = attach(cgfd, prog, old, err);
		close(old);
		return ret;
	}
	if ((ret = attach(cgfd, prog, -1, err)) < 0 && ret != -EEXIST)
		return ret;
	return detach_ids(cgfd, ids, n, id, err);
}

KEEL_PUBLIC int keel_cgroup_set_devices(keel_cgroup *cg, keel_device_rules *rules, keel_error **err)
{
	int cgfd, prog, ret;

	if (!cg || !rules)
		return keel_error_invalid(err, "set devices: %s is NULL", cg ? "rules" : "cgroup");
	if ((prog = keel_device_rules_prog_fd(rules, err)) < 0)
		return keel_error_wrap(err, prog, "cgroup %s: device filter", keel_cgroup_path(cg));
	if ((cgfd = open_cgroup_dir(cg, err)) < 0)
		return keel_error_wrap(err, cgfd, "device filter");
	ret = replace(cgfd, prog, err);
	close(cgfd);
	return ret < 0 ? keel_error_wrap(err, ret, "cgroup %s: device filter", keel_cgroup_path(cg)) : 0;
}

KEEL_PUBLIC int keel_cgroup_clear_devices(keel_cgroup *cg, keel_error **err)
{
	uint32_t ids[MAX_ATTACHED], n = 0;
	int cgfd, ret;

	if (!cg)
		return keel_error_invalid(err, "clear devices: cgroup is NULL");
	if ((cgfd = open_cgroup_dir(cg, err)) < 0)
		return keel_error_wrap(err, cgfd, "clear device filter");
	ret = query(cgfd, ids, &n, err);
	if (ret == 0)
		ret = detach_ids(cgfd, ids, n, -1, err);
	close(cgfd);
	return ret < 0 ? keel_error_wrap(err, ret, "cgroup %s: clear device filter", keel_cgroup_path(cg)) : 0;
}
