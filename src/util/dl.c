/*
 * Loading an optional shared library at first use: see util/dl.h.
 *
 * dlopen and dlsym come from libc on glibc >= 2.34 and from libdl before
 * (configure adds -ldl when it is needed).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dl.h"

static int load_failed(const char *soname, char *why, size_t len)
{
	const char *e = dlerror();

	snprintf(why, len, "cannot load %s: %s", soname, e ? e : "unknown dlopen error");
	return -ELIBACC;
}

int keel_dl_load(const char *soname, const struct keel_dl_sym *syms, size_t n, void *table,
		 char *why, size_t len)
{
	void *addr[n ? n : 1];
	void *h;
	size_t i;

	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return load_failed(soname, why, len);
	/* Resolve everything before touching the table: all or nothing. */
	for (i = 0; i < n; i++) {
		dlerror();
		addr[i] = dlsym(h, syms[i].name);
		if (!addr[i]) {
			int r = load_failed(soname, why, len);

			dlclose(h);
			return r;
		}
	}
	/* POSIX: a function's address survives the trip through void *. */
	for (i = 0; i < n; i++)
		memcpy((char *)table + syms[i].offset, &addr[i], sizeof(addr[i]));
	return 0;
}

void keel_dl_once_load(struct keel_dl_once *o)
{
	size_t i;

	for (i = 0; i < o->n_libs && o->status == 0; i++)
		o->status = keel_dl_load(o->libs[i].soname, o->libs[i].syms, o->libs[i].n_syms, o->table, o->why,
					 sizeof(o->why));
}
