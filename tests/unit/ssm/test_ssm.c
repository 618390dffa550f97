/* SPDX-License-Identifier: Apache-2.0 */
/* test_ssm.c — the SSM endpoint's pure parts: agent log lines, line
 * splitting, request bodies, answers and advice. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/ssm_api.h"
#include "ssm/ssm_log.h"
#include "ssm/ssm_sessions.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_log_parse(void **state)
{
	static const struct {
		const char *line;
		int rc;
		enum plog_level lvl;
		const char *word, *msg;
	} cases[] = {
		{ "2025-06-24 23:37:35.7201 ERROR [Func @ file.go.123] message", 0, PLOG_ERROR, "ERROR",
		  "[Func @ file.go.123] message" },
		{ "2025-06-24 23:37:35 INFO [ssm-agent-worker] started", 0, PLOG_INFO, "INFO", "[ssm-agent-worker] started" },
		{ "2025-06-24 23:37:35.1 CRITICAL [x] y", 0, PLOG_ERROR, "CRITICAL", "[x] y" },
		{ "2025-06-24 23:37:35.1 WARN [x] y", 0, PLOG_WARN, "WARN", "[x] y" },
		{ "2025-06-24 23:37:35.1 DEBUG [x] y", 0, PLOG_DEBUG, "DEBUG", "[x] y" },
		{ "2025-06-24 23:37:35.1 ERRORS [x] y", -1, 0, NULL, NULL },
		{ "2025-06-24 23:37:35.1  ERROR [x] y", -1, 0, NULL, NULL },
		{ "2025-06-24T23:37:35Z ERROR [x] y", -1, 0, NULL, NULL },
		{ "\tat main.go:12", -1, 0, NULL, NULL },
		{ "", -1, 0, NULL, NULL },
		{ "2025-06-2", -1, 0, NULL, NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum plog_level lvl = PLOG_NONE;
		char word[16] = "";
		const char *msg = NULL;
		int rc = ssm_log_parse(cases[i].line, &lvl, word, sizeof(word), &msg);
		TU_CHECK(rc == cases[i].rc, "\"%s\": rc %d", cases[i].line, rc);
		if (rc == 0) {
			TU_CHECK(lvl == cases[i].lvl, "\"%s\": level %d", cases[i].line, lvl);
			TU_CHECK(strcmp(word, cases[i].word) == 0, "\"%s\": word %s", cases[i].line, word);
			TU_CHECK(strcmp(msg, cases[i].msg) == 0, "\"%s\": msg %s", cases[i].line, msg);
		}
	}
	TU_END();
}

struct collected {
	char lines[8][2100];
	int n;
};

static void collect(void *ud, const char *line)
{
	struct collected *c = ud;

	if (c->n < 8)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s", line);
}

static void test_lines(void **state)
{
	struct ssm_lines l = { .len = 0 };
	struct collected c = { .n = 0 };
	char big[3000];
	(void)state;

	ssm_log_lines_feed(&l, "one\r\ntw", 7, collect, &c);
	assert_int_equal(c.n, 1);
	ssm_log_lines_feed(&l, "o\n\nthree", 8, collect, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.lines[0], "one");
	assert_string_equal(c.lines[1], "two");
	ssm_log_lines_feed(&l, "\n", 1, collect, &c);
	assert_string_equal(c.lines[2], "three");
	/* Longer than the buffer: delivered in pieces, nothing lost. */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ssm_log_lines_feed(&l, big, sizeof(big), collect, &c);
	assert_int_equal(c.n, 5);
	assert_int_equal(strlen(c.lines[3]) + strlen(c.lines[4]), sizeof(big) - 1);
}

static const char *tag(const cJSON *tags, const char *key)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, tags)
		if (strcmp(cJSON_GetObjectItem(t, "Key")->valuestring, key) == 0)
			return cJSON_GetObjectItem(t, "Value")->valuestring;
	return NULL;
}

static void test_bodies(void **state)
{
	cJSON *b = ssm_api_activation_body("role-x", "job-1", "algo-2", 1000000);
	(void)state;

	assert_string_equal(cJSON_GetObjectItem(b, "IamRole")->valuestring, "role-x");
	assert_int_equal(cJSON_GetObjectItem(b, "RegistrationLimit")->valueint, 1);
	assert_int_equal((long)cJSON_GetObjectItem(b, "ExpirationDate")->valuedouble, 1003600);
	assert_string_equal(cJSON_GetObjectItem(b, "DefaultInstanceName")->valuestring, "job-1/algo-2");
	assert_string_equal(tag(cJSON_GetObjectItem(b, "Tags"), "job"), "job-1");
	assert_string_equal(tag(cJSON_GetObjectItem(b, "Tags"), "host"), "algo-2");
	cJSON_Delete(b);

	b = ssm_api_tags_body("mi-0123456789abcdef0", "j", "h", "0.1.0");
	assert_string_equal(cJSON_GetObjectItem(b, "ResourceType")->valuestring, "ManagedInstance");
	assert_string_equal(cJSON_GetObjectItem(b, "ResourceId")->valuestring, "mi-0123456789abcdef0");
	assert_string_equal(tag(cJSON_GetObjectItem(b, "Tags"), "porthole"), "0.1.0");
	cJSON_Delete(b);

	b = ssm_api_deregister_body("mi-0123456789abcdef0");
	assert_string_equal(cJSON_GetObjectItem(b, "InstanceId")->valuestring, "mi-0123456789abcdef0");
	cJSON_Delete(b);
}

static void test_answers(void **state)
{
	char id[64], code[64];
	static const char ok[] = "{\"ActivationId\":\"a-1\",\"ActivationCode\":\"c-2\"}";
	static const char half[] = "{\"ActivationId\":\"a-1\"}";
	(void)state;

	assert_int_equal(ssm_api_activation_parse(ok, strlen(ok), id, sizeof(id), code, sizeof(code)), 0);
	assert_string_equal(id, "a-1");
	assert_string_equal(code, "c-2");
	assert_int_equal(ssm_api_activation_parse(half, strlen(half), id, sizeof(id), code, sizeof(code)), -1);
	assert_int_equal(ssm_api_activation_parse("nope", 4, id, sizeof(id), code, sizeof(code)), -1);

	assert_int_equal(ssm_api_registered_id("x\nSuccessfully registered the instance with AWS SSM using Managed "
					       "instance-id: mi-0123456789abcdef0\n", id, sizeof(id)), 0);
	assert_string_equal(id, "mi-0123456789abcdef0");
	assert_int_equal(ssm_api_registered_id("Registration failed", id, sizeof(id)), -1);
	assert_int_equal(ssm_api_registered_id("Managed instance-id: i-123", id, sizeof(id)), -1);
	assert_int_equal(ssm_api_registered_id("Managed instance-id: mi-0123456789abcdef0", id, 8), -1);

	const char *a = ssm_api_advice("CreateActivation", "AccessDeniedException");
	assert_non_null(strstr(a, "ssm:CreateActivation"));
	assert_non_null(strstr(a, "iam:PassRole"));
	assert_non_null(strstr(a, "iam:PassedToService = ssm.amazonaws.com"));
	assert_non_null(strstr(ssm_api_advice("DeregisterManagedInstance", "AccessDeniedException"),
			       "ssm:DeregisterManagedInstance"));
	assert_string_equal(ssm_api_advice("CreateActivation", "ThrottlingException"), "");
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

struct followed_lines {
	char got[8][128];
	int n;
};

static void on_followed(void *ud, const char *file, const char *line)
{
	struct followed_lines *c = ud;

	if (c->n < 8)
		snprintf(c->got[c->n++], sizeof(c->got[0]), "%s:%s", file, line);
}

/* Let the loop handle what inotify reported (no polling: one pass each). */
static void settle(sd_event *loop)
{
	for (int i = 0; i < 5; i++)
		sd_event_run(loop, 20000);
}

static void test_follow(void **state)
{
	static const char *const files[] = { "errors.log", "amazon-ssm-agent.log", NULL };
	struct followed_lines c = { .n = 0 };
	struct ssm_follow *f = NULL;
	sd_event *loop = NULL;
	char *dir = tu_tmpdir();
	char *errors = tu_path("%s/errors.log", dir), *other = tu_path("%s/amazon-ssm-agent.log", dir);
	char *rolled = tu_path("%s/errors.log.1", dir);
	(void)state;

	assert_int_equal(sd_event_new(&loop), 0);
	tu_write_file(errors, "old line, from before porthole looked\n");
	assert_int_equal(ssm_log_follow_new(loop, dir, files, on_followed, &c, &f), 0);
	append(errors, "one\ntw");
	settle(loop);
	append(errors, "o\n");
	append(other, "agent\n");           /* created after the watch began: read from its start */
	settle(loop);
	/* Rolled: renamed away, a new file under the name. */
	assert_int_equal(rename(errors, rolled), 0);
	append(errors, "three\n");
	settle(loop);
	/* Truncated in place. */
	tu_write_file(errors, "");
	append(errors, "four\n");
	settle(loop);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.got[0], "errors.log:one");
	assert_string_equal(c.got[1], "errors.log:two");
	assert_string_equal(c.got[2], "amazon-ssm-agent.log:agent");
	assert_string_equal(c.got[3], "errors.log:three");
	assert_string_equal(c.got[4], "errors.log:four");
	ssm_log_follow_free(f);
	sd_event_unref(loop);
	tu_rm_rf(dir);
	free(errors);
	free(other);
	free(rolled);
	free(dir);
}

/* A grandchild descends from this process; this process does not descend
 * from its child, and a sibling tree (PID 1's other children) is not ours. */
static void test_descends(void **state)
{
	int ready[2];
	pid_t child, grandchild;
	char c;
	(void)state;

	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(ready[0]);
		if (fork() == 0) {
			/* The grandchild: says it runs, then waits to be killed. */
			if (write(ready[1], "g", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);

	/* The grandchild's pid: the only child of child, from /proc. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)child, (int)child);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int g = 0;
	assert_int_equal(fscanf(f, "%d", &g), 1);
	fclose(f);
	grandchild = (pid_t)g;

	assert_true(ssm_sessions_proc_descends(grandchild, getpid()));
	assert_true(ssm_sessions_proc_descends(grandchild, child));
	assert_true(ssm_sessions_proc_descends(getpid(), getpid()));
	assert_false(ssm_sessions_proc_descends(getpid(), child));
	assert_false(ssm_sessions_proc_descends(child, grandchild));
	assert_false(ssm_sessions_proc_descends(getppid(), getpid()));
	assert_false(ssm_sessions_proc_descends(999999999, getpid())); /* no such process */

	kill(grandchild, SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_parse),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_descends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
