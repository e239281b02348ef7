/*
 * libFuzzer entry point over the same targets as keel-fuzz (fuzz.h), for
 * long runs by hand with coverage feedback; tests/stress/libfuzzer.sh
 * builds it with clang -fsanitize=fuzzer,address and runs it:
 *   KEEL_FUZZ_TARGET=state ./keel-libfuzzer -max_total_time=600 corpus/
 * A finding (an invariant a target checks) aborts, so libFuzzer keeps the
 * input like a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static const struct fuzz_target *target;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *name = getenv("KEEL_FUZZ_TARGET");

	(void)argc;
	(void)argv;
	target = name ? fuzz_target_find(name) : NULL;
	if (!target) {
		fprintf(stderr, "keel-libfuzzer: set KEEL_FUZZ_TARGET to one of:");
		for (target = fuzz_targets; target->name; target++)
			fprintf(stderr, " %s", target->name);
		fprintf(stderr, "\n");
		exit(2);
	}
	if (target->init && target->init() < 0)
		exit(2);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > target->max_size)
		return 0;
	if (target->one(data, size) == FUZZ_FINDING)
		abort();
	return 0;
}
