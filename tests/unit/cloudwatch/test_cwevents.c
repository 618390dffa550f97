/* SPDX-License-Identifier: Apache-2.0 */
/* test_cwevents.c — event JSON from hostile input: quotes, backslashes,
 * control bytes and invalid UTF-8 must still give valid JSON and UTF-8. */
#include "testutil.h"

#include "cloudwatch/events.h"

/* A strict check that s is one JSON value made only of valid UTF-8 with
 * no raw control characters: what CloudWatch and readers need. */
static bool strict_json(const char *s)
{
	size_t n = strlen(s);
	cJSON *j;

	if (!utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	j = cJSON_ParseWithOpts(s, NULL, 1);
	cJSON_Delete(j);
	return j != NULL;
}

static void test_utf8_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xff", "\xef\xbf\xbd" },
		{ "a\x80z", "a\xef\xbf\xbdz" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },               /* overlong '/' */
		{ "\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong, 3 bytes */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
		{ "end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd" },          /* truncated at the end */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = utf8_sanitize(cases[i].in, strlen(cases[i].in));
		TU_CHECK(tu_streq(got, cases[i].out), "row %zu", i);
		TU_CHECK(utf8_valid(got, strlen(got)), "row %zu: output invalid", i);
		free(got);
	}
	TU_END();
}

static void test_event_hostile(void **state)
{
	static const char *const hostile[] = {
		"quote \" backslash \\ slash /",
		"newline\n cr\r tab\t bell\a esc\x1b del\x7f",
		"\x01\x02\x03\x1f",
		"invalid \xff\xfe utf-8 \xc3",
		"\"}, {\"level\":\"error\"",
		"\xe2\x80\xa8 line separator \xe2\x80\xa9",
		"",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, hostile[i], hostile[i]); /* hostile key too */
		cJSON_AddNumberToObject(f, "n", 1.5);
		cJSON *arr = cJSON_AddArrayToObject(f, "list");
		cJSON_AddItemToArray(arr, cJSON_CreateString(hostile[i]));
		char *s = events_encode(1700000000123, "warning", hostile[i], hostile[i], hostile[i], hostile[i], f);
		assert_non_null(s);
		TU_CHECK(strict_json(s), "row %zu: not strict JSON: %s", i, s);
		cJSON *j = cJSON_Parse(s);
		TU_CHECK(cJSON_IsObject(j), "row %zu", i);
		const cJSON *msg = cJSON_GetObjectItem(j, "msg");
		/* Valid input comes back byte for byte. */
		if (utf8_valid(hostile[i], strlen(hostile[i])))
			TU_CHECK(cJSON_IsString(msg) && strcmp(msg->valuestring, hostile[i]) == 0, "row %zu: msg changed",
				 i);
		cJSON_Delete(j);
		cJSON_Delete(f);
		free(s);
	}
	TU_END();
}

static void test_event_shape(void **state)
{
	cJSON *f = cJSON_CreateObject();
	(void)state;

	cJSON_AddStringToObject(f, "ip", "10.0.0.1");
	char *s = events_encode(1700000000123, "info", "identity", "job-1", "algo-1", NULL, f);
	cJSON *j = cJSON_Parse(s);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, EVENTS_SCHEMA);
	assert_string_equal(cJSON_GetObjectItem(j, "ts")->valuestring, "2023-11-14T22:13:20.123Z");
	assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "info");
	assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "identity");
	assert_string_equal(cJSON_GetObjectItem(j, "job")->valuestring, "job-1");
	assert_string_equal(cJSON_GetObjectItem(j, "host")->valuestring, "algo-1");
	assert_null(cJSON_GetObjectItem(j, "msg"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "ip")->valuestring, "10.0.0.1");
	assert_null(strchr(s, '\n'));
	cJSON_Delete(j);
	free(s);
	s = events_encode(5, "warning", NULL, "j", "h", "m", NULL);
	j = cJSON_Parse(s);
	assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "log");
	assert_string_equal(cJSON_GetObjectItem(j, "ts")->valuestring, "1970-01-01T00:00:00.005Z");
	assert_null(cJSON_GetObjectItem(j, "data"));
	cJSON_Delete(j);
	free(s);
	cJSON_Delete(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_event_hostile),
		cmocka_unit_test(test_event_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
