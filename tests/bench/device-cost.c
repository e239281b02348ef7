/*
 * keel-device-cost: what the device filter costs a container start, step by
 * step, in microseconds (median and p90 of N rounds, interleaved):
 *
 *   compile        keel_device_rules_compile() of the default list
 *   load           BPF_PROG_LOAD of it (verifier + JIT): what a container
 *                  without a shared rule list pays at every create
 *   cgroup         mkdir + rmdir of an empty cgroup (the baseline)
 *   cgroup+attach  mkdir, keel_cgroup_set_devices() with a loaded list
 *                  (BPF_PROG_QUERY, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_ATTACH),
 *                  rmdir: "cgroup+attach - cgroup" is what a start pays
 *                  when the list is loaded once and shared
 *
 *   keel-device-cost [-n ROUNDS] CGROUP_PARENT
 *
 * Runs as root (CAP_BPF or CAP_SYS_ADMIN); tests/bench/README.md has figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "cgroup-device.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%-14s %9.1f %9.1f\n", what, v[n / 2], v[n * 9 / 10]);
}

/* One round of mkdir (+ attach) + rmdir of parent/name. */
static int cgroup_round(const char *parent, const char *name, keel_device_rules *rules, double *us)
{
	keel_cgroup *cg = NULL;
	keel_error *err = NULL;
	double t0 = now_us();
	int ret = keel_cgroup_create(&cg, name, parent, &err);

	if (ret == 0 && rules)
		ret = keel_cgroup_set_devices(cg, rules, &err);
	if (cg)
		keel_cgroup_remove(cg, 0, NULL);
	*us = now_us() - t0;
	if (ret < 0)
		fprintf(stderr, "keel-device-cost: %s\n", keel_error_message(err));
	keel_error_free(err);
	keel_cgroup_free(cg);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned n = 200, i;
	double *compile, *load, *cg, *attach, t0;
	keel_device_rules *rules = NULL, *fresh;
	struct bpf_insn *insns;
	size_t len;
	char name[64];
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1)
		n = opt == 'n' ? (unsigned)strtoul(optarg, NULL, 10) : n;
	if (optind >= argc || n < 10) {
		fprintf(stderr, "usage: keel-device-cost [-n ROUNDS >= 10] CGROUP_PARENT\n");
		return 2;
	}
	compile = calloc(n, sizeof(double));
	load = calloc(n, sizeof(double));
	cg = calloc(n, sizeof(double));
	attach = calloc(n, sizeof(double));
	if (!compile || !load || !cg || !attach || keel_device_rules_new(&rules, NULL) < 0 ||
	    keel_device_rules_add_defaults(rules, NULL) < 0 || keel_device_rules_prog_fd(rules, NULL) < 0) {
		fprintf(stderr, "keel-device-cost: cannot load the default device program (root?)\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		keel_device_rules_copy(&fresh, rules, NULL);
		keel_device_rules_add(fresh, 1, KEEL_DEVICE_CHAR, 1, 3, KEEL_DEVICE_RWM, NULL); /* drops the copy's fd */
		t0 = now_us();
		keel_device_rules_compile(fresh, &insns, &len, NULL);
		compile[i] = now_us() - t0;
		free(insns);
		t0 = now_us();
		if (keel_device_rules_prog_fd(fresh, NULL) < 0)
			return 1;
		load[i] = now_us() - t0;
		keel_device_rules_free(fresh);
		snprintf(name, sizeof(name), "kdc-%d-%u", (int)getpid(), i);
		if (cgroup_round(argv[optind], name, NULL, &cg[i]) < 0 ||
		    cgroup_round(argv[optind], name, rules, &attach[i]) < 0)
			return 1;
	}
	printf("%u rounds, microseconds      median       p90\n", n);
	report("compile", compile, n);
	report("load", load, n);
	report("cgroup", cg, n);
	report("cgroup+attach", attach, n);
	keel_device_rules_free(rules);
	return 0;
}
