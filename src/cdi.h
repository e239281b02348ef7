/*
 * Private: the CDI reader's pieces the tests call directly.
 */
#ifndef KEEL_PRIV_CDI_H
#define KEEL_PRIV_CDI_H

#include <stddef.h>
#include <keel/cdi.h>

/*
 * Split "vendor.com/class=name" into its kind ("vendor.com/class", the
 * first kind_len bytes) and name (the part after '='), checking each part
 * against the CDI spec's syntax: vendor [A-Za-z0-9][A-Za-z0-9.-]*,
 * class [A-Za-z0-9][A-Za-z0-9_.-]*, name [A-Za-z0-9][A-Za-z0-9_.:-]*.
 * Returns 0 or -EINVAL.
 */
int keel_cdi_parse_name(const char *qname, size_t *kind_len, const char **name);

/* Whether "vendor.com/class" is a valid kind. */
int keel_cdi_valid_kind(const char *kind, size_t len);

#endif
