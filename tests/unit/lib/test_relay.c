/* SPDX-License-Identifier: Apache-2.0 */
/* test_relay.c — sshd_relay.c: report lines split out of pipe reads, and
 * the reports parsed from them. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>

#include "lib/relay.h"

struct seen {
	char lines[8][64];
	int n;
};

static void collect(void *ud, const char *line)
{
	struct seen *s = ud;

	assert_true(s->n < 8);
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s", line);
}

static int add(struct relay_lines *l, const char *text, size_t max, void (*fn)(void *, const char *), void *ud)
{
	return relay_lines_add(l, text, strlen(text), max, fn, ud);
}

static void test_lines_across_reads(void **state)
{
	struct relay_lines l = { 0 };
	struct seen s = { .n = 0 };
	(void)state;

	/* A line split over reads is handed over once, whole; two in one read both. */
	assert_int_equal(add(&l, "fir", 100, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(add(&l, "st\nsecond\nthi", 100, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "first");
	assert_string_equal(s.lines[1], "second");
	assert_int_equal(add(&l, "rd\n\n", 100, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.lines[2], "third");
	assert_string_equal(s.lines[3], "");
	assert_int_equal(l.len, 0);
	relay_lines_clear(&l);
	assert_null(l.buf);
}

static void test_line_over_the_bound(void **state)
{
	struct relay_lines l = { 0 };
	struct seen s = { .n = 0 };
	(void)state;

	assert_int_equal(add(&l, "0123456789", 12, collect, &s), 0);
	/* The unfinished line would pass 12 bytes: refused, nothing added. */
	assert_int_equal(add(&l, "abc\n", 12, collect, &s), -E2BIG);
	assert_int_equal(s.n, 0);
	assert_int_equal(l.len, 10);
	/* Cleared, the stream goes on. */
	relay_lines_clear(&l);
	assert_int_equal(add(&l, "ok\n", 12, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "ok");
	relay_lines_clear(&l);
}

static void test_reports(void **state)
{
	cJSON *o;
	(void)state;

	o = relay_parse("{\"event\":\"ssh_login\",\"level\":\"info\",\"msg\":\"in\",\"fields\":{\"user\":\"root\"}}");
	assert_non_null(o);
	assert_string_equal(relay_event(o), "ssh_login");
	assert_string_equal(relay_field(o, "user"), "root");
	assert_null(relay_field(o, "missing"));
	cJSON_Delete(o);
	/* Not a report: not JSON, or no message. */
	assert_null(relay_parse("not json"));
	assert_null(relay_parse("{\"event\":\"x\"}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_across_reads),
		cmocka_unit_test(test_line_over_the_bound),
		cmocka_unit_test(test_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
