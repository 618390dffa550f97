/* SPDX-License-Identifier: Apache-2.0 */
/* test_relay_reader.c — relay_reader.c over a real pipe: report lines as a
 * helper writes them (report.c), read by an sd-event loop or, before the
 * loop, by relay_reader_wait; the reports the owner takes, the ones logged
 * for it, lines dropped, and the pipe's end. */
#include "testutil.h"

#include "lib/clock.h"
#include "lib/relay_reader.h"
#include "lib/report.h"

#define MS (UINT64_C(1000))
#define SLACK (5000 * MS) /* an upper bound for "soon", under valgrind on a loaded machine */

struct owner {
	char taken[8][64]; /* the "msg" of each report taken */
	int n_taken;
	int n_ended;
};

/* The owner takes reports of the event "mine" only. */
static bool take(void *ud, const cJSON *o)
{
	struct owner *w = ud;
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");

	if (!cJSON_IsString(ev) || strcmp(ev->valuestring, "mine") != 0)
		return false;
	assert_true(w->n_taken < 8);
	snprintf(w->taken[w->n_taken++], sizeof(w->taken[0]), "%s",
		 cJSON_GetObjectItemCaseSensitive(o, "msg")->valuestring);
	return true;
}

static void ended(void *ud)
{
	((struct owner *)ud)->n_ended++;
}

static bool took_one(void *ud)
{
	return ((struct owner *)ud)->n_taken >= 1;
}

static void write_text(int fd, const char *text)
{
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void test_loop_hands_over_and_logs(void **state)
{
	static struct tu_log log;
	struct owner w = { .n_taken = 0 };
	struct relay_reader *r = NULL;
	sd_event *loop = NULL;
	int p[2];
	(void)state;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(relay_reader_new(loop, p[0], 4096, take, ended, &w, &r), 0);
	tu_log_start(&log);

	report_init(p[1]);
	report_log(PLOG_DEBUG, "mine", NULL, "first");
	report_log(PLOG_WARN, "other_event", cJSON_CreateObject(), "for the log");
	report_log(PLOG_WARN, NULL, NULL, "a plain warning");
	write_text(p[1], "not a report\n");
	/* A line torn over two writes is handed over once, whole. */
	write_text(p[1], "{\"level\":\"debug\",\"event\":\"mine\",\"ms");
	assert_true(tu_run_loop_until(loop, &w.n_taken, 1, SLACK));
	write_text(p[1], "g\":\"second\"}\n");
	assert_true(tu_run_loop_until(loop, &w.n_taken, 2, SLACK));
	assert_string_equal(w.taken[0], "first");
	assert_string_equal(w.taken[1], "second");

	/* What the owner did not take is logged as the helper meant it. */
	const struct tu_log_entry *e = tu_log_event(&log, "other_event", 0);
	assert_non_null(e);
	assert_int_equal(e->lvl, PLOG_WARN);
	assert_string_equal(e->msg, "for the log");
	assert_non_null(tu_log_find(&log, "a plain warning"));
	assert_null(tu_log_find(&log, "not a report"));
	assert_null(tu_log_event(&log, "mine", 0));

	/* The pipe's end is told once. */
	close(p[1]);
	assert_true(tu_run_loop_until(loop, &w.n_ended, 1, SLACK));
	tu_run_loop_for(loop, 20 * MS);
	assert_int_equal(w.n_ended, 1);
	assert_int_equal(w.n_taken, 2);

	report_init(STDERR_FILENO);
	tu_log_stop(&log);
	tu_log_clear(&log);
	relay_reader_free(r);
	sd_event_unref(loop);
}

static void test_overlong_line_dropped(void **state)
{
	static const char good1[] = "{\"event\":\"mine\",\"msg\":\"before\"}\n";
	static const char good2[] = "{\"event\":\"mine\",\"msg\":\"after\"}\n";
	struct owner w = { .n_taken = 0 };
	struct relay_reader *r = NULL;
	char big[300];
	int p[2];
	(void)state;

	/* Over 64 bytes, and looking like a report: it must not be read in part. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"event\":\"mine\",\"msg\":\"", 23);
	memcpy(big + sizeof(big) - 3, "\"}\n", 3);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(relay_reader_new(NULL, p[0], 64, take, ended, &w, &r), 0);
	write_text(p[1], good1);
	assert_int_equal(write(p[1], big, 100), 100);
	assert_int_equal(write(p[1], big + 100, 100), 100);
	/* Its end and the next line in one write: the next one still counts. */
	char tail[100 + sizeof(good2)];
	memcpy(tail, big + 200, 100);
	memcpy(tail + 100, good2, sizeof(good2));
	write_text(p[1], tail);
	close(p[1]);
	assert_int_equal(relay_reader_wait(r, clock_mono_usec() + SLACK, NULL), 0);
	assert_int_equal(w.n_taken, 2);
	assert_string_equal(w.taken[0], "before");
	assert_string_equal(w.taken[1], "after");
	assert_int_equal(w.n_ended, 1);
	relay_reader_free(r);
}

static void test_wait_before_the_loop(void **state)
{
	struct owner w = { .n_taken = 0 };
	struct relay_reader *r = NULL;
	sd_event *loop = NULL;
	uint64_t t0;
	int p[2];
	(void)state;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(relay_reader_new(loop, p[0], 4096, take, ended, &w, &r), 0);

	/* Nothing yet: the deadline ends the wait, and the pipe stays open. */
	t0 = clock_mono_usec();
	assert_int_equal(relay_reader_wait(r, t0 + 30 * MS, took_one), -ETIME);
	assert_true(clock_mono_usec() >= t0 + 30 * MS);
	assert_int_equal(w.n_ended, 0);

	/* The first answer ends the wait; what follows is the loop's. */
	report_init(p[1]);
	report_log(PLOG_DEBUG, "mine", NULL, "key");
	report_log(PLOG_DEBUG, "mine", NULL, "later");
	report_init(STDERR_FILENO);
	assert_int_equal(relay_reader_wait(r, clock_mono_usec() + SLACK, took_one), 1);
	assert_string_equal(w.taken[0], "key");
	assert_true(tu_run_loop_until(loop, &w.n_taken, 2, SLACK));
	assert_string_equal(w.taken[1], "later");

	/* Already done: no read at all. */
	assert_int_equal(relay_reader_wait(r, 0, took_one), 1);
	close(p[1]);
	assert_int_equal(relay_reader_wait(r, clock_mono_usec() + SLACK, NULL), 0);
	assert_int_equal(w.n_ended, 1);
	/* Ended, the loop has nothing left to read. */
	tu_run_loop_for(loop, 20 * MS);
	assert_int_equal(w.n_ended, 1);
	relay_reader_free(r);
	sd_event_unref(loop);
}

static void test_free_closes_without_ending(void **state)
{
	struct owner w = { .n_taken = 0 };
	struct relay_reader *r = NULL;
	int p[2];
	(void)state;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(relay_reader_new(NULL, p[0], 4096, NULL, ended, &w, &r), 0);
	relay_reader_free(r);
	relay_reader_free(NULL);
	assert_int_equal(w.n_ended, 0);
	/* The read end is closed: the writer sees EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(write(p[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_hands_over_and_logs),
		cmocka_unit_test(test_overlong_line_dropped),
		cmocka_unit_test(test_wait_before_the_loop),
		cmocka_unit_test(test_free_closes_without_ending),
	};
	/* What the reader logs is checked through a sink; stderr stays quiet. */
	log_set_level(PLOG_NONE);
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
