/* SPDX-License-Identifier: Apache-2.0 */
/* test_identity.c — identity_load from a temporary ML_ROOT, arn_region, identity_to_json. */
#include "testutil.h"

#include <arpa/inet.h>

#include "platform/identity.h"
#include "aws/arn.h"

static struct {
	char *dir;
	char *rc_path; /* dir/input/config/resourceconfig.json */
	struct { char *ml_root; const char *job; } cfg;
	struct tu_log log;
	char hostname[256];
} fx;

static const char *const env_vars[] = {
	"TRAINING_JOB_NAME", "TRAINING_JOB_ARN", "AWS_REGION", "AWS_DEFAULT_REGION", "SAGEMAKER_RESOURCE_CONFIG_PATH",
};

static void clear_env(void)
{
	tu_clear_env_prefix("PORTHOLE_");
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

static int setup(void **state)
{
	(void)state;
	tu_reset();
	clear_env();
	log_set_level(PLOG_NONE); /* the sink still sees warnings and errors */
	fx.dir = tu_tmpdir();
	fx.rc_path = tu_path("%s/input/config/resourceconfig.json", fx.dir);
	memset(&fx.cfg, 0, sizeof(fx.cfg));
	fx.cfg.ml_root = fx.dir;
	fx.cfg.job = "";
	if (gethostname(fx.hostname, sizeof(fx.hostname)) < 0)
		strcpy(fx.hostname, "localhost");
	fx.hostname[sizeof(fx.hostname) - 1] = '\0';
	tu_log_start(&fx.log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_log_stop(&fx.log);
	tu_log_clear(&fx.log);
	clear_env();
	tu_rm_rf(fx.dir);
	free(fx.dir);
	free(fx.rc_path);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static bool has_host(const struct identity *id, const char *h)
{
	for (size_t i = 0; i < id->n_hosts; i++)
		if (strcmp(id->hosts[i], h) == 0)
			return true;
	return false;
}

static void test_valid_resourceconfig(void **state)
{
	struct identity id;
	(void)state;

	tu_write_file(fx.rc_path,
		      "{\"current_host\": \"algo-1\", \"current_instance_type\": \"ml.g5.xlarge\",\n"
		      " \"current_group_name\": \"homogeneousCluster\", \"hosts\": [\"algo-1\", \"algo-2\"],\n"
		      " \"instance_groups\": [{\"instance_group_name\": \"homogeneousCluster\",\n"
		      "   \"instance_type\": \"ml.g5.xlarge\", \"hosts\": [\"algo-1\", \"algo-2\"]}],\n"
		      " \"network_interface_name\": \"lo\"}\n");
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_true(id.sagemaker);
	assert_string_equal(id.host, "algo-1");
	assert_int_equal(id.n_hosts, 2);
	assert_string_equal(id.hosts[0], "algo-1");
	assert_string_equal(id.hosts[1], "algo-2");
	assert_string_equal(id.instance_type, "ml.g5.xlarge");
	assert_string_equal(id.group_name, "homogeneousCluster");
	assert_non_null(id.instance_groups);
	assert_int_equal(cJSON_GetArraySize(id.instance_groups), 1);
	assert_string_equal(id.iface, "lo");
	assert_string_equal(id.ipv4, "127.0.0.1");
	assert_string_equal(id.ipv6, ""); /* ::1 is loopback, not an address for peers */
	assert_string_equal(id.addr_source, "interface");
	assert_string_equal(id.job, "local");
	assert_null(id.job_arn);
	assert_null(id.region);
	assert_int_equal(tu_log_count(&fx.log, PLOG_ERROR) + tu_log_count(&fx.log, PLOG_WARN), 0);
	identity_free(&id);
}

static void test_bad_resourceconfig(void **state)
{
	static const struct {
		const char *json;     /* NULL: no file at all */
		bool sagemaker;
		const char *host;     /* NULL: the hostname */
		const char *hosts[4]; /* NULL-terminated; hosts[0] NULL: just the host */
		const char *msg;      /* an error naming the problem, or NULL for none */
		size_t n_errors;
	} cases[] = {
		{ NULL, false, NULL, { NULL }, NULL, 0 },
		{ "{\"current_host\": \"algo-1\", \"hosts\": [", false, NULL, { NULL }, "malformed JSON", 1 },
		{ "", false, NULL, { NULL }, "malformed JSON", 1 },
		{ "[\"algo-1\"]", false, NULL, { NULL }, "not a JSON object", 1 },
		{ "\"algo-1\"", false, NULL, { NULL }, "not a JSON object", 1 },
		{ "{\"hosts\": [\"algo-1\", \"algo-2\"]}", false, NULL, { NULL }, "current_host is missing", 1 },
		{ "{\"current_host\": 1, \"hosts\": [\"algo-1\"]}", false, NULL, { NULL }, "current_host is missing", 1 },
		{ "{\"current_host\": \"\", \"hosts\": [\"algo-1\"]}", false, NULL, { NULL }, "current_host is missing", 1 },
		{ "{\"current_host\": \"algo-1\"}", true, "algo-1", { "algo-1", NULL }, "hosts is missing", 1 },
		{ "{\"current_host\": \"algo-1\", \"hosts\": []}", true, "algo-1", { "algo-1", NULL }, "hosts is missing", 1 },
		{ "{\"current_host\": \"algo-1\", \"hosts\": \"algo-1\"}", true, "algo-1", { "algo-1", NULL },
		  "hosts is missing", 1 },
		{ "{\"current_host\": \"algo-3\", \"hosts\": [\"algo-1\", \"algo-2\"]}", true, "algo-3",
		  { "algo-1", "algo-2", "algo-3", NULL }, "current_host algo-3 is not in hosts; adding it", 1 },
		{ "{\"current_host\": \"algo-2\", \"hosts\": [\"algo-1\", 7, null, \"algo-2\"]}", true, "algo-2",
		  { "algo-1", "algo-2", NULL }, "hosts has a non-string entry", 2 },
		{ "{\"current_host\": \"algo-1\", \"hosts\": [1, {}]}", true, "algo-1", { "algo-1", NULL },
		  "hosts has a non-string entry", 2 },
		{ "{\"current_host\": \"algo-1\", \"hosts\": [\"algo-1\"], \"current_instance_type\": 5}", true, "algo-1",
		  { "algo-1", NULL }, NULL, 0 },
	};
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct identity id;
		const char *label = cases[c].json ? cases[c].json : "(no file)";
		const char *want_host = cases[c].host ? cases[c].host : fx.hostname;

		unlink(fx.rc_path);
		if (cases[c].json)
			tu_write_file(fx.rc_path, cases[c].json);
		tu_log_clear(&fx.log);
		identity_load(&id, fx.cfg.ml_root, fx.cfg.job);

		TU_CHECK(id.sagemaker == cases[c].sagemaker, "%s: sagemaker %d", label, id.sagemaker);
		TU_CHECK(tu_streq(id.host, want_host), "%s: host %s, want %s", label, tu_str(id.host), want_host);
		size_t n = 0;
		if (cases[c].hosts[0]) {
			while (cases[c].hosts[n])
				n++;
			for (size_t i = 0; i < n; i++)
				TU_CHECK(i < id.n_hosts && tu_streq(id.hosts[i], cases[c].hosts[i]), "%s: hosts[%zu] %s, want %s",
					 label, i, i < id.n_hosts ? id.hosts[i] : "(none)", cases[c].hosts[i]);
		} else {
			n = 1;
			TU_CHECK(id.n_hosts >= 1 && tu_streq(id.hosts[0], want_host), "%s: hosts[0] %s", label,
				 id.n_hosts ? id.hosts[0] : "(none)");
		}
		TU_CHECK(id.n_hosts == n, "%s: %zu hosts, want %zu", label, id.n_hosts, n);
		TU_CHECK(has_host(&id, id.host), "%s: host not in hosts", label);
		TU_CHECK(tu_log_count(&fx.log, PLOG_ERROR) == cases[c].n_errors, "%s: %zu errors, want %zu", label,
			 tu_log_count(&fx.log, PLOG_ERROR), cases[c].n_errors);
		if (cases[c].msg) {
			const char *m = tu_log_find(&fx.log, cases[c].msg);
			TU_CHECK(m != NULL, "%s: no message with \"%s\"", label, cases[c].msg);
			TU_CHECK(m == NULL || strstr(m, fx.rc_path), "%s: message does not name the file: %s", label,
				 tu_str(m));
		}
		if (tu_log_count(&fx.log, PLOG_ERROR) != cases[c].n_errors)
			tu_log_dump(&fx.log);
		TU_CHECK(!cases[c].sagemaker || id.instance_type == NULL, "%s: instance_type %s", label,
			 tu_str(id.instance_type));
		identity_free(&id);
	}
	TU_END();
}

static void test_resourceconfig_unreadable(void **state)
{
	struct identity id;
	(void)state;

	/* A directory where the file should be: reported, hostname used. */
	tu_mkdir_p(fx.rc_path);
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_false(id.sagemaker);
	assert_string_equal(id.host, fx.hostname);
	assert_non_null(tu_log_find(&fx.log, "cannot read"));
	identity_free(&id);
}

static void test_missing_interface(void **state)
{
	struct identity id;
	(void)state;

	tu_write_file(fx.rc_path, "{\"current_host\": \"algo-1\", \"hosts\": [\"algo-1\"],"
				  " \"network_interface_name\": \"nosuchif0\"}");
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_true(id.sagemaker);
	assert_non_null(tu_log_find(&fx.log, "nosuchif0"));
	assert_non_null(id.addr_source);
	/* Whatever it fell back to, the address is a real one or empty. */
	if (id.ipv4[0]) {
		struct in_addr a;
		assert_int_equal(inet_pton(AF_INET, id.ipv4, &a), 1);
	}
	identity_free(&id);
}

static void test_job_precedence(void **state)
{
	static const struct {
		const char *cfg_job, *env;
		const char *want;
	} cases[] = {
		{ "cfg-job", "env-job", "cfg-job" },
		{ "cfg-job", NULL, "cfg-job" },
		{ "", "env-job", "env-job" },
		{ NULL, "env-job", "env-job" },
		{ "", "", "local" },
		{ "", NULL, "local" },
		{ NULL, NULL, "local" },
	};
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct identity id;
		unsetenv("TRAINING_JOB_NAME");
		if (cases[c].env)
			setenv("TRAINING_JOB_NAME", cases[c].env, 1);
		fx.cfg.job = (char *)cases[c].cfg_job;
		identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
		TU_CHECK(tu_streq(id.job, cases[c].want), "cfg.job %s, TRAINING_JOB_NAME %s: job %s, want %s",
			 tu_str(cases[c].cfg_job), tu_str(cases[c].env), tu_str(id.job), cases[c].want);
		identity_free(&id);
	}
	TU_END();
}

static void test_region(void **state)
{
	static const struct {
		const char *aws_region, *default_region, *arn;
		const char *want; /* NULL: unknown */
	} cases[] = {
		{ "eu-west-1", "us-east-2", "arn:aws:sagemaker:ap-south-1:123456789012:training-job/j", "eu-west-1" },
		{ NULL, "us-east-2", "arn:aws:sagemaker:ap-south-1:123456789012:training-job/j", "us-east-2" },
		{ "", "us-east-2", NULL, "us-east-2" },
		{ NULL, NULL, "arn:aws:sagemaker:ap-south-1:123456789012:training-job/j", "ap-south-1" },
		{ "", "", "arn:aws:sagemaker:ap-south-1:123456789012:training-job/j", "ap-south-1" },
		{ NULL, NULL, "not-an-arn", NULL },
		{ NULL, NULL, "", NULL },
		{ NULL, NULL, NULL, NULL },
	};
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct identity id;
		clear_env();
		if (cases[c].aws_region)
			setenv("AWS_REGION", cases[c].aws_region, 1);
		if (cases[c].default_region)
			setenv("AWS_DEFAULT_REGION", cases[c].default_region, 1);
		if (cases[c].arn)
			setenv("TRAINING_JOB_ARN", cases[c].arn, 1);
		identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
		TU_CHECK(tu_streq(id.region, cases[c].want), "AWS_REGION %s, AWS_DEFAULT_REGION %s, ARN %s: region %s, want %s",
			 tu_str(cases[c].aws_region), tu_str(cases[c].default_region), tu_str(cases[c].arn),
			 tu_str(id.region), tu_str(cases[c].want));
		const char *want_arn = cases[c].arn && *cases[c].arn ? cases[c].arn : NULL;
		TU_CHECK(tu_streq(id.job_arn, want_arn), "job_arn %s, want %s", tu_str(id.job_arn), tu_str(want_arn));
		identity_free(&id);
	}
	TU_END();
}

static void test_arn_region(void **state)
{
	static const struct {
		const char *arn;
		const char *want;
	} cases[] = {
		{ "arn:aws:sagemaker:us-west-2:123456789012:training-job/my-job", "us-west-2" },
		{ "arn:aws-cn:sagemaker:cn-north-1:123456789012:training-job/j", "cn-north-1" },
		{ "arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:training-job/j", "us-gov-west-1" },
		{ "arn:aws:iam::123456789012:role/x", NULL },       /* global service: no region */
		{ "arn:aws:s3:::bucket/key", NULL },
		{ "arn:aws:sagemaker:eu-central-1:", "eu-central-1" },
		{ "arn:aws:sagemaker:eu-central-1", NULL },         /* no account field */
		{ "arn:aws:sagemaker", NULL },
		{ "arn:aws", NULL },
		{ "arn:", NULL },
		{ "arn", NULL },
		{ "", NULL },
		{ "ARN:aws:sagemaker:us-west-2:1:training-job/j", NULL },
		{ "urn:aws:sagemaker:us-west-2:1:training-job/j", NULL },
		{ " arn:aws:sagemaker:us-west-2:1:training-job/j", NULL },
		{ NULL, NULL },
	};
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *r = arn_region(cases[c].arn);
		TU_CHECK(tu_streq(r, cases[c].want), "arn_region(%s) = %s, want %s", tu_str(cases[c].arn), tu_str(r),
			 tu_str(cases[c].want));
		free(r);
	}
	TU_END();
}

static const cJSON *member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		fail_msg("identity_to_json lacks \"%s\"", key);
	return v;
}

static void test_to_json(void **state)
{
	struct identity id;
	cJSON *o;
	(void)state;

	tu_write_file(fx.rc_path, "{\"current_host\": \"algo-2\", \"hosts\": [\"algo-1\", \"algo-2\"],"
				  " \"current_instance_type\": \"ml.m5.large\", \"current_group_name\": \"train\","
				  " \"network_interface_name\": \"lo\"}");
	setenv("TRAINING_JOB_NAME", "job-9", 1);
	setenv("TRAINING_JOB_ARN", "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-9", 1);
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	o = cJSON_CreateObject();
	identity_to_json(&id, o);

	assert_string_equal(member(o, "job")->valuestring, "job-9");
	assert_string_equal(member(o, "job_arn")->valuestring, "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-9");
	assert_string_equal(member(o, "host")->valuestring, "algo-2");
	const cJSON *hosts = member(o, "hosts");
	assert_true(cJSON_IsArray(hosts));
	assert_int_equal(cJSON_GetArraySize(hosts), 2);
	assert_string_equal(cJSON_GetArrayItem(hosts, 0)->valuestring, "algo-1");
	assert_string_equal(cJSON_GetArrayItem(hosts, 1)->valuestring, "algo-2");
	assert_string_equal(member(o, "instance_type")->valuestring, "ml.m5.large");
	assert_string_equal(member(o, "instance_group")->valuestring, "train");
	assert_string_equal(member(o, "region")->valuestring, "us-east-1");
	assert_string_equal(member(o, "interface")->valuestring, "lo");
	assert_string_equal(member(o, "ip")->valuestring, "127.0.0.1");
	assert_true(cJSON_IsNull(member(o, "ipv6")));
	assert_true(cJSON_IsTrue(member(o, "sagemaker")));
	cJSON_Delete(o);
	identity_free(&id);

	/* Outside SageMaker: unknowns are null, not missing or "". */
	clear_env();
	unlink(fx.rc_path);
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	o = cJSON_CreateObject();
	identity_to_json(&id, o);
	assert_string_equal(member(o, "job")->valuestring, "local");
	assert_true(cJSON_IsNull(member(o, "job_arn")));
	assert_true(cJSON_IsNull(member(o, "instance_type")));
	assert_true(cJSON_IsNull(member(o, "instance_group")));
	assert_true(cJSON_IsNull(member(o, "region")));
	assert_true(cJSON_IsFalse(member(o, "sagemaker")));
	assert_string_equal(member(o, "host")->valuestring, fx.hostname);
	assert_int_equal(cJSON_GetArraySize(member(o, "hosts")), 1);
	cJSON_Delete(o);
	identity_free(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_resourceconfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_resourceconfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resourceconfig_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_interface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arn_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_to_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
