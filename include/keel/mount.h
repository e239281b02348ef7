/**
 * @file keel/mount.h
 * @brief Root filesystem and mounts (placeholder until the mount subsystem lands).
 */
#ifndef KEEL_MOUNT_H
#define KEEL_MOUNT_H

#include <keel/common.h>

/** A container's root filesystem and mount table. @since 1.0 */
typedef struct keel_rootfs keel_rootfs;

#endif
