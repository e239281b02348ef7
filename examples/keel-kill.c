/*
 * keel-kill: a small `docker kill` and `docker stop` on libkeel.
 *
 *   keel-kill [-a] ID [SIGNAL]
 *   keel-kill --stop [-t SECONDS] ID
 *
 * The first form sends SIGNAL (a name such as TERM or SIGRTMIN+3, or a
 * number; KILL when none is given, as `docker kill`) to the container's
 * init, or with -a to every process of its cgroup (keel_container_kill()
 * with KEEL_KILL_ALL). KILL is the default because the init is pid 1 of
 * its namespace, and the kernel gives pid 1 only the signals it has a
 * handler for: a plain `sleep` as init ignores TERM.
 *
 * --stop is `docker stop`: the container's stop signal
 * (keel_container_stop_signal(): keel-run --stop-signal, its image's
 * StopSignal, or TERM), then, if the init still runs after SECONDS
 * (default 10; 0 sends KILL at once), KILL to every process of the
 * container.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-kill";

#define USAGE "[-a] ID [SIGNAL]  |  --stop [-t SECONDS] ID\n" \
	"SIGNAL: a name (TERM, SIGUSR1, SIGRTMIN+3) or a number; KILL when none is given.\n" \
	"--stop: the container's stop signal (keel-run --stop-signal, its image's StopSignal, or TERM),\n" \
	"then KILL to all its processes if it still runs after SECONDS (default 10)."

#define POLL_NS 20000000L /* how often --stop looks whether the init ended */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* docker stop: 1 when the stop signal ended it, 0 when KILL was needed. */
static int stop(keel_container *c, long grace_s, keel_error **err)
{
	struct timespec pause = { 0, POLL_NS };
	long long deadline = now_ms() + grace_s * 1000;
	int state, ret;

	if ((ret = keel_container_state(c, &state, err)) < 0)
		return ret;
	if (state == KEEL_STATE_STOPPED)
		return 1; /* as docker stop: nothing to do */
	if (grace_s > 0 && (ret = keel_container_kill(c, keel_container_stop_signal(c), 0, err)) < 0)
		return ret;
	while (grace_s > 0 && now_ms() < deadline) {
		if ((ret = keel_container_wait(c, KEEL_WAIT_NOHANG, NULL, NULL, err)) != 0)
			return ret;
		nanosleep(&pause, NULL);
	}
	ret = keel_container_kill(c, SIGKILL, KEEL_KILL_ALL, err);
	return ret < 0 ? ret : 0;
}

/* -t's SECONDS: 0 to 86400, or -1. */
static long parse_grace(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*s && !*end && v >= 0 && v <= 86400) ? v : -1;
}

int main(int argc, char **argv)
{
	keel_container *c = NULL;
	keel_error *err = NULL;
	unsigned flags = 0;
	int i = 1, sig = SIGKILL, do_stop = 0, ret = 0;
	long grace = 10;

	if (kx_help(argc, argv, prog, USAGE))
		return 0;
	if (i < argc && !strcmp(argv[i], "--stop")) {
		do_stop = 1;
		i++;
		if (i + 1 < argc && !strcmp(argv[i], "-t")) {
			if ((grace = parse_grace(argv[i + 1])) < 0) {
				fprintf(stderr, "%s: -t '%s': not a number of seconds from 0 to 86400\n", prog,
					argv[i + 1]);
				return 2;
			}
			i += 2;
		}
	} else if (i < argc && !strcmp(argv[i], "-a")) {
		flags = KEEL_KILL_ALL;
		i++;
	}
	if (argc - i < 1 || argc - i > (do_stop ? 1 : 2)) {
		fprintf(stderr, "usage: %s " USAGE "\n" KX_STATE_HELP, prog);
		return 2;
	}
	if (argc - i == 2 && (sig = kx_parse_signal(argv[i + 1])) < 0) {
		fprintf(stderr, "%s: unknown signal '%s'\n", prog, argv[i + 1]);
		return 2;
	}
	if (kx_check_state_root(prog) < 0)
		return 1;
	if (keel_container_load(&c, argv[i], kx_state_root(), &err) == 0)
		ret = do_stop ? stop(c, grace, &err) : keel_container_kill(c, sig, flags, &err);
	if (!c || ret < 0) {
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
		keel_error_free(err);
		ret = -1;
	}
	keel_container_free(c);
	return ret < 0 ? 1 : 0;
}
