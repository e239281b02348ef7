/**
 * @file keel/security.h
 * @brief Privileges (placeholder until the security subsystem lands).
 */
#ifndef KEEL_SECURITY_H
#define KEEL_SECURITY_H

#include <keel/common.h>

/** What a process may do: capabilities, seccomp, rlimits. @since 1.0 */
typedef struct keel_security keel_security;

#endif
