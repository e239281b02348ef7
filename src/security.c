/* Placeholder: replaced by the security subsystem (issue 7). */
#include "config.h"
#include <errno.h>
#include "error.h"
#include "security.h"

int keel_security_plan_prepare(const keel_security *sec, struct keel_security_plan **out, keel_error **err)
{
	(void)sec;
	*out = NULL;
	return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, ENOSYS, "security: the security subsystem is not built yet");
}

int keel_security_plan_apply_early(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	(void)plan;
	return keel_report_fail(rep, KEEL_ERROR_UNSUPPORTED, ENOSYS, "security", NULL);
}

int keel_security_plan_apply_pre_user(const struct keel_security_plan *plan, struct keel_child_report *rep)
{
	(void)plan;
	return keel_report_fail(rep, KEEL_ERROR_UNSUPPORTED, ENOSYS, "security", NULL);
}

int keel_security_plan_apply_late(const struct keel_security_plan *plan, int *notify_fd,
				  struct keel_child_report *rep)
{
	(void)plan;
	*notify_fd = -1;
	return keel_report_fail(rep, KEEL_ERROR_UNSUPPORTED, ENOSYS, "security", NULL);
}

void keel_security_plan_free(struct keel_security_plan *plan)
{
	(void)plan;
}
