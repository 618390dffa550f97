/* SPDX-License-Identifier: Apache-2.0 */
/* test_failure.c — failure_write and ML_ROOT/output/failure. */
#include "testutil.h"

#include "init/failure.h"

static struct {
	char *dir; /* ML_ROOT */
	char *out; /* dir/output */
	char *path; /* dir/output/failure */
} fx;

static int setup(void **state)
{
	(void)state;
	tu_reset();
	fx.dir = tu_tmpdir();
	fx.out = tu_path("%s/output", fx.dir);
	fx.path = tu_path("%s/output/failure", fx.dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(fx.dir);
	free(fx.dir);
	free(fx.out);
	free(fx.path);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static void assert_file(const char *path, const char *want)
{
	char *got = tu_read_file(path);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_writes_when_missing(void **state)
{
	(void)state;

	/* Neither output/ nor the file exist yet. */
	assert_int_equal(failure_write(fx.dir, "training command exited with status 3"), 1);
	assert_file(fx.path, "training command exited with status 3\n");

	/* output/ exists, the file does not. */
	unlink(fx.path);
	assert_int_equal(failure_write(fx.dir, "killed by SIGKILL"), 1);
	assert_file(fx.path, "killed by SIGKILL\n");
}

static void test_fills_empty_file(void **state)
{
	(void)state;

	tu_write_file(fx.path, "");
	assert_int_equal(failure_write(fx.dir, "reason"), 1);
	assert_file(fx.path, "reason\n");
}

static void test_never_overwrites(void **state)
{
	static const char *const existing[] = { "CUDA out of memory\n", "x", "\n", "a much longer reason than ours\n" };
	(void)state;

	for (size_t i = 0; i < sizeof(existing) / sizeof(existing[0]); i++) {
		tu_write_file(fx.path, existing[i]);
		int rc = failure_write(fx.dir, "training command exited with status 1");
		TU_CHECK(rc == 0, "existing \"%s\": rc %d, want 0", existing[i], rc);
		char *got = tu_read_file(fx.path);
		TU_CHECK(got && strcmp(got, existing[i]) == 0, "existing \"%s\" became \"%s\"", existing[i], tu_str(got));
		free(got);
	}
	/* Twice in a row: the first one stays. */
	unlink(fx.path);
	assert_int_equal(failure_write(fx.dir, "first"), 1);
	assert_int_equal(failure_write(fx.dir, "second"), 0);
	assert_file(fx.path, "first\n");
	TU_END();
}

static void test_no_ml_root(void **state)
{
	char *missing = tu_path("%s/nope", fx.dir);
	char *file = tu_path("%s/plainfile", fx.dir);
	(void)state;

	assert_int_equal(failure_write(missing, "reason"), 0);
	assert_int_equal(access(missing, F_OK), -1);

	/* ML_ROOT naming a file is not a tree either. */
	tu_write_file(file, "");
	assert_int_equal(failure_write(file, "reason"), 0);
	free(missing);
	free(file);
}

static void test_long_reason_truncated(void **state)
{
	static const size_t lens[] = { 999, 1000, 1001, 1022, 1023, 1024, 1025, 4096, 100000 };
	(void)state;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *reason = malloc(lens[i] + 1);
		assert_non_null(reason);
		for (size_t j = 0; j < lens[i]; j++)
			reason[j] = (char)('a' + j % 26);
		reason[lens[i]] = '\0';
		unlink(fx.path);
		int rc = failure_write(fx.dir, reason);
		char *got = tu_read_file(fx.path);
		size_t gl = got ? strlen(got) : 0;
		TU_CHECK(rc == 1, "len %zu: rc %d", lens[i], rc);
		TU_CHECK(gl <= 1024, "len %zu: wrote %zu bytes, over 1024", lens[i], gl);
		TU_CHECK(gl >= 2 && got[gl - 1] == '\n', "len %zu: not one terminated line", lens[i]);
		TU_CHECK(got && memchr(got, '\n', gl) == got + gl - 1, "len %zu: more than one line", lens[i]);
		TU_CHECK(got && strncmp(got, reason, gl - 1) == 0, "len %zu: not the start of the reason", lens[i]);
		if (lens[i] < 1000)
			TU_CHECK(gl == lens[i] + 1, "len %zu: short reason cut to %zu", lens[i], gl);
		free(got);
		free(reason);
	}
	TU_END();
}

static void test_errors(void **state)
{
	char *target = tu_path("%s/elsewhere", fx.dir);
	(void)state;

	/* output/failure is a symlink: not followed. */
	tu_mkdir_p(fx.out);
	tu_write_file(target, "");
	assert_int_equal(symlink(target, fx.path), 0);
	assert_true(failure_write(fx.dir, "reason") < 0);
	char *got = tu_read_file(target);
	assert_string_equal(got, "");
	free(got);
	unlink(fx.path);

	/* output is a file, so no directory can be made there. */
	tu_rm_rf(fx.out);
	tu_write_file(fx.out, "");
	assert_true(failure_write(fx.dir, "reason") < 0);
	free(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writes_when_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fills_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ml_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_reason_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
