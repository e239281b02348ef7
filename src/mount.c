/* Placeholder: replaced by the mount subsystem (issue 4). */
#include "config.h"
#include <errno.h>
#include "error.h"
#include "mount.h"

int keel_mount_plan_prepare(const keel_rootfs *rootfs, struct keel_mount_plan **out, keel_error **err)
{
	(void)rootfs;
	*out = NULL;
	return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, ENOSYS, "rootfs: the mount subsystem is not built yet");
}

int keel_mount_plan_apply(const struct keel_mount_plan *plan, struct keel_child_report *rep)
{
	(void)plan;
	return keel_report_fail(rep, KEEL_ERROR_UNSUPPORTED, ENOSYS, "mount", NULL);
}

void keel_mount_plan_free(struct keel_mount_plan *plan)
{
	(void)plan;
}
