/*
 * Private: what libkeel reads from /proc/PID, without stdio.
 */
#ifndef KEEL_UTIL_PROC_H
#define KEEL_UTIL_PROC_H

#include <sys/types.h>

/*
 * Read /proc/PID/stat: *start_time (field 22), *zombie (state 'Z' or 'X')
 * and, for a zombie, *wstatus (field 52, the wait status; -1 when the
 * kernel does not show it). Any out pointer may be NULL.
 * Returns 0, or -ESRCH when there is no such process.
 */
int keel_proc_stat(pid_t pid, unsigned long long *start_time, int *zombie, int *wstatus);

#endif
