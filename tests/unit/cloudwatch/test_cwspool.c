/* SPDX-License-Identifier: Apache-2.0 */
/* test_cwspool.c — the on-disk spool: append, read, commit, reopen after a
 * kill (torn record), the size bound, the lock. */
#include "testutil.h"

#include <fcntl.h>

#include "cloudwatch/spool.h"

static void append_n(struct spool *sp, int from, int n, size_t pad)
{
	char msg[4096];

	for (int i = from; i < from + n; i++) {
		int l = snprintf(msg, sizeof(msg), "{\"i\":%d,\"pad\":\"%*s\"}", i, (int)pad, "");
		assert_int_equal(spool_append(sp, 1000 + i, msg, (size_t)l), 0);
	}
}

/* Read everything pending and return the first record's i, checking order. */
static int read_all(struct spool *sp, int *count, struct spool_pos *end)
{
	const struct spool_rec *r;
	size_t n;
	int first = -1, prev = -1;

	*count = 0;
	assert_int_equal(spool_read(sp, 64 << 20, 1 << 20, &r, &n), 0);
	for (size_t k = 0; k < n; k++) {
		int i;
		assert_non_null(r[k].msg);
		assert_int_equal(sscanf(r[k].msg, "{\"i\":%d", &i), 1);
		assert_int_equal(r[k].ts_ms, 1000 + i);
		if (first < 0)
			first = i;
		if (prev >= 0)
			assert_int_equal(i, prev + 1);
		prev = i;
		*end = r[k].end;
	}
	*count = (int)n;
	return first;
}

static void test_spool_roundtrip(void **state)
{
	char *dir = tu_tmpdir(), *sdir = tu_path("%s/a/b/spool", dir);
	struct spool *sp;
	const struct spool_rec *r;
	size_t n;
	struct spool_pos end;
	int count;
	(void)state;

	assert_int_equal(spool_open(sdir, 64 << 20, &sp), 0);
	uint64_t epoch = spool_epoch(sp);
	assert_true(epoch > 1600000000);
	append_n(sp, 0, 100, 10);
	assert_int_equal(spool_pending(sp), 100);
	/* A partial read: max_recs and max_bytes both cut cleanly. */
	assert_int_equal(spool_read(sp, 1 << 20, 30, &r, &n), 0);
	assert_int_equal(n, 30);
	assert_int_equal(spool_commit(sp, r[29].end), 0);
	assert_int_equal(spool_pending(sp), 70);
	assert_int_equal(spool_read(sp, 100, 1000, &r, &n), 0);
	assert_true(n >= 1 && n <= 3);
	assert_int_equal(read_all(sp, &count, &end), 30);
	assert_int_equal(count, 70);
	/* A second porthole may not use the same spool. */
	struct spool *other;
	assert_int_equal(spool_open(sdir, 64 << 20, &other), -EBUSY);
	spool_close(sp);

	/* Reopen: the 70 are still there, the epoch is kept. */
	assert_int_equal(spool_open(sdir, 64 << 20, &sp), 0);
	assert_int_equal(spool_epoch(sp), epoch);
	assert_int_equal(spool_pending(sp), 70);
	append_n(sp, 100, 5, 10);
	assert_int_equal(read_all(sp, &count, &end), 30);
	assert_int_equal(count, 75);
	assert_int_equal(spool_commit(sp, end), 0);
	assert_int_equal(spool_pending(sp), 0);
	/* An old position is ignored. */
	struct spool_pos old = { 0, 0, 0 };
	assert_int_equal(spool_commit(sp, old), 0);
	assert_int_equal(spool_pending(sp), 0);
	spool_close(sp);
	tu_rm_rf(dir);
	free(sdir);
	free(dir);
}

static void test_spool_torn_record(void **state)
{
	char *dir = tu_tmpdir();
	struct spool *sp;
	struct spool_pos end;
	int count;
	(void)state;

	assert_int_equal(spool_open(dir, 64 << 20, &sp), 0);
	append_n(sp, 0, 10, 10);
	spool_close(sp);
	/* As if killed in the middle of a write. */
	char *seg = tu_path("%s/0000000000000001.seg", dir);
	int fd = open(seg, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "1234 {\"i\":", 10), 10);
	close(fd);
	assert_int_equal(spool_open(dir, 64 << 20, &sp), 0);
	assert_int_equal(spool_pending(sp), 10);
	assert_int_equal(read_all(sp, &count, &end), 0);
	assert_int_equal(count, 10);
	append_n(sp, 10, 1, 10);
	assert_int_equal(read_all(sp, &count, &end), 0);
	assert_int_equal(count, 11);
	spool_close(sp);
	free(seg);
	tu_rm_rf(dir);
	free(dir);
}

static void test_spool_reopen_cleans_up(void **state)
{
	char *dir = tu_tmpdir(), *seg1 = tu_path("%s/0000000000000001.seg", dir),
	     *empty = tu_path("%s/00000000000000ff.seg", dir), *active = tu_path("%s/0000000000000100.seg", dir),
	     *other = tu_path("%s/notes.seg.txt", dir);
	const struct spool_rec *r;
	struct spool *sp;
	struct spool_pos end;
	size_t n;
	int count;
	(void)state;

	/* Segments of 8 KiB: 100 records of ~120 bytes take two. */
	assert_int_equal(spool_open(dir, 64 << 10, &sp), 0);
	append_n(sp, 0, 100, 100);
	assert_int_equal(spool_read(sp, 1 << 20, 80, &r, &n), 0);
	assert_int_equal(n, 80);
	assert_true(r[79].end.seg > 1);
	assert_int_equal(spool_commit(sp, r[79].end), 0);
	spool_close(sp);
	/* Left behind as well: an empty segment, and a file of someone else's. */
	tu_write_file(empty, "");
	tu_write_file(other, "keep");
	tu_write_file(seg1, "1000 {\"i\":0}\n"); /* sent already, whatever it says */

	/* Reopened: what was sent and what is empty go; the rest is pending;
	 * appends go to a fresh segment after the last one. */
	assert_int_equal(spool_open(dir, 64 << 10, &sp), 0);
	assert_int_equal(spool_pending(sp), 20);
	assert_int_equal(access(seg1, F_OK), -1);
	assert_int_equal(access(empty, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(access(active, F_OK), 0);
	assert_int_equal(read_all(sp, &count, &end), 80);
	assert_int_equal(count, 20);
	spool_close(sp);
	tu_rm_rf(dir);
	free(seg1);
	free(empty);
	free(active);
	free(other);
	free(dir);
}

static void test_spool_bound(void **state)
{
	char *dir = tu_tmpdir();
	struct spool *sp;
	struct spool_pos end;
	int count;
	(void)state;

	/* 64 KiB bound, ~1 KiB records: old ones must go, the count is told. */
	assert_int_equal(spool_open(dir, 64 << 10, &sp), 0);
	append_n(sp, 0, 200, 1000);
	assert_true(spool_bytes(sp) <= (64 << 10) + (64 << 10) / 8);
	uint64_t dropped = spool_take_dropped(sp);
	uint64_t pending = spool_pending(sp);
	assert_int_equal(dropped + pending, 200);
	assert_true(dropped > 0);
	assert_int_equal(spool_take_dropped(sp), 0);
	/* The newest survive, in order, without gaps. */
	int first = read_all(sp, &count, &end);
	assert_int_equal(count, (int)pending);
	assert_int_equal(first + count, 200);
	/* Sent events are not counted as dropped. */
	assert_int_equal(spool_commit(sp, end), 0);
	append_n(sp, 200, 60, 1000);
	assert_int_equal(spool_take_dropped(sp), 0);
	spool_close(sp);
	tu_rm_rf(dir);
	free(dir);
}

static void test_spool_unusable_dir(void **state)
{
	struct spool *sp;
	(void)state;

	assert_true(spool_open("/proc/porthole-no/spool", 1 << 20, &sp) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_roundtrip),
		cmocka_unit_test(test_spool_torn_record),
		cmocka_unit_test(test_spool_reopen_cleans_up),
		cmocka_unit_test(test_spool_bound),
		cmocka_unit_test(test_spool_unusable_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
