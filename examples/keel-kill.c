/*
 * keel-kill: a small `docker kill` on libkeel.
 *
 *   keel-kill [-a] ID [SIGNAL]
 *
 * Sends SIGNAL (a name such as TERM or SIGRTMIN+3, or a number) to the
 * container's init, or with -a to every process of its cgroup
 * (keel_container_kill() with KEEL_KILL_ALL).
 *
 * Without SIGNAL it sends the container's stop signal
 * (keel_container_stop_signal(): keel-run --stop-signal, or the image's
 * StopSignal) when one other than the default SIGTERM was set, and KILL
 * otherwise, as `docker kill` does: the init is pid 1 of its namespace,
 * and the kernel gives pid 1 only the signals it has a handler for, so a
 * plain `sleep` as init would ignore the default SIGTERM. A container
 * whose stop signal was chosen asked for that one.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-kill";

#define USAGE "[-a] ID [SIGNAL]\n" \
	"SIGNAL: a name (TERM, SIGUSR1, SIGRTMIN+3) or a number; without it the container's stop\n" \
	"signal (keel-run --stop-signal, or its image's StopSignal), or KILL when that is the default TERM."

/* The signal to send when none is given (see the top of this file). */
static int default_signal(const keel_container *c)
{
	int sig = keel_container_stop_signal(c);

	return sig == SIGTERM ? SIGKILL : sig;
}

int main(int argc, char **argv)
{
	keel_container *c = NULL;
	keel_error *err = NULL;
	unsigned flags = 0;
	int i = 1, sig = 0, ret = 0;

	if (kx_help(argc, argv, prog, USAGE))
		return 0;
	if (i < argc && !strcmp(argv[i], "-a")) {
		flags = KEEL_KILL_ALL;
		i++;
	}
	if (argc - i < 1 || argc - i > 2) {
		fprintf(stderr, "usage: %s " USAGE "\n" KX_STATE_HELP, prog);
		return 2;
	}
	if (argc - i == 2 && (sig = kx_parse_signal(argv[i + 1])) < 0) {
		fprintf(stderr, "%s: unknown signal '%s'\n", prog, argv[i + 1]);
		return 2;
	}
	if (kx_check_state_root(prog) < 0)
		return 1;
	if (keel_container_load(&c, argv[i], kx_state_root(), &err) < 0 ||
	    keel_container_kill(c, sig ? sig : default_signal(c), flags, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
		keel_error_free(err);
		ret = 1;
	}
	keel_container_free(c);
	return ret;
}
