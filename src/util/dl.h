/*
 * Private: load an optional shared library at first use (dlopen).
 *
 * libkeel links only libc. The libraries that only some calls need
 * (libnl-3 and libnl-route-3 for networking, libcap-ng for capability
 * names, libseccomp for filters built from rules) are opened the first time
 * such a call is made, so that a program that never configures a network
 * does not pay for mapping them (about 0.7 MiB of resident pages per
 * process, see tests/bench/README.md).
 *
 * The caller keeps a table of typed function pointers, one per symbol it
 * uses, and declares with KEEL_DL_ONCE() the libraries that fill it; the
 * generated <name>_ready() loads them once per process (pthread_once).
 * The table and the load's outcome (status, and why it failed) are
 * written once, inside the once routine, and only read afterwards:
 * immutable after initialisation (docs/architecture.md, "State that lives
 * for the whole process"). A library, once loaded, stays loaded (it is
 * never dlclose()d: its functions' addresses are in the table for the
 * life of the process). None of this is for the child side: a child
 * never calls into these libraries.
 */
#ifndef KEEL_UTIL_DL_H
#define KEEL_UTIL_DL_H

#include <pthread.h>
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

/* One library of a KEEL_DL_ONCE(): its soname and the symbols it gives. */
struct keel_dl_lib {
	const char *soname;
	const struct keel_dl_sym *syms;
	size_t n_syms;
};

/* The once-per-process state of a KEEL_DL_ONCE(). */
struct keel_dl_once {
	pthread_once_t once;
	int status;                   /* 0 loaded, or -ELIBACC; set once */
	char why[256];                /* why not, for every later error message */
	const struct keel_dl_lib *libs;
	size_t n_libs;
	void *table;
};

/* The once routine's body: keel_dl_load() each library in order (a later
 * one may need an earlier one: that is why they come in a list) and stop
 * at the first failure. */
void keel_dl_once_load(struct keel_dl_once *o);

#define KEEL_DL_N_OF(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Define, in the including file, `static struct keel_dl_once name` and
 * `static int name_ready(void)`, which loads the listed libraries into
 * *table the first time it is called in this process and returns 0 or
 * -ELIBACC (the reason in name.why), the same answer every later time:
 *
 *   KEEL_DL_ONCE(capng_lib, capng, { CAPNG_SONAME, capng_syms, KEEL_DL_N_OF(capng_syms) });
 *   if (capng_lib_ready() < 0) ... capng_lib.why ...
 */
#define KEEL_DL_ONCE(name, table, ...) \
	static const struct keel_dl_lib name##_libs[] = { __VA_ARGS__ }; \
	static struct keel_dl_once name = { \
		PTHREAD_ONCE_INIT, 0, "", name##_libs, KEEL_DL_N_OF(name##_libs), &(table) \
	}; \
	static void name##_routine(void) \
	{ \
		keel_dl_once_load(&name); \
	} \
	static int name##_ready(void) \
	{ \
		pthread_once(&name.once, name##_routine); \
		return name.status; \
	}

#endif
