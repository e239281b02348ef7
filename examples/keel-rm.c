/*
 * keel-rm: a small `docker rm` on libkeel.
 *
 *   keel-rm [-f] ID...
 *
 * Deletes stopped containers (keel_container_delete()): the writable
 * layer, the cgroup, the host end of the veth and the state. With -f a
 * running one is killed first.
 */
#include <stdio.h>
#include <string.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-rm";

int main(int argc, char **argv)
{
	keel_container *c;
	keel_error *err = NULL;
	unsigned flags = 0;
	int i = 1, ret = 0;

	if (kx_help(argc, argv, prog, "[-f] ID..."))
		return 0;
	if (i < argc && !strcmp(argv[i], "-f")) {
		flags = KEEL_DELETE_FORCE;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [-f] ID...\n" KX_STATE_HELP, prog);
		return 2;
	}
	if (kx_check_state_root(prog) < 0)
		return 1;
	for (; i < argc; i++) {
		c = NULL;
		if (keel_container_load(&c, argv[i], kx_state_root(), &err) < 0 ||
		    keel_container_delete(c, flags, &err) < 0) {
			fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
			keel_error_free(err);
			err = NULL;
			ret = 1;
		}
		keel_container_free(c);
	}
	return ret;
}
