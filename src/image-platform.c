/*
 * Platforms: which manifest of an image index this host (or the caller)
 * runs. "The OS does not matter, the architecture does": a container is a
 * process of the host kernel, so the index entry must be built for this
 * CPU. The matching follows containerd's platforms package: arm64 is
 * arm64/v8 (an entry without a variant matches), and a 32-bit arm host
 * runs older variants too (v7 runs v6 and v5, in that order of
 * preference); an exact variant is preferred over a fallback.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "error.h"
#include "image.h"
#include "util/json.h"

static const struct { const char *machine, *arch, *variant; } machines[] = {
	{ "x86_64", "amd64", "" },   { "aarch64", "arm64", "v8" }, { "armv8l", "arm", "v8" },
	{ "armv7l", "arm", "v7" },   { "armv6l", "arm", "v6" },    { "armv5tel", "arm", "v5" },
	{ "i686", "386", "" },       { "i386", "386", "" },        { "ppc64le", "ppc64le", "" },
	{ "s390x", "s390x", "" },    { "riscv64", "riscv64", "" }, { "mips64", "mips64", "" },
};

void keel_platform_host(struct keel_platform *p)
{
	struct utsname u;
	size_t i;

	snprintf(p->os, sizeof(p->os), "linux");
	p->arch[0] = p->variant[0] = 0;
	if (uname(&u) < 0)
		return;
	snprintf(p->arch, sizeof(p->arch), "%.31s", u.machine);
	for (i = 0; i < sizeof(machines) / sizeof(machines[0]); i++)
		if (!strcmp(u.machine, machines[i].machine)) {
			snprintf(p->arch, sizeof(p->arch), "%s", machines[i].arch);
			snprintf(p->variant, sizeof(p->variant), "%s", machines[i].variant);
		}
}

int keel_platform_parse(const char *s, struct keel_platform *p, keel_error **err)
{
	char buf[100], *arch, *variant;

	memset(p, 0, sizeof(*p));
	if (!s || strlen(s) >= sizeof(buf) || !(arch = strchr(strcpy(buf, s), '/')))
		return keel_error_invalid(err, "platform '%.40s': want os/arch[/variant]", s ? s : "");
	*arch++ = 0;
	if ((variant = strchr(arch, '/')))
		*variant++ = 0;
	if (!*buf || !*arch || (variant && (!*variant || strchr(variant, '/'))) || strlen(buf) >= sizeof(p->os) ||
	    strlen(arch) >= sizeof(p->arch) || (variant && strlen(variant) >= sizeof(p->variant)))
		return keel_error_invalid(err, "platform '%s': want os/arch[/variant]", s);
	strcpy(p->os, buf);
	strcpy(p->arch, arch);
	if (variant)
		strcpy(p->variant, variant);
	if (!strcmp(p->arch, "arm64") && !*p->variant)
		strcpy(p->variant, "v8");
	return 0;
}

void keel_platform_format(const struct keel_platform *p, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s%s", p->os, p->arch, *p->variant ? "/" : "", p->variant);
}

/*
 * How well an entry fits what we want: 0 not at all, higher is better.
 * An entry's missing variant means the architecture's default (arm64 v8,
 * arm v7), as containerd normalizes it.
 */
static int score(const struct keel_platform *want, const struct keel_platform *have)
{
	char hv[32];

	if (strcmp(want->os, have->os) || strcmp(want->arch, have->arch))
		return 0;
	snprintf(hv, sizeof(hv), "%s", have->variant);
	if (!*hv && !strcmp(have->arch, "arm64"))
		strcpy(hv, "v8");
	if (!*hv && !strcmp(have->arch, "arm"))
		strcpy(hv, "v7");
	if (!strcmp(want->variant, hv))
		return 100;
	if (!*want->variant)
		return 50;   /* amd64 and the like: any variant the caller did not name */
	/* arm vN runs v(N-1) ... v5: the closer, the better. */
	if (!strcmp(want->arch, "arm") && want->variant[0] == 'v' && hv[0] == 'v' &&
	    hv[1] >= '5' && hv[1] < want->variant[1] && !hv[2] && !want->variant[2])
		return 10 + (hv[1] - '0');
	return 0;
}

static void entry_platform(const struct keel_json_api *J, struct json_object *m, struct keel_platform *p)
{
	struct json_object *plat, *v;

	memset(p, 0, sizeof(*p));
	if (!J->json_object_object_get_ex(m, "platform", &plat))
		return;
	if (J->json_object_object_get_ex(plat, "os", &v))
		snprintf(p->os, sizeof(p->os), "%s", J->json_object_get_string(v));
	if (J->json_object_object_get_ex(plat, "architecture", &v))
		snprintf(p->arch, sizeof(p->arch), "%s", J->json_object_get_string(v));
	if (J->json_object_object_get_ex(plat, "variant", &v))
		snprintf(p->variant, sizeof(p->variant), "%s", J->json_object_get_string(v));
}

/* "image X has linux/arm64, linux/arm/v7; this host is linux/amd64" */
static int no_match(const struct keel_json_api *J, struct json_object *manifests, const struct keel_platform *want,
		    const char *image, int is_host, keel_error **err)
{
	char list[1024] = "", one[100], w[100];
	size_t i, n = J->json_object_array_length(manifests), used = 0;

	for (i = 0; i < n; i++) {
		struct keel_platform p;

		entry_platform(J, J->json_object_array_get_idx(manifests, i), &p);
		if (!*p.arch)
			continue;
		keel_platform_format(&p, one, sizeof(one));
		if (used + strlen(one) + 3 < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", one);
	}
	keel_platform_format(want, w, sizeof(w));
	return keel_error_plain(err, KEEL_ERROR_NOT_FOUND, ENOENT, "image %s has %s; %s is %s", image,
			      used ? list : "no platform", is_host ? "this host" : "the platform asked for", w);
}

int keel_platform_pick(struct json_object *manifests, const struct keel_platform *want, const char *image,
		       size_t *idx, keel_error **err)
{
	const struct keel_json_api *J = keel_json(err, "image index");
	struct keel_platform host;
	size_t i, n;
	int best = 0;

	if (!J)
		return -ELIBACC;
	if (!want) {
		keel_platform_host(&host);
		want = &host;
	}
	n = J->json_object_array_length(manifests);
	for (i = 0; i < n; i++) {
		struct keel_platform p;
		int sc;

		entry_platform(J, J->json_object_array_get_idx(manifests, i), &p);
		if ((sc = score(want, &p)) > best) {
			best = sc;
			*idx = i;
		}
	}
	return best ? 0 : no_match(J, manifests, want, image, want == &host, err);
}
