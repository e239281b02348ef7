/*
 * Core suite: the error model, the version calls and feature discovery,
 * each checked against the kernel rather than against itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <keel.h>

#include "error.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/str.h"
#include "harness.h"

START_TEST(error_carries_code_errno_and_message)
{
	keel_error *err = NULL;
	int ret = keel_error_sys(&err, ENOENT, "open %s", "/nope");

	ck_assert_int_eq(ret, -ENOENT);
	ck_assert_int_eq(keel_error_errno(err), ENOENT);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_NOT_FOUND);
	ck_assert_str_eq(keel_error_message(err), "open /nope: No such file or directory");
	keel_error_free(err);
}
END_TEST

START_TEST(error_wrap_prefixes_context_and_keeps_return)
{
	keel_error *err = NULL;
	int ret = keel_error_sys(&err, ENODEV, "mount overlay on %s", "/r");

	ret = keel_error_wrap(&err, ret, "container %s", "web");
	ck_assert_int_eq(ret, -ENODEV);
	ck_assert_str_eq(keel_error_message(err), "container web: mount overlay on /r: No such device");
	keel_error_free(err);
}
END_TEST

START_TEST(error_null_out_is_allowed)
{
	ck_assert_int_eq(keel_error_invalid(NULL, "bad %d", 1), -EINVAL);
	ck_assert_int_eq(keel_error_wrap(NULL, -5, "x"), -5);
	ck_assert_int_eq(keel_error_code(NULL), KEEL_ERROR_OK);
	ck_assert_int_eq(keel_error_errno(NULL), 0);
	ck_assert_str_eq(keel_error_message(NULL), "no error");
	keel_error_free(NULL);
}
END_TEST

START_TEST(error_newest_replaces_older)
{
	keel_error *err = NULL;

	keel_error_invalid(&err, "first");
	keel_error_sys(&err, EPERM, "second");
	ck_assert_str_eq(keel_error_message(err), "second: Operation not permitted");
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_SYSTEM);
	keel_error_free(err);
}
END_TEST

/* One table for every subsystem (error.c): the code a caller branches on
 * depends on the errno only, never on which part of the library failed. */
START_TEST(error_code_follows_one_errno_table)
{
	static const struct { int errnum, code; } want[] = {
		{ ENOENT, KEEL_ERROR_NOT_FOUND },   { ESRCH, KEEL_ERROR_NOT_FOUND },
		{ ENODEV, KEEL_ERROR_NOT_FOUND },   { EEXIST, KEEL_ERROR_EXISTS },
		{ EINVAL, KEEL_ERROR_INVALID },     { ERANGE, KEEL_ERROR_INVALID },
		{ ENOSYS, KEEL_ERROR_UNSUPPORTED }, { EOPNOTSUPP, KEEL_ERROR_UNSUPPORTED },
		{ ENOTSUP, KEEL_ERROR_UNSUPPORTED }, { EAFNOSUPPORT, KEEL_ERROR_UNSUPPORTED },
		{ EPERM, KEEL_ERROR_SYSTEM },       { EACCES, KEEL_ERROR_SYSTEM },
		{ EBUSY, KEEL_ERROR_SYSTEM },       { ENOMEM, KEEL_ERROR_SYSTEM },
		{ EIO, KEEL_ERROR_SYSTEM },
	};
	keel_error *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(keel_error_sys(&err, want[i].errnum, "step %zu", i), -want[i].errnum);
		ck_assert_msg(keel_error_code(err) == want[i].code, "errno %d: code %d, want %d", want[i].errnum,
			      keel_error_code(err), want[i].code);
		ck_assert_int_eq(keel_error_code_for_errno(want[i].errnum), want[i].code);
		ck_assert_int_eq(keel_error_errno(err), want[i].errnum);
	}
	keel_error_free(err);
}
END_TEST

START_TEST(version_matches_headers)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", KEEL_VERSION_MAJOR, KEEL_VERSION_MINOR, KEEL_VERSION_PATCH);
	ck_assert_str_eq(keel_version(), want);
	ck_assert_str_eq(keel_version(), KEEL_VERSION_STRING);
	ck_assert(keel_version_at_least(KEEL_VERSION_MAJOR, KEEL_VERSION_MINOR, KEEL_VERSION_PATCH));
	ck_assert(keel_version_at_least(0, 99, 99));
	ck_assert(!keel_version_at_least(KEEL_VERSION_MAJOR, KEEL_VERSION_MINOR + 1, 0));
	ck_assert(!keel_version_at_least(KEEL_VERSION_MAJOR + 1, 0, 0));
}
END_TEST

START_TEST(features_cgroup2_path_is_a_cgroup2_mount)
{
	keel_features *f = NULL;
	struct statfs sfs;
	const char *path;

	ck_assert_int_eq(keel_features_probe(&f, NULL), 0);
	ck_assert(keel_features_has(f, KEEL_FEATURE_CGROUP2));
	path = keel_features_cgroup2_path(f);
	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(statfs(path, &sfs), 0);
	ck_assert_msg(sfs.f_type == CGROUP2_SUPER_MAGIC, "%s is not cgroup2", path);
	ck_assert_ptr_nonnull(keel_features_cgroup2_controllers(f));
	keel_features_free(f);
}
END_TEST

START_TEST(features_clone3_and_pidfd_agree_with_the_kernel)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	keel_features *f = NULL;
	long pid;
	int status;

	ck_assert_int_eq(keel_features_probe(&f, NULL), 0);
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		_exit(7);
	ck_assert_int_eq(keel_features_has(f, KEEL_FEATURE_CLONE3), pid > 0);
	if (pid > 0) {
		ck_assert_int_eq(waitpid((pid_t)pid, &status, 0), pid);
		ck_assert_int_eq(WEXITSTATUS(status), 7);
	}
	ck_assert_int_eq(keel_features_has(f, KEEL_FEATURE_PIDFD),
			 syscall(SYS_pidfd_open, getpid(), 0) >= 0);
	ck_assert_int_eq(keel_features_has(f, KEEL_FEATURE_TIME_NS), access("/proc/self/ns/time", F_OK) == 0);
	keel_features_free(f);
}
END_TEST

START_TEST(features_names_and_bounds)
{
	ck_assert_str_eq(keel_feature_name(KEEL_FEATURE_OVERLAYFS), "overlayfs");
	ck_assert_str_eq(keel_feature_name(KEEL_FEATURE_SECCOMP_NOTIFY), "seccomp-notify");
	ck_assert_ptr_null(keel_feature_name((keel_feature)999));
	ck_assert_int_eq(keel_features_has(NULL, KEEL_FEATURE_CLONE3), 0);
	ck_assert_int_eq(keel_features_probe(NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(features_overlay_probe_matches_a_real_mount_attempt)
{
	keel_features *f = NULL;
	int fd;

	ck_assert_int_eq(keel_features_probe(&f, NULL), 0);
	fd = (int)syscall(SYS_fsopen, "overlay", 1);
	ck_assert_int_eq(keel_features_has(f, KEEL_FEATURE_OVERLAYFS), fd >= 0);
	if (fd >= 0)
		close(fd);
	keel_features_free(f);
}
END_TEST

START_TEST(child_report_formats_without_allocating)
{
	struct keel_child_report rep = { 0 };
	char num[24];

	ck_assert_int_eq(keel_report_fail(&rep, KEEL_ERROR_CHILD, ENOENT, "chdir", "/srv"), -ENOENT);
	ck_assert_str_eq(rep.msg, "chdir /srv");
	ck_assert_int_eq(rep.errnum, ENOENT);
	ck_assert_str_eq(keel_utoa(18446744073709551615ULL, num), "18446744073709551615");
	ck_assert_str_eq(keel_utoa(0, num), "0");
	memset(rep.msg, 'x', sizeof(rep.msg) - 1);
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	keel_report_append(&rep, "overflow");
	ck_assert_uint_eq(strlen(rep.msg), sizeof(rep.msg) - 1);
}
END_TEST

START_TEST(fs_helpers_roundtrip_and_rm_rf)
{
	const char *dir = kt_tmpdir();
	char path[4096], *data = NULL;
	keel_error *err = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(keel_mkdir_p(path, 0755, NULL), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/file", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(keel_write_file_at(AT_FDCWD, path, "hello", NULL), 0);
	ck_assert_int_eq(keel_read_file_at(AT_FDCWD, path, &data, NULL, NULL), 0);
	ck_assert_str_eq(data, "hello");
	free(data);
	snprintf(path, sizeof(path), "%s/a", dir);
	ck_assert_int_eq(keel_rm_rf(path, NULL), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(keel_read_file_at(AT_FDCWD, path, &data, NULL, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), path));
	keel_error_free(err);
}
END_TEST

START_TEST(find_mount_reports_missing_type)
{
	keel_error *err = NULL;
	char *where = NULL;

	ck_assert_int_eq(keel_find_mount("no-such-fs-type", &where, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "no no-such-fs-type filesystem is mounted"));
	keel_error_free(err);
	ck_assert_int_eq(keel_find_mount("proc", &where, NULL), 0);
	ck_assert_str_eq(where, "/proc");
	free(where);
}
END_TEST

START_TEST(str_join_fits_and_does_not)
{
	char buf[8], *s;

	s = keel_str_join("/run/keel", "/", "c1", NULL);
	ck_assert_str_eq(s, "/run/keel/c1");
	free(s);
	s = keel_str_join("", NULL);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_int_eq(keel_str_join_buf(buf, sizeof(buf), "abc", "defg", NULL), 0);
	ck_assert_str_eq(buf, "abcdefg");
	/* one byte too many: cut, terminated, and said so */
	ck_assert_int_eq(keel_str_join_buf(buf, sizeof(buf), "abcd", "efgh", NULL), -ENAMETOOLONG);
	ck_assert_str_eq(buf, "abcdefg");
	ck_assert_int_eq(keel_str_join_buf(buf, sizeof(buf), "abcdefghij", "x", NULL), -ENAMETOOLONG);
	ck_assert_str_eq(buf, "abcdefg");
	ck_assert_int_eq(keel_str_join_buf(buf, 0, "a", NULL), -ENAMETOOLONG);
}
END_TEST

START_TEST(str_unsigned_decimals)
{
	unsigned long long v = 42;
	const char *end;

	ck_assert_int_eq(keel_str_to_ull("0", &end, &v), 0);
	ck_assert(v == 0 && *end == '\0');
	ck_assert_int_eq(keel_str_to_ull("18446744073709551615 rest", &end, &v), 0);
	ck_assert(v == ULLONG_MAX);
	ck_assert_str_eq(end, " rest");
	ck_assert_int_eq(keel_str_to_ull("18446744073709551616", &end, &v), -ERANGE);
	ck_assert_int_eq(keel_str_to_ull("99999999999999999999999", NULL, &v), -ERANGE);
	v = 42;
	/* digits only: no sign, space or base prefix */
	ck_assert_int_eq(keel_str_to_ull("", &end, &v), -EINVAL);
	ck_assert_int_eq(keel_str_to_ull("-1", &end, &v), -EINVAL);
	ck_assert_int_eq(keel_str_to_ull("+1", &end, &v), -EINVAL);
	ck_assert_int_eq(keel_str_to_ull(" 1", &end, &v), -EINVAL);
	ck_assert(v == 42);
	ck_assert_int_eq(keel_str_to_ull("0x10", &end, &v), 0);
	ck_assert(v == 0 && *end == 'x');
}
END_TEST

/* keel_str_to_ll reads what strtoll(s, &end, 10) reads: compare them. */
START_TEST(str_signed_decimals_read_as_strtoll)
{
	static const char *const cases[] = {
		"0", "7", "-7", "+7", " \t\n\v\f\r12", "  -0", "12abc", "-12 34", "007",
		"9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "18446744073709551616", "99999999999999999999999",
		"", " ", "-", "+", "+-1", "- 1", "abc", "0x1f", "\x85" "1",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i], *end = NULL;
		long long v = 0x5a5a, want;
		char *want_end;
		int ret;

		errno = 0;
		want = strtoll(s, &want_end, 10);
		ret = keel_str_to_ll(s, &end, &v);
		if (errno == ERANGE) {
			ck_assert_msg(ret == -ERANGE, "'%s': %d, want -ERANGE", s, ret);
		} else if (want_end == s) {
			ck_assert_msg(ret == -EINVAL, "'%s': %d, want -EINVAL", s, ret);
			ck_assert(v == 0x5a5a);
		} else {
			ck_assert_msg(ret == 0 && v == want && end == want_end, "'%s': %d %lld, want %lld", s, ret, v,
				      want);
		}
	}
	ck_assert_int_eq(keel_str_to_ll("5", NULL, &(long long){ 0 }), 0);
}
END_TEST

/* keel_str_from_ll writes what "%lld" writes. */
START_TEST(str_decimal_forms_are_printfs)
{
	static const long long cases[] = { 0, 1, -1, 9, 10, -10, 4242, INT_MAX, INT_MIN, (long long)INT_MAX + 1,
					   LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };
	char got[KEEL_STR_DEC_SIZE], want[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "%lld", cases[i]);
		ck_assert_str_eq(keel_str_from_ll(cases[i], got), want);
	}
	snprintf(want, sizeof(want), "%llu", ULLONG_MAX);
	ck_assert_str_eq(keel_utoa(ULLONG_MAX, got), want);
}
END_TEST

/* keel_str_tok splits as strtok_r does. */
START_TEST(str_tok_splits_as_strtok_r)
{
	static const char *const cases[] = {
		"", " ", "a", "a b", "  a  b  ", "a\nb \n c", "\n\n", "1 (x) R 3 4\n", "x,y,,z,",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char mine[64], theirs[64], *cur = mine, *save = NULL, *a, *b;
		int first = 1;

		snprintf(mine, sizeof(mine), "%s", cases[i]);
		snprintf(theirs, sizeof(theirs), "%s", cases[i]);
		do {
			a = keel_str_tok(&cur, " \n,");
			b = strtok_r(first ? theirs : NULL, " \n,", &save);
			first = 0;
			ck_assert_msg((a == NULL) == (b == NULL), "'%s': %s vs %s", cases[i], a, b);
			if (a) {
				ck_assert_str_eq(a, b);
				ck_assert_int_eq(a - mine, b - theirs);
			}
		} while (a);
		/* and stays at the end */
		ck_assert_ptr_null(keel_str_tok(&cur, " \n,"));
	}
}
END_TEST

START_TEST(strbuf_grows_and_keeps_everything)
{
	struct keel_strbuf b = { 0 };
	char want[4096];
	size_t i;

	want[0] = '\0';
	for (i = 0; i < 300; i++) {
		keel_strbuf_add(&b, "k", "=", "v1", "\n", NULL);
		strcat(want, "k=v1\n");
	}
	ck_assert(!b.failed);
	ck_assert_uint_eq(b.len, strlen(want));
	ck_assert_uint_gt(b.cap, b.len);
	ck_assert_str_eq(b.buf, want);
	free(b.buf);
}
END_TEST

/* json-c is mapped only once a document is parsed, and errors say where. */
START_TEST(json_parse_reports_where_and_loads_at_first_use)
{
	static const char doc[] = "{\"a\": [1, \"two\", true], \"b\": {\"c\": 18446744073709551615}}";
	const struct keel_json_api *J;
	struct json_object *o, *v;
	keel_error *err = NULL;

	ck_assert_int_eq(kt_mapped("libjson-c"), 0);
	ck_assert_int_eq(keel_json_parse(doc, strlen(doc), "doc", &o, &err), 0);
	ck_assert_int_eq(kt_mapped("libjson-c"), 1);
	J = keel_json(NULL, "doc");
	ck_assert_ptr_nonnull(J);
	ck_assert(J->json_object_object_get_ex(o, "a", &v));
	ck_assert_uint_eq(J->json_object_array_length(v), 3);
	ck_assert_str_eq(J->json_object_get_string(J->json_object_array_get_idx(v, 1)), "two");
	ck_assert(J->json_object_object_get_ex(o, "b", &v) && J->json_object_object_get_ex(v, "c", &v));
	ck_assert_uint_eq(J->json_object_get_uint64(v), UINT64_MAX);
	J->json_object_put(o);

	ck_assert_int_eq(keel_json_parse("{\"a\": [1,}", 11, "config.json", &o, &err), -EINVAL);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(keel_error_code(err), KEEL_ERROR_INVALID);
	ck_assert_str_eq(keel_error_message(err), "config.json: invalid JSON at byte 9: unexpected character");
	ck_assert_int_eq(keel_json_parse("{} {}", 5, "x", &o, &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "x: invalid JSON at byte 3: data after the document");
	ck_assert_int_eq(keel_json_parse("{\"a\":", 5, "x", &o, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(keel_error_message(err), "unexpected end of data"));
	keel_error_free(err);
}
END_TEST

START_TEST(json_read_file_caps_size_and_dump_is_compact)
{
	const char *dir = kt_tmpdir();
	char path[4096], *text;
	struct json_object *o;
	keel_error *err = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/c.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{ \"path\": \"/a/b\", \"n\": [ 1, 2 ] }\n", f);
	fclose(f);
	ck_assert_int_eq(keel_json_read_file(AT_FDCWD, path, 16, "c.json", &o, &err), -EFBIG);
	ck_assert_str_eq(keel_error_message(err), "c.json: larger than 16 bytes");
	ck_assert_int_eq(keel_json_read_file(AT_FDCWD, path, 4096, NULL, &o, &err), 0);
	text = keel_json_dump(o, "c.json", &err);
	ck_assert_str_eq(text, "{\"path\":\"/a/b\",\"n\":[1,2]}");
	free(text);
	keel_json(NULL, "")->json_object_put(o);
	ck_assert_int_eq(keel_json_read_file(AT_FDCWD, dir, 4096, "the dir", &o, &err), -EINVAL);
	ck_assert_str_eq(keel_error_message(err), "the dir: not a regular file");
	keel_error_free(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = kt_tcase("error", 10);

	tcase_add_test(tc, error_carries_code_errno_and_message);
	tcase_add_test(tc, error_wrap_prefixes_context_and_keeps_return);
	tcase_add_test(tc, error_null_out_is_allowed);
	tcase_add_test(tc, error_newest_replaces_older);
	tcase_add_test(tc, error_code_follows_one_errno_table);
	suite_add_tcase(s, tc);
	tc = kt_tcase("version", 10);
	tcase_add_test(tc, version_matches_headers);
	suite_add_tcase(s, tc);
	tc = kt_tcase("features", 10);
	tcase_add_test(tc, features_cgroup2_path_is_a_cgroup2_mount);
	tcase_add_test(tc, features_clone3_and_pidfd_agree_with_the_kernel);
	tcase_add_test(tc, features_names_and_bounds);
	tcase_add_test(tc, features_overlay_probe_matches_a_real_mount_attempt);
	suite_add_tcase(s, tc);
	tc = kt_tcase("util", 10);
	tcase_add_test(tc, child_report_formats_without_allocating);
	tcase_add_test(tc, fs_helpers_roundtrip_and_rm_rf);
	tcase_add_test(tc, find_mount_reports_missing_type);
	suite_add_tcase(s, tc);
	tc = kt_tcase("str", 10);
	tcase_add_test(tc, str_join_fits_and_does_not);
	tcase_add_test(tc, str_unsigned_decimals);
	tcase_add_test(tc, str_signed_decimals_read_as_strtoll);
	tcase_add_test(tc, str_decimal_forms_are_printfs);
	tcase_add_test(tc, str_tok_splits_as_strtok_r);
	tcase_add_test(tc, strbuf_grows_and_keeps_everything);
	suite_add_tcase(s, tc);
	tc = kt_tcase("json", 10);
	tcase_add_test(tc, json_parse_reports_where_and_loads_at_first_use);
	tcase_add_test(tc, json_read_file_caps_size_and_dump_is_compact);
	suite_add_tcase(s, tc);
	return kt_run(s);
}
