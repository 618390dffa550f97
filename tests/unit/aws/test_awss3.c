/* SPDX-License-Identifier: Apache-2.0 */
/* test_awss3.c — the asynchronous AWS client end to end against the local
 * stand-in (tests/awsstandin): S3 GetObject with SigV4 through the sd-event
 * driven curl multi, with credentials from the environment, the container
 * endpoint and IMDS; the bucket-region retry; errors.  Skipped when the
 * stand-in cannot start (no python3-botocore). */
#include "testutil.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "aws/aws.h"
#include "aws/curllib.h"
#include "aws/s3get.h"

#define ACCESS_KEY "AKIASTANDIN000000001"
#define SECRET_KEY "standin/Secret/Key/000000000000000000001"
#define KEYS "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEj0kQ2hU2e1aYc8XJf0eS1QmbQ0x1i2n9k0yq3kHjX9 user@laptop\n"

static struct {
	pid_t pid;
	char url[128];
	char *dir;
} standin;

static int start_standin(void **state)
{
	int fds[2];
	char line[512];
	size_t n = 0;
	(void)state;

	standin.dir = tu_tmpdir();
	if (access("/usr/bin/python3", X_OK) != 0 || access("tests/awsstandin/standin.py", R_OK) != 0)
		return 0;
	assert_int_equal(pipe(fds), 0);
	standin.pid = fork();
	assert_true(standin.pid >= 0);
	if (standin.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		execl("/usr/bin/python3", "python3", "tests/awsstandin/standin.py", "--port", "0", "--state-dir",
		      standin.dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (n + 1 < sizeof(line) && read(fds[0], line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	close(fds[0]);
	cJSON *j = cJSON_Parse(line);
	const cJSON *u = cJSON_GetObjectItem(j, "url");
	if (cJSON_IsString(u))
		snprintf(standin.url, sizeof(standin.url), "%s", u->valuestring);
	cJSON_Delete(j);
	return 0;
}

static int stop_standin(void **state)
{
	(void)state;
	if (standin.pid > 0) {
		kill(standin.pid, SIGKILL);
		waitpid(standin.pid, NULL, 0);
	}
	tu_rm_rf(standin.dir);
	free(standin.dir);
	return 0;
}

static void need_standin(void)
{
	if (!standin.url[0])
		skip();
}

/* A blocking control call: fine in a test, never in porthole. */
static void control(const char *method, const char *route, const char *body)
{
	char url[256], why[256];
	long status = 0;
	FILE *sink = fopen("/dev/null", "w");
	CURL *c;

	/* porthole's own table of libcurl, loaded as aws_new would. */
	assert_int_equal(curllib_load(why, sizeof(why)), 0);
	c = curl_easy_init();
	snprintf(url, sizeof(url), "%s/_standin/%s", standin.url, route);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	curl_easy_cleanup(c);
	fclose(sink);
}

struct got {
	int done;
	char *body;
	size_t len;
	char *why;
};

static void on_got(void *ud, const char *body, size_t len, const char *why)
{
	struct got *g = ud;

	g->done++;
	g->body = body ? strndup(body, len) : NULL;
	g->len = len;
	g->why = why ? strdup(why) : NULL;
}

static void fetch(const char *s3url, struct got *g)
{
	sd_event *loop;
	struct aws *aws;
	char why[256];

	memset(g, 0, sizeof(*g));
	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(aws_new(loop, &aws, why, sizeof(why)), 0);
	struct s3get *req = s3get_start(aws, s3url, 64 * 1024, on_got, g, why, sizeof(why));
	assert_non_null(req);
	assert_int_equal(g->done, 0); /* never called back from inside start */
	assert_true(tu_run_loop_until(loop, &g->done, 1, 30 * 1000000ull));
	assert_int_equal(http_pending(aws_http(aws)), 0);
	aws_free(aws);
	sd_event_unref(loop);
}

static void base_env(void)
{
	tu_clear_env_prefix("AWS_");
	unsetenv("TRAINING_JOB_ARN");
	setenv("HOME", standin.dir, 1);
	setenv("AWS_ENDPOINT_URL_S3", standin.url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void test_s3_get_env_credentials(void **state)
{
	struct got g;
	(void)state;

	need_standin();
	control("POST", "s3/buckets", "{\"bucket\":\"team-keys\"}");
	control("POST", "s3/objects",
		"{\"bucket\":\"team-keys\",\"key\":\"ssh/authorized_keys\",\"body\":\"" "ssh-ed25519 "
		"AAAAC3NzaC1lZDI1NTE5AAAAIEj0kQ2hU2e1aYc8XJf0eS1QmbQ0x1i2n9k0yq3kHjX9 user@laptop\\n\"}");
	base_env();
	setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY, 1);
	fetch("s3://team-keys/ssh/authorized_keys", &g);
	assert_null(g.why);
	assert_string_equal(g.body, KEYS);
	assert_int_equal(g.len, strlen(KEYS));
	free(g.body);

	/* Missing key: S3's code and message, no retries. */
	fetch("s3://team-keys/ssh/nope", &g);
	assert_null(g.body);
	assert_non_null(strstr(g.why, "NoSuchKey"));
	assert_non_null(strstr(g.why, "s3://team-keys/ssh/nope"));
	free(g.why);

	/* Wrong secret: a signature error, and the secret is not in it. */
	setenv("AWS_SECRET_ACCESS_KEY", "wrong/secret/000000000000000000000000000", 1);
	fetch("s3://team-keys/ssh/authorized_keys", &g);
	assert_null(g.body);
	assert_non_null(strstr(g.why, "SignatureDoesNotMatch"));
	assert_null(strstr(g.why, "wrong/secret"));
	free(g.why);
}

static void test_s3_get_region_retry(void **state)
{
	struct got g;
	(void)state;

	need_standin();
	base_env();
	setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY, 1);
	/* Signed for the wrong region: S3 names the right one, one retry. */
	setenv("AWS_REGION", "eu-west-1", 1);
	fetch("s3://team-keys/ssh/authorized_keys", &g);
	assert_null(g.why);
	assert_string_equal(g.body, KEYS);
	free(g.body);
}

static void test_s3_get_container_credentials(void **state)
{
	struct got g;
	char uri[256];
	(void)state;

	need_standin();
	base_env();
	snprintf(uri, sizeof(uri), "%s/v2/credentials/standin-creds", standin.url);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
	fetch("s3://team-keys/ssh/authorized_keys", &g);
	assert_null(g.why);
	assert_string_equal(g.body, KEYS);
	free(g.body);
}

static void test_s3_get_imds_credentials(void **state)
{
	struct got g;
	(void)state;

	need_standin();
	base_env();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", standin.url, 1);
	fetch("s3://team-keys/ssh/authorized_keys", &g);
	assert_null(g.why);
	assert_string_equal(g.body, KEYS);
	free(g.body);
}

static void test_s3_get_no_credentials(void **state)
{
	struct got g;
	(void)state;

	need_standin();
	base_env();
	fetch("s3://team-keys/ssh/authorized_keys", &g);
	assert_null(g.body);
	assert_non_null(strstr(g.why, "no AWS credentials"));
	free(g.why);
}

static void test_s3_bad_urls(void **state)
{
	static const char *const bad[] = { "team-keys/k", "s3://", "s3://bucket", "s3://bucket/", "s3:///key",
					   "s3://UPPER/key", "http://bucket/key" };
	sd_event *loop;
	struct aws *aws;
	char why[256];
	struct got g = { 0 };
	(void)state;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(aws_new(loop, &aws, why, sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		TU_CHECK(s3get_start(aws, bad[i], 1024, on_got, &g, why, sizeof(why)) == NULL && strstr(why, "s3://"),
			 "%s accepted (%s)", bad[i], why);
	}
	char *b, *k;
	assert_int_equal(s3get_parse_url("s3://my.bucket-1/a/b c", &b, &k), 0);
	assert_string_equal(b, "my.bucket-1");
	assert_string_equal(k, "a/b c");
	free(b);
	free(k);
	aws_free(aws);
	sd_event_unref(loop);
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_get_env_credentials),   cmocka_unit_test(test_s3_get_region_retry),
		cmocka_unit_test(test_s3_get_container_credentials), cmocka_unit_test(test_s3_get_imds_credentials),
		cmocka_unit_test(test_s3_get_no_credentials),    cmocka_unit_test(test_s3_bad_urls),
	};
	return cmocka_run_group_tests(tests, start_standin, stop_standin);
}
