/*
 * Private: load an optional shared library at first use (dlopen).
 *
 * libkeel links only libc and libseccomp. The libraries that only some
 * calls need (libnl-3 and libnl-route-3 for networking, libcap-ng for
 * capability names) are opened the first time such a call is made, so that
 * a program that never configures a network does not pay for mapping them
 * (about 0.7 MiB of resident pages per process, see tests/bench/README.md).
 *
 * The caller keeps a table of typed function pointers, one per symbol it
 * uses, and a pthread_once_t that runs keel_dl_load() once per process.
 * The table and the load's outcome are written once, inside the once
 * routine, and only read afterwards: immutable after initialisation, the
 * one kind of global state the library allows itself. A library, once
 * loaded, stays loaded (it is never dlclose()d: its functions' addresses
 * are in the table for the life of the process).
 */
#ifndef KEEL_UTIL_DL_H
#define KEEL_UTIL_DL_H

#include <stddef.h>

/* One function to resolve: its name, and where its address goes in the
 * caller's table (offsetof(struct table, member)). */
struct keel_dl_sym {
	const char *name;
	size_t offset;
};

/*
 * dlopen(soname, RTLD_NOW | RTLD_LOCAL) and store the address of each of
 * the n symbols at (char *)table + syms[i].offset. Returns 0, or -ELIBACC
 * with "cannot load <soname>: <dlerror() text>" in why (a missing library,
 * or one without a symbol we need: then it is closed again and the table is
 * left as it was). Thread-safe, but meant to run inside a pthread_once
 * routine, which makes the table safe to read afterwards from any thread.
 */
int keel_dl_load(const char *soname, const struct keel_dl_sym *syms, size_t n, void *table,
		 char *why, size_t len);

#endif
