/*
 * keel-image: a small `docker image` on libkeel's image store.
 *
 *   keel-image [--store DIR] import [--name N] [--platform OS/ARCH[/V]] [--format F] PATH
 *   keel-image [--store DIR] ls
 *   keel-image [--store DIR] inspect REF
 *   keel-image [--store DIR] tag REF NAME
 *   keel-image [--store DIR] rm [-f] REF...
 *   keel-image [--store DIR] prune
 *   keel-image [--store DIR] commit [--base REF] [--cmd CMD]... CONTAINER|UPPERDIR NAME
 *   keel-image [--store DIR] save [--format oci|oci-archive|docker-archive] REF PATH
 *
 * The store is --store, $KEEL_IMAGE_STORE, or the library's default
 * (/var/lib/keel for root). Sizes are shown as `docker images` shows
 * them: SIZE is every layer of the image (its virtual size), UNIQUE what
 * only this image has, SHARED the rest.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <keel.h>

#include "common.h"

static const char *prog = "keel-image";

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [--store DIR] COMMAND ...\n"
		"  import [--name N] [--platform OS/ARCH[/VARIANT]] [--format oci|oci-archive|docker-archive|rootfs] PATH\n"
		"  ls\n"
		"  inspect REF\n"
		"  tag REF NAME\n"
		"  rm [-f] REF...\n"
		"  prune\n"
		"  commit [--base REF] [--cmd ARG]... CONTAINER|UPPERDIR NAME\n"
		"  save [--format oci|oci-archive|docker-archive] REF PATH\n", prog);
}

static int fail(keel_error *err)
{
	fprintf(stderr, "%s: %s\n", prog, keel_error_message(err));
	keel_error_free(err);
	return 1;
}

/* docker's units: powers of 1000, three significant digits. */
static void human_size(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(out, size, v < 10 && u ? "%.2f%s" : v < 100 && u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static void human_age(int64_t t, char *out, size_t size)
{
	int64_t d = (int64_t)time(NULL) - t;

	if (!t)
		snprintf(out, size, "N/A");
	else if (d < 60)
		snprintf(out, size, "%s", "Less than a minute ago");
	else if (d < 3600)
		snprintf(out, size, "%lld minutes ago", (long long)(d / 60));
	else if (d < 2 * 86400)
		snprintf(out, size, "%lld hours ago", (long long)(d / 3600));
	else
		snprintf(out, size, "%lld days ago", (long long)(d / 86400));
}

static int format_of(const char *s)
{
	if (!s || !strcmp(s, "auto")) return KEEL_IMAGE_FORMAT_AUTO;
	if (!strcmp(s, "oci")) return KEEL_IMAGE_FORMAT_OCI_LAYOUT;
	if (!strcmp(s, "oci-archive")) return KEEL_IMAGE_FORMAT_OCI_ARCHIVE;
	if (!strcmp(s, "docker-archive")) return KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE;
	if (!strcmp(s, "rootfs")) return KEEL_IMAGE_FORMAT_ROOTFS_TAR;
	fprintf(stderr, "%s: unknown format %s\n", prog, s);
	return -1;
}

static int cmd_import(keel_image_store *s, int argc, char **argv)
{
	const char *name = NULL, *platform = NULL, *fmt = NULL;
	keel_error *err = NULL;
	char *digest = NULL;
	int i, format;

	for (i = 0; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--name")) name = argv[i + 1];
		else if (!strcmp(argv[i], "--platform")) platform = argv[i + 1];
		else if (!strcmp(argv[i], "--format")) fmt = argv[i + 1];
		else break;
	}
	if (i + 1 != argc || (format = format_of(fmt)) < 0) {
		usage(stderr);
		return 2;
	}
	if (keel_image_import(s, argv[i], format, platform, name, &digest, &err) < 0)
		return fail(err);
	printf("%s\n", digest);
	free(digest);
	return 0;
}

/* One line per name (one "<none>" line for an untagged image). */
static void ls_one(keel_image_store *s, keel_image *img)
{
	char size[16], uniq[16], shared[16], age[48], **names = NULL;
	uint64_t u = 0, t = 0;
	size_t i;

	keel_image_sizes(s, img, &u, &t, NULL);
	keel_image_names(s, img, &names, NULL);
	human_size(t, size, sizeof(size));
	human_size(u, uniq, sizeof(uniq));
	human_size(t - u, shared, sizeof(shared));
	human_age(keel_image_created(img), age, sizeof(age));
	for (i = 0; names && (i == 0 || names[i]); i++) {
		char *tag = names[i] ? strrchr(names[i], ':') : NULL;

		if (tag)
			*tag++ = 0;
		printf("%-30s %-12s %-14.12s %-24s %-10s %-12s %s\n", names[i] ? names[i] : "<none>",
		       tag ? tag : "<none>", keel_image_id(img) + 7, age, size, shared, uniq);
		if (!names[i])
			break;
	}
	keel_image_strv_free(names);
}

static int cmd_ls(keel_image_store *s)
{
	keel_error *err = NULL;
	char **all = NULL;
	size_t i;

	if (keel_image_list(s, &all, &err) < 0)
		return fail(err);
	printf("%-30s %-12s %-14s %-24s %-10s %-12s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE",
	       "SHARED SIZE", "UNIQUE SIZE");
	for (i = 0; all[i]; i++) {
		keel_image *img = NULL;

		if (keel_image_open(&img, s, all[i], NULL) == 0)
			ls_one(s, img);
		keel_image_free(img);
	}
	keel_image_strv_free(all);
	return 0;
}

static int cmd_inspect(keel_image_store *s, const char *ref)
{
	keel_error *err = NULL;
	keel_image *img = NULL;
	char **names = NULL;
	uint64_t u = 0, t = 0;
	size_t i;

	if (keel_image_open(&img, s, ref, &err) < 0 || keel_image_names(s, img, &names, &err) < 0 ||
	    keel_image_sizes(s, img, &u, &t, &err) < 0) {
		keel_image_free(img);
		return fail(err);
	}
	printf("{\"Digest\":\"%s\",\"Id\":\"%s\",\"Platform\":\"%s\",\"Size\":%llu,\"UniqueSize\":%llu,\"RepoTags\":[",
	       keel_image_digest(img), keel_image_id(img), keel_image_platform(img), (unsigned long long)t,
	       (unsigned long long)u);
	for (i = 0; names[i]; i++)
		printf("%s\"%s\"", i ? "," : "", names[i]);
	printf("],\"Layers\":[");
	for (i = 0; i < keel_image_layer_count(img); i++)
		printf("%s\"%s\"", i ? "," : "", keel_image_layer_dir(img, i));
	printf("],\"Config\":%s}\n", keel_image_config(img));
	keel_image_strv_free(names);
	keel_image_free(img);
	return 0;
}

static int cmd_rm(keel_image_store *s, int argc, char **argv)
{
	keel_error *err = NULL;
	unsigned flags = 0;
	int i = 0, ret = 0;

	if (argc && !strcmp(argv[0], "-f")) {
		flags = KEEL_IMAGE_REMOVE_FORCE;
		i++;
	}
	for (; i < argc; i++) {
		if (keel_image_remove(s, argv[i], flags, &err) < 0)
			ret = fail(err), err = NULL;
		else
			printf("Deleted: %s\n", argv[i]);
	}
	return ret;
}

/* The image a container was made from: the one whose layers it has. */
static keel_image *image_of(keel_image_store *s, char **layers)
{
	char **all = NULL;
	keel_image *found = NULL;
	size_t i, j, n = 0;

	while (layers[n])
		n++;
	if (keel_image_list(s, &all, NULL) < 0)
		return NULL;
	for (i = 0; all[i] && !found; i++) {
		keel_image *img = NULL;
		int same;

		if (keel_image_open(&img, s, all[i], NULL) < 0)
			continue;
		same = keel_image_layer_count(img) == n;
		for (j = 0; same && j < n; j++)
			same = !strcmp(keel_image_layer_dir(img, j), layers[j]);
		if (same)
			found = img;
		else
			keel_image_free(img);
	}
	keel_image_strv_free(all);
	return found;
}

/* A container id: its upper dir, and the image it was made from. */
static int container_upper(keel_image_store *s, const char *id, char *upper, size_t size, keel_image **base)
{
	keel_container *c = NULL;
	keel_error *err = NULL;
	char **layers = NULL;
	const char *root;

	if (keel_container_load(&c, id, kx_state_root(), &err) < 0)
		return fail(err);
	root = keel_container_state_root(c);
	snprintf(upper, size, "%s/%s/layer/upper", root, id);
	if (!*base && keel_container_layers(c, &layers, &err) == 0)
		*base = image_of(s, layers);
	keel_container_strv_free(layers);
	keel_error_free(err);
	keel_container_free(c);
	return 0;
}

static int cmd_commit(keel_image_store *s, int argc, char **argv)
{
	const char *cmd[64], *baseref = NULL;
	char upper[PATH_MAX], *digest = NULL;
	keel_image *base = NULL;
	keel_error *err = NULL;
	struct stat st;
	int i, n = 0, ret;

	for (i = 0; i + 1 < argc && argv[i][0] == '-' && n < 63; i += 2) {
		if (!strcmp(argv[i], "--base")) baseref = argv[i + 1];
		else if (!strcmp(argv[i], "--cmd")) cmd[n++] = argv[i + 1];
		else break;
	}
	cmd[n] = NULL;
	if (i + 2 != argc) {
		usage(stderr);
		return 2;
	}
	if (baseref && keel_image_open(&base, s, baseref, &err) < 0)
		return fail(err);
	if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(upper, sizeof(upper), "%s", argv[i]);
	else if ((ret = container_upper(s, argv[i], upper, sizeof(upper), &base)) != 0)
		return ret;
	ret = keel_image_commit(s, base, upper, n ? cmd : NULL, argv[i + 1], &digest, &err);
	keel_image_free(base);
	if (ret < 0)
		return fail(err);
	printf("%s\n", digest);
	free(digest);
	return 0;
}

static int cmd_save(keel_image_store *s, int argc, char **argv)
{
	keel_error *err = NULL;
	int format = KEEL_IMAGE_FORMAT_OCI_ARCHIVE;

	if (argc == 4 && !strcmp(argv[0], "--format")) {
		if ((format = format_of(argv[1])) <= 0)
			return 2;
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (keel_image_save(s, argv[0], argv[1], format, &err) < 0)
		return fail(err);
	return 0;
}

static int run(keel_image_store *s, const char *cmd, int argc, char **argv)
{
	keel_error *err = NULL;
	uint64_t freed = 0;
	char size[16];

	if (!strcmp(cmd, "import"))
		return cmd_import(s, argc, argv);
	if (!strcmp(cmd, "ls") || !strcmp(cmd, "images"))
		return cmd_ls(s);
	if (!strcmp(cmd, "inspect") && argc == 1)
		return cmd_inspect(s, argv[0]);
	if (!strcmp(cmd, "tag") && argc == 2)
		return keel_image_tag(s, argv[0], argv[1], &err) < 0 ? fail(err) : 0;
	if (!strcmp(cmd, "rm"))
		return cmd_rm(s, argc, argv);
	if (!strcmp(cmd, "prune") && argc == 0) {
		if (keel_image_prune(s, &freed, &err) < 0)
			return fail(err);
		human_size(freed, size, sizeof(size));
		printf("Total reclaimed space: %s\n", size);
		return 0;
	}
	if (!strcmp(cmd, "commit"))
		return cmd_commit(s, argc, argv);
	if (!strcmp(cmd, "save"))
		return cmd_save(s, argc, argv);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *root = getenv("KEEL_IMAGE_STORE");
	keel_image_store *s = NULL;
	keel_error *err = NULL;
	int i = 1, ret;

	if (argc > 2 && !strcmp(argv[1], "--store")) {
		root = argv[2];
		i = 3;
	}
	if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	if (keel_image_store_open(&s, root && *root ? root : NULL, &err) < 0)
		return fail(err);
	ret = run(s, argv[i], argc - i - 1, argv + i + 1);
	keel_image_store_free(s);
	return ret;
}
