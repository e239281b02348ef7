/*
 * Reading /proc/PID: see proc.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/child.h"
#include "util/proc.h"
#include "util/str.h"

/* The numbers of /proc/PID/stat: the kernel writes them as "%llu" and
 * "%d", read here without strtoull()'s and strtol()'s locale tables (0
 * for a field that does not parse, as those gave for one without digits). */
static unsigned long long stat_ull(const char *tok)
{
	unsigned long long v;

	return keel_str_to_ull(tok, NULL, &v) < 0 ? 0 : v;
}

static int stat_int(const char *tok)
{
	long long v;

	return keel_str_to_ll(tok, NULL, &v) < 0 ? 0 : (int)v;
}

int keel_proc_stat(pid_t pid, unsigned long long *start_time, int *zombie, int *wstatus)
{
	char path[64], num[KEEL_STR_DEC_SIZE], buf[2048], *p, *tok;
	char state = '?';
	ssize_t n;
	int fd, field;

	if (pid <= 0)
		return -ESRCH;
	keel_str_join_buf(path, sizeof(path), "/proc/", keel_utoa((unsigned long long)pid, num), "/stat", NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	/* One read: the kernel makes the whole line at the first read (a
	 * few hundred bytes), so no second read is needed to see its end. */
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0 || (size_t)n >= sizeof(buf) - 1)
		return -ESRCH;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: skip to the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -ESRCH;
	if (wstatus)
		*wstatus = -1;
	for (field = 3, p++; (tok = keel_str_tok(&p, " \n")); field++) {
		if (field == 3)
			state = tok[0];
		else if (field == 22 && start_time)
			*start_time = stat_ull(tok);
		else if (field == 52 && wstatus)
			*wstatus = stat_int(tok);
	}
	if (zombie)
		*zombie = state == 'Z' || state == 'X';
	return 0;
}
