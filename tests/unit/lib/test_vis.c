/* SPDX-License-Identifier: Apache-2.0 */
/* test_vis.c — vis_str: OpenSSH strnvis-style escaping of outside text. */
#include "testutil.h"

#include "lib/vis.h"

static void test_escapes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "root", "root" },
		{ "a b~", "a b~" },
		{ "x\nporthole: info: forged", "x\\nporthole: info: forged" },
		{ "\x1b[2J\x1b]0;t\x07", "\\033[2J\\033]0;t\\007" },
		{ "back\\slash", "back\\\\slash" },
		{ "\r\t", "\\r\\t" },
		{ "\x7f\x80\xff", "\\177\\200\\377" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "\xc2\x9b" "2J", "\\302\\2332J" },            /* C1 CSI as UTF-8 */
		{ "\xc3", "\\303" },                          /* cut short */
		{ "\xc0\xaf", "\\300\\257" },                 /* overlong */
		{ "\xed\xa0\x80", "\\355\\240\\200" },        /* a surrogate */
		{ "", "" },
	};
	char buf[128];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = vis_str(buf, sizeof(buf), cases[i].in);
		TU_CHECK(strcmp(buf, cases[i].out) == 0, "%zu: \"%s\", want \"%s\"", i, buf, cases[i].out);
		TU_CHECK(n == strlen(cases[i].out), "%zu: length %zu", i, n);
		TU_CHECK(vis_needed(cases[i].in) == (strcmp(cases[i].in, cases[i].out) != 0), "%zu: vis_needed", i);
		char *d = vis_dup(cases[i].in);
		TU_CHECK(d && strcmp(d, cases[i].out) == 0, "%zu: vis_dup", i);
		free(d);
	}
	TU_END();
}

/* Cut at a whole escape, always terminated; the return value is the full length. */
static void test_truncation(void **state)
{
	char buf[6];
	(void)state;

	assert_int_equal(vis_str(buf, sizeof(buf), "ab\ncd"), 6);
	assert_string_equal(buf, "ab\\nc");
	assert_int_equal(vis_str(buf, sizeof(buf), "\x01\x02"), 8);
	assert_string_equal(buf, "\\001");
	assert_int_equal(vis_str(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
	assert_int_equal(vis_str(NULL, 0, "a\tb"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
