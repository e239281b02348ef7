/*
 * Host probes for the test suites: does this machine have what a test
 * needs (a kernel module, a filesystem, user namespaces, a tool)?
 *
 * They run in a suite's main(), before any test, and use the kernel or
 * the file system directly, never libkeel: a probe must not depend on the
 * code under test. Each returns NULL when the host has the feature, or a
 * short reason that names what is missing, to hand to kt_add_test_needs()
 * (tests/harness.h), which turns it into "SKIP: suite/test: reason".
 * Reasons live in static storage until the program ends.
 */
#ifndef KEEL_TEST_HOST_PROBE_H
#define KEEL_TEST_HOST_PROBE_H

/* Can a link of this rtnetlink kind ("veth", "bridge") be made? Tried for
 * real in a new network namespace of a child process. */
const char *kt_missing_link_kind(const char *kind);

/* Can a filesystem of this type ("overlay") be opened (fsopen(2), which
 * loads its module on demand)? */
const char *kt_missing_fs(const char *type);

/* Can uid (0 for root, 65534 for an unprivileged user) make a user
 * namespace (unshare(CLONE_NEWUSER) in a child)? The reason quotes the
 * sysctls that decide it. */
const char *kt_missing_userns(unsigned uid);

/* Is path an executable, and (setuid != 0) setuid root or with file
 * capabilities, as newuidmap must be? package names the Debian package. */
const char *kt_missing_tool(const char *path, int setuid, const char *package);

/* Can this process open the device node path with flags (O_RDONLY,
 * O_WRONLY, O_RDWR)? A v1 devices cgroup that restricts the session is
 * inherited by every container a test makes, so a test that opens a device
 * probes it here first; the reason quotes the cgroup's devices.list. */
const char *kt_missing_device(const char *path, int flags);

/* Can a profile be loaded and applied with AppArmor: the kernel has it
 * enabled (/sys/module/apparmor/parameters/enabled is Y), securityfs shows
 * its policy (/sys/kernel/security/apparmor/profiles), and parser (the path
 * of apparmor_parser) is installed? */
const char *kt_missing_apparmor(const char *parser);

/* The first of two reasons that is not NULL (a test that needs both). */
const char *kt_first_missing(const char *a, const char *b);

#endif
