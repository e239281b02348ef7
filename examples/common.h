/*
 * Helpers shared by the example programs (keel-run, keel-exec, keel-ps,
 * keel-kill, keel-rm, keel-update ...): the state root, exit codes in
 * Docker's convention, signal names, sizes and CPU counts as options take
 * them, and relaying a pseudo-terminal.
 */
#ifndef KEEL_EXAMPLES_COMMON_H
#define KEEL_EXAMPLES_COMMON_H

#include <stdint.h>

#include <keel.h>

/* Exit codes of `docker run` and `docker exec`. */
#define EXIT_SETUP 125      /* the container could not be set up */
#define EXIT_CANNOT_RUN 126 /* the command exists but cannot be run */
#define EXIT_NOT_FOUND 127  /* the command does not exist */

/* The state root: $KEEL_STATE_ROOT, or NULL for the library's default. */
const char *kx_state_root(void);

/* Can the state root be found? Not root, the library's default is
 * $XDG_RUNTIME_DIR/keel: without $KEEL_STATE_ROOT or $XDG_RUNTIME_DIR,
 * print "prog: ..." saying what to set and return -1; else 0. */
int kx_check_state_root(const char *prog);

/* -h or --help as the only argument: print "usage: prog USAGE" and
 * KX_STATE_HELP to stdout and return 1 (the tool exits 0); else 0. */
int kx_help(int argc, char **argv, const char *prog, const char *usage);

/* The tools' usage line about where state is, rootless included. */
#define KX_STATE_HELP                                                                          \
	"State: $KEEL_STATE_ROOT, else /run/keel as root, $XDG_RUNTIME_DIR/keel otherwise (rootless\n" \
	"containers of keel-run, in a user namespace: see keel-run --help).\n"

/* Print "prog: message" for err (plus a hint for exec format errors), free
 * it, and return the exit code that fits: 127 for a command not found, 126
 * for one that cannot run, 125 for anything else. */
int kx_fail(const char *prog, keel_error *err);

/*
 * UID[:GID] as --user and -u take them: decimal digits only, each at most
 * 4294967294 ((uid_t)-1 means "no change" to the kernel), a GID after a
 * ':' that is not empty; without one the GID is the UID. 0, or -1 with
 * *why saying what is wrong (nothing wraps: 4294967296 is an error, not 0).
 */
int kx_parse_ids(const char *s, uid_t *uid, gid_t *gid, const char **why);

/* A signal by name, in any case, with or without "SIG" ("TERM", "SIGTERM",
 * "SIGRTMIN+3", "RTMAX-1"), or number (1 to 64), as Docker reads them;
 * -1 if unknown. */
int kx_parse_signal(const char *s);

/* Copy between our stdin/stdout and a pty master until the master closes;
 * puts our terminal in raw mode meanwhile. */
void kx_relay_tty(int master);

/* A number as strtoull(s, &end, 10) reads it (plain digits by hand, so
 * short-lived tools keep strtoull's code out of their pages): *end is where
 * it stopped; errno is ERANGE on overflow. */
uint64_t kx_to_u64(const char *s, const char **end);

/* A size as --memory takes it: digits with an optional b, k, m or g
 * (binary units); 0, or -1 for anything else, 0 or an overflow. */
int kx_parse_size(const char *s, uint64_t *out);

/* --cpus N.N as a quota of the 100000 us CPU period; 0 when it is not a
 * number of CPUs from 0.01 to 1024. */
uint64_t kx_parse_cpus(const char *s);

/* Exit status of a process that ended with (exit_code, term_signal), as a shell reports it. */
int kx_status(int exit_code, int term_signal);

#endif
