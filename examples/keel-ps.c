/*
 * keel-ps: a small `docker ps -a -s` on libkeel.
 *
 *   keel-ps
 *
 * Lists every container of the state root (keel_container_list()), with
 * the state the kernel confirms (keel_container_state()), the init's pid,
 * the image layers, the size of the writable layer
 * (keel_container_upper_usage()) and when it was created.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-ps";

static void human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static void print_one(const char *id)
{
	keel_container *c = NULL;
	keel_error *err = NULL;
	char **layers = NULL, size[32] = "-", created[32] = "-", image[512] = "";
	uint64_t bytes;
	time_t t;
	int state, code, sig;
	char status[32];

	if (keel_container_load(&c, id, kx_state_root(), &err) < 0 || keel_container_state(c, &state, &err) < 0) {
		/* deleted while we listed, or unreadable: say so, go on */
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
		keel_error_free(err);
		keel_container_free(c);
		return;
	}
	if (keel_container_layers(c, &layers, NULL) == 0) {
		for (char **l = layers; *l; l++)
			snprintf(image + strlen(image), sizeof(image) - strlen(image), "%s%s", l == layers ? "" : ":",
				 *l);
		keel_container_strv_free(layers);
	}
	if (keel_container_upper_usage(c, &bytes, NULL) == 0)
		human_size(bytes, size, sizeof(size));
	if (state == KEEL_STATE_STOPPED && keel_container_exit_code(c, &code, &sig, NULL) == 0)
		snprintf(status, sizeof(status), "stopped(%d)", kx_status(code, sig)); /* as docker's Exited (N) */
	else
		snprintf(status, sizeof(status), "%s", keel_container_state_name(state));
	t = (time_t)keel_container_created_at(c);
	if (t)
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S", localtime(&t));
	printf("%-16s %-12s %-8d %-30s %-8s %s\n", id, status,
	       state == KEEL_STATE_STOPPED ? 0 : (int)keel_container_pid(c), image[0] ? image : "(directory)",
	       size, created);
	keel_container_free(c);
}

int main(int argc, char **argv)
{
	keel_error *err = NULL;
	char **ids = NULL;
	size_t n, i;

	if (kx_help(argc, argv, prog, ""))
		return 0;
	if (argc > 1) {
		fprintf(stderr, "usage: %s\n" KX_STATE_HELP, prog);
		return 2;
	}
	if (kx_check_state_root(prog) < 0)
		return 1;
	if (keel_container_list(kx_state_root(), &ids, &n, &err) < 0) {
		fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
		keel_error_free(err);
		return 1;
	}
	printf("%-16s %-12s %-8s %-30s %-8s %s\n", "ID", "STATE", "PID", "LAYERS", "SIZE", "CREATED");
	for (i = 0; i < n; i++)
		print_one(ids[i]);
	keel_container_strv_free(ids);
	return 0;
}
