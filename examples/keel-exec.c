/*
 * keel-exec: a small `docker exec` on libkeel.
 *
 *   keel-exec [-t] [-e KEY=VALUE] [-u UID[:GID]] ID -- CMD [ARG...]
 *
 * Loads the container by id from its state (keel_container_load()), and
 * runs CMD inside it (keel_container_exec()): in all of its namespaces,
 * its cgroup and its root filesystem. Exits with CMD's status, or 125 /
 * 126 / 127 as docker exec does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-exec";
static const char *usage_line = "[-t] [-e KEY=VALUE] [-u UID[:GID]] ID -- CMD [ARG...]";

static int usage(void)
{
	fprintf(stderr, "usage: %s %s\n" KX_STATE_HELP, prog, usage_line);
	return EXIT_SETUP;
}

/* Fill p from the command line: -t, -e, -u and the command. Returns 0,
 * or the exit status to end with (the message is printed). */
static int parse(int argc, char **argv, keel_process *p, const char **id, int *tty)
{
	keel_error *err = NULL;
	const char *user = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "+te:u:")) != -1) {
		char *kv;
		int r;

		switch (opt) {
		case 't':
			*tty = 1;
			break;
		case 'e':
			if (!strchr(optarg, '=') || !(kv = strdup(optarg)))
				return usage();
			*strchr(kv, '=') = '\0';
			r = keel_process_setenv(p, kv, kv + strlen(kv) + 1, &err);
			free(kv);
			if (r < 0)
				return kx_fail(prog, err);
			break;
		case 'u':
			user = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	*id = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc)
		return usage();
	if (keel_process_set_args(p, (const char *const *)argv + optind, &err) < 0 ||
	    (*tty && (keel_process_setenv(p, "TERM", getenv("TERM") ? getenv("TERM") : "xterm", &err) < 0 ||
		      keel_process_set_tty(p, 1, &err) < 0)))
		return kx_fail(prog, err);
	if (user) {
		const char *why;
		uid_t uid;
		gid_t gid;

		if (kx_parse_ids(user, &uid, &gid, &why) < 0) {
			fprintf(stderr, "%s: -u %s: %s\n", prog, user, why);
			return EXIT_SETUP;
		}
		if (keel_process_set_user(p, uid, gid, &err) < 0)
			return kx_fail(prog, err);
	}
	return 0;
}

int main(int argc, char **argv)
{
	keel_container *c = NULL;
	keel_process *p = NULL;
	keel_child *child = NULL;
	keel_error *err = NULL;
	const char *id = NULL;
	int tty = 0, code = -1, sig = 0, ret;

	if (kx_help(argc, argv, prog, usage_line))
		return 0;
	if (keel_process_new(&p, &err) < 0 || keel_process_clearenv(p, &err) < 0 ||
	    keel_process_setenv(p, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", &err) < 0 ||
	    keel_process_set_cwd(p, "/", &err) < 0) {
		ret = kx_fail(prog, err);
		keel_process_free(p);
		return ret;
	}
	if ((ret = parse(argc, argv, p, &id, &tty)) != 0) {
		keel_process_free(p);
		return ret;
	}
	if (kx_check_state_root(prog) < 0) {
		keel_process_free(p);
		return EXIT_SETUP;
	}
	if (keel_container_load(&c, id, kx_state_root(), &err) < 0 ||
	    keel_container_exec(c, p, &child, &err) < 0) {
		ret = kx_fail(prog, err);
		keel_container_free(c);
		keel_process_free(p);
		return ret;
	}
	if (keel_child_tty_fd(child) >= 0)
		kx_relay_tty(keel_child_tty_fd(child));
	ret = keel_child_wait(child, 0, &code, &sig, &err) < 0 ? kx_fail(prog, err) : kx_status(code, sig);
	keel_child_free(child);
	keel_container_free(c);
	keel_process_free(p);
	return ret;
}
