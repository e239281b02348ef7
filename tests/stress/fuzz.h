/*
 * The parsers the stress suite fuzzes, as one table shared by the plain
 * mutation driver (fuzz-driver.c, built with the library's compiler, run
 * in CI) and the libFuzzer entry point (libfuzzer.c, built by
 * libfuzzer.sh with clang for long runs by hand).
 *
 * Adding a parser (config.json, an image manifest ...) is one entry in
 * fuzz_targets[] (fuzz-targets.c): a name, a function that feeds it one
 * input, its seed inputs, and optionally a dictionary of tokens the
 * mutator splices in.
 */
#ifndef KEEL_STRESS_FUZZ_H
#define KEEL_STRESS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* What one input did. A crash is not a value: the driver sees the signal. */
enum fuzz_result {
	FUZZ_OK = 0,      /* parsed, or refused with an error: both fine */
	FUZZ_FINDING = 1  /* an invariant broke (the target printed which) */
};

/* One seed input (it may hold NUL bytes). */
struct fuzz_seed {
	const char *data;
	size_t size;
};
#define FUZZ_SEED(s) { s, sizeof(s) - 1 }

struct fuzz_target {
	const char *name;
	/* Optional: once per process, before the first input (0 or -1). */
	int (*init)(void);
	/* Feed one input; FUZZ_OK or FUZZ_FINDING. Must not leak or leave
	 * anything behind between inputs. */
	int (*one)(const uint8_t *data, size_t size);
	const struct fuzz_seed *seeds; /* ends with { NULL, 0 } */
	const char *const *dictionary; /* NULL-terminated, or NULL */
	size_t max_size;               /* longest input worth trying */
};

extern const struct fuzz_target fuzz_targets[];

/* The target by name, or NULL. */
const struct fuzz_target *fuzz_target_find(const char *name);

#endif
