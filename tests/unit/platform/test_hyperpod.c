/* SPDX-License-Identifier: Apache-2.0 */
/* test_hyperpod.c — a HyperPod node's resource_config.json: parsing, finding
 * this node by address, the log group and stream, and identity_load on a
 * node (and next to a training job's resourceconfig.json). */
#include "testutil.h"

#include "platform/hyperpod.h"
#include "platform/identity.h"

#define PATH "/opt/ml/config/resource_config.json"
#define ARN "arn:aws:sagemaker:us-west-2:123456789012:cluster/abc123def456"

/* The shape AWS's lifecycle scripts read: two groups, the node in the second. */
static const char sample[] =
	"{\"ClusterConfig\": {\"ClusterArn\": \"" ARN "\", \"ClusterName\": \"ml-cluster\"},\n"
	" \"InstanceGroups\": [\n"
	"  {\"Name\": \"controller-machine\", \"InstanceType\": \"ml.c5.xlarge\", \"Instances\": [\n"
	"    {\"InstanceName\": \"controller-machine-1\", \"CustomerIpAddress\": \"10.1.0.10\", \"InstanceId\": \"i-1\"}]},\n"
	"  {\"Name\": \"worker-group-1\", \"InstanceType\": \"ml.g5.8xlarge\", \"Instances\": [\n"
	"    {\"InstanceName\": \"worker-group-1-1\", \"CustomerIpAddress\": \"10.1.0.21\"},\n"
	"    {\"InstanceName\": \"worker-group-1-2\", \"CustomerIpAddress\": \"10.1.0.22\"}]}]}\n";

static const struct hyperpod_addr own_worker2[] = {
	{ "127.0.0.1", "lo" }, { "::1", "lo" }, { "10.1.0.22", "ens5" }, { "fe80::1", "ens5" },
};

static struct {
	char *dir;
	struct { char *ml_root; const char *job; } cfg;
	struct tu_log log;
} fx;

static int setup(void **state)
{
	(void)state;
	tu_reset();
	tu_clear_env_prefix("PORTHOLE_");
	unsetenv("SAGEMAKER_RESOURCE_CONFIG_PATH");
	unsetenv("TRAINING_JOB_NAME");
	unsetenv("TRAINING_JOB_ARN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	log_set_level(PLOG_NONE);
	fx.dir = tu_tmpdir();
	memset(&fx.cfg, 0, sizeof(fx.cfg));
	fx.cfg.ml_root = fx.dir;
	fx.cfg.job = "";
	tu_log_start(&fx.log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_log_stop(&fx.log);
	tu_log_clear(&fx.log);
	unsetenv("SAGEMAKER_RESOURCE_CONFIG_PATH");
	unsetenv("AWS_REGION");
	tu_rm_rf(fx.dir);
	free(fx.dir);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static size_t n_problems(void)
{
	return tu_log_count(&fx.log, PLOG_ERROR) + tu_log_count(&fx.log, PLOG_WARN);
}

static void test_finds_this_node(void **state)
{
	struct hyperpod hp;
	(void)state;

	assert_int_equal(hyperpod_parse(&hp, sample, PATH, own_worker2, 4), HYPERPOD_NODE);
	assert_string_equal(hp.cluster_name, "ml-cluster");
	assert_string_equal(hp.cluster_arn, ARN);
	assert_string_equal(hp.cluster_id, "abc123def456");
	assert_string_equal(hp.region, "us-west-2");
	assert_string_equal(hp.group, "worker-group-1");
	assert_string_equal(hp.instance, "worker-group-1-2");
	assert_string_equal(hp.instance_type, "ml.g5.8xlarge");
	assert_string_equal(hp.iface, "ens5");
	assert_int_equal(hp.n_instances, 3);
	assert_string_equal(hp.instances[0], "controller-machine-1");
	assert_string_equal(hp.instances[1], "worker-group-1-1");
	assert_string_equal(hp.instances[2], "worker-group-1-2");
	char *g = hyperpod_log_group(&hp), *s = hyperpod_log_stream(&hp, hp.instance);
	assert_string_equal(g, "/aws/sagemaker/Clusters/ml-cluster/abc123def456");
	assert_string_equal(s, "ml-cluster/worker-group-1/worker-group-1-2/porthole");
	free(g);
	free(s);
	assert_int_equal(n_problems(), 0);
	hyperpod_free(&hp);
}

static void test_address_spellings(void **state)
{
	/* Compared by value: a zero-padded IPv6 address is the same address. */
	static const char v6[] =
		"{\"ClusterConfig\": {\"ClusterArn\": \"" ARN "\", \"ClusterName\": \"c\"},"
		" \"InstanceGroups\": [{\"Name\": \"g\", \"Instances\": ["
		"  {\"InstanceName\": \"g-1\", \"CustomerIpAddress\": \"not-an-address\"},"
		"  {\"InstanceName\": \"g-2\", \"CustomerIpAddress\": \"fd00:0:0:0::0001\"}]}]}";
	static const struct hyperpod_addr own[] = { { "fd00::1", "eth0" } };
	struct hyperpod hp;
	(void)state;

	assert_int_equal(hyperpod_parse(&hp, v6, PATH, own, 1), HYPERPOD_NODE);
	assert_string_equal(hp.instance, "g-2");
	assert_string_equal(hp.iface, "eth0");
	hyperpod_free(&hp);
}

static void test_no_matching_instance(void **state)
{
	static const struct hyperpod_addr own[] = { { "127.0.0.1", "lo" }, { "192.168.7.7", "eth0" } };
	struct hyperpod hp;
	(void)state;

	assert_int_equal(hyperpod_parse(&hp, sample, PATH, own, 2), HYPERPOD_CLUSTER);
	assert_null(hp.instance);
	assert_null(hp.group);
	assert_string_equal(hp.cluster_name, "ml-cluster");
	assert_int_equal(hp.n_instances, 3);
	/* One error: the file, what was expected, and the addresses looked for. */
	assert_int_equal(tu_log_count(&fx.log, PLOG_ERROR), 1);
	const char *m = tu_log_find(&fx.log, "CustomerIpAddress");
	assert_non_null(m);
	assert_non_null(strstr(m, PATH));
	assert_non_null(strstr(m, "192.168.7.7"));
	char *s = hyperpod_log_stream(&hp, "ip-192-168-7-7");
	assert_string_equal(s, "ml-cluster/ip-192-168-7-7/porthole");
	free(s);
	hyperpod_free(&hp);
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *json;
		enum hyperpod_result want;
		const char *msg; /* in the one error */
	} cases[] = {
		{ "", HYPERPOD_NONE, "malformed JSON" },
		{ "{\"ClusterConfig\": {", HYPERPOD_NONE, "malformed JSON" },
		{ "[1, 2]", HYPERPOD_NONE, "not a JSON object" },
		{ "{}", HYPERPOD_NONE, "ClusterConfig.ClusterName is missing" },
		{ "{\"ClusterConfig\": \"ml-cluster\"}", HYPERPOD_NONE, "ClusterConfig.ClusterName is missing" },
		{ "{\"ClusterConfig\": {\"ClusterName\": 7}}", HYPERPOD_NONE, "ClusterConfig.ClusterName is missing" },
		{ "{\"ClusterConfig\": {\"ClusterName\": \"c\", \"ClusterArn\": \"" ARN "\"}}", HYPERPOD_CLUSTER,
		  "InstanceGroups is missing" },
		{ "{\"ClusterConfig\": {\"ClusterName\": \"c\", \"ClusterArn\": \"" ARN "\"}, \"InstanceGroups\": {}}",
		  HYPERPOD_CLUSTER, "InstanceGroups is missing" },
	};
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct hyperpod hp;
		tu_log_clear(&fx.log);
		enum hyperpod_result r = hyperpod_parse(&hp, cases[c].json, PATH, own_worker2, 4);
		TU_CHECK(r == cases[c].want, "%s: result %d, want %d", cases[c].json, r, cases[c].want);
		TU_CHECK(tu_log_count(&fx.log, PLOG_ERROR) == 1, "%s: %zu errors", cases[c].json,
			 tu_log_count(&fx.log, PLOG_ERROR));
		const char *m = tu_log_find(&fx.log, cases[c].msg);
		TU_CHECK(m && strstr(m, PATH) && strstr(m, "expected"), "%s: no error with \"%s\" naming the file: %s",
			 cases[c].json, cases[c].msg, tu_str(m));
		if (r != HYPERPOD_NONE)
			hyperpod_free(&hp);
	}
	TU_END();
}

static void test_bad_arn(void **state)
{
	static const char *const arns[] = { "\"\"", "\"cluster/abc\"", "\"arn:aws:sagemaker:us-west-2:1:cluster\"", "5",
					    NULL };
	(void)state;

	for (size_t i = 0; arns[i]; i++) {
		char *json = tu_path("{\"ClusterConfig\": {\"ClusterName\": \"c\", \"ClusterArn\": %s},"
				     " \"InstanceGroups\": [{\"Name\": \"g\", \"Instances\": ["
				     "  {\"InstanceName\": \"g-1\", \"CustomerIpAddress\": \"10.1.0.22\"}]}]}",
				     arns[i]);
		struct hyperpod hp;
		tu_log_clear(&fx.log);
		/* The node is still found; only the group and region are unknown. */
		TU_CHECK(hyperpod_parse(&hp, json, PATH, own_worker2, 4) == HYPERPOD_NODE, "%s", arns[i]);
		TU_CHECK(hp.cluster_arn == NULL && hp.cluster_id == NULL && hp.region == NULL, "%s: kept", arns[i]);
		char *g = hyperpod_log_group(&hp);
		TU_CHECK(g == NULL, "%s: group %s", arns[i], g);
		free(g);
		TU_CHECK(tu_log_find2(&fx.log, "ClusterArn", "PORTHOLE_LOG_GROUP") != NULL, "%s: no error", arns[i]);
		TU_CHECK(tu_log_count(&fx.log, PLOG_ERROR) == 1, "%s: %zu errors", arns[i],
			 tu_log_count(&fx.log, PLOG_ERROR));
		hyperpod_free(&hp);
		free(json);
	}
	TU_END();
}

static void test_odd_entries(void **state)
{
	/* Entries that are not what is expected are skipped (one warning), the
	 * rest still counts; of two instances with this machine's addresses
	 * the first is this node. */
	static const char odd[] =
		"{\"ClusterConfig\": {\"ClusterArn\": \"" ARN "\", \"ClusterName\": \"c\"},"
		" \"InstanceGroups\": [7, {\"Instances\": []}, {\"Name\": \"g\", \"Instances\": ["
		"  {\"CustomerIpAddress\": \"10.1.0.22\"}, \"x\","
		"  {\"InstanceName\": \"g-1\", \"CustomerIpAddress\": \"127.0.0.1\"},"
		"  {\"InstanceName\": \"g-2\", \"CustomerIpAddress\": \"10.1.0.22\"}]}]}";
	struct hyperpod hp;
	(void)state;

	assert_int_equal(hyperpod_parse(&hp, odd, PATH, own_worker2, 4), HYPERPOD_NODE);
	assert_string_equal(hp.instance, "g-1");
	assert_string_equal(hp.iface, "lo");
	assert_int_equal(hp.n_instances, 2);
	assert_int_equal(tu_log_count(&fx.log, PLOG_ERROR), 0);
	assert_non_null(tu_log_find(&fx.log, "4 InstanceGroups entries"));
	assert_non_null(tu_log_find2(&fx.log, "g-2", "this node is g-1"));
	hyperpod_free(&hp);
}

static void test_config_path(void **state)
{
	char buf[256];
	(void)state;

	hyperpod_config_path("/opt/ml", buf, sizeof(buf));
	assert_string_equal(buf, "/opt/ml/config/resource_config.json");
	setenv("SAGEMAKER_RESOURCE_CONFIG_PATH", "/etc/rc.json", 1);
	hyperpod_config_path("/opt/ml", buf, sizeof(buf));
	assert_string_equal(buf, "/etc/rc.json");
	setenv("SAGEMAKER_RESOURCE_CONFIG_PATH", "", 1);
	hyperpod_config_path("/x", buf, sizeof(buf));
	assert_string_equal(buf, "/x/config/resource_config.json");
}

static void test_own_addrs(void **state)
{
	struct hyperpod_addr *own;
	size_t n;
	bool lo = false;
	(void)state;

	assert_int_equal(hyperpod_own_addrs(&own, &n), 0);
	for (size_t i = 0; i < n; i++)
		lo |= strcmp(own[i].addr, "127.0.0.1") == 0 && strcmp(own[i].iface, "lo") == 0;
	assert_true(lo);
	free(own);
}

/* A node whose CustomerIpAddress is 127.0.0.1: identity_load finds it. */
static const char loopback_node[] =
	"{\"ClusterConfig\": {\"ClusterArn\": \"" ARN "\", \"ClusterName\": \"ml-cluster\"},"
	" \"InstanceGroups\": [{\"Name\": \"controller-machine\", \"Instances\": ["
	"   {\"InstanceName\": \"controller-machine-1\", \"CustomerIpAddress\": \"203.0.113.1\"}]},"
	"  {\"Name\": \"worker-group-1\", \"Instances\": ["
	"   {\"InstanceName\": \"worker-group-1-1\", \"CustomerIpAddress\": \"127.0.0.1\"}]}]}";

static void test_identity_on_node(void **state)
{
	struct identity id;
	char *path = tu_path("%s/config/resource_config.json", fx.dir);
	(void)state;

	tu_write_file(path, loopback_node);
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_false(id.sagemaker);
	assert_string_equal(id.platform, "hyperpod");
	assert_string_equal(id.job, "ml-cluster");
	assert_string_equal(id.host, "worker-group-1-1");
	assert_int_equal(id.n_hosts, 2);
	assert_string_equal(id.hosts[0], "controller-machine-1");
	assert_string_equal(id.hosts[1], "worker-group-1-1");
	assert_string_equal(id.group_name, "worker-group-1");
	assert_string_equal(id.iface, "lo");
	assert_string_equal(id.ipv4, "127.0.0.1");
	assert_string_equal(id.region, "us-west-2");
	assert_string_equal(id.cluster_arn, ARN);
	assert_string_equal(id.log_group, "/aws/sagemaker/Clusters/ml-cluster/abc123def456");
	assert_string_equal(id.log_stream, "ml-cluster/worker-group-1/worker-group-1-1/porthole");
	assert_int_equal(n_problems(), 0);
	cJSON *o = cJSON_CreateObject();
	identity_to_json(&id, o);
	assert_string_equal(cJSON_GetObjectItem(o, "platform")->valuestring, "hyperpod");
	assert_string_equal(cJSON_GetObjectItem(o, "cluster_arn")->valuestring, ARN);
	cJSON_Delete(o);
	identity_free(&id);

	/* The environment still wins for job and region. */
	setenv("AWS_REGION", "eu-central-1", 1);
	fx.cfg.job = "my-job";
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_string_equal(id.job, "my-job");
	assert_string_equal(id.region, "eu-central-1");
	assert_string_equal(id.log_stream, "ml-cluster/worker-group-1/worker-group-1-1/porthole");
	identity_free(&id);

	/* SAGEMAKER_RESOURCE_CONFIG_PATH names another file. */
	char *other = tu_path("%s/elsewhere.json", fx.dir);
	tu_write_file(other, "{\"ClusterConfig\": {\"ClusterName\": \"other\", \"ClusterArn\": "
			     "\"arn:aws:sagemaker:ap-south-1:1:cluster/zz9\"}, \"InstanceGroups\": []}");
	setenv("SAGEMAKER_RESOURCE_CONFIG_PATH", other, 1);
	fx.cfg.job = "";
	tu_log_clear(&fx.log);
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_string_equal(id.job, "other");
	assert_string_equal(id.log_group, "/aws/sagemaker/Clusters/other/zz9");
	/* Not found in the cluster: the hostname, listed among the hosts. */
	char hostname[256];
	gethostname(hostname, sizeof(hostname));
	assert_string_equal(id.host, hostname);
	assert_int_equal(id.n_hosts, 1);
	assert_null(id.group_name);
	assert_int_equal(tu_log_count(&fx.log, PLOG_ERROR), 1);
	assert_non_null(tu_log_find2(&fx.log, other, "CustomerIpAddress"));
	identity_free(&id);
	free(other);
	free(path);
}

static void test_identity_training_job_wins(void **state)
{
	struct identity id;
	char *rc = tu_path("%s/config/resource_config.json", fx.dir);
	char *tj = tu_path("%s/input/config/resourceconfig.json", fx.dir);
	(void)state;

	tu_write_file(rc, loopback_node);
	tu_write_file(tj, "{\"current_host\": \"algo-1\", \"hosts\": [\"algo-1\"]}");
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_true(id.sagemaker);
	assert_string_equal(id.platform, "training");
	assert_string_equal(id.host, "algo-1");
	assert_string_equal(id.job, "local");
	assert_null(id.cluster_arn);
	assert_null(id.log_group);
	assert_null(id.log_stream);
	identity_free(&id);

	/* A malformed node file: one error naming it, then the hostname. */
	unlink(tj);
	tu_write_file(rc, "{\"ClusterConfig\": ");
	tu_log_clear(&fx.log);
	identity_load(&id, fx.cfg.ml_root, fx.cfg.job);
	assert_string_equal(id.platform, "none");
	assert_string_equal(id.job, "local");
	assert_int_equal(tu_log_count(&fx.log, PLOG_ERROR), 1);
	assert_non_null(tu_log_find2(&fx.log, rc, "malformed JSON"));
	identity_free(&id);
	free(rc);
	free(tj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_finds_this_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_spellings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_matching_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_addrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_on_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_training_job_wins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
