/**
 * @file keel/common.h
 * @brief Macros and types shared by every libkeel header.
 *
 * Users include <keel.h>; this header is pulled in by each subsystem header.
 */
#ifndef KEEL_COMMON_H
#define KEEL_COMMON_H

#ifdef __cplusplus
/** Opens a block of C declarations (extern "C" in C++). */
#define KEEL_BEGIN_DECLS extern "C" {
/** Closes a block opened by KEEL_BEGIN_DECLS. */
#define KEEL_END_DECLS }
#else
/** Opens a block of C declarations (extern "C" in C++). */
#define KEEL_BEGIN_DECLS
/** Closes a block opened by KEEL_BEGIN_DECLS. */
#define KEEL_END_DECLS
#endif

/** Marks a declaration as part of the exported ABI. */
#if defined(KEEL_BUILDING_LIBRARY)
#define KEEL_PUBLIC __attribute__((visibility("default")))
#else
#define KEEL_PUBLIC
#endif

/** Marks a function whose result must be used. */
#define KEEL_WARN_UNUSED __attribute__((warn_unused_result))

KEEL_BEGIN_DECLS

/**
 * An error: a code, the errno behind it, and a message with context.
 *
 * Opaque; see keel/error.h. Fallible calls take a `keel_error **err` as
 * their last parameter: pass NULL to ignore details, or the address of a
 * NULL pointer to receive an error that you free with keel_error_free().
 */
typedef struct keel_error keel_error;

KEEL_END_DECLS

#endif
