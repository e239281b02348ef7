/*
 * cgroup: messages that name the cgroup, and parsing of interface files.
 * See cgroup.c for the whole subsystem.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/syscall.h>

#include <keel/cgroup.h>

#include "cgroup-internal.h"
#include "error.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/syscall.h"

/* ------------------------------------------------------------- messages -- */

/* "cgroup <name>: <what>: <strerror>" */
int KEEL_PRINTF(4, 5) cg_sys(const keel_cgroup *cg, keel_error **err, int errnum, const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	ret = keel_error_sys(err, errnum, "cgroup %s: %s", cg->name, what ? what : fmt);
	free(what);
	return ret;
}

/* "cgroup <name>: <what>", the message saying why by itself */
int KEEL_PRINTF(5, 6) cg_plain(const keel_cgroup *cg, keel_error **err, int code, int errnum,
				      const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	ret = keel_error_plain(err, code, errnum, "cgroup %s: %s", cg->name, what ? what : fmt);
	free(what);
	return ret;
}

/* ------------------------------------------------------------- parsing -- */

/* Parsing and formatting here use no stdio, strto* or ctype: their
 * code and locale tables would be the only reason a program that starts
 * containers touches those parts of libc (util/str.h). */

static bool c_isspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Digits, then the end or white space. */
int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	const char *end;

	if (keel_str_to_ull(s, &end, &v) < 0 || (*end && !c_isspace(*end)))
		return -EINVAL;
	*out = v;
	return 0;
}

/* A number as atoi() reads it: 0 when there is none. */
int parse_int(const char *s)
{
	long long v;

	return keel_str_to_ll(s, NULL, &v) < 0 ? 0 : (int)v;
}

/* A value or "max". */
int parse_limit(const char *s, uint64_t *out)
{
	if (!strncmp(s, "max", 3) && (!s[3] || c_isspace(s[3]))) {
		*out = KEEL_CGROUP_MAX;
		return 0;
	}
	return parse_u64(s, out);
}

void format_limit(uint64_t v, char *buf, size_t size)
{
	char num[KEEL_STR_DEC_SIZE];

	keel_str_join_buf(buf, size, v == KEEL_CGROUP_MAX ? "max" : keel_utoa(v, num), NULL);
}

/* Find "key value" at the start of a line of text; *value points into text. */
const char *find_line(const char *text, const char *key)
{
	size_t len = strlen(key);
	const char *line;

	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, key, len) && (line[len] == ' ' || line[len] == '\t'))
			return line + len + 1;
	return NULL;
}

/* Find "key=value" among the space-separated words of one line. */
const char *find_word_value(const char *line, const char *key)
{
	size_t len = strlen(key);
	const char *p = line;

	while (*p && *p != '\n') {
		if (!strncmp(p, key, len) && p[len] == '=')
			return p + len + 1;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		if (*p == ' ')
			p++;
		else
			break;
	}
	return NULL;
}

/* Is word one of the space-separated words of list? */
int has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || c_isspace(p[-1])) && (!p[len] || c_isspace(p[len])))
			return 1;
		p += len;
	}
	return 0;
}

void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* The controller that owns an interface file ("memory.max" -> "memory"). */
const char *key_controller(const char *key)
{
	size_t len;
	int i;

	for (i = 0; known_controllers[i]; i++) {
		len = strlen(known_controllers[i]);
		if (!strncmp(key, known_controllers[i], len) && key[len] == '.')
			return known_controllers[i];
	}
	return NULL;
}

int valid_key(const char *key)
{
	return key && *key && !strchr(key, '/') && strcmp(key, ".") && strcmp(key, "..") &&
	       strlen(key) < NAME_MAX;
}
