/*
 * Flattening seccomp programs: the same verdicts in fewer instructions.
 *
 * libseccomp compiles a filter into a chain of comparisons: for every
 * architecture, one `jeq nr` (or a tree of them) per system call that has
 * a rule. Libkeel's default profile allows some 330 calls, and the program
 * is about 1200 instructions. Every container pays for that size when the
 * init installs the filter: the kernel checks, converts and JIT-compiles
 * the whole program (perf: ~0.6 ms of each start on this project's test
 * machine, a tenth of it).
 *
 * But almost every system call's verdict depends on its number alone, and
 * the numbers that share a verdict come in long runs (0-16 allowed, 17
 * denied, ...). So the program is rewritten as:
 *
 *   ld arch; binary search over architecture ranges ->
 *     ld nr; binary search over number ranges ->
 *       ret VERDICT                  for a range whose verdict is constant
 *       <the original's argument checks, for that call only>   otherwise
 *
 * How, without trusting our reading of libseccomp's output:
 *
 * 1. A data-flow pass (taint()) finds which values flow into each
 *    comparison. The number and the architecture may only be compared
 *    with constants: then every comparison splits the 32-bit range at a
 *    constant, so between two neighbouring constants the program cannot
 *    tell numbers apart. Anything else (arithmetic or a bit test on the
 *    number, ...) and we give up: -ENOTSUP, and the caller keeps the
 *    original program.
 * 2. For one representative of every such range of architectures and of
 *    numbers, the program is partially evaluated (specialize()): what
 *    depends only on the number and the architecture is decided now;
 *    what depends on the arguments (or the instruction pointer) is
 *    copied into the output.
 * 3. Neighbouring ranges with identical code are merged, and each level
 *    becomes a balanced tree of `jge` (emit_ranges()).
 *
 * The tests run both programs through keel_bpf_run(), an interpreter with
 * the kernel's semantics, over every number of every architecture and
 * argument values on both sides of every comparison, and require the same
 * verdicts.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "security-bpf.h"

#define OFF_NR 0   /* offsetof(struct seccomp_data, nr) */
#define OFF_ARCH 4 /* offsetof(struct seccomp_data, arch) */
#define MAX_OUT 4096 /* BPF_MAXINSNS: the kernel refuses longer programs */

/* ------------------------------------------------------------ the code -- */

/* A growing array of instructions; `failed` makes the errors sticky. */
struct code {
	struct sock_filter *v;
	size_t n, cap;
	int failed; /* 0, or the first -errno */
};

static void code_free(struct code *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void code_push(struct code *c, uint16_t op, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (c->failed)
		return;
	if (c->n >= MAX_OUT) {
		c->failed = -E2BIG;
		return;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct sock_filter *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->failed = -ENOMEM;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct sock_filter){ op, jt, jf, k };
}

static void code_append(struct code *c, const struct code *tail)
{
	size_t i;

	if (tail->failed && !c->failed)
		c->failed = tail->failed;
	for (i = 0; i < tail->n && !c->failed; i++)
		code_push(c, tail->v[i].code, tail->v[i].jt, tail->v[i].jf, tail->v[i].k);
}

static bool code_equal(const struct code *a, const struct code *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(*a->v));
}

/*
 * out = `op k` branching to t when true, to f when false; frees t and f.
 * A conditional jump reaches 255 instructions; past that, through a `ja`.
 */
static void emit_branch(struct code *out, uint16_t op, uint32_t k, struct code *t, struct code *f)
{
	if (f->n <= 255) {
		code_push(out, op, (uint8_t)f->n, 0, k);
	} else {
		code_push(out, op, 0, 1, k);
		code_push(out, BPF_JMP | BPF_JA, 0, 0, (uint32_t)f->n);
	}
	code_append(out, f);
	code_append(out, t);
	code_free(t);
	code_free(f);
}

/* ------------------------------------------------------- 1. data flow -- */

/* Where a value may come from. */
enum { T_NR = 1, T_ARCH = 2, T_OTHER = 4 };

struct taint_state {
	bool reached;
	uint8_t a, x, m[BPF_MEMWORDS];
};

/* The constants that the number and the architecture are compared with. */
struct consts {
	uint32_t *v;
	size_t n, cap;
};

static int consts_add(struct consts *c, uint32_t k)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		uint32_t *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = k;
	return 0;
}

static void merge_into(struct taint_state *to, const struct taint_state *from)
{
	int i;

	if (!to->reached) {
		*to = *from;
		return;
	}
	to->a |= from->a;
	to->x |= from->x;
	for (i = 0; i < BPF_MEMWORDS; i++)
		to->m[i] |= from->m[i];
}

static uint8_t taint_of_load(uint32_t k)
{
	return k == OFF_NR ? T_NR : k == OFF_ARCH ? T_ARCH : T_OTHER;
}

/* One instruction's effect on the taints; -ENOTSUP when the number or the
 * architecture is used in a way we do not model. */
static int taint_step(const struct sock_filter *ins, struct taint_state *s, struct consts *nr, struct consts *arch)
{
	uint16_t code = ins->code;
	uint8_t ours = T_NR | T_ARCH;

	switch (BPF_CLASS(code)) {
	case BPF_LD:
		if (BPF_MODE(code) == BPF_ABS && BPF_SIZE(code) == BPF_W)
			s->a = taint_of_load(ins->k);
		else if (BPF_MODE(code) == BPF_MEM && ins->k < BPF_MEMWORDS)
			s->a = s->m[ins->k];
		else if (BPF_MODE(code) == BPF_IMM || BPF_MODE(code) == BPF_LEN)
			s->a = 0;
		else
			return -EINVAL;
		return 0;
	case BPF_LDX:
		if (BPF_MODE(code) == BPF_MEM && ins->k < BPF_MEMWORDS)
			s->x = s->m[ins->k];
		else if (BPF_MODE(code) == BPF_IMM || BPF_MODE(code) == BPF_LEN)
			s->x = 0;
		else
			return -EINVAL;
		return 0;
	case BPF_ST:
	case BPF_STX:
		if (ins->k >= BPF_MEMWORDS)
			return -EINVAL;
		s->m[ins->k] = BPF_CLASS(code) == BPF_ST ? s->a : s->x;
		return 0;
	case BPF_ALU:
		if ((s->a & ours) || (BPF_SRC(code) == BPF_X && (s->x & ours)))
			return -ENOTSUP;
		s->a |= BPF_SRC(code) == BPF_X ? s->x : 0;
		return 0;
	case BPF_MISC:
		if (BPF_MISCOP(code) == BPF_TAX)
			s->x = s->a;
		else
			s->a = s->x;
		return 0;
	case BPF_JMP:
		if (BPF_OP(code) == BPF_JA || !(s->a & ours))
			return (BPF_SRC(code) == BPF_X && (s->x & ours)) ? -ENOTSUP : 0;
		/* A holds the number or the architecture: only a comparison
		 * with a constant, of one of them alone, keeps ranges exact. */
		if (BPF_SRC(code) == BPF_X || BPF_OP(code) == BPF_JSET || (s->a & T_OTHER) || s->a == ours)
			return -ENOTSUP;
		return consts_add(s->a == T_NR ? nr : arch, ins->k);
	case BPF_RET:
		return (BPF_RVAL(code) == BPF_A && (s->a & ours)) ? -ENOTSUP : 0;
	}
	return -EINVAL;
}

/* Fill nr and arch with the constants they are compared with. Jumps only
 * go forward, so one pass in order sees every path into an instruction
 * before the instruction itself. */
static int taint(const struct sock_filter *p, size_t len, struct consts *nr, struct consts *arch)
{
	struct taint_state *st = calloc(len + 1, sizeof(*st));
	size_t pc, t, f;
	int ret = 0;

	if (!st)
		return -ENOMEM;
	st[0].reached = true;
	for (pc = 0; pc < len && ret == 0; pc++) {
		struct taint_state s = st[pc];
		uint16_t code = p[pc].code;

		if (!s.reached)
			continue;
		ret = taint_step(&p[pc], &s, nr, arch);
		if (ret < 0 || BPF_CLASS(code) == BPF_RET)
			continue;
		if (BPF_CLASS(code) != BPF_JMP) {
			merge_into(&st[pc + 1], &s);
			continue;
		}
		t = pc + 1 + (BPF_OP(code) == BPF_JA ? p[pc].k : p[pc].jt);
		f = pc + 1 + (BPF_OP(code) == BPF_JA ? p[pc].k : p[pc].jf);
		if (t >= len || f >= len) {
			ret = -EINVAL;
			break;
		}
		merge_into(&st[t], &s);
		merge_into(&st[f], &s);
	}
	free(st);
	return ret;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The first value of every range in which no comparison with one of c's
 * constants can tell two values apart: 0, every constant and the value
 * after it. Sorted, without duplicates; replaces c's contents. */
static int range_starts(struct consts *c)
{
	struct consts out = { 0 };
	size_t i, n = 0;

	if (consts_add(&out, 0) < 0)
		goto oom;
	for (i = 0; i < c->n; i++) {
		if (consts_add(&out, c->v[i]) < 0 || (c->v[i] != UINT32_MAX && consts_add(&out, c->v[i] + 1) < 0))
			goto oom;
	}
	qsort(out.v, out.n, sizeof(*out.v), cmp_u32);
	for (i = 0; i < out.n; i++)
		if (n == 0 || out.v[n - 1] != out.v[i])
			out.v[n++] = out.v[i];
	out.n = n;
	free(c->v);
	*c = out;
	return 0;
oom:
	free(out.v);
	return -ENOMEM;
}

/* ------------------------------------------------ 2. partial evaluation -- */

/* A register as the specializer sees it: a value known now, or one only
 * the running program will know; `real` says whether the output code has
 * put that value in the register (a known value is only materialized when
 * an instruction we copy reads it). */
struct val {
	uint32_t v;
	bool known, real;
};

struct spec_state {
	struct val a, x, m[BPF_MEMWORDS];
};

struct spec_ctx {
	const struct sock_filter *p;
	size_t len;
	uint32_t nr, arch;
	size_t budget; /* instructions we may still visit: bounds the copying */
};

static struct val known(uint32_t v)
{
	return (struct val){ v, true, false };
}

static struct val runtime(void)
{
	return (struct val){ 0, false, true };
}

/* Before copying an instruction that reads A (or X): have it there. */
static void materialize(struct code *out, struct val *r, bool is_x)
{
	if (r->real)
		return;
	code_push(out, (is_x ? BPF_LDX : BPF_LD) | BPF_IMM, 0, 0, r->v);
	r->real = true;
}

static bool alu(uint16_t op, uint32_t a, uint32_t b, uint32_t *res)
{
	switch (op) {
	case BPF_ADD: *res = a + b; return true;
	case BPF_SUB: *res = a - b; return true;
	case BPF_MUL: *res = a * b; return true;
	case BPF_DIV: if (!b) return false; *res = a / b; return true;
	case BPF_MOD: if (!b) return false; *res = a % b; return true;
	case BPF_OR: *res = a | b; return true;
	case BPF_AND: *res = a & b; return true;
	case BPF_XOR: *res = a ^ b; return true;
	case BPF_LSH: *res = b < 32 ? a << b : 0; return true;
	case BPF_RSH: *res = b < 32 ? a >> b : 0; return true;
	case BPF_NEG: *res = -a; return true;
	}
	return false;
}

static bool jump_taken(uint16_t op, uint32_t a, uint32_t b)
{
	switch (op) {
	case BPF_JEQ: return a == b;
	case BPF_JGT: return a > b;
	case BPF_JGE: return a >= b;
	case BPF_JSET: return (a & b) != 0;
	}
	return false;
}

static int specialize(struct spec_ctx *cx, size_t pc, struct spec_state s, struct code *out);

/* A load of A from seccomp_data: the number and the architecture are
 * known; the rest (arguments, instruction pointer) is copied. */
static void spec_load_abs(struct spec_ctx *cx, const struct sock_filter *ins, struct spec_state *s, struct code *out)
{
	if (ins->k == OFF_NR) {
		s->a = known(cx->nr);
	} else if (ins->k == OFF_ARCH) {
		s->a = known(cx->arch);
	} else {
		code_push(out, ins->code, 0, 0, ins->k);
		s->a = runtime();
	}
}

/* Load of a scratch word into A or X. */
static void spec_load_mem(const struct sock_filter *ins, struct spec_state *s, struct val *r, struct code *out)
{
	*r = s->m[ins->k];
	if (r->known) {
		r->real = false;
	} else {
		code_push(out, ins->code, 0, 0, ins->k);
		r->real = true;
	}
}

/* A conditional jump on a value not known yet: copy it, with both sides. */
static int spec_branch(struct spec_ctx *cx, size_t pc, struct spec_state *s, struct code *out)
{
	const struct sock_filter *ins = &cx->p[pc];
	struct code t = { 0 }, f = { 0 };
	int ret;

	materialize(out, &s->a, false);
	if (BPF_SRC(ins->code) == BPF_X)
		materialize(out, &s->x, true);
	ret = specialize(cx, pc + 1 + ins->jt, *s, &t);
	if (ret == 0)
		ret = specialize(cx, pc + 1 + ins->jf, *s, &f);
	if (ret < 0) {
		code_free(&t);
		code_free(&f);
		return ret;
	}
	emit_branch(out, ins->code, ins->k, &t, &f);
	return out->failed;
}

/*
 * Append to out the code that does what p does from pc on, for the
 * number cx->nr and the architecture cx->arch, in state s.
 */
static int specialize(struct spec_ctx *cx, size_t pc, struct spec_state s, struct code *out)
{
	for (;;) {
		const struct sock_filter *ins;
		struct val b;
		uint32_t res;

		if (pc >= cx->len)
			return -EINVAL;
		if (cx->budget-- == 0)
			return -E2BIG;
		ins = &cx->p[pc];
		switch (BPF_CLASS(ins->code)) {
		case BPF_LD:
			if (BPF_MODE(ins->code) == BPF_ABS)
				spec_load_abs(cx, ins, &s, out);
			else if (BPF_MODE(ins->code) == BPF_MEM)
				spec_load_mem(ins, &s, &s.a, out);
			else /* IMM, LEN (sizeof(struct seccomp_data)) */
				s.a = known(BPF_MODE(ins->code) == BPF_IMM ? ins->k : sizeof(struct seccomp_data));
			break;
		case BPF_LDX:
			if (BPF_MODE(ins->code) == BPF_MEM)
				spec_load_mem(ins, &s, &s.x, out);
			else
				s.x = known(BPF_MODE(ins->code) == BPF_IMM ? ins->k : sizeof(struct seccomp_data));
			break;
		case BPF_ST:
		case BPF_STX: {
			struct val *r = BPF_CLASS(ins->code) == BPF_ST ? &s.a : &s.x;

			if (!r->known)
				code_push(out, ins->code, 0, 0, ins->k);
			s.m[ins->k] = *r;
			s.m[ins->k].real = !r->known;
			break;
		}
		case BPF_ALU:
			b = BPF_SRC(ins->code) == BPF_X ? s.x : known(ins->k);
			if (s.a.known && b.known && alu(BPF_OP(ins->code), s.a.v, b.v, &res)) {
				s.a = known(res);
				break;
			}
			materialize(out, &s.a, false);
			if (BPF_SRC(ins->code) == BPF_X)
				materialize(out, &s.x, true);
			code_push(out, ins->code, 0, 0, ins->k);
			s.a = runtime();
			break;
		case BPF_MISC:
			if (BPF_MISCOP(ins->code) == BPF_TAX)
				s.x = s.a;
			else
				s.a = s.x;
			if (!s.a.known || !s.x.known) { /* copy the move of a run-time value */
				code_push(out, ins->code, 0, 0, 0);
				s.a.real = s.x.real = true;
			} else {
				(BPF_MISCOP(ins->code) == BPF_TAX ? &s.x : &s.a)->real = false;
			}
			break;
		case BPF_JMP:
			if (BPF_OP(ins->code) == BPF_JA) {
				pc += ins->k;
				break;
			}
			b = BPF_SRC(ins->code) == BPF_X ? s.x : known(ins->k);
			if (!s.a.known || !b.known)
				return spec_branch(cx, pc, &s, out);
			pc += jump_taken(BPF_OP(ins->code), s.a.v, b.v) ? ins->jt : ins->jf;
			break;
		case BPF_RET:
			if (BPF_RVAL(ins->code) == BPF_K)
				code_push(out, BPF_RET | BPF_K, 0, 0, ins->k);
			else if (s.a.known)
				code_push(out, BPF_RET | BPF_K, 0, 0, s.a.v);
			else
				code_push(out, BPF_RET | BPF_A, 0, 0, 0);
			return out->failed;
		default:
			return -EINVAL;
		}
		if (out->failed)
			return out->failed;
		pc++;
	}
}

/* ------------------------------------------------------ 3. range trees -- */

/* Ranges [start[i], start[i+1]) and their code, merged where neighbours
 * have the same code. */
struct ranges {
	uint32_t *start;
	struct code *code;
	size_t n;
};

static void ranges_free(struct ranges *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		code_free(&r->code[i]);
	free(r->start);
	free(r->code);
	memset(r, 0, sizeof(*r));
}

/* Add range [start, ...) with code c (taken over), or widen the last
 * range when its code is the same. */
static int ranges_add(struct ranges *r, uint32_t start, struct code *c, size_t cap)
{
	if (r->n > 0 && code_equal(&r->code[r->n - 1], c)) {
		code_free(c);
		return 0;
	}
	if (r->n == cap)
		return -EINVAL;
	r->start[r->n] = start;
	r->code[r->n++] = *c;
	memset(c, 0, sizeof(*c));
	return 0;
}

/* Where the pooled layout of ranges i..j puts things: the tree's nodes
 * first, in preorder, then one copy of each distinct range code. */
struct layout {
	const struct ranges *r;
	size_t *pool_of; /* range -> index of the range whose code it shares */
	size_t *pos;     /* range -> position of its code (for pool owners) */
	size_t next;     /* next free node position */
	struct sock_filter *node;
};

/* Lay out the subtree over ranges lo..hi; returns the position its
 * caller jumps to. */
static size_t lay_out(struct layout *l, size_t lo, size_t hi)
{
	size_t at, mid, t, f;

	if (lo == hi)
		return l->pos[l->pool_of[lo]];
	at = l->next++;
	mid = lo + (hi - lo + 1) / 2;
	f = lay_out(l, lo, mid - 1);
	t = lay_out(l, mid, hi);
	l->node[at] = (struct sock_filter){ BPF_JMP | BPF_JGE | BPF_K, (uint8_t)(t - at - 1), (uint8_t)(f - at - 1),
					    l->r->start[mid] };
	return at;
}

/*
 * A balanced tree of `jge start` over ranges i..j (A holds the value they
 * partition). Most ranges end in one of two or three `ret`s (allow, deny),
 * so their code is kept once, after the tree, and the tree's leaves jump
 * there: about one instruction per range. A conditional jump reaches 255
 * instructions; a tree too big for that is split in two first.
 */
static void emit_ranges(struct code *out, const struct ranges *r, size_t i, size_t j)
{
	size_t k, m, nodes = j - i, pool_len = 0;
	struct layout l = { r, NULL, NULL, 0, NULL };
	struct code t = { 0 }, f = { 0 };

	if (i == j) {
		code_append(out, &r->code[i]);
		return;
	}
	l.pool_of = calloc(r->n, sizeof(size_t));
	l.pos = calloc(r->n, sizeof(size_t));
	l.node = calloc(nodes, sizeof(*l.node));
	if (!l.pool_of || !l.pos || !l.node) {
		out->failed = out->failed ? out->failed : -ENOMEM;
		goto out;
	}
	for (k = i; k <= j; k++) {
		for (m = i; m < k && !code_equal(&r->code[m], &r->code[k]); m++)
			;
		l.pool_of[k] = m;
		if (m == k) {
			l.pos[k] = nodes + pool_len;
			pool_len += r->code[k].n;
		}
	}
	if (nodes + pool_len <= 256) {
		lay_out(&l, i, j);
		for (k = 0; k < nodes; k++)
			code_push(out, l.node[k].code, l.node[k].jt, l.node[k].jf, l.node[k].k);
		for (k = i; k <= j; k++)
			if (l.pool_of[k] == k)
				code_append(out, &r->code[k]);
	} else {
		m = i + (j - i + 1) / 2;
		emit_ranges(&f, r, i, m - 1);
		emit_ranges(&t, r, m, j);
		emit_branch(out, BPF_JMP | BPF_JGE | BPF_K, r->start[m], &t, &f);
	}
out:
	free(l.pool_of);
	free(l.pos);
	free(l.node);
}

/* The code for one architecture: `ld nr` and a tree over the numbers. */
static int flatten_arch(const struct sock_filter *p, size_t len, uint32_t arch, const struct consts *nrs,
			struct code *out)
{
	struct ranges r = { calloc(nrs->n, sizeof(uint32_t)), calloc(nrs->n, sizeof(struct code)), 0 };
	size_t i;
	int ret = 0;

	if (!r.start || !r.code) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nrs->n && ret == 0; i++) {
		struct spec_ctx cx = { p, len, nrs->v[i], arch, 64 * len };
		/* The kernel starts a filter with A = X = 0. The dispatch
		 * above has loaded A since, but never X. */
		struct spec_state s = { .a = known(0), .x = { 0, true, true } };
		struct code c = { 0 };

		ret = specialize(&cx, 0, s, &c);
		if (ret == 0)
			ret = ranges_add(&r, nrs->v[i], &c, nrs->n);
		code_free(&c);
	}
	if (ret == 0) {
		if (r.n > 1)
			code_push(out, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_NR);
		emit_ranges(out, &r, 0, r.n - 1);
		ret = out->failed;
	}
out:
	ranges_free(&r);
	return ret;
}

int keel_bpf_flatten(const struct sock_filter *prog, size_t len, struct sock_filter **out, size_t *out_len)
{
	struct consts nrs = { 0 }, arches = { 0 };
	struct ranges r = { 0 };
	struct code all = { 0 };
	size_t i;
	int ret;

	if (!prog || len == 0 || len > MAX_OUT)
		return -EINVAL;
	ret = taint(prog, len, &nrs, &arches);
	if (ret == 0)
		ret = range_starts(&nrs);
	if (ret == 0)
		ret = range_starts(&arches);
	if (ret < 0)
		goto out;
	r.start = calloc(arches.n, sizeof(uint32_t));
	r.code = calloc(arches.n, sizeof(struct code));
	if (!r.start || !r.code) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < arches.n && ret == 0; i++) {
		struct code c = { 0 };

		ret = flatten_arch(prog, len, arches.v[i], &nrs, &c);
		if (ret == 0)
			ret = ranges_add(&r, arches.v[i], &c, arches.n);
		code_free(&c);
	}
	if (ret < 0)
		goto out;
	if (r.n > 1)
		code_push(&all, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARCH);
	emit_ranges(&all, &r, 0, r.n - 1);
	ret = all.failed;
	if (ret == 0 && all.n >= len)
		ret = -E2BIG;
	if (ret == 0) {
		*out = all.v;
		*out_len = all.n;
		all.v = NULL;
	}
out:
	code_free(&all);
	ranges_free(&r);
	free(nrs.v);
	free(arches.v);
	return ret;
}

/* ---------------------------------------------------------- interpreter -- */

static bool load_word(const struct seccomp_data *d, uint32_t k, uint32_t *v)
{
	if (k % 4 || k > sizeof(*d) - 4)
		return false;
	memcpy(v, (const char *)d + k, 4);
	return true;
}

uint32_t keel_bpf_run(const struct sock_filter *p, size_t len, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, m[BPF_MEMWORDS] = { 0 }, res;
	size_t pc = 0;

	while (pc < len) {
		const struct sock_filter *ins = &p[pc++];
		uint32_t b = BPF_SRC(ins->code) == BPF_X ? x : ins->k;

		switch (BPF_CLASS(ins->code)) {
		case BPF_LD:
			if (BPF_MODE(ins->code) == BPF_ABS) {
				if (!load_word(d, ins->k, &a))
					return 0;
			} else if (BPF_MODE(ins->code) == BPF_MEM && ins->k < BPF_MEMWORDS) {
				a = m[ins->k];
			} else {
				a = BPF_MODE(ins->code) == BPF_IMM ? ins->k : (uint32_t)sizeof(*d);
			}
			break;
		case BPF_LDX:
			if (BPF_MODE(ins->code) == BPF_MEM && ins->k < BPF_MEMWORDS)
				x = m[ins->k];
			else
				x = BPF_MODE(ins->code) == BPF_IMM ? ins->k : (uint32_t)sizeof(*d);
			break;
		case BPF_ST:
		case BPF_STX:
			if (ins->k >= BPF_MEMWORDS)
				return 0;
			m[ins->k] = BPF_CLASS(ins->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			if (!alu(BPF_OP(ins->code), a, b, &res))
				return 0;
			a = res;
			break;
		case BPF_MISC:
			if (BPF_MISCOP(ins->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		case BPF_JMP:
			if (BPF_OP(ins->code) == BPF_JA)
				pc += ins->k;
			else
				pc += jump_taken(BPF_OP(ins->code), a, b) ? ins->jt : ins->jf;
			break;
		case BPF_RET:
			return BPF_RVAL(ins->code) == BPF_K ? ins->k : a;
		default:
			return 0;
		}
	}
	return 0;
}
