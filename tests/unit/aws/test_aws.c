/* SPDX-License-Identifier: Apache-2.0 */
/* test_aws.c — the pure parts of the AWS client: retry classes and the
 * backoff schedule, credential documents, the FULL_URI host rules, region
 * and endpoint resolution, the shared files. */
#include "testutil.h"

#include <inttypes.h>

#include "aws/awscreds.h"
#include "aws/awsprofile.h"
#include "aws/awsregion.h"
#include "lib/clock.h"
#include "aws/retry.h"

/* ---- retries ------------------------------------------------------------- */

static void test_retry_classify(void **state)
{
	static const struct {
		bool transport;
		long status;
		const char *code;
		enum retry_class want;
	} cases[] = {
		{ true, 0, "", RETRY_TRANSIENT },
		{ false, 400, "ThrottlingException", RETRY_THROTTLE },
		{ false, 503, "SlowDown", RETRY_THROTTLE },
		{ false, 429, "", RETRY_THROTTLE },
		{ false, 500, "ServiceUnavailableException", RETRY_TRANSIENT },
		{ false, 502, "", RETRY_TRANSIENT },
		{ false, 504, "", RETRY_TRANSIENT },
		{ false, 400, "RequestTimeout", RETRY_TRANSIENT },
		{ false, 400, "ExpiredTokenException", RETRY_CREDS },
		{ false, 400, "ExpiredToken", RETRY_CREDS },
		{ false, 400, "InvalidParameterException", RETRY_NEVER },
		{ false, 400, "SerializationException", RETRY_NEVER },
		{ false, 400, "ResourceNotFoundException", RETRY_NEVER },
		{ false, 400, "UnrecognizedClientException", RETRY_NEVER },
		{ false, 400, "InvalidSignatureException", RETRY_NEVER },
		{ false, 403, "AccessDenied", RETRY_NEVER },
		{ false, 404, "NoSuchKey", RETRY_NEVER },
		{ false, 400, "", RETRY_NEVER },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum retry_class got = retry_classify(cases[i].transport, cases[i].status, cases[i].code);
		TU_CHECK(got == cases[i].want, "row %zu (%ld %s): got %d, want %d", i, cases[i].status, cases[i].code,
			 got, cases[i].want);
	}
	TU_END();
}

static void test_backoff_schedule(void **state)
{
	const uint64_t S = 1000000;
	static const uint32_t max = UINT32_MAX;
	static const struct {
		unsigned retry;
		uint32_t rnd;
		uint64_t base, cap, want;
	} cases[] = {
		{ 0, UINT32_MAX, 1000000, 20000000, 0 },
		{ 1, 0, 1000000, 20000000, 0 },                     /* full jitter: may be 0 */
		{ 1, 1u << 31, 1000000, 20000000, 500000 },         /* half of 1 s */
		{ 2, 1u << 31, 1000000, 20000000, 1000000 },        /* half of 2 s */
		{ 3, 1u << 31, 1000000, 20000000, 2000000 },
		{ 5, 1u << 31, 1000000, 20000000, 8000000 },        /* half of 16 s */
		{ 6, 1u << 31, 1000000, 20000000, 10000000 },       /* capped at 20 s */
		{ 60, 1u << 31, 1000000, 20000000, 10000000 },      /* no overflow */
		{ 1000, 1u << 31, 1000000, 20000000, 10000000 },
		{ 3, 1u << 30, 2000000, 300000000, 2000000 },       /* a quarter of 8 s */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = retry_backoff_usec(cases[i].retry, cases[i].base, cases[i].cap, cases[i].rnd);
		TU_CHECK(got == cases[i].want, "row %zu: got %" PRIu64 ", want %" PRIu64, i, got, cases[i].want);
	}
	/* Never above the cap, never above base*2^(n-1). */
	for (unsigned n = 1; n < 40; n++) {
		uint64_t got = retry_backoff_usec(n, S, 20 * S, max);
		uint64_t ceiling = n < 6 ? S << (n - 1) : 20 * S;
		TU_CHECK(got < ceiling + 1 && got + ceiling / 1000000 + 1 >= ceiling, "retry %u: %" PRIu64, n, got);
	}
	TU_END();
}

static void test_error_code(void **state)
{
	static const char *const cases[][2] = {
		{ "ThrottlingException", "ThrottlingException" },
		{ "com.amazonaws.logs#ResourceNotFoundException", "ResourceNotFoundException" },
		{ "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.logs/",
		  "ResourceNotFoundException" },
		{ "aws.protocoltests#FooError:http://x", "FooError" },
		{ "", "" },
	};
	char out[128];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		retry_error_code(cases[i][0], out, sizeof(out));
		TU_CHECK(strcmp(out, cases[i][1]) == 0, "%s -> %s", cases[i][0], out);
	}
	retry_error_code(NULL, out, sizeof(out));
	TU_CHECK(out[0] == '\0', "NULL -> %s", out);
	TU_END();
}

/* ---- credential documents ------------------------------------------------ */

static void test_creds_json(void **state)
{
	const uint64_t now = 1700000000ull * USEC_PER_SEC; /* 2023-11-14T22:13:20Z */
	static const struct {
		const char *doc;
		int rc;
		const char *why; /* substring of the reason */
	} cases[] = {
		{ "{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"sek\",\"Token\":\"tok\","
		  "\"Expiration\":\"2030-01-01T00:00:00Z\"}", 0, NULL },
		{ "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"sek\","
		  "\"Token\":\"tok\",\"Expiration\":\"2030-01-01T00:00:00.123Z\"}", 0, NULL },
		{ "{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"sek\",\"Token\":\"tok\","
		  "\"Expiration\":\"2030-01-01T00:00:00+00:00\"}", 0, NULL },
		{ "", -EINVAL, "not a JSON object" },
		{ "{\"AccessKeyId\":", -EINVAL, "not a JSON object" },
		{ "[1,2]", -EINVAL, "not a JSON object" },
		{ "{\"SecretAccessKey\":\"sek\",\"Expiration\":\"2030-01-01T00:00:00Z\"}", -EINVAL, "AccessKeyId" },
		{ "{\"AccessKeyId\":\"A\",\"Expiration\":\"2030-01-01T00:00:00Z\"}", -EINVAL, "SecretAccessKey" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"sek\"}", -EINVAL, "Expiration" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\",\"Expiration\":\"2030-01-01T00:00:00Z\"}", -EINVAL,
		  "SecretAccessKey" },
		{ "{\"AccessKeyId\":1,\"SecretAccessKey\":\"sek\",\"Expiration\":\"2030-01-01T00:00:00Z\"}", -EINVAL,
		  "AccessKeyId" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"sek\",\"Expiration\":\"tomorrow\"}", -EINVAL,
		  "Expiration" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"sek\",\"Expiration\":\"2030-13-01T00:00:00Z\"}",
		  -EINVAL, "Expiration" },
		{ "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"sek\",\"Expiration\":\"2020-01-01T00:00:00Z\"}", -ESTALE,
		  "expired" },
		{ "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no role\"}", -EINVAL,
		  "AssumeRoleUnauthorizedAccess" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_creds c;
		char why[256] = "";
		int rc = awscreds_parse_json(cases[i].doc, now, &c, why, sizeof(why));
		TU_CHECK(rc == cases[i].rc, "row %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, why);
		if (rc == 0) {
			TU_CHECK(tu_streq(c.access_key, "ASIAX") && tu_streq(c.secret_key, "sek") &&
					 tu_streq(c.token, "tok") && c.expires == 1893456000ull * USEC_PER_SEC,
				 "row %zu: fields", i);
			awscreds_clear(&c);
		} else {
			TU_CHECK(strstr(why, cases[i].why) != NULL, "row %zu: why \"%s\" lacks \"%s\"", i, why,
				 cases[i].why);
			/* A secret never appears in the reason. */
			TU_CHECK(strstr(why, "sek") == NULL, "row %zu: secret in \"%s\"", i, why);
			TU_CHECK(c.access_key == NULL && c.secret_key == NULL, "row %zu: left data", i);
		}
	}
	TU_END();
}

static void test_container_uri_rules(void **state)
{
	static const struct {
		const char *uri;
		int ok;
	} cases[] = {
		{ "http://127.0.0.1:8080/creds", 1 },
		{ "http://127.1.2.3/creds", 1 },
		{ "http://localhost/creds", 1 },
		{ "http://[::1]:9/x", 1 },
		{ "http://169.254.170.2/v2/credentials/x", 1 },
		{ "http://169.254.170.23/v1/credentials", 1 },
		{ "http://[fd00:ec2::23]/v1/credentials", 1 },
		{ "https://creds.example.com/x", 1 },
		{ "http://169.254.169.254/latest", 0 },
		{ "http://10.0.0.1/creds", 0 },
		{ "http://example.com/creds", 0 },
		{ "http://128.0.0.1/creds", 0 },
		{ "ftp://127.0.0.1/creds", 0 },
		{ "not a url", 0 },
	};
	char why[512];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = awscreds_container_uri_allowed(cases[i].uri, why, sizeof(why));
		TU_CHECK((rc == 0) == cases[i].ok, "%s: rc %d (%s)", cases[i].uri, rc, rc ? why : "");
	}
	TU_END();
}

/* ---- region and endpoints ------------------------------------------------ */

static void clear_aws_env(void)
{
	tu_clear_env_prefix("AWS_");
	unsetenv("TRAINING_JOB_ARN");
}

static void test_region_order(void **state)
{
	char *dir = tu_tmpdir(), *cfgfile = tu_path("%s/config", dir), *r;
	const char *src;
	(void)state;

	clear_aws_env();
	setenv("HOME", dir, 1);
	r = awsregion_local(&src);
	TU_CHECK(r == NULL && src == NULL, "nothing set: %s", tu_str(r));
	free(r);

	tu_write_file(cfgfile, "[default]\nregion = eu-west-1\n[profile other]\nregion=ap-south-1\n");
	setenv("AWS_CONFIG_FILE", cfgfile, 1);
	r = awsregion_local(&src);
	TU_CHECK(tu_streq(r, "eu-west-1") && strstr(src, "config"), "config file: %s", tu_str(r));
	free(r);
	setenv("AWS_PROFILE", "other", 1);
	r = awsregion_local(&src);
	TU_CHECK(tu_streq(r, "ap-south-1"), "profile other: %s", tu_str(r));
	free(r);

	setenv("TRAINING_JOB_ARN", "arn:aws:sagemaker:us-west-2:123456789012:training-job/j", 1);
	r = awsregion_local(&src);
	TU_CHECK(tu_streq(r, "us-west-2") && tu_streq(src, "TRAINING_JOB_ARN"), "ARN: %s", tu_str(r));
	free(r);

	setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
	r = awsregion_local(&src);
	TU_CHECK(tu_streq(r, "eu-central-1") && tu_streq(src, "AWS_DEFAULT_REGION"), "default: %s", tu_str(r));
	free(r);

	setenv("AWS_REGION", "cn-north-1", 1);
	r = awsregion_local(&src);
	TU_CHECK(tu_streq(r, "cn-north-1") && tu_streq(src, "AWS_REGION"), "AWS_REGION: %s", tu_str(r));
	free(r);

	TU_CHECK(awsregion_valid("us-east-1") && awsregion_valid("cn-northwest-1") &&
			 awsregion_valid("us-gov-west-1"),
		 "valid regions");
	TU_CHECK(!awsregion_valid("") && !awsregion_valid("US-EAST-1") && !awsregion_valid("us east") &&
			 !awsregion_valid(NULL) && !awsregion_valid("us-east-1-"),
		 "invalid regions");

	clear_aws_env();
	tu_rm_rf(dir);
	free(cfgfile);
	free(dir);
	TU_END();
}

static void test_endpoints(void **state)
{
	static const struct {
		const char *specific, *general, *ignore, *region;
		const char *want;
		int custom;
	} cases[] = {
		{ NULL, NULL, NULL, "us-east-1", "https://logs.us-east-1.amazonaws.com", 0 },
		{ NULL, NULL, NULL, "cn-north-1", "https://logs.cn-north-1.amazonaws.com.cn", 0 },
		{ NULL, "http://127.0.0.1:9/", NULL, "us-east-1", "http://127.0.0.1:9", 1 },
		{ "http://127.0.0.1:8/", "http://127.0.0.1:9", NULL, "us-east-1", "http://127.0.0.1:8", 1 },
		{ "http://127.0.0.1:8", NULL, "true", "eu-west-1", "https://logs.eu-west-1.amazonaws.com", 0 },
		{ "http://h:8", NULL, NULL, NULL, "http://h:8", 1 },
		{ NULL, NULL, NULL, NULL, NULL, 0 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int custom = -1;
		clear_aws_env();
		if (cases[i].specific)
			setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", cases[i].specific, 1);
		if (cases[i].general)
			setenv("AWS_ENDPOINT_URL", cases[i].general, 1);
		if (cases[i].ignore)
			setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", cases[i].ignore, 1);
		char *url = awsregion_endpoint_url("CLOUDWATCH_LOGS", "logs", cases[i].region, &custom);
		TU_CHECK(tu_streq(url, cases[i].want) && (!url || custom == cases[i].custom), "row %zu: %s (custom %d)",
			 i, tu_str(url), custom);
		free(url);
	}
	/* Another service's variable does not leak into this one. */
	clear_aws_env();
	setenv("AWS_ENDPOINT_URL_S3", "http://s3.local", 1);
	int custom;
	char *url = awsregion_endpoint_url("CLOUDWATCH_LOGS", "logs", "us-east-1", &custom);
	TU_CHECK(tu_streq(url, "https://logs.us-east-1.amazonaws.com"), "S3 variable leaked: %s", tu_str(url));
	free(url);
	url = awsregion_endpoint_url("S3", "s3", "us-east-1", &custom);
	TU_CHECK(tu_streq(url, "http://s3.local") && custom, "S3: %s", tu_str(url));
	free(url);
	clear_aws_env();
	TU_END();
}

static void test_profile_files(void **state)
{
	char *dir = tu_tmpdir(), *creds = tu_path("%s/creds", dir), *cfg = tu_path("%s/cfg", dir), *v;
	(void)state;

	clear_aws_env();
	tu_write_file(creds, "# comment\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key=s1\n"
			     "[dev]\naws_access_key_id=AKIADEV\n  nested = 1\naws_secret_access_key = s2 \n");
	tu_write_file(cfg, "[default]\nregion=us-east-2\n[profile dev]\nregion = eu-north-1\ns3 =\n"
			   "  region = not-this\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	setenv("AWS_CONFIG_FILE", cfg, 1);
	v = awsprofile_get(true, "aws_access_key_id");
	TU_CHECK(tu_streq(v, "AKIADEFAULT"), "default key: %s", tu_str(v));
	free(v);
	setenv("AWS_PROFILE", "dev", 1);
	v = awsprofile_get(true, "aws_secret_access_key");
	TU_CHECK(tu_streq(v, "s2"), "dev secret trimmed: %s", tu_str(v));
	free(v);
	v = awsprofile_get(false, "region");
	TU_CHECK(tu_streq(v, "eu-north-1"), "dev region (nested ignored): %s", tu_str(v));
	free(v);
	v = awsprofile_get(true, "nested");
	TU_CHECK(v == NULL, "indented key is a sub-section member: %s", tu_str(v));
	free(v);
	setenv("AWS_PROFILE", "missing", 1);
	v = awsprofile_get(true, "aws_access_key_id");
	TU_CHECK(v == NULL, "missing profile: %s", tu_str(v));
	free(v);
	clear_aws_env();
	tu_rm_rf(dir);
	free(creds);
	free(cfg);
	free(dir);
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_classify),   cmocka_unit_test(test_backoff_schedule),
		cmocka_unit_test(test_error_code),       cmocka_unit_test(test_creds_json),
		cmocka_unit_test(test_container_uri_rules), cmocka_unit_test(test_region_order),
		cmocka_unit_test(test_endpoints),        cmocka_unit_test(test_profile_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
