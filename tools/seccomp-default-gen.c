/*
 * seccomp-default-gen: compile libkeel's default seccomp profile at build
 * time.
 *
 * It is linked with the library's own src/security-seccomp.c (built with
 * KEEL_SECCOMP_GENERATOR, so without a precompiled program), builds the
 * default profile from its rules with libseccomp exactly as the library
 * would at run time (keel_seccomp_build_default), and writes the BPF
 * program as a C file on stdout: src/security-seccomp-default.c in the
 * build directory, compiled into libkeel. keel_seccomp_new_default() then
 * starts from that constant array and spares every process the ~1 MiB of
 * heap and the millisecond libseccomp takes to compile it.
 *
 * The program is for the native architecture of the machine the generator
 * runs on (and its compat ones); the library uses it only where that is
 * the native architecture. Exit status 1 on failure, with the reason on
 * stderr.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <seccomp.h>

#include "error.h"
#include "security-seccomp.h"

static int emit(FILE *out, const struct sock_filter *prog, size_t len)
{
	size_t i;

	fprintf(out,
		"/*\n"
		" * Generated at build time by tools/seccomp-default-gen from the rules in\n"
		" * src/security-seccomp.c (libseccomp %u.%u.%u): do not edit.\n"
		" * The default seccomp profile as BPF, %zu instructions; see\n"
		" * src/security-seccomp.h.\n"
		" */\n"
		"#include \"config.h\"\n"
		"#include \"security-seccomp.h\"\n\n"
		"const uint32_t keel_seccomp_default_arch = 0x%08" PRIx32 "u;\n"
		"const size_t keel_seccomp_default_len = %zu;\n"
		"const struct sock_filter keel_seccomp_default_bpf[] = {\n",
		seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro, len,
		seccomp_arch_native(), len);
	for (i = 0; i < len; i++)
		fprintf(out, "\t{ 0x%04x, %u, %u, 0x%08" PRIx32 " },\n", prog[i].code, prog[i].jt, prog[i].jf,
			(uint32_t)prog[i].k);
	fprintf(out, "};\n");
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int main(void)
{
	const struct sock_filter *prog;
	keel_seccomp *f = NULL;
	keel_error *err = NULL;
	size_t len;
	int status = 1;

	if (keel_seccomp_build_default(&f, &err) < 0 || keel_seccomp_compile(f, &prog, &len, &err) < 0) {
		fprintf(stderr, "seccomp-default-gen: %s\n", keel_error_message(err));
		goto out;
	}
	if (emit(stdout, prog, len) < 0) {
		perror("seccomp-default-gen: write");
		goto out;
	}
	status = 0;
out:
	keel_error_free(err);
	keel_seccomp_free(f);
	return status;
}
