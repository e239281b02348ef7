/*
 * keel-kill: a small `docker kill` on libkeel.
 *
 *   keel-kill [-a] ID [SIGNAL]
 *
 * Sends SIGNAL (a name such as TERM or a number; KILL by default) to the
 * container's init, or with -a to every process of its cgroup
 * (keel_container_kill() with KEEL_KILL_ALL).
 */
#include <stdio.h>
#include <string.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-kill";

int main(int argc, char **argv)
{
	keel_container *c = NULL;
	keel_error *err = NULL;
	unsigned flags = 0;
	int i = 1, sig = 9, ret = 0;

	if (kx_help(argc, argv, prog, "[-a] ID [SIGNAL]"))
		return 0;
	if (i < argc && !strcmp(argv[i], "-a")) {
		flags = KEEL_KILL_ALL;
		i++;
	}
	if (argc - i < 1 || argc - i > 2) {
		fprintf(stderr, "usage: %s [-a] ID [SIGNAL]\n" KX_STATE_HELP, prog);
		return 2;
	}
	if (argc - i == 2 && (sig = kx_parse_signal(argv[i + 1])) < 0) {
		fprintf(stderr, "%s: unknown signal '%s'\n", prog, argv[i + 1]);
		return 2;
	}
	if (kx_check_state_root(prog) < 0)
		return 1;
	if (keel_container_load(&c, argv[i], kx_state_root(), &err) < 0 ||
	    keel_container_kill(c, sig, flags, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
		keel_error_free(err);
		ret = 1;
	}
	keel_container_free(c);
	return ret;
}
