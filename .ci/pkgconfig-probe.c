/* Built by .ci/run against an installed libkeel through pkg-config. */
#include <stdio.h>
#include <keel.h>

int main(void)
{
	keel_features *f = NULL;

	if (keel_features_probe(&f, NULL) < 0)
		return 1;
	printf("libkeel %s (headers %s), cgroup2 at %s\n", keel_version(), KEEL_VERSION_STRING,
	       keel_features_cgroup2_path(f) ? keel_features_cgroup2_path(f) : "(none)");
	keel_features_free(f);
	return 0;
}
