/* SPDX-License-Identifier: Apache-2.0 */
/* test_duration.c — duration_parse / duration_format. */
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>

#include "lib/duration.h"

#define MIN_ 60u
#define HOUR_ 3600u
#define DAY_ 86400u

static void test_parse_accepts(void **state)
{
	static const struct {
		const char *in;
		uint64_t sec;
	} cases[] = {
		{ "90s", 90 },
		{ "30m", 30 * MIN_ },
		{ "1h30m", HOUR_ + 30 * MIN_ },
		{ "2d", 2 * DAY_ },
		{ "0", 0 },
		{ "1800", 1800 },
		{ "1h0m5s", HOUR_ + 5 },
		{ "0s", 0 },
		{ "0m", 0 },
		{ "45s", 45 },
		{ "1d2h3m4s", DAY_ + 2 * HOUR_ + 3 * MIN_ + 4 },
		{ "1d4s", DAY_ + 4 },
		{ "2h15s", 2 * HOUR_ + 15 },
		{ "007m", 7 * MIN_ },
		{ "90m", 90 * MIN_ }, /* a unit may exceed the next larger one */
		{ "120s", 120 },
		{ "36500d", DURATION_MAX_SEC },          /* exactly 100 years */
		{ "3153600000", DURATION_MAX_SEC },      /* the same in seconds */
		{ "36499d23h59m59s", DURATION_MAX_SEC - 1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t sec = 12345;
		int rc = duration_parse(cases[i].in, &sec);
		TU_CHECK(rc == 0, "duration_parse(\"%s\") = %d, want 0", cases[i].in, rc);
		TU_CHECK(sec == cases[i].sec, "duration_parse(\"%s\") gave %" PRIu64 " s, want %" PRIu64, cases[i].in,
			 sec, cases[i].sec);
	}
	TU_END();
}

static void test_parse_rejects(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *why;
	} cases[] = {
		{ "", -EINVAL, "empty" },
		{ "abc", -EINVAL, "not a number" },
		{ "-5m", -EINVAL, "negative" },
		{ "-5", -EINVAL, "negative seconds" },
		{ "+5m", -EINVAL, "sign" },
		{ "1h30", -EINVAL, "bare number after a unit" },
		{ "1s0", -EINVAL, "bare number after a unit" },
		{ "30m1h", -EINVAL, "units out of order" },
		{ "5s1d", -EINVAL, "units out of order" },
		{ "1h1h", -EINVAL, "repeated unit" },
		{ "5mm", -EINVAL, "unit without a number" },
		{ "m", -EINVAL, "unit without a number" },
		{ "h30m", -EINVAL, "unit without a number" },
		{ "5x", -EINVAL, "unknown unit" },
		{ "5M", -EINVAL, "units are lower case" },
		{ "5ms", -EINVAL, "milliseconds are not a unit" },
		{ " 5m", -EINVAL, "leading space" },
		{ "5m ", -EINVAL, "trailing space" },
		{ "5 m", -EINVAL, "inner space" },
		{ "1.5h", -EINVAL, "fraction" },
		{ "0x10", -EINVAL, "hex" },
		{ "1e3", -EINVAL, "exponent" },
		{ "36501d", -ERANGE, "over 100 years in days" },
		{ "876001h", -ERANGE, "over 100 years in hours" },
		{ "3153600001", -ERANGE, "over 100 years in seconds" },
		{ "36500d1s", -ERANGE, "100 years and a second" },
		{ "99999999999999999999999999", -ERANGE, "would overflow 64 bits" },
		{ "18446744073709551616", -ERANGE, "2^64: must not wrap to 0" },
		{ "18446744073709551617s", -ERANGE, "2^64+1 s: must not wrap to 1" },
		{ "213503982334601d", -ERANGE, "days that overflow when multiplied" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t sec = 777;
		int rc = duration_parse(cases[i].in, &sec);
		TU_CHECK(rc == cases[i].rc, "duration_parse(\"%s\") = %d, want %d (%s)", cases[i].in, rc, cases[i].rc,
			 cases[i].why);
		TU_CHECK(sec == 777, "duration_parse(\"%s\") failed but changed *sec to %" PRIu64, cases[i].in, sec);
	}
	{
		uint64_t sec = 777;
		TU_CHECK(duration_parse(NULL, &sec) == -EINVAL, "duration_parse(NULL) should be -EINVAL");
		TU_CHECK(sec == 777, "duration_parse(NULL) changed *sec");
	}
	TU_END();
}

static void test_format(void **state)
{
	static const struct {
		uint64_t sec;
		const char *out;
	} cases[] = {
		{ 0, "0s" },
		{ 1, "1s" },
		{ 45, "45s" },
		{ 60, "1m" },
		{ 90, "1m30s" },
		{ 1800, "30m" },
		{ 3600, "1h" },
		{ 3605, "1h5s" },
		{ 5400, "1h30m" },
		{ 86400, "1d" },
		{ 2 * 86400, "2d" },
		{ 86400 + 2 * 3600 + 3 * 60 + 4, "1d2h3m4s" },
		{ 14400, "4h" },
		{ DURATION_MAX_SEC, "36500d" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		memset(buf, 'X', sizeof(buf));
		char *r = duration_format(cases[i].sec, buf, sizeof(buf));
		TU_CHECK(r == buf, "duration_format must return buf");
		TU_CHECK(strcmp(buf, cases[i].out) == 0, "duration_format(%" PRIu64 ") = \"%s\", want \"%s\"",
			 cases[i].sec, buf, cases[i].out);
	}
	TU_END();
}

static void test_format_small_buffer(void **state)
{
	char buf[5];
	(void)state;

	/* Never overruns and always terminates: a prefix of the full text. */
	memset(buf, 'X', sizeof(buf));
	duration_format(86400 + 2 * 3600 + 3 * 60 + 4, buf, sizeof(buf));
	assert_non_null(memchr(buf, '\0', sizeof(buf)));
	assert_true(strncmp("1d2h3m4s", buf, strlen(buf)) == 0);

	char one[1] = { 'X' };
	duration_format(90, one, sizeof(one));
	assert_int_equal(one[0], '\0');
}

static void test_round_trip(void **state)
{
	static const uint64_t samples[] = {
		0, 1, 59, 60, 61, 599, 600, 1799, 1800, 3599, 3600, 3601, 5400, 86399, 86400, 86401,
		90061, 604800, 2592000, 31536000, DURATION_MAX_SEC - 1, DURATION_MAX_SEC,
	};
	char buf[64];
	(void)state;

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		uint64_t back = 0;
		duration_format(samples[i], buf, sizeof(buf));
		int rc = duration_parse(buf, &back);
		TU_CHECK(rc == 0 && back == samples[i], "%" PRIu64 " -> \"%s\" -> rc %d, %" PRIu64, samples[i], buf, rc,
			 back);
	}
	/* A sweep with an odd stride touches every unit combination. */
	for (uint64_t s = 0; s < 3 * 86400; s += 997) {
		uint64_t back = 0;
		duration_format(s, buf, sizeof(buf));
		int rc = duration_parse(buf, &back);
		TU_CHECK(rc == 0 && back == s, "%" PRIu64 " -> \"%s\" -> rc %d, %" PRIu64, s, buf, rc, back);
	}
	/* Canonical text comes back unchanged. */
	static const char *const canon[] = { "0s", "45s", "1m30s", "30m", "1h", "1h30m", "1h5s", "2d", "1d2h3m4s" };
	for (size_t i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		uint64_t sec = 0;
		TU_CHECK(duration_parse(canon[i], &sec) == 0, "parse \"%s\"", canon[i]);
		duration_format(sec, buf, sizeof(buf));
		TU_CHECK(strcmp(buf, canon[i]) == 0, "\"%s\" -> %" PRIu64 " -> \"%s\"", canon[i], sec, buf);
	}
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_parse_accepts, tu_setup),
		cmocka_unit_test_setup(test_parse_rejects, tu_setup),
		cmocka_unit_test_setup(test_format, tu_setup),
		cmocka_unit_test_setup(test_format_small_buffer, tu_setup),
		cmocka_unit_test_setup(test_round_trip, tu_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
