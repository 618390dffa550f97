/* SPDX-License-Identifier: Apache-2.0 */
/* test_cwlogs.c — CloudWatch Logs bodies and answers. */
#include "testutil.h"

#include "cloudwatch/cwlogs.h"

static void test_rejected(void **state)
{
	static const struct {
		const char *body;
		size_t n, bad;
		long new_start, old_end, exp_end;
	} cases[] = {
		{ "{\"nextSequenceToken\":\"1\"}", 10, 0, -1, -1, -1 },
		{ "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":3}}", 10, 3, -1, 3, -1 },
		{ "{\"rejectedLogEventsInfo\":{\"tooNewLogEventStartIndex\":8}}", 10, 2, 8, -1, -1 },
		{ "{\"rejectedLogEventsInfo\":{\"expiredLogEventEndIndex\":4,\"tooOldLogEventEndIndex\":2}}", 10, 4, -1,
		  2, 4 },
		{ "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":2,\"tooNewLogEventStartIndex\":9}}", 10, 3, 9,
		  2, -1 },
		{ "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":5,\"tooNewLogEventStartIndex\":3}}", 10, 10, 3,
		  5, -1 },
		{ "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":50}}", 10, 10, -1, 50, -1 },
		{ "not json", 10, 0, -1, -1, -1 },
		{ "", 10, 0, -1, -1, -1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cwlogs_rejected r;
		size_t bad = cwlogs_rejected(cases[i].body, cases[i].n, &r);
		TU_CHECK(bad == cases[i].bad && r.too_new_start == cases[i].new_start &&
				 r.too_old_end == cases[i].old_end && r.expired_end == cases[i].exp_end,
			 "row %zu: bad %zu new %ld old %ld exp %ld", i, bad, r.too_new_start, r.too_old_end,
			 r.expired_end);
	}
	TU_END();
}

static void test_put_body(void **state)
{
	struct spool_rec recs[3] = {
		{ .ts_ms = 1000, .msg = "{\"a\":\"\\\"q\\\"\"}", .len = 12 },
		{ .ts_ms = 1001, .msg = NULL },
		{ .ts_ms = 1002, .msg = "caf\xc3\xa9", .len = 5 },
	};
	(void)state;

	char *body = cwlogs_put_body("/aws/g", "j/algo-1-1/ssm", recs, 3);
	cJSON *j = cJSON_Parse(body);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "logGroupName")->valuestring, "/aws/g");
	assert_string_equal(cJSON_GetObjectItem(j, "logStreamName")->valuestring, "j/algo-1-1/ssm");
	cJSON *evs = cJSON_GetObjectItem(j, "logEvents");
	assert_int_equal(cJSON_GetArraySize(evs), 2); /* the unreadable record is left out */
	assert_int_equal((long)cJSON_GetObjectItem(cJSON_GetArrayItem(evs, 0), "timestamp")->valuedouble, 1000);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(evs, 0), "message")->valuestring, recs[0].msg);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(evs, 1), "message")->valuestring, "caf\xc3\xa9");
	cJSON_Delete(j);
	free(body);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(cwlogs_valid_group("/aws/sagemaker/TrainingJobs"));
	assert_true(cwlogs_valid_group("a.b-c_d#e"));
	assert_false(cwlogs_valid_group(""));
	assert_false(cwlogs_valid_group("has space"));
	assert_false(cwlogs_valid_group("a:b"));
	assert_true(cwlogs_valid_stream("job/algo-1-1732359048/ssm"));
	assert_true(cwlogs_valid_stream("with space and \xc3\xa9"));
	assert_false(cwlogs_valid_stream("a:b"));
	assert_false(cwlogs_valid_stream("a*b"));
	assert_false(cwlogs_valid_stream("nl\n"));
	assert_false(cwlogs_valid_stream(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_put_body),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
