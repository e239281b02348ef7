/*
 * A container's name files: see names.h.
 *
 * /etc/hosts holds the localhost lines, the container's own hostname on
 * its address (127.0.1.1, Debian's convention, when it has none), and the
 * caller's extra lines (keel_container_add_host(), Docker's --add-host).
 *
 * /etc/resolv.conf starts from the host's. Its loopback nameservers
 * (127.0.0.53 of systemd-resolved, a local dnsmasq) are dropped, because
 * in the container's own network namespace 127.0.0.1 is the container
 * itself, as Docker does; when the host's file names only 127.0.0.53,
 * systemd-resolved's list of upstream servers is used instead, again as
 * Docker does. If no server is left, Google's public ones are written
 * (Docker's default). Servers and search domains the caller gives replace
 * the host's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "names.h"
#include "util/fs.h"
#include "util/str.h"

#define RESOLVED_UPSTREAM "/run/systemd/resolve/resolv.conf"

int keel_names_usable_server(const char *s)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, s, b) == 1)
		return b[0] != 127;
	if (inet_pton(AF_INET6, s, b) == 1)
		return memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) != 0;
	return 0;
}

char *keel_names_hosts(const struct keel_names *n)
{
	struct keel_strbuf b = { 0 };
	char *const *h;

	keel_strbuf_add(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", NULL);
	if (n->hostname)
		keel_strbuf_add(&b, n->addr ? n->addr : "127.0.1.1", "\t", n->hostname, "\n", NULL);
	for (h = n->hosts; h && *h; h++)
		keel_strbuf_add(&b, *h, "\n", NULL);
	if (b.failed) {
		free(b.buf);
		return NULL;
	}
	return b.buf;
}

/* The first word after key at the start of line ("nameserver 1.2.3.4"). */
static const char *value_of(const char *line, const char *key, char *buf, size_t size)
{
	size_t k = strlen(key), i = 0;

	if (strncmp(line, key, k) || (line[k] != ' ' && line[k] != '\t'))
		return NULL;
	line += k;
	while (*line == ' ' || *line == '\t')
		line++;
	while (line[i] && line[i] != ' ' && line[i] != '\t' && line[i] != '\n' && i + 1 < size) {
		buf[i] = line[i];
		i++;
	}
	buf[i] = '\0';
	return buf;
}

/* Does this resolv.conf name a server the container can use? */
static bool has_usable_server(const char *text)
{
	char v[64];
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (value_of(p, "nameserver", v, sizeof(v)) && keel_names_usable_server(v))
			return true;
	return false;
}

static bool add_line(struct keel_strbuf *b, const char *p, size_t len)
{
	char *line = strndup(p, len);

	if (!line) {
		b->failed = true;
		return false;
	}
	keel_strbuf_add(b, line, "\n", NULL);
	free(line);
	return true;
}

/* Copy the host's lines, but for the nameservers we drop or replace and
 * the search lines the caller replaces. */
static bool filter_host(struct keel_strbuf *b, const char *text, const struct keel_names *n)
{
	bool any = false;
	const char *p, *nl;
	char v[64];

	for (p = text; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (value_of(p, "nameserver", v, sizeof(v))) {
			if (n->servers || !keel_names_usable_server(v))
				continue;
			any = true;
		} else if (n->search && (value_of(p, "search", v, sizeof(v)) || value_of(p, "domain", v, sizeof(v)))) {
			continue;
		}
		if (!add_line(b, p, nl ? (size_t)(nl - p) : strlen(p)))
			return any;
	}
	return any;
}

static void add_list(struct keel_strbuf *b, const char *key, char *const *v, const char *sep)
{
	for (; v && *v; v++)
		keel_strbuf_add(b, key, *v, sep, NULL);
}

/* The host's file: /etc/resolv.conf, or resolved's upstream list when
 * that names only loopback servers. A missing file is an empty one. */
static char *read_host_resolv(const struct keel_names *n)
{
	const char *path = n->host_resolv ? n->host_resolv : "/etc/resolv.conf";
	char *text = NULL, *up = NULL;

	if (keel_read_file_at(AT_FDCWD, path, &text, NULL, NULL) < 0)
		text = NULL;
	if (!n->host_resolv && !n->servers && !has_usable_server(text) &&
	    keel_read_file_at(AT_FDCWD, RESOLVED_UPSTREAM, &up, NULL, NULL) == 0 && has_usable_server(up)) {
		free(text);
		return up;
	}
	free(up);
	return text ? text : strdup("");
}

char *keel_names_resolv(const struct keel_names *n, keel_error **err)
{
	struct keel_strbuf b = { 0 };
	char *host = read_host_resolv(n);
	bool any;

	if (!host) {
		keel_error_sys(err, ENOMEM, "resolv.conf");
		return NULL;
	}
	keel_strbuf_add(&b, "", NULL);
	any = filter_host(&b, host, n);
	free(host);
	if (n->search && n->search[0]) {
		keel_strbuf_add(&b, "search", NULL);
		add_list(&b, " ", n->search, "");
		keel_strbuf_add(&b, "\n", NULL);
	}
	add_list(&b, "nameserver ", n->servers, "\n");
	if (!n->servers && !any)
		keel_strbuf_add(&b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", NULL);
	if (b.failed) {
		free(b.buf);
		keel_error_sys(err, ENOMEM, "resolv.conf");
		return NULL;
	}
	return b.buf;
}

static int write_one(const char *dir, const char *name, const char *text, keel_error **err)
{
	char path[4096];
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd;

	if (keel_str_join_buf(path, sizeof(path), dir, "/", name, NULL) < 0)
		return keel_error_sys(err, ENAMETOOLONG, "write %s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return keel_error_sys(err, errno, "write %s", path);
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			return keel_error_sys(err, e, "write %s", path);
		}
		off += (size_t)w;
	}
	/* 0644 whatever the umask: every user in the container reads them. */
	if (fchmod(fd, 0644) < 0 || close(fd) < 0)
		return keel_error_sys(err, errno, "write %s", path);
	return 0;
}

int keel_names_write(const char *dir, const struct keel_names *n, keel_error **err)
{
	char *hosts = keel_names_hosts(n), *resolv = NULL;
	int ret;

	if (!hosts)
		return keel_error_sys(err, ENOMEM, "hosts");
	ret = write_one(dir, KEEL_NAMES_HOSTS, hosts, err);
	if (ret == 0 && n->hostname) {
		char *line = keel_str_join(n->hostname, "\n", NULL);

		ret = line ? write_one(dir, KEEL_NAMES_HOSTNAME, line, err) : keel_error_sys(err, ENOMEM, "hostname");
		free(line);
	}
	if (ret == 0 && !(resolv = keel_names_resolv(n, err)))
		ret = -ENOMEM;
	if (ret == 0)
		ret = write_one(dir, KEEL_NAMES_RESOLV, resolv, err);
	free(hosts);
	free(resolv);
	return ret;
}
