/* SPDX-License-Identifier: Apache-2.0 */
/* test_hosts.c — the user side's pure parts: identity records out of
 * FilterLogEvents pages, host states, known_hosts entries, the ssh command
 * line and the error messages. */
#include "testutil.h"

#include "cloudwatch/hosts_reader.h"
#include "cloudwatch/records.h"
#include "cli/userssh.h"

/* An identity/ready event of job j1 as the publisher writes it. */
static cJSON *rec(const char *event, const char *job, const char *host, const char *state, const char *key)
{
	cJSON *m = cJSON_CreateObject(), *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(m, "version", 1);
	cJSON_AddStringToObject(m, "event", event);
	cJSON_AddStringToObject(m, "job", job);
	cJSON_AddStringToObject(m, "host", host);
	cJSON_AddStringToObject(d, "porthole", "ready");
	cJSON_AddStringToObject(d, "job", job);
	cJSON_AddStringToObject(d, "host", host);
	cJSON_AddStringToObject(d, "ip", "10.0.0.9");
	cJSON_AddNumberToObject(d, "port", 2222);
	cJSON_AddStringToObject(d, "host_key", key);
	cJSON_AddStringToObject(d, "fingerprint", key);
	cJSON_AddStringToObject(d, "state", state);
	cJSON *ssm = cJSON_AddObjectToObject(d, "ssm");
	cJSON_AddStringToObject(ssm, "target", "mi-0123");
	/* Older records tell the region only in the command. */
	cJSON_AddStringToObject(ssm, "command", "aws ssm start-session --target mi-0123 --region eu-north-1");
	cJSON_AddItemToObject(m, "data", d);
	return m;
}

struct pg {
	cJSON *root, *events;
};

static void pg_init(struct pg *p)
{
	p->root = cJSON_CreateObject();
	p->events = cJSON_AddArrayToObject(p->root, "events");
}

/* Adds msg (consumed) as an event; msg may be a raw string instead. */
static void pg_add(struct pg *p, const char *stream, double ts, cJSON *msg, const char *raw)
{
	cJSON *e = cJSON_CreateObject();
	char *text = msg ? cJSON_PrintUnformatted(msg) : strdup(raw);

	cJSON_AddStringToObject(e, "logStreamName", stream);
	cJSON_AddNumberToObject(e, "timestamp", ts);
	cJSON_AddStringToObject(e, "message", text);
	cJSON_AddItemToArray(p->events, e);
	free(text);
	cJSON_Delete(msg);
}

static int pg_merge(struct pg *p, struct hostset *set, const char *token, char **next)
{
	char *body;
	int rc;

	if (token)
		cJSON_AddStringToObject(p->root, "nextToken", token);
	body = cJSON_PrintUnformatted(p->root);
	rc = records_merge_page(set, "j1", body, next);
	free(body);
	cJSON_Delete(p->root);
	return rc;
}

static void test_records_merge(void **state)
{
	struct hostset set = { 0 };
	struct pg p;
	char *next = NULL, text[160];
	(void)state;

	pg_init(&p);
	pg_add(&p, "j1/algo-10-1/ssm", 100, rec("ready", "j1", "algo-10", "training", "k10"), NULL);
	pg_add(&p, "j1/algo-2-1/ssm", 100, rec("ready", "j1", "algo-2", "training", "k2-old"), NULL);
	pg_add(&p, "j1/algo-2-1/ssm", 300, rec("identity", "j1", "algo-2", "training", "k2"), NULL);
	/* Another job sharing the prefix rules would be wrong: checked by job. */
	pg_add(&p, "j1/algo-3-1/ssm", 100, rec("ready", "j1x", "algo-3", "training", "kx"), NULL);
	/* A record must not be able to write lines into known_hosts or
	 * ssh_config: a host name with a newline is not a host. */
	pg_add(&p, "j1/x/ssm", 100, rec("ready", "j1", "algo-4\nHost *", "training", "k4"), NULL);
	/* Noise the loose filter lets through. */
	pg_add(&p, "j1/algo-1-1", 50, NULL, "a training log line mentioning host_key");
	pg_add(&p, "j1/algo-1-1/ssm", 60, NULL, "{\"event\":\"log\",\"msg\":\"host_key\"}");
	assert_int_equal(pg_merge(&p, &set, "tok-2", &next), 0);
	assert_string_equal(next, "tok-2");
	free(next);

	/* Page two: the bare ready record from the training log, and algo-2's
	 * older record arriving late must not win. */
	pg_init(&p);
	cJSON *bare = rec("ready", "j1", "algo-1", "training", "k1");
	char *bare_text = cJSON_PrintUnformatted(cJSON_GetObjectItem(bare, "data"));
	pg_add(&p, "j1/algo-1-1", 70, NULL, bare_text);
	free(bare_text);
	cJSON_Delete(bare);
	pg_add(&p, "j1/algo-2-1/ssm", 200, rec("identity", "j1", "algo-2", "training", "k2-mid"), NULL);
	assert_int_equal(pg_merge(&p, &set, NULL, &next), 0);
	assert_null(next);

	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].host, "algo-1");
	assert_string_equal(set.v[1].host, "algo-2");
	assert_string_equal(set.v[2].host, "algo-10");
	assert_string_equal(set.v[1].host_key, "k2");
	assert_string_equal(set.v[1].stream, "j1/algo-2-1/ssm");
	assert_int_equal(set.v[1].port, 2222);
	assert_string_equal(set.v[0].host_key, "k1");
	assert_string_equal(set.v[0].ssm_target, "mi-0123");
	assert_string_equal(set.v[0].ssm_region, "eu-north-1");
	assert_null(records_find(&set, "algo-3"));
	assert_string_equal(set.v[0].ip, "10.0.0.9");
	assert_non_null(records_find(&set, "algo-10"));
	records_state_text(records_find(&set, "algo-10"), text, sizeof(text));
	assert_string_equal(text, "training");
	records_free(&set);

	assert_int_equal(records_merge_page(&set, "j1", "{\"nope\":1}", &next), -1);
	assert_int_equal(records_merge_page(&set, "j1", "not json", &next), -1);
	records_free(&set);
}

static void test_records_states(void **state)
{
	struct hostset set = { 0 };
	struct pg p;
	char *next, text[160];
	cJSON *held = rec("identity", "j1", "algo-1", "holding", "k");
	cJSON *end = cJSON_CreateObject(), *d = cJSON_AddObjectToObject(end, "data");
	(void)state;

	cJSON_AddStringToObject(cJSON_GetObjectItem(held, "data"), "deadline", "2026-11-23T12:00:00Z");
	cJSON_AddStringToObject(end, "event", "hold_end");
	cJSON_AddStringToObject(end, "job", "j1");
	cJSON_AddStringToObject(end, "host", "algo-1");
	cJSON_AddStringToObject(d, "reason", "release");
	pg_init(&p);
	pg_add(&p, "s", 10, held, NULL);
	assert_int_equal(pg_merge(&p, &set, NULL, &next), 0);
	records_state_text(&set.v[0], text, sizeof(text));
	assert_string_equal(text, "holding until 2026-11-23T12:00:00Z");
	assert_false(records_gone(&set.v[0]));

	pg_init(&p);
	pg_add(&p, "s", 20, end, NULL);
	pg_add(&p, "s", 30, rec("identity", "j1", "algo-1", "exiting", "k"), NULL);
	assert_int_equal(pg_merge(&p, &set, NULL, &next), 0);
	assert_true(records_gone(&set.v[0]));
	records_state_text(&set.v[0], text, sizeof(text));
	assert_string_equal(text, "released");

	/* Exiting without a release (the command ended, SIGTERM): gone.
	 * An address that is not one is dropped. */
	pg_init(&p);
	cJSON *bad_ip = rec("identity", "j1", "algo-2", "exiting", "k");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(bad_ip, "data"), "ip", cJSON_CreateString("10.0.0.1 -oProxyCommand=x"));
	pg_add(&p, "s", 5, bad_ip, NULL);
	/* A hold_end alone does not list a host. */
	cJSON *lone = cJSON_Parse("{\"event\":\"hold_end\",\"job\":\"j1\",\"host\":\"algo-3\",\"data\":{}}");
	pg_add(&p, "s", 5, lone, NULL);
	assert_int_equal(pg_merge(&p, &set, NULL, &next), 0);
	records_state_text(records_find(&set, "algo-2"), text, sizeof(text));
	assert_string_equal(text, "gone");
	assert_null(records_find(&set, "algo-2")->ip);
	assert_null(records_find(&set, "algo-3"));
	records_free(&set);
}

static void test_filter_body(void **state)
{
	char *b = records_filter_body("/g", "my-job", NULL);
	cJSON *j = cJSON_Parse(b);
	(void)state;

	assert_string_equal(cJSON_GetObjectItem(j, "logGroupName")->valuestring, "/g");
	assert_string_equal(cJSON_GetObjectItem(j, "logStreamNamePrefix")->valuestring, "my-job/");
	assert_non_null(strstr(cJSON_GetObjectItem(j, "filterPattern")->valuestring, "host_key"));
	assert_null(cJSON_GetObjectItem(j, "nextToken"));
	cJSON_Delete(j);
	free(b);
	b = records_filter_body("/g", "my-job", "T");
	j = cJSON_Parse(b);
	assert_string_equal(cJSON_GetObjectItem(j, "nextToken")->valuestring, "T");
	cJSON_Delete(j);
	free(b);
}

static void test_trust(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path("%s/a/b/known_hosts", dir), *text;
	(void)state;

	assert_int_equal(userssh_trust(path, "j.algo-1.porthole", "ssh-ed25519 AAAA1"), 0);
	assert_int_equal(userssh_trust(path, "j.algo-2.porthole", "ssh-ed25519 AAAA2"), 0);
	/* A new key for the same host replaces the entry; others stay. */
	assert_int_equal(userssh_trust(path, "j.algo-1.porthole", "ssh-ed25519 AAAA3"), 0);
	text = tu_read_file(path);
	assert_string_equal(text, "j.algo-2.porthole ssh-ed25519 AAAA2\nj.algo-1.porthole ssh-ed25519 AAAA3\n");
	free(text);
	/* A published key cannot smuggle in a second line. */
	assert_int_equal(userssh_trust(path, "j.algo-1.porthole", "ssh-ed25519 A\n* ssh-ed25519 B"), -EINVAL);
	struct stat st;
	char *parent = tu_path("%s/a/b", dir);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(parent);
	tu_rm_rf(dir);
	free(path);
	free(dir);
}

static void test_argv(void **state)
{
	struct host_rec h = { .host = "algo-2", .ip = "10.0.0.2", .port = 2222 };
	struct userssh_cmd c = { 0 };
	char *a1[] = { "-i", "key", "-vt", "hostname", "-f" };
	char *a2[] = { "-p", "22", "-lubuntu", "--", "-weird" };
	char joined[1024];
	(void)state;

	assert_int_equal(userssh_argv(&c, "job", &h, "/kh", NULL, 5, a1), 0);
	joined[0] = '\0';
	for (char **v = c.argv; *v; v++)
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s|", *v);
	assert_string_equal(joined, "ssh|-i|key|-vt|-o|StrictHostKeyChecking=yes|-o|UserKnownHostsFile=\"/kh\"|-o|"
				    "HostKeyAlias=job.algo-2.porthole|-p|2222|-l|root|10.0.0.2|hostname|-f|");
	userssh_cmd_free(&c);

	assert_int_equal(userssh_argv(&c, "job", &h, "/kh", NULL, 5, a2), 0);
	joined[0] = '\0';
	for (char **v = c.argv; *v; v++)
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s|", *v);
	assert_string_equal(joined, "ssh|-p|22|-lubuntu|-o|StrictHostKeyChecking=yes|-o|UserKnownHostsFile=\"/kh\"|"
				    "-o|HostKeyAlias=job.algo-2.porthole|10.0.0.2|--|-weird|");
	userssh_cmd_free(&c);
}

/* SSH over Session Manager: the tunnel as ProxyCommand, the host key still
 * checked under its alias; nothing the shell would interpret. */
static void test_ssm_proxy(void **state)
{
	struct host_rec h = { .host = "algo-1", .ip = "10.0.0.2", .port = 22,
			      .ssm_target = "sagemaker-training-job:job_algo-1", .ssm_region = "eu-west-1" };
	struct userssh_cmd c = { 0 };
	char proxy[1024], joined[2048], *text = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;

	assert_int_equal(userssh_ssm_proxy(&h, proxy, sizeof(proxy)), 0);
	assert_string_equal(proxy, "aws ssm start-session --target sagemaker-training-job:job_algo-1 "
				   "--document-name AWS-StartSSHSession --parameters portNumber=22 --region eu-west-1");
	assert_int_equal(userssh_argv(&c, "job", &h, "/kh", proxy, 0, NULL), 0);
	joined[0] = '\0';
	for (char **v = c.argv; *v; v++)
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s|", *v);
	assert_non_null(strstr(joined, "|-o|StrictHostKeyChecking=yes|"));
	assert_non_null(strstr(joined, "|-o|HostKeyAlias=job.algo-1.porthole|-o|ProxyCommand=aws ssm start-session "));
	userssh_cmd_free(&c);

	f = open_memstream(&text, &len);
	userssh_config_block(f, "job", &h, "/kh", proxy);
	fclose(f);
	assert_non_null(strstr(text, "Host job-algo-1\n    ProxyCommand aws ssm start-session --target "));
	assert_null(strstr(text, "HostName"));
	assert_non_null(strstr(text, "    HostKeyAlias job.algo-1.porthole\n"));
	assert_non_null(strstr(text, "    StrictHostKeyChecking yes\n"));
	free(text);

	h.ssm_region = NULL; /* aws's own region then */
	assert_int_equal(userssh_ssm_proxy(&h, proxy, sizeof(proxy)), 0);
	assert_null(strstr(proxy, "--region"));
	h.ssm_target = "mi-0123;rm -rf ~";
	assert_int_equal(userssh_ssm_proxy(&h, proxy, sizeof(proxy)), -EINVAL);
	h.ssm_target = NULL;
	assert_int_equal(userssh_ssm_proxy(&h, proxy, sizeof(proxy)), -EINVAL);
	h.ssm_target = "mi-0123";
	h.ssm_region = "us-east-1 x";
	assert_int_equal(userssh_ssm_proxy(&h, proxy, sizeof(proxy)), -EINVAL);
}

static void test_explain(void **state)
{
	struct aws_result r = { .outcome = AWS_ERROR, .status = 400, .code = "AccessDeniedException",
				.message = "not authorized" };
	char err[512];
	(void)state;

	hosts_reader_explain(&r, "FilterLogEvents", "/g", "us-east-1", err, sizeof(err));
	assert_non_null(strstr(err, "logs:FilterLogEvents"));
	assert_non_null(strstr(err, "denied"));
	r.code = "ResourceNotFoundException";
	hosts_reader_explain(&r, "FilterLogEvents", "/g", "us-east-1", err, sizeof(err));
	assert_non_null(strstr(err, "log group /g does not exist in us-east-1"));
	r.outcome = AWS_NO_CREDS;
	r.message = "nothing configured";
	hosts_reader_explain(&r, "FilterLogEvents", "/g", "us-east-1", err, sizeof(err));
	assert_string_equal(err, "no AWS credentials: nothing configured");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_merge), cmocka_unit_test(test_records_states),
		cmocka_unit_test(test_filter_body),   cmocka_unit_test(test_trust),
		cmocka_unit_test(test_argv),          cmocka_unit_test(test_ssm_proxy),
		cmocka_unit_test(test_explain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
