/*
 * keel-fuzz: a plain, deterministic mutation fuzzer over the targets of
 * fuzz-targets.c, for CI (no clang, no coverage feedback: the same seed
 * gives the same inputs on every machine).
 *
 *   keel-fuzz [-s SEED] [-n INPUTS] [-r REGRESS_DIR] [-o CRASH_DIR] TARGET
 *   keel-fuzz -d DIR TARGET     write TARGET's seeds into DIR (a first
 *                               corpus for libFuzzer) and exit
 *
 * First every file of REGRESS_DIR/TARGET/ (the crashes found before, kept
 * as regression tests), then every seed, then INPUTS mutations of them.
 * Each input runs in a fresh child process, so that a crash is seen as a
 * signal and the input that caused it is saved in CRASH_DIR as
 * crash-TARGET-N. Prints one line:
 *   fuzz TARGET seed=S inputs=N crashes=C timeouts=T findings=F
 * and exits 1 when there was a crash or a timeout (findings are reported,
 * not fatal: they are defects of known classes the target counts).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define INPUT_TIMEOUT 30 /* seconds; keel-run-options runs a container */

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t below(size_t n)
{
	return n ? (size_t)(next() % n) : 0;
}

struct input {
	uint8_t *data;
	size_t size, cap;
};

static void reserve(struct input *in, size_t size)
{
	if (size <= in->cap)
		return;
	in->cap = size * 2;
	in->data = realloc(in->data, in->cap);
	if (!in->data) {
		perror("keel-fuzz");
		exit(2);
	}
}

static void insert(struct input *in, size_t at, const void *bytes, size_t n)
{
	reserve(in, in->size + n);
	memmove(in->data + at + n, in->data + at, in->size - at);
	memcpy(in->data + at, bytes, n);
	in->size += n;
}

static const uint8_t interesting[] = { 0, 0xff, 0x7f, 0x80, '\n', '=', ' ', ':', '/', '-', '9', '0', 'x' };

/* One random edit of in. */
static void mutate_once(struct input *in, const struct fuzz_target *t)
{
	size_t at = below(in->size + 1), n;
	const char *tok;
	uint8_t b;

	switch (below(8)) {
	case 0: /* flip a bit */
		if (in->size)
			in->data[below(in->size)] ^= (uint8_t)(1u << below(8));
		break;
	case 1: /* an interesting byte */
		if (in->size)
			in->data[below(in->size)] = interesting[below(sizeof(interesting))];
		break;
	case 2: /* delete a range */
		n = below(in->size - (at < in->size ? at : in->size) + 1);
		if (at < in->size) {
			memmove(in->data + at, in->data + at + n, in->size - at - n);
			in->size -= n;
		}
		break;
	case 3: /* duplicate a range */
		if (in->size) {
			size_t from = below(in->size);
			n = below(in->size - from) + 1;
			uint8_t *copy = malloc(n);
			if (copy) {
				memcpy(copy, in->data + from, n);
				insert(in, at, copy, n);
				free(copy);
			}
		}
		break;
	case 4: /* a dictionary token */
	case 5:
		if (t->dictionary) {
			for (n = 0; t->dictionary[n]; n++)
				;
			tok = t->dictionary[below(n)];
			insert(in, at, tok, strlen(tok));
			break;
		}
		/* fall through */
	case 6: /* a random byte inserted */
		b = (uint8_t)next();
		insert(in, at, &b, 1);
		break;
	default: /* a long run of digits: overflows, quadratic paths */
		n = 1 + below(40);
		for (size_t i = 0; i < n; i++) {
			b = (uint8_t)('0' + below(10));
			insert(in, at, &b, 1);
		}
		break;
	}
	if (in->size > t->max_size)
		in->size = t->max_size;
}

static size_t count_seeds(const struct fuzz_target *t)
{
	size_t n = 0;

	while (t->seeds[n].data)
		n++;
	return n;
}

/* Input i of the run: a seed, edited 1 to 8 times. */
static void make_input(struct input *in, const struct fuzz_target *t)
{
	const struct fuzz_seed *s = &t->seeds[below(count_seeds(t))];
	size_t edits = 1 + below(8), i;

	in->size = 0;
	insert(in, 0, s->data, s->size);
	for (i = 0; i < edits; i++)
		mutate_once(in, t);
}

struct tally {
	long inputs, crashes, timeouts, findings;
};

static void save_crash(const char *dir, const struct fuzz_target *t, long n, const struct input *in)
{
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/crash-%s-%ld", dir, t->name, n);
	f = fopen(path, "we");
	if (f) {
		fwrite(in->data, 1, in->size, f);
		fclose(f);
		fprintf(stderr, "keel-fuzz: %s: input saved as %s\n", t->name, path);
	}
}

/* Run one input in a child; count what it did. */
static void run_one(const struct fuzz_target *t, const struct input *in, struct tally *tl, const char *crash_dir)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(INPUT_TIMEOUT);
		_exit(t->one(in->data, in->size));
	}
	tl->inputs++;
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("keel-fuzz: fork/wait");
		exit(2);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		tl->timeouts++;
		fprintf(stderr, "keel-fuzz: %s: input %ld ran over %d s\n", t->name, tl->inputs, INPUT_TIMEOUT);
		save_crash(crash_dir, t, tl->inputs, in);
	} else if (WIFSIGNALED(status)) {
		tl->crashes++;
		fprintf(stderr, "keel-fuzz: %s: input %ld: signal %d\n", t->name, tl->inputs, WTERMSIG(status));
		save_crash(crash_dir, t, tl->inputs, in);
	} else if (WEXITSTATUS(status) == FUZZ_FINDING) {
		tl->findings++;
	}
}

static void read_input(const char *path, struct input *in)
{
	uint8_t buf[4096];
	size_t n;
	FILE *f = fopen(path, "re");

	in->size = 0;
	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		insert(in, in->size, buf, n);
	fclose(f);
}

/* The saved crashes of this target, as regression tests. */
static void replay(const char *regress, const struct fuzz_target *t, struct input *in, struct tally *tl,
		   const char *crash_dir)
{
	char dir[4096], path[8192];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", regress, t->name);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		read_input(path, in);
		run_one(t, in, tl, crash_dir);
	}
	closedir(d);
}

static int dump_seeds(const struct fuzz_target *t, const char *dir)
{
	char path[4096];
	FILE *f;
	int i;

	mkdir(dir, 0755);
	for (i = 0; t->seeds[i].data; i++) {
		snprintf(path, sizeof(path), "%s/seed-%d", dir, i);
		if (!(f = fopen(path, "we")))
			return 1;
		fwrite(t->seeds[i].data, 1, t->seeds[i].size, f);
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *regress = NULL, *crash_dir = NULL, *dump = NULL;
	const struct fuzz_target *t;
	unsigned long long seed = 1;
	struct input in = { 0 };
	struct tally tl = { 0 };
	long n = 1000, i;
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "s:n:r:o:d:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': n = atol(optarg); break;
		case 'r': regress = optarg; break;
		case 'o': crash_dir = optarg; break;
		case 'd': dump = optarg; break;
		default: return 2;
		}
	}
	if (optind >= argc || !(t = fuzz_target_find(argv[optind]))) {
		fprintf(stderr, "usage: keel-fuzz [-s SEED] [-n N] [-r DIR] [-o DIR] TARGET; targets:");
		for (t = fuzz_targets; t->name; t++)
			fprintf(stderr, " %s", t->name);
		fprintf(stderr, "\n");
		return 2;
	}
	if (dump)
		return dump_seeds(t, dump);
	if (t->init && t->init() < 0) {
		fprintf(stderr, "keel-fuzz: %s: setup failed\n", t->name);
		return 2;
	}
	rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	if (regress)
		replay(regress, t, &in, &tl, crash_dir);
	for (i = 0; t->seeds[i].data; i++) {
		in.size = 0;
		insert(&in, 0, t->seeds[i].data, t->seeds[i].size);
		run_one(t, &in, &tl, crash_dir);
	}
	for (i = 0; i < n; i++) {
		make_input(&in, t);
		run_one(t, &in, &tl, crash_dir);
	}
	printf("fuzz %s seed=%llu inputs=%ld crashes=%ld timeouts=%ld findings=%ld\n", t->name, seed, tl.inputs,
	       tl.crashes, tl.timeouts, tl.findings);
	free(in.data);
	return tl.crashes || tl.timeouts ? 1 : 0;
}
