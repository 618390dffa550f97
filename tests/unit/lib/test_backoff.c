/* SPDX-License-Identifier: Apache-2.0 */
/* test_backoff.c — restart delays: doubling to the cap, reset after a
 * stable run, the restart count; with the constants opensshd.c and ssm.c
 * use (1 s doubling to 60 s, reset after a 60 s run). */
#include "testutil.h"

#include <inttypes.h>

#include "lib/backoff.h"

#define S UINT64_C(1000000)

static void test_doubles_to_the_cap(void **state)
{
	static const uint64_t want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };
	struct backoff b;
	uint64_t now = 1000 * S;
	(void)state;

	backoff_init(&b, 1 * S, 60 * S, 60 * S);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		backoff_started(&b, now);
		now += S / 2; /* dies at once */
		uint64_t d = backoff_next(&b, now);
		TU_CHECK(d == want[i] * S, "death %zu: %" PRIu64 " us, want %" PRIu64 " s", i + 1, d, want[i]);
		TU_CHECK(b.restarts == i + 1, "death %zu: restarts %u", i + 1, b.restarts);
		now += d;
	}
	TU_END();
}

/* A run of at least `stable` starts over from min; a shorter one does not. */
static void test_stable_run_resets(void **state)
{
	struct backoff b;
	uint64_t now = 5 * S;
	(void)state;

	backoff_init(&b, 1 * S, 60 * S, 60 * S);
	for (int i = 0; i < 4; i++) {
		backoff_started(&b, now);
		now += S;
		backoff_next(&b, now);
	}
	assert_int_equal(b.restarts, 4);
	/* 59.999999 s: not stable yet. */
	backoff_started(&b, now);
	now += 60 * S - 1;
	assert_int_equal(backoff_next(&b, now), 16 * S);
	assert_int_equal(b.restarts, 5);
	/* Exactly 60 s: stable. */
	backoff_started(&b, now);
	now += 60 * S;
	assert_int_equal(backoff_next(&b, now), 1 * S);
	assert_int_equal(b.restarts, 1);
	backoff_started(&b, now);
	assert_int_equal(backoff_next(&b, now + S), 2 * S);
	assert_int_equal(b.restarts, 2);
}

/* A cap that is not min times a power of two is reached without
 * overshooting it, and nothing wraps near UINT64_MAX. */
static void test_odd_cap(void **state)
{
	struct backoff b;
	(void)state;

	backoff_init(&b, 3, 10, 100);
	backoff_started(&b, 0);
	assert_int_equal(backoff_next(&b, 99), 3);
	assert_int_equal(backoff_next(&b, 99), 6);
	assert_int_equal(backoff_next(&b, 99), 10);
	assert_int_equal(backoff_next(&b, 99), 10);
	backoff_init(&b, UINT64_MAX / 2 + 1, UINT64_MAX, UINT64_MAX);
	assert_true(backoff_next(&b, 0) == UINT64_MAX / 2 + 1);
	assert_true(backoff_next(&b, 0) == UINT64_MAX);
	assert_true(backoff_next(&b, 0) == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_doubles_to_the_cap, tu_setup),
		cmocka_unit_test_setup(test_stable_run_resets, tu_setup),
		cmocka_unit_test_setup(test_odd_cap, tu_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
