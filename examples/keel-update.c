/*
 * keel-update: a small `docker update` on libkeel.
 *
 *   keel-update [--memory SIZE] [--memory-swap SIZE] [--cpus N.N]
 *               [--cpu-weight N] [--pids N] [--cpuset-cpus LIST]
 *               [--cpuset-mems LIST] [--device-cgroup-rule RULE]... ID
 *
 * Changes the limits of a created, running or paused container at once
 * (keel_container_update()): only what is given changes, everything is
 * checked before anything is written, and what was applied is recorded in
 * the container's state. --memory-swap is memory plus swap, as in Docker
 * (at least the memory limit: --memory's, or the container's own when
 * --memory is not given), or -1 for unlimited swap; --pids -1 lifts the limit. --device-cgroup-rule allows a device
 * ("c 10:200 rwm") on top of the container's filter as last recorded (the
 * default list when no update changed it): the whole filter is replaced,
 * the new one attached before the old one goes. Prints the id on success.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-update";

#define MAX_RULES 64

struct options {
	const char *memory, *swap, *cpus, *cpu_weight, *pids, *cpuset_cpus, *cpuset_mems;
	const char *rules[MAX_RULES];
	int n_rules;
};

enum { O_MEMORY = 256, O_SWAP, O_CPUS, O_CPU_WEIGHT, O_PIDS, O_CPUSET_CPUS, O_CPUSET_MEMS, O_RULE };

static const struct option longopts[] = {
	{ "memory", 1, 0, O_MEMORY }, { "memory-swap", 1, 0, O_SWAP }, { "cpus", 1, 0, O_CPUS },
	{ "cpu-weight", 1, 0, O_CPU_WEIGHT }, { "pids", 1, 0, O_PIDS }, { "cpuset-cpus", 1, 0, O_CPUSET_CPUS },
	{ "cpuset-mems", 1, 0, O_CPUSET_MEMS }, { "device-cgroup-rule", 1, 0, O_RULE }, { "help", 0, 0, 'h' },
	{ 0, 0, 0, 0 }
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [--memory SIZE] [--memory-swap SIZE] [--cpus N.N] [--cpu-weight N] [--pids N]\n"
		   "       [--cpuset-cpus LIST] [--cpuset-mems LIST] [--device-cgroup-rule RULE]... ID\n"
		   KX_STATE_HELP, prog);
}

static int bad(const char *opt, const char *arg, const char *what)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, opt, arg, what);
	return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_MEMORY: o->memory = optarg; break;
		case O_SWAP: o->swap = optarg; break;
		case O_CPUS: o->cpus = optarg; break;
		case O_CPU_WEIGHT: o->cpu_weight = optarg; break;
		case O_PIDS: o->pids = optarg; break;
		case O_CPUSET_CPUS: o->cpuset_cpus = optarg; break;
		case O_CPUSET_MEMS: o->cpuset_mems = optarg; break;
		case O_RULE:
			if (o->n_rules == MAX_RULES)
				return bad("--device-cgroup-rule", optarg, "too many rules");
			o->rules[o->n_rules++] = optarg;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The memory options onto r: a bad value is said here, before anything
 * reaches the library. --memory-swap without --memory is counted from
 * the container's memory limit now, as Docker does. */
static int memory_options(const struct options *o, keel_container *c, keel_resources *r, keel_error **err)
{
	uint64_t mem = KEEL_CGROUP_MAX, swap = 0;
	keel_cgroup *cg = c ? keel_container_cgroup(c) : NULL;

	if (o->memory && kx_parse_size(o->memory, &mem) < 0)
		return bad("--memory", o->memory, "not a size from 1 byte to 16 EiB (use 64m, 1g ...)");
	if (o->memory && keel_resources_set_memory_max(r, mem, err) < 0)
		return -1;
	if (!o->swap)
		return 0;
	if (!strcmp(o->swap, "-1"))
		return keel_resources_set_memory_swap_max(r, KEEL_CGROUP_MAX, err) < 0 ? -1 : 0;
	if (kx_parse_size(o->swap, &swap) < 0)
		return bad("--memory-swap", o->swap, "not a size (use 128m, 1g ..., or -1 for unlimited swap)");
	if (!o->memory && !c)
		return 0; /* called again once the container is loaded */
	if (!o->memory && (!cg || keel_cgroup_get_memory_max(cg, &mem, NULL) < 0))
		mem = KEEL_CGROUP_MAX;
	if (mem == KEEL_CGROUP_MAX || swap < mem)
		return bad("--memory-swap", o->swap, "is memory plus swap: it needs a memory limit (--memory), no "
			   "larger than it");
	return keel_resources_set_memory_swap_max(r, swap - mem, err) < 0 ? -1 : 0;
}

static int cpu_pids_options(const struct options *o, keel_resources *r, keel_error **err)
{
	const char *end;
	uint64_t v;

	if (o->cpus) {
		if (!(v = kx_parse_cpus(o->cpus)))
			return bad("--cpus", o->cpus, "not a number of CPUs (0.01 to 1024)");
		if (keel_resources_set_cpu_max(r, v, 100000, err) < 0)
			return -1;
	}
	if (o->cpu_weight) {
		v = kx_to_u64(o->cpu_weight, &end);
		if (*end || end == o->cpu_weight)
			return bad("--cpu-weight", o->cpu_weight, "not a number from 1 to 10000");
		if (keel_resources_set_cpu_weight(r, v, err) < 0)
			return -1;
	}
	if (o->pids) {
		v = strcmp(o->pids, "-1") ? kx_to_u64(o->pids, &end) : (end = "", KEEL_CGROUP_MAX);
		if (*end || end == o->pids || v == 0)
			return bad("--pids", o->pids, "not a positive number (or -1 for no limit)");
		if (keel_resources_set_pids_max(r, v, err) < 0)
			return -1;
	}
	if (o->cpuset_cpus && keel_resources_set_cpuset_cpus(r, o->cpuset_cpus, err) < 0)
		return -1;
	if (o->cpuset_mems && keel_resources_set_cpuset_mems(r, o->cpuset_mems, err) < 0)
		return -1;
	return 0;
}

/* The filter as last recorded (or the defaults), plus the rules. */
static int device_options(const struct options *o, keel_container *c, keel_resources *r, keel_error **err)
{
	keel_resources *now = NULL;
	keel_device_rules *rules = NULL;
	int i, ret;

	if (!o->n_rules)
		return 0;
	if ((ret = keel_container_resources(c, &now, err)) < 0)
		return ret;
	ret = keel_resources_get_device_rules(now, &rules, NULL);
	keel_resources_free(now);
	if (ret == -ENOENT)
		ret = keel_device_rules_new(&rules, err) < 0 ? -1 : keel_device_rules_add_defaults(rules, err);
	for (i = 0; ret >= 0 && i < o->n_rules; i++)
		ret = keel_device_rules_add_string(rules, 1, o->rules[i], err);
	if (ret >= 0)
		ret = keel_resources_set_device_rules(r, rules, err);
	keel_device_rules_free(rules);
	return ret < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	keel_resources *r = NULL;
	keel_container *c = NULL;
	keel_error *err = NULL;
	const char *id;
	int ret = 0;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	id = argv[optind];
	/* the values first: a usage error is said even for an unknown id */
	if (keel_resources_new(&r, &err) < 0 || memory_options(&o, NULL, r, &err) < 0 ||
	    cpu_pids_options(&o, r, &err) < 0) {
		ret = err ? 1 : 2; /* a value the library refused, or one we did */
		goto out;
	}
	if (kx_check_state_root(prog) < 0) {
		ret = 1;
		goto out;
	}
	if (keel_container_load(&c, id, kx_state_root(), &err) < 0) {
		ret = 1;
		goto out;
	}
	if (o.swap && !o.memory && memory_options(&o, c, r, &err) < 0) {
		ret = err ? 1 : 2;
		goto out;
	}
	if (device_options(&o, c, r, &err) < 0 || keel_container_update(c, r, &err) < 0) {
		ret = 1;
		goto out;
	}
	printf("%s\n", id);
out:
	if (err)
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
	keel_error_free(err);
	keel_container_free(c);
	keel_resources_free(r);
	return ret;
}
