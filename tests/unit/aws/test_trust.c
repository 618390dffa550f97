/* SPDX-License-Identifier: Apache-2.0 */
/* test_trust.c — which CA certificates TLS to AWS trusts: the variables
 * first (and an unreadable one is an error naming it), then the usual
 * paths in order, then the built-in bundle, else a clear error. */
#include "testutil.h"

#include "aws/trust.h"

static char *dir;

/* Stands in for the static build's cabundle_load. */
static const char builtin_pem[] = "-----BEGIN CERTIFICATE-----";
static int builtin(void **data, size_t *len)
{
	if (!(*data = strdup(builtin_pem)))
		return -ENOMEM;
	*len = sizeof(builtin_pem);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	dir = tu_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	tu_rm_rf(dir);
	free(dir);
	return 0;
}

static void test_variables_win(void **state)
{
	char *a = tu_path("%s/a.pem", dir), *b = tu_path("%s/b.pem", dir), *first = tu_path("%s/first.pem", dir);
	const char *paths[] = { first, NULL };
	struct trust t;
	char err[512] = "";
	(void)state;

	tu_write_file(a, "pem");
	tu_write_file(b, "pem");
	tu_write_file(first, "pem");
	setenv("SSL_CERT_FILE", b, 1);
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), 0);
	assert_string_equal(t.file, b);
	assert_non_null(strstr(t.what, "SSL_CERT_FILE"));
	trust_clear(&t);
	/* AWS_CA_BUNDLE before SSL_CERT_FILE, as the SDKs do. */
	setenv("AWS_CA_BUNDLE", a, 1);
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), 0);
	assert_string_equal(t.file, a);
	assert_null(t.blob);
	trust_clear(&t);
	/* Also in the dynamic build, which otherwise leaves it to libcurl. */
	assert_int_equal(trust_find(&t, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(t.file, a);
	trust_clear(&t);
	free(a);
	free(b);
	free(first);
}

static void test_unreadable_variable_is_an_error(void **state)
{
	char *missing = tu_path("%s/missing.pem", dir), *first = tu_path("%s/first.pem", dir);
	const char *paths[] = { first, NULL };
	struct trust t;
	char err[512] = "";
	(void)state;

	tu_write_file(first, "pem");
	setenv("AWS_CA_BUNDLE", missing, 1);
	/* Not silently replaced by another trust the user did not ask for. */
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "AWS_CA_BUNDLE="));
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "PEM"));
	assert_null(t.file);
	setenv("AWS_CA_BUNDLE", dir, 1);
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), -EISDIR);
	unsetenv("AWS_CA_BUNDLE");
	setenv("SSL_CERT_FILE", missing, 1);
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "SSL_CERT_FILE="));
	free(missing);
	free(first);
}

static void test_usual_paths_then_builtin(void **state)
{
	char *p1 = tu_path("%s/one.crt", dir), *p2 = tu_path("%s/two.crt", dir);
	const char *paths[] = { p1, p2, NULL };
	struct trust t;
	char err[512] = "";
	(void)state;

	/* None there: the built-in bundle, said so. */
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), 0);
	assert_null(t.file);
	assert_non_null(t.blob);
	assert_memory_equal(t.blob, builtin_pem, sizeof(builtin_pem));
	assert_int_equal(t.blob_len, sizeof(builtin_pem));
	assert_non_null(strstr(t.what, "built into porthole"));
	trust_clear(&t);
	/* The first one present, in order. */
	tu_write_file(p2, "pem");
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), 0);
	assert_string_equal(t.file, p2);
	trust_clear(&t);
	tu_write_file(p1, "pem");
	assert_int_equal(trust_find(&t, paths, builtin, err, sizeof(err)), 0);
	assert_string_equal(t.file, p1);
	trust_clear(&t);
	free(p1);
	free(p2);
}

static void test_nothing_at_all(void **state)
{
	char *p1 = tu_path("%s/none.crt", dir);
	const char *paths[] = { p1, NULL };
	struct trust t;
	char err[512] = "";
	(void)state;

	assert_int_equal(trust_find(&t, paths, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no CA certificates"));
	assert_non_null(strstr(err, "AWS_CA_BUNDLE"));
	/* The dynamic build: libcurl's own default. */
	assert_int_equal(trust_find(&t, NULL, NULL, err, sizeof(err)), 0);
	assert_null(t.file);
	assert_null(t.blob);
	free(p1);
}

static void test_usual_paths_list(void **state)
{
	(void)state;
	assert_string_equal(trust_usual_paths[0], "/etc/ssl/certs/ca-certificates.crt");
	for (size_t i = 0; trust_usual_paths[i]; i++)
		assert_int_equal(trust_usual_paths[i][0], '/');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_variables_win, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_variable_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usual_paths_then_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_at_all, setup, teardown),
		cmocka_unit_test(test_usual_paths_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
