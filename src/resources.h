/*
 * Private: keel_resources (keel/container.h, "resources") between
 * src/resources.c, which owns the handle, checks values and writes them
 * onto a cgroup, and src/container.c and src/state.c, which record what
 * an update applied in the container's state.
 *
 * A set is a list of (cgroup file, value) entries in the order they were
 * set, plus an optional device rule list. An entry's identity is its file,
 * and for the per-device files its device (and, for io.max, its limit):
 * setting the same identity again replaces the value. The state file keeps
 * the same entries as "resource=<file> <value>" lines and the device
 * filter as "device_rules=<n>" followed by n "device_rule=allow c 1:3 rwm"
 * lines.
 */
#ifndef KEEL_PRIV_RESOURCES_H
#define KEEL_PRIV_RESOURCES_H

#include <stddef.h>

#include <keel/container.h>
#include "cgroup-device.h"

struct keel_resource_entry {
	char *file;
	char *value;
};

struct keel_resources {
	struct keel_resource_entry *e;
	size_t n;
	keel_device_rules *rules;       /* NULL: the filter is not changed */
};

/* Add (or replace, by identity) one entry; no checks beyond the file name. */
int keel_resources_put(keel_resources *r, const char *file, const char *value, keel_error **err);

/*
 * One recorded line, "<file> <value>": is it well-formed (a controller's
 * file, a value without newline)? Used by the state reader, strictly.
 */
int keel_resources_line_ok(const char *line);

/* Do the lines a and b (both "<file> <value>") name the same entry? */
int keel_resources_same_line(const char *a, const char *b);

/* A rule as the state records it ("allow c 1:3 rwm", "deny a *:* rwm");
 * buf of at least 48 bytes. */
void keel_resources_rule_text(const struct keel_device_rule *rule, char *buf, size_t len);

/* Parse what keel_resources_rule_text() wrote; -EINVAL when malformed. */
int keel_resources_rule_parse(const char *text, struct keel_device_rule *out);

/*
 * Write r onto cg as keel_container_update() says: check, save the old
 * values, write, put back on failure, devices last. applied[i] (r->n of
 * them, filled by the call) says which entries stay written;
 * *devices_applied whether the filter was replaced. what names the
 * container in messages ("container web: update").
 */
int keel_resources_apply(const keel_resources *r, keel_cgroup *cg, const char *what, int *applied,
			 int *devices_applied, keel_error **err);

#endif
