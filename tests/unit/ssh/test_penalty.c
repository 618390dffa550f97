/* SPDX-License-Identifier: Apache-2.0 */
/* test_penalty.c — penalties add up per source, start at the minimum, are
 * bounded, run out, and the table stays bounded. */
#include "testutil.h"

#include "ssh/penalty.h"

#define S PENALTY_SEC

static void test_adds_up_to_the_minimum(void **state)
{
	struct penalty *p;
	uint64_t now = 1000 * S;
	(void)state;

	assert_int_equal(penalty_new(&p), 0);
	penalty_add(p, "10.0.0.1/32", PENALTY_AUTHFAIL, now);
	penalty_add(p, "10.0.0.1/32", PENALTY_AUTHFAIL, now);
	assert_int_equal(penalty_wait(p, "10.0.0.1/32", now), 0); /* 10 s < 15 s */
	penalty_add(p, "10.0.0.1/32", PENALTY_AUTHFAIL, now);
	assert_int_equal(penalty_wait(p, "10.0.0.1/32", now), 15 * S);
	assert_int_equal(penalty_wait(p, "10.0.0.2/32", now), 0);
	/* It runs out, and is forgotten. */
	assert_int_equal(penalty_wait(p, "10.0.0.1/32", now + 15 * S), 0);
	penalty_add(p, "10.0.0.1/32", PENALTY_AUTHFAIL, now + 16 * S);
	assert_int_equal(penalty_wait(p, "10.0.0.1/32", now + 16 * S), 0);
	penalty_free(p);
}

static void test_kinds_and_bound(void **state)
{
	struct penalty *p;
	uint64_t now = 5 * S;
	(void)state;

	assert_int_equal(penalty_new(&p), 0);
	penalty_add(p, "a", PENALTY_CRASH, now);
	assert_int_equal(penalty_wait(p, "a", now), PENALTY_CRASH_USEC);
	for (int i = 0; i < 20; i++)
		penalty_add(p, "a", PENALTY_CRASH, now);
	assert_int_equal(penalty_wait(p, "a", now), PENALTY_MAX_USEC);
	penalty_add(p, "g", PENALTY_GRACE, now);
	assert_int_equal(penalty_wait(p, "g", now), 0);
	penalty_add(p, "g", PENALTY_GRACE, now);
	assert_int_equal(penalty_wait(p, "g", now), 2 * PENALTY_GRACE_USEC);
	penalty_free(p);
}

static void test_table_is_bounded(void **state)
{
	struct penalty *p;
	char name[32];
	(void)state;

	assert_int_equal(penalty_new(&p), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "10.%d.%d.1/32", i / 256, i % 256);
		penalty_add(p, name, PENALTY_CRASH, S);
	}
	/* The newest are there; the table did not grow. */
	assert_int_equal(penalty_wait(p, name, S), PENALTY_CRASH_USEC);
	penalty_free(p);
	penalty_free(NULL);
	assert_int_equal(penalty_wait(NULL, "x", 0), 0);
	penalty_add(NULL, "x", PENALTY_CRASH, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adds_up_to_the_minimum),
		cmocka_unit_test(test_kinds_and_bound),
		cmocka_unit_test(test_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
