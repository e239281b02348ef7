/*
 * keelrt: an OCI runtime on libkeel, with runc's command line, so that
 * podman (through conmon), containerd (through its runc shim), CRI-O and
 * the runtime-tools suite can drive it. Shared by the files of cli/.
 */
#ifndef KEELRT_H
#define KEELRT_H

#include <stddef.h>
#include <keel.h>

#define KEELRT_DEFAULT_ROOT "/run/keelrt"

struct rt {
	const char *root;       /* --root: the state root */
	const char *log;        /* --log FILE, or NULL for stderr only */
	int log_json;           /* --log-format json */
	int debug;
};

extern struct rt rt;

/* A failure as runc reports it: on stderr and, with --log, as one line in
 * the log file ({"level":"error","msg":...,"time":...} with --log-format
 * json). Returns 1, the exit status. */
int rt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* rt_fail() with the message of err (freed), after "what: " when given. */
int rt_fail_err(keel_error *err, const char *what);
/* A debug line in the log (with --debug only). */
void rt_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Options of a command: long names with or without "=value", short ones. */
struct rt_opt {
	const char *lng;   /* "bundle" */
	char shrt;         /* 'b', or 0 */
	int has_arg;
	const char **val;  /* where a value goes (or "1" for a flag); may be NULL */
	int multi;         /* collect every value into *vals */
	const char ***vals;
	size_t *n_vals;
};
/* Parse argv[*i...] of a command: options and positionals (into pos,
 * max_pos of them; the rest after "--" or the first positional beyond
 * max_pos stays at *i). Returns 0, or 1 after printing the error. */
int rt_parse(int argc, char **argv, int *i, const struct rt_opt *opts, const char **pos, int max_pos, int stop_at_pos);

/* The container, loaded, with a runc-like error when it is missing. */
int rt_load(const char *id, keel_container **out);
/* Its config.json, through the bundle recorded at create (NULL when gone). */
keel_oci *rt_load_oci(keel_container *c);
/* Record the bundle at create. */
int rt_save_bundle(keel_container *c, const char *bundle);
/* Write the pid into path atomically (a temporary file, then rename). */
int rt_write_pid_file(const char *path, pid_t pid);
/* Send the pty master to the unix socket at path (runc's --console-socket). */
int rt_send_console(const char *path, int master);
/* Read a whole file ("-" for stdin) into a malloc'd buffer. */
char *rt_read_file(const char *path, size_t *len);

int cmd_create(int argc, char **argv, int i);
int cmd_run(int argc, char **argv, int i);
int cmd_start(int argc, char **argv, int i);
int cmd_exec(int argc, char **argv, int i);

#endif
