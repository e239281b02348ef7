/* The log of a detached container (src/container-log.c). */
#ifndef KEEL_CONTAINER_LOG_H
#define KEEL_CONTAINER_LOG_H

#include <stdint.h>
#include <keel/error.h>

/* The log's name in the state directory; the rotated one adds ".1". */
#define KEEL_CONTAINER_LOG_NAME "container.log"
/* The cap of one log file when the caller gives 0. */
#define KEEL_CONTAINER_LOG_DEFAULT_MAX (1024 * 1024)

/* Fork the logger of <dir>/container.log (capped at max_bytes, rotated
 * once) and give the write end of its pipe (O_CLOEXEC), which the caller
 * hands to the init as stdout and stderr and then closes. */
int keel_container_log_start(const char *dir, uint64_t max_bytes, int *write_fd, keel_error **err);

#endif
