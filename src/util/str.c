/*
 * Joining strings and reading decimals without stdio: see str.h for why.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/child.h"
#include "util/str.h"

char *keel_str_join(const char *first, ...)
{
	const char *s;
	size_t len = 0;
	va_list ap;
	char *out, *w;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	if (!(out = malloc(len + 1)))
		return NULL;
	w = out;
	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		memcpy(w, s, n);
		w += n;
	}
	va_end(ap);
	*w = '\0';
	return out;
}

int keel_str_join_buf(char *buf, size_t size, const char *first, ...)
{
	const char *s;
	size_t used = 0;
	va_list ap;
	int ret = 0;

	if (size == 0)
		return -ENAMETOOLONG;
	va_start(ap, first);
	for (s = first; s && ret == 0; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		if (n >= size - used) {
			n = size - used - 1;
			ret = -ENAMETOOLONG;
		}
		memcpy(buf + used, s, n);
		used += n;
	}
	va_end(ap);
	buf[used] = '\0';
	return ret;
}

int keel_str_to_ull(const char *s, const char **end, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	if (end)
		*end = s;
	return 0;
}

int keel_str_to_ll(const char *s, const char **end, long long *out)
{
	unsigned long long mag, lim = LLONG_MAX;
	int neg = 0, ret;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if ((ret = keel_str_to_ull(s, &s, &mag)) < 0)
		return ret;
	if (neg)
		lim++;		/* -LLONG_MIN: one more than LLONG_MAX */
	if (mag > lim)
		return -ERANGE;
	/* the magnitude negated in unsigned arithmetic: right for LLONG_MIN too */
	*out = neg ? (long long)(0 - mag) : (long long)mag;
	if (end)
		*end = s;
	return 0;
}

char *keel_str_from_ll(long long v, char *buf)
{
	if (v >= 0)
		return keel_utoa((unsigned long long)v, buf);
	/* the magnitude negated in unsigned arithmetic: right for LLONG_MIN too */
	buf[0] = '-';
	keel_utoa(0 - (unsigned long long)v, buf + 1);
	return buf;
}

static bool is_delim(char c, const char *delims)
{
	for (; *delims; delims++)
		if (*delims == c)
			return true;
	return false;
}

char *keel_str_tok(char **cursor, const char *delims)
{
	char *s = *cursor, *tok;

	while (*s && is_delim(*s, delims))
		s++;
	if (!*s) {
		*cursor = s;
		return NULL;
	}
	tok = s;
	while (*s && !is_delim(*s, delims))
		s++;
	if (*s)
		*s++ = '\0';
	*cursor = s;
	return tok;
}

static void strbuf_grow(struct keel_strbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 512;
	char *grown;

	while (cap <= need)
		cap *= 2;
	if (cap == b->cap)
		return;
	if (!(grown = realloc(b->buf, cap))) {
		b->failed = true;
		return;
	}
	b->buf = grown;
	b->cap = cap;
}

void keel_strbuf_add(struct keel_strbuf *b, const char *first, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s && !b->failed; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);

		strbuf_grow(b, b->len + n);
		if (b->failed)
			break;
		memcpy(b->buf + b->len, s, n);
		b->len += n;
		b->buf[b->len] = '\0';
	}
	va_end(ap);
}

/* ------------------------------------------- NULL-terminated arrays --- */

void keel_strv_free(char **v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* The array's room is the next power of two at or above n (it only grows
 * here, and shrinks by count only), so it is reallocated only when n is 0
 * or a power of two: n appends copy O(n) pointers in all, not O(n^2) (as a
 * realloc by one each time does under AddressSanitizer, whose realloc
 * always copies). */
int keel_strv_append(char ***v, size_t *n, char *s)
{
	char **grown = *v;

	if (*n == 0 || (*n & (*n - 1)) == 0) {
		grown = realloc(*v, (*n ? 2 * *n : 1) * sizeof(**v));
		if (!grown)
			return -ENOMEM;
		*v = grown;
	}
	grown[(*n)++] = s;
	return 0;
}

int keel_strv_append_dup(char ***v, size_t *n, const char *s)
{
	char *copy = s ? strdup(s) : NULL;

	if ((s && !copy) || keel_strv_append(v, n, copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

int keel_cstrv_push(char ***v, const char *s)
{
	size_t n = 0;
	char **grown, *copy;

	while (*v && (*v)[n])
		n++;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	grown = realloc(*v, (n + 2) * sizeof(char *));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*v = grown;
	return 0;
}

/* Linux's signal names (asm/signal.h, the same on every architecture but
 * for the few numbers <signal.h> gives), as Docker's map has them. */
static const struct {
	const char *name;
	int sig;
} sig_names[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS }, { "CHLD", SIGCHLD }, { "CLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "FPE", SIGFPE }, { "HUP", SIGHUP }, { "ILL", SIGILL }, { "INT", SIGINT },
	{ "IO", SIGIO }, { "IOT", SIGIOT }, { "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "POLL", SIGPOLL },
	{ "PROF", SIGPROF }, { "PWR", SIGPWR }, { "QUIT", SIGQUIT }, { "SEGV", SIGSEGV },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "STOP", SIGSTOP }, { "SYS", SIGSYS }, { "TERM", SIGTERM }, { "TRAP", SIGTRAP }, { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "VTALRM", SIGVTALRM }, { "WINCH", SIGWINCH }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
};

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (already upper case), within
 * the real-time range; -1 otherwise. */
static int rt_signal(const char *s)
{
	unsigned long long n = 0;
	const char *end;
	int base, dir;

	if (!strncmp(s, "RTMIN", 5))
		base = KEEL_SIG_RTMIN, dir = 1;
	else if (!strncmp(s, "RTMAX", 5))
		base = KEEL_SIG_MAX, dir = -1;
	else
		return -1;
	s += 5;
	if (*s) {
		if (*s != (dir > 0 ? '+' : '-') || keel_str_to_ull(s + 1, &end, &n) < 0 || *end ||
		    n > KEEL_SIG_MAX - KEEL_SIG_RTMIN)
			return -1;
	}
	return base + dir * (int)n;
}

int keel_str_to_signal(const char *s)
{
	unsigned long long n;
	const char *end;
	char up[16];
	size_t i;

	if (!s)
		return -1;
	if (keel_str_to_ull(s, &end, &n) == 0)
		return !*end && n >= 1 && n <= KEEL_SIG_MAX ? (int)n : -1;
	for (i = 0; s[i]; i++) {
		if (i + 1 >= sizeof(up))
			return -1;
		up[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
	}
	up[i] = '\0';
	s = strncmp(up, "SIG", 3) ? up : up + 3;
	for (i = 0; i < sizeof(sig_names) / sizeof(sig_names[0]); i++)
		if (!strcmp(s, sig_names[i].name))
			return sig_names[i].sig;
	return rt_signal(s);
}
