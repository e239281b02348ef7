/*
 * version: what library was loaded. The headers carry the compile-time
 * version; these calls answer for the shared object actually in memory.
 */
#include "config.h"

#include <keel/version.h>

KEEL_PUBLIC const char *keel_version(void)
{
	return KEEL_VERSION_STRING;
}

KEEL_PUBLIC int keel_version_at_least(int major, int minor, int patch)
{
	if (KEEL_VERSION_MAJOR != major)
		return KEEL_VERSION_MAJOR > major;
	if (KEEL_VERSION_MINOR != minor)
		return KEEL_VERSION_MINOR > minor;
	return KEEL_VERSION_PATCH >= patch;
}
