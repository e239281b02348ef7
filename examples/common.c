/*
 * Helpers shared by the example programs; see common.h.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"

const char *kx_state_root(void)
{
	const char *r = getenv("KEEL_STATE_ROOT");

	return r && *r ? r : NULL;
}

int kx_check_state_root(const char *prog)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (kx_state_root() || geteuid() == 0 || (xdg && xdg[0] == '/'))
		return 0;
	fprintf(stderr, "%s: not root and $XDG_RUNTIME_DIR is not set, so there is no place for container "
		"state: set XDG_RUNTIME_DIR to a directory of yours (a login makes /run/user/%u) or "
		"KEEL_STATE_ROOT to the state directory\n", prog, (unsigned)geteuid());
	return -1;
}

int kx_help(int argc, char **argv, const char *prog, const char *usage)
{
	if (argc != 2 || (strcmp(argv[1], "-h") && strcmp(argv[1], "--help")))
		return 0;
	printf("usage: %s %s\n" KX_STATE_HELP, prog, usage);
	return 1;
}

int kx_fail(const char *prog, keel_error *err)
{
	int code = EXIT_SETUP;
	struct utsname u;

	fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
	if (keel_error_code(err) == KEEL_ERROR_EXEC) {
		code = keel_error_errno(err) == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
		/* The classic surprise: an image built for another CPU. */
		if (keel_error_errno(err) == ENOEXEC && uname(&u) == 0)
			fprintf(stderr, "%s: the program is not an executable for this machine (%s): "
				"was the image built for another CPU architecture?\n", prog, u.machine);
	}
	keel_error_free(err);
	return code;
}

/* One id: digits only, below (uint32_t)-1; *end is what follows. */
static int parse_id(const char *s, unsigned long long *v, const char **end)
{
	const char *p;

	*v = 0;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		*v = *v * 10 + (unsigned)(*p - '0');
		if (*v >= 0xffffffffULL)
			return -1;
	}
	*end = p;
	return p == s ? -1 : 0;
}

int kx_parse_ids(const char *s, uid_t *uid, gid_t *gid, const char **why)
{
	unsigned long long u, g;
	const char *end;

	*why = "use numeric UID[:GID], each from 0 to 4294967294";
	if (parse_id(s, &u, &end) < 0)
		return -1;
	g = u;
	if (*end == ':') {
		if (!end[1]) {
			*why = "the GID after ':' is missing";
			return -1;
		}
		if (parse_id(end + 1, &g, &end) < 0)
			return -1;
	}
	if (*end)
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* "RTMIN+N" / "RTMAX-N" (without "SIG"), as Docker numbers them: glibc's
 * SIGRTMIN and SIGRTMAX. */
static int rt_signal(const char *s)
{
	int min = !strncasecmp(s, "RTMIN", 5), n = 0;
	char *end;

	if (!min && strncasecmp(s, "RTMAX", 5))
		return -1;
	s += 5;
	if (*s) {
		if (*s != (min ? '+' : '-') || s[1] < '0' || s[1] > '9')
			return -1;
		n = (int)strtol(s + 1, &end, 10);
		if (*end || n > SIGRTMAX - SIGRTMIN)
			return -1;
	}
	return min ? SIGRTMIN + n : SIGRTMAX - n;
}

int kx_parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
		{ "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD }, { "CLD", SIGCHLD },
		{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
		{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
		{ "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
	};
	char *end;
	long n;
	size_t i;

	n = strtol(s, &end, 10);
	if (end != s && !*end)
		return n >= 1 && n <= 64 ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].sig;
	return rt_signal(s);
}

static int copy_once(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += w;
	}
	return 0;
}

void kx_relay_tty(int master)
{
	struct termios saved, raw;
	int is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };

	if (is_tty) {
		struct winsize ws;

		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws); /* the container sees our size */
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* EIO on the master: the last process holding the pty is gone. */
		if (p[0].revents && copy_once(master, STDOUT_FILENO) < 0)
			break;
		if (p[1].revents && copy_once(STDIN_FILENO, master) < 0)
			p[1].fd = -1; /* our stdin ended: keep reading output */
	}
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

int kx_status(int exit_code, int term_signal)
{
	if (term_signal > 0)
		return 128 + term_signal;
	return exit_code >= 0 ? exit_code : EXIT_SETUP;
}

/*
 * Plain decimal digits, by hand: strtoull() and strtod() below are the
 * fallback for every other form they accept (leading blanks, a sign,
 * exponents, hex), so that the answer is always theirs. The fast path keeps
 * their code and libc's ctype tables out of a short-lived program's pages
 * (see "keel-run's peak RSS" in tests/bench/README.md). Returns the first
 * character after the digits, or NULL when there is no digit or the value
 * does not fit.
 */
static const char *decimal(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return p == s ? NULL : p;
}

/* A number as strtoull(s, &end, 10) reads it: *end is where it stopped;
 * errno is ERANGE on overflow. */
uint64_t kx_to_u64(const char *s, const char **end)
{
	char *e;
	uint64_t v;

	*end = decimal(s, &v);
	if (*end)
		return v;
	v = strtoull(s, &e, 10);
	*end = e;
	return v;
}

int kx_parse_size(const char *s, uint64_t *out)
{
	const char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = kx_to_u64(s, &end);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'g': case 'G': shift = 30; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'b': case 'B': end++; break;
	}
	/* nothing after the unit, not 0, and no bit shifted out (17179869184g
	 * must not become 0, which is no limit at all) */
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	v <<= shift;
	*out = v;
	return 0;
}

/*
 * --cpus as strtod() reads it, then as a share of the CPU period (100000
 * us); 0 when it is not a number of CPUs from 0.01 to 1024. "N" and "N.D"
 * with at most 15 digits are read by hand: M / 10^k with M and 10^k exact
 * doubles is one correctly rounded division, which is the double strtod()
 * returns for that text.
 */
uint64_t kx_parse_cpus(const char *s)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
					 1e13, 1e14, 1e15 };
	uint64_t m = 0;
	const char *p, *dot = NULL;
	int digits = 0;
	char *end;
	double cpus;

	for (p = s; *p; p++) {
		if (*p == '.' && !dot && digits) {
			dot = p;
			continue;
		}
		if (*p < '0' || *p > '9' || ++digits > 15)
			break;
		m = m * 10 + (uint64_t)(*p - '0');
	}
	if (!*p && digits && (!dot || p > dot + 1)) {
		cpus = (double)m / pow10[dot ? p - dot - 1 : 0];
	} else {
		cpus = strtod(s, &end);
		if (*end || end == s)
			return 0;
	}
	if (cpus < 0.01 || cpus > 1024)
		return 0;
	return (uint64_t)(cpus * 100000);
}
