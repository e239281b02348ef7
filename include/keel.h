/**
 * @file keel.h
 * @brief libkeel: Linux containers as a C library. Include only this header.
 *
 * A container is a process that the kernel isolates (namespaces), limits
 * (a cgroup), roots in a filesystem made of read-only image layers plus a
 * thin writable layer (overlayfs), wires to a network, and strips of
 * privileges (capabilities, seccomp). Each of those is a subsystem here,
 * usable on its own, and keel_container composes them.
 *
 * Conventions, the same in every header:
 * - names are keel_\<noun\>_\<verb\>; every handle is opaque, made by
 *   keel_\<noun\>_new or _open and released by keel_\<noun\>_free (NULL is fine);
 * - a fallible call returns 0 or a negative errno, and its last parameter
 *   `keel_error **err` (NULL allowed) receives an error the caller frees
 *   with keel_error_free();
 * - strings passed in are copied; who frees what is returned is written on
 *   each function;
 * - the library never prints, exits or installs signal handlers, and is
 *   safe to call from any thread. The only state it keeps for the whole
 *   process is caches that change no result, each thread-safe and
 *   checked or immutable once made: where cgroup2 is mounted, one spare
 *   stack for spawned children, the function tables of the libraries it
 *   loads with dlopen() at first use, and the kernel's highest capability
 *   number. A fork()ed child of the caller inherits them and may go on
 *   using the library (docs/architecture.md, "State that lives for the
 *   whole process").
 *
 * Build with `cc prog.c $(pkg-config --cflags --libs keel)`.
 */
#ifndef KEEL_H
#define KEEL_H

#include <keel/common.h>
#include <keel/version.h>
#include <keel/error.h>
#include <keel/features.h>
/* -- ns, process, spawn */
#include <keel/ns.h>
#include <keel/process.h>
#include <keel/spawn.h>

/* -- mount */
#include <keel/mount.h>

/* -- cgroup */
#include <keel/cgroup.h>

/* -- net */
#include <keel/net.h>

/* -- security */
#include <keel/security.h>

/* -- container */
#include <keel/container.h>
#include <keel/cdi.h>
#include <keel/image.h>
#include <keel/oci.h>

#endif
