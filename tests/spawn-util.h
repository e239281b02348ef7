/*
 * Helpers shared by the ns and spawn suites: spawn with cleanup, capture
 * output, read kernel state of a process.
 */
#ifndef KEEL_TEST_SPAWN_UTIL_H
#define KEEL_TEST_SPAWN_UTIL_H

#include <sys/types.h>
#include <keel.h>

/* A process description for argv (NULL-terminated list of strings). */
keel_process *st_process(const char *arg0, ...);

/* keel_spawn that must succeed; the child is killed (if still running),
 * reaped and freed at cleanup, even when the test fails. */
keel_child *st_spawn(keel_process *p, const keel_spawn_attr *attr);

/* Spawn with stdout and stderr on a pipe, read everything, wait; returns the
 * output (freed at cleanup) and stores the exit code. */
char *st_run(keel_process *p, const keel_spawn_attr *attr, int *exit_code);

/* The inode of /proc/<pid>/ns/<name> (pid 0: self). */
unsigned long st_ns_inode(pid_t pid, const char *name);

/* /proc/<pid>/<file> with runs of blanks squeezed to one space (cleanup-freed). */
char *st_proc(pid_t pid, const char *file);

/* The test process has no child left (all reaped). */
int st_no_children(void);

/* Number of open fds of the test process. */
int st_count_fds(void);

#endif
