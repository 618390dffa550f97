/* SPDX-License-Identifier: Apache-2.0 */
/* test_cwbatch.c — PutLogEvents batching at each documented limit, and the
 * splitting of long messages. */
#include "testutil.h"

#include "cloudwatch/batch.h"

#define H (3600 * INT64_C(1000))

struct ev {
	int64_t ts;
	size_t len;
	size_t repeat;
};

/* Cut a stream of events into batches; returns how many, sizes in out. */
static size_t plan(const struct ev *evs, size_t nev, size_t *out, size_t max_out)
{
	struct batch b = { 0 };
	size_t nb = 0;

	for (size_t i = 0; i < nev; i++) {
		for (size_t r = 0; r < (evs[i].repeat ? evs[i].repeat : 1); r++) {
			if (!batch_add(&b, &batch_limits_default, evs[i].ts, evs[i].len)) {
				assert_true(b.events > 0); /* a lone event always fits here */
				assert_true(nb < max_out);
				out[nb++] = b.events;
				memset(&b, 0, sizeof(b));
				assert_true(batch_add(&b, &batch_limits_default, evs[i].ts, evs[i].len));
			}
		}
	}
	if (b.events) {
		assert_true(nb < max_out);
		out[nb++] = b.events;
	}
	return nb;
}

static void test_batch_limits(void **state)
{
	/* Sizes chosen so each row hits exactly one limit. */
	static const struct {
		const char *name;
		struct ev evs[4];
		size_t nev;
		size_t want[4];
		size_t nwant;
	} rows[] = {
		{ "small events, one batch", { { 0, 100, 50 } }, 1, { 50 }, 1 },
		{ "10,000 events exactly", { { 0, 1, 10000 } }, 1, { 10000 }, 1 },
		{ "10,001 events", { { 0, 1, 10001 } }, 1, { 10000, 1 }, 2 },
		/* 4 x (262118 + 26) = 1,048,576: exactly the byte limit */
		{ "bytes exactly at the limit", { { 0, 262118, 4 } }, 1, { 4 }, 1 },
		{ "one byte over the limit", { { 0, 262118, 3 }, { 0, 262119, 1 } }, 2, { 3, 1 }, 2 },
		/* 1022 x (1000 + 26) = 1,048,572: one more would not fit; the 26 bytes count */
		{ "overhead counts", { { 0, 1000, 1023 } }, 1, { 1022, 1 }, 2 },
		{ "24 h span exactly", { { 0, 10, 1 }, { 24 * H, 10, 1 } }, 2, { 2 }, 1 },
		{ "24 h span + 1 ms", { { 0, 10, 1 }, { 24 * H + 1, 10, 1 } }, 2, { 1, 1 }, 2 },
		{ "clock steps back", { { 5000, 10, 2 }, { 4999, 10, 2 } }, 2, { 2, 2 }, 2 },
		{ "equal timestamps are in order", { { 7, 10, 3 } }, 1, { 3 }, 1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t got[16];
		size_t n = plan(rows[i].evs, rows[i].nev, got, 16);
		bool same = n == rows[i].nwant;
		for (size_t k = 0; same && k < n; k++)
			same = got[k] == rows[i].want[k];
		TU_CHECK(same, "%s: got %zu batches (first %zu, second %zu)", rows[i].name, n, n ? got[0] : 0,
			 n > 1 ? got[1] : 0);
	}
	TU_END();
}

static void test_batch_never_exceeds(void **state)
{
	/* A pseudo-random mix: every batch stays within every limit. */
	struct batch b = { 0 };
	uint32_t x = 12345;
	int64_t ts = 0, first = 0;
	size_t events = 0, bytes = 0;
	(void)state;

	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		size_t len = 1 + (x >> 8) % (x & 1 ? 200 : CW_MAX_MESSAGE_BYTES);
		ts += (x >> 4) % 3 ? 0 : (int64_t)((x >> 12) % (3 * H));
		if (!batch_add(&b, &batch_limits_default, ts, len)) {
			assert_true(events <= CW_MAX_BATCH_EVENTS && bytes <= CW_MAX_BATCH_BYTES);
			memset(&b, 0, sizeof(b));
			events = bytes = 0;
			assert_true(batch_add(&b, &batch_limits_default, ts, len));
		}
		if (!events)
			first = ts;
		events++;
		bytes += len + CW_EVENT_OVERHEAD;
		assert_true(ts - first <= CW_MAX_SPAN_MS);
		assert_int_equal(b.events, events);
		assert_int_equal(b.bytes, bytes);
	}
}

static void test_split(void **state)
{
	const size_t mark = strlen(CW_CONTINUED_MARK);
	char *big = malloc(CW_MAX_MESSAGE_BYTES * 3);
	(void)state;

	assert_non_null(big);
	memset(big, 'a', CW_MAX_MESSAGE_BYTES * 3);
	assert_int_equal(batch_split(big, 10, CW_MAX_MESSAGE_BYTES), 10);
	assert_int_equal(batch_split(big, CW_MAX_MESSAGE_BYTES, CW_MAX_MESSAGE_BYTES), CW_MAX_MESSAGE_BYTES);
	assert_int_equal(batch_split(big, CW_MAX_MESSAGE_BYTES + 1, CW_MAX_MESSAGE_BYTES),
			 CW_MAX_MESSAGE_BYTES - mark);
	/* A 3-byte character straddling the cut is kept whole, in the next piece. */
	size_t cut = CW_MAX_MESSAGE_BYTES - mark;
	memcpy(big + cut - 1, "\xe2\x82\xac", 3);
	assert_int_equal(batch_split(big, CW_MAX_MESSAGE_BYTES * 2, CW_MAX_MESSAGE_BYTES), cut - 1);
	/* 4-byte character ending exactly at the cut stays in this piece. */
	memset(big, 'a', CW_MAX_MESSAGE_BYTES * 3);
	memcpy(big + cut - 4, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(batch_split(big, CW_MAX_MESSAGE_BYTES * 2, CW_MAX_MESSAGE_BYTES), cut);
	/* Tiny limits still make progress. */
	assert_int_equal(batch_split("abcdef", 6, 3), 1);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_limits),
		cmocka_unit_test(test_batch_never_exceeds),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
