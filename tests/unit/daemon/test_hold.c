/* SPDX-License-Identifier: Apache-2.0 */
/* test_hold.c — the deadline rule, and struct hold driven by a real sd_event loop. */
#include "testutil.h"

#include <inttypes.h>

#include "daemon/hold.h"

#define MS (UINT64_C(1000))
#define SEC (UINT64_C(1000000))
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* Generous upper bound for "soon" (valgrind and loaded CI machines). */
#define SLACK (1500 * MS)

/* ---- the pure rule ------------------------------------------------------- */

static void test_deadline_table(void **state)
{
	const uint64_t B = 1000 * SEC; /* when the wait began */
	const struct {
		const char *what;
		uint64_t window, extra;
		unsigned sessions;
		uint64_t last_end, grace, max;
		uint64_t want;
	} cases[] = {
		{ "window only", 30 * MIN, 0, 0, 0, 10 * MIN, 4 * HOUR, B + 30 * MIN },
		{ "window 0 ends at once", 0, 0, 0, 0, 10 * MIN, 4 * HOUR, B },
		{ "extension", 30 * MIN, 15 * MIN, 0, 0, 10 * MIN, 4 * HOUR, B + 45 * MIN },
		{ "two extensions", 30 * MIN, 2 * 15 * MIN, 0, 0, 10 * MIN, 4 * HOUR, B + 60 * MIN },
		{ "a session holds to max", 30 * MIN, 0, 1, 0, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "sessions hold to max", 30 * MIN, 0, 3, B + 5 * MIN, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "sessions with extension: still max", 30 * MIN, HOUR, 1, 0, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "session ended late: grace wins", 30 * MIN, 0, 0, B + 25 * MIN, 10 * MIN, 4 * HOUR, B + 35 * MIN },
		{ "session ended early: window wins", 30 * MIN, 0, 0, B + 5 * MIN, 10 * MIN, 4 * HOUR, B + 30 * MIN },
		{ "session ended after the window", 30 * MIN, 0, 0, B + 2 * HOUR, 10 * MIN, 4 * HOUR, B + 2 * HOUR + 10 * MIN },
		{ "session ended as the wait began", 0, 0, 0, B, 10 * MIN, 4 * HOUR, B + 10 * MIN },
		{ "session ended before the wait: ignored", 30 * MIN, 0, 0, B - 1, HOUR, 4 * HOUR, B + 30 * MIN },
		{ "session ended long before: ignored", 0, 0, 0, B - 5 * MIN, 10 * MIN, 4 * HOUR, B },
		{ "grace after extension", 30 * MIN, 30 * MIN, 0, B + 55 * MIN, 10 * MIN, 4 * HOUR, B + 65 * MIN },
		{ "extension after grace", 30 * MIN, 30 * MIN, 0, B + 40 * MIN, 10 * MIN, 4 * HOUR, B + 60 * MIN },
		{ "window > max: capped", 5 * HOUR, 0, 0, 0, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "window == max", 4 * HOUR, 0, 0, 0, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "extra beyond max: capped", 3 * HOUR, 2 * HOUR, 0, 0, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "grace beyond max: capped", 30 * MIN, 0, 0, B + 3 * HOUR + 55 * MIN, 10 * MIN, 4 * HOUR, B + 4 * HOUR },
		{ "max 0", 30 * MIN, 0, 1, 0, 10 * MIN, 0, B },
		{ "grace 0", 30 * MIN, 0, 0, B + HOUR, 0, 4 * HOUR, B + HOUR },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hold_times t = { .begin = B, .window = cases[i].window, .extra = cases[i].extra };
		uint64_t d = hold_deadline(&t, cases[i].sessions, cases[i].last_end, cases[i].grace, cases[i].max);
		TU_CHECK(d == cases[i].want, "%s: deadline begin%+" PRId64 " s, want begin%+" PRId64 " s", cases[i].what,
			 (int64_t)(d - B) / (int64_t)SEC, (int64_t)(cases[i].want - B) / (int64_t)SEC);
	}
	TU_END();
}

/* ---- struct hold on a loop ----------------------------------------------- */

struct rec {
	int calls;
	enum wait_end why;
	uint64_t at;
	struct hold_wait *w;
};

static void on_done(void *ud, struct hold_wait *w, enum wait_end why)
{
	struct rec *r = ud;

	r->calls++;
	r->why = why;
	r->at = tu_now_usec();
	if (r->w && r->w != w)
		r->why = (enum wait_end)99; /* told about the wrong wait */
}

static struct {
	sd_event *loop;
	struct hold *h;
	struct tu_log log;
} fx;

static int setup(void **state)
{
	(void)state;
	tu_reset();
	log_set_level(PLOG_NONE); /* the sink still sees every event */
	assert_int_equal(sd_event_new(&fx.loop), 0);
	tu_log_start(&fx.log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hold_free(fx.h);
	fx.h = NULL;
	sd_event_unref(fx.loop);
	fx.loop = NULL;
	tu_log_stop(&fx.log);
	tu_log_clear(&fx.log);
	return 0;
}

static struct hold *new_hold(uint64_t grace, uint64_t max)
{
	assert_int_equal(hold_new(fx.loop, grace, max, &fx.h), 0);
	assert_non_null(fx.h);
	return fx.h;
}

static struct hold_wait *begin(enum wait_kind kind, const char *name, uint64_t window, struct rec *r)
{
	struct hold_wait *w = hold_wait_begin(fx.h, kind, name, window, on_done, r);
	assert_non_null(w);
	r->w = w;
	return w;
}

/* hold_status() as a fresh object (delete it). */
static cJSON *status(void)
{
	cJSON *o = cJSON_CreateObject();
	hold_status(fx.h, o);
	return o;
}

/* The status entry for the wait of that kind and name (NULL: unnamed). */
static const cJSON *status_wait(const cJSON *st, const char *kind, const char *name)
{
	const cJSON *w;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(st, "waits")) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(w, "kind");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(w, "name");
		if (cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0 &&
		    (name ? cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 : cJSON_IsNull(n)))
			return w;
	}
	return NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static bool flag(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsBool(v));
	return cJSON_IsTrue(v);
}

static void test_timeout(void **state)
{
	struct rec r = { 0 };
	(void)state;

	new_hold(50 * MS, 10 * SEC);
	uint64_t t0 = tu_now_usec();
	begin(WAIT_AFTER, NULL, 40 * MS, &r);
	assert_int_equal(hold_active(fx.h, WAIT_AFTER), 1);
	assert_true(tu_run_loop_until(fx.loop, &r.calls, 1, 5 * SEC));
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.why, END_TIMEOUT);
	assert_true(r.at - t0 >= 40 * MS);
	assert_true(r.at - t0 < 40 * MS + SLACK);
	assert_int_equal(hold_active(fx.h, WAIT_AFTER), 0);
	/* Once ended, it stays ended. */
	tu_run_loop_for(fx.loop, 60 * MS);
	assert_int_equal(r.calls, 1);

	/* The events a sink sees. */
	const struct tu_log_entry *b = tu_log_event(&fx.log, "hold_begin", 0);
	const struct tu_log_entry *e = tu_log_event(&fx.log, "hold_end", 0);
	assert_non_null(b);
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(b->fields, "kind")->valuestring, "after-command");
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b->fields, "deadline")));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(e->fields, "reason")->valuestring, "timeout");
}

static void test_timeouts_in_order(void **state)
{
	struct rec a = { 0 }, b = { 0 }, c = { 0 };
	(void)state;

	new_hold(0, 10 * SEC);
	begin(WAIT_BREAKPOINT, "late", 120 * MS, &b);
	begin(WAIT_BREAKPOINT, "early", 30 * MS, &a);
	begin(WAIT_AFTER, NULL, 10 * SEC, &c);
	assert_true(tu_run_loop_until(fx.loop, &b.calls, 1, 5 * SEC));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.why, END_TIMEOUT);
	assert_int_equal(b.why, END_TIMEOUT);
	assert_true(a.at < b.at);
	assert_int_equal(c.calls, 0);
	assert_int_equal(hold_active(fx.h, WAIT_BREAKPOINT), 0);
	assert_int_equal(hold_active(fx.h, WAIT_AFTER), 1);
}

static void test_continue(void **state)
{
	struct rec before = { 0 }, bp1 = { 0 }, bp2 = { 0 }, bp2b = { 0 }, after = { 0 };
	(void)state;

	new_hold(10 * SEC, HOUR);
	begin(WAIT_BEFORE, NULL, 10 * SEC, &before);
	begin(WAIT_BREAKPOINT, "bp1", 10 * SEC, &bp1);
	begin(WAIT_BREAKPOINT, "bp2", 10 * SEC, &bp2);
	begin(WAIT_BREAKPOINT, "bp2", 10 * SEC, &bp2b);
	begin(WAIT_AFTER, NULL, 10 * SEC, &after);
	assert_int_equal(hold_active(fx.h, WAIT_BEFORE), 1);
	assert_int_equal(hold_active(fx.h, WAIT_BREAKPOINT), 3);

	/* By name: only that breakpoint (every wait of that name). */
	assert_int_equal(hold_continue(fx.h, "nope"), 0);
	assert_int_equal(hold_continue(fx.h, "bp1"), 1);
	assert_int_equal(bp1.calls, 1);
	assert_int_equal(bp1.why, END_CONTINUE);
	assert_int_equal(before.calls + bp2.calls + bp2b.calls + after.calls, 0);
	assert_int_equal(hold_continue(fx.h, "bp1"), 0);
	assert_int_equal(hold_continue(fx.h, "bp2"), 2);
	assert_int_equal(bp2.why, END_CONTINUE);
	assert_int_equal(bp2b.why, END_CONTINUE);
	assert_int_equal(before.calls, 0);

	/* The after-command hold is never continued, not even by its (absent) name. */
	begin(WAIT_BREAKPOINT, "bp3", 10 * SEC, &bp1);
	bp1.calls = 0;
	assert_int_equal(hold_continue(fx.h, NULL), 2); /* before + bp3 */
	assert_int_equal(before.calls, 1);
	assert_int_equal(before.why, END_CONTINUE);
	assert_int_equal(bp1.calls, 1);
	assert_int_equal(after.calls, 0);
	assert_int_equal(hold_active(fx.h, WAIT_AFTER), 1);
	assert_int_equal(hold_active(fx.h, WAIT_BEFORE), 0);
	assert_int_equal(hold_active(fx.h, WAIT_BREAKPOINT), 0);
	assert_int_equal(hold_continue(fx.h, NULL), 0);
	assert_false(hold_was_released(fx.h));

	/* An empty name is no name. */
	struct rec anon = { 0 };
	begin(WAIT_BREAKPOINT, "", 10 * SEC, &anon);
	cJSON *st = status();
	assert_non_null(status_wait(st, "breakpoint", NULL));
	cJSON_Delete(st);
	assert_int_equal(hold_continue(fx.h, NULL), 1);
	assert_int_equal(anon.why, END_CONTINUE);
	assert_int_equal(after.calls, 0);

	/* Nothing fires later for the continued waits. */
	tu_run_loop_for(fx.loop, 30 * MS);
	assert_int_equal(before.calls, 1);
	assert_int_equal(after.calls, 0);
}

static void test_release(void **state)
{
	struct rec before = { 0 }, bp = { 0 }, after = { 0 };
	(void)state;

	new_hold(10 * SEC, HOUR);
	assert_false(hold_was_released(fx.h));
	begin(WAIT_BEFORE, NULL, 10 * SEC, &before);
	begin(WAIT_BREAKPOINT, "bp", 10 * SEC, &bp);
	begin(WAIT_AFTER, NULL, 10 * SEC, &after);
	assert_int_equal(hold_release(fx.h), 3);
	assert_true(hold_was_released(fx.h));
	assert_int_equal(before.calls, 1);
	assert_int_equal(bp.calls, 1);
	assert_int_equal(after.calls, 1);
	assert_int_equal(before.why, END_RELEASE);
	assert_int_equal(bp.why, END_RELEASE);
	assert_int_equal(after.why, END_RELEASE);
	assert_int_equal(hold_active(fx.h, WAIT_AFTER) + hold_active(fx.h, WAIT_BEFORE) +
				 hold_active(fx.h, WAIT_BREAKPOINT),
			 0);
	assert_int_equal(hold_release(fx.h), 0);
	assert_true(hold_was_released(fx.h));

	cJSON *st = status();
	assert_true(flag(st, "released"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "waits")), 0);
	cJSON_Delete(st);

	/* Released before anything waits: still remembered. */
	hold_free(fx.h);
	fx.h = NULL;
	new_hold(10 * SEC, HOUR);
	assert_int_equal(hold_release(fx.h), 0);
	assert_true(hold_was_released(fx.h));
}

static void test_shutdown(void **state)
{
	struct rec a = { 0 }, b = { 0 };
	(void)state;

	new_hold(10 * SEC, HOUR);
	begin(WAIT_BEFORE, NULL, 10 * SEC, &a);
	begin(WAIT_AFTER, NULL, 10 * SEC, &b);
	hold_shutdown(fx.h);
	assert_int_equal(a.why, END_SHUTDOWN);
	assert_int_equal(b.why, END_SHUTDOWN);
	assert_int_equal(a.calls + b.calls, 2);
	assert_false(hold_was_released(fx.h));
}

static void test_extend(void **state)
{
	struct rec r = { 0 };
	(void)state;

	new_hold(10 * SEC, 100 * SEC);
	begin(WAIT_AFTER, NULL, 10 * SEC, &r);
	cJSON *st = status();
	const cJSON *w = status_wait(st, "after-command", NULL);
	assert_non_null(w);
	assert_true(num(w, "remaining_s") == 10);
	assert_false(flag(w, "held_by_sessions"));
	assert_false(flag(w, "at_max_hold"));
	assert_true(num(st, "sessions") == 0);
	assert_false(flag(st, "released"));
	char *deadline1 = strdup(cJSON_GetObjectItemCaseSensitive(w, "deadline")->valuestring);
	cJSON_Delete(st);

	assert_int_equal(hold_extend(fx.h, 60 * SEC), 1);
	st = status();
	w = status_wait(st, "after-command", NULL);
	assert_true(num(w, "remaining_s") == 70);
	assert_string_not_equal(cJSON_GetObjectItemCaseSensitive(w, "deadline")->valuestring, deadline1);
	free(deadline1);
	cJSON_Delete(st);

	/* Past max_hold: capped, and flagged as such. */
	assert_int_equal(hold_extend(fx.h, HOUR), 1);
	st = status();
	w = status_wait(st, "after-command", NULL);
	assert_true(num(w, "remaining_s") == 100);
	assert_true(flag(w, "at_max_hold"));
	cJSON_Delete(st);
	assert_int_equal(r.calls, 0);
}

static void test_extend_timing(void **state)
{
	struct rec r = { 0 }, other = { 0 };
	(void)state;

	new_hold(0, 10 * SEC);
	uint64_t t0 = tu_now_usec();
	begin(WAIT_BREAKPOINT, "x", 40 * MS, &r);
	begin(WAIT_BEFORE, NULL, 40 * MS, &other);
	assert_int_equal(hold_extend(fx.h, 100 * MS), 2);
	assert_true(tu_run_loop_until(fx.loop, &r.calls, 1, 5 * SEC));
	assert_int_equal(r.why, END_TIMEOUT);
	assert_true(r.at - t0 >= 140 * MS);
	assert_true(r.at - t0 < 140 * MS + SLACK);
	assert_true(tu_run_loop_until(fx.loop, &other.calls, 1, 5 * SEC));
	assert_true(other.at - t0 >= 140 * MS);

	/* Nothing to extend. */
	assert_int_equal(hold_extend(fx.h, SEC), 0);
}

static void test_cancel(void **state)
{
	struct rec r = { 0 }, keep = { 0 };
	(void)state;

	new_hold(0, 10 * SEC);
	struct hold_wait *w = begin(WAIT_BREAKPOINT, "gone", 30 * MS, &r);
	begin(WAIT_BREAKPOINT, "kept", 60 * MS, &keep);
	hold_wait_cancel(w);
	assert_int_equal(r.calls, 0);
	assert_int_equal(hold_active(fx.h, WAIT_BREAKPOINT), 1);
	assert_int_equal(hold_continue(fx.h, "gone"), 0);
	assert_true(tu_run_loop_until(fx.loop, &keep.calls, 1, 5 * SEC));
	tu_run_loop_for(fx.loop, 30 * MS);
	assert_int_equal(r.calls, 0);
	assert_int_equal(keep.calls, 1);
	assert_int_equal(keep.why, END_TIMEOUT);
	/* The sink hears that it was abandoned. */
	bool seen = false;
	for (size_t i = 0; !seen && i < fx.log.n; i++) {
		const struct tu_log_entry *e = &fx.log.e[i];
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(e->fields, "reason");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e->fields, "name");
		seen = e->event && strcmp(e->event, "hold_end") == 0 && cJSON_IsString(reason) &&
		       strcmp(reason->valuestring, "abandoned") == 0 && cJSON_IsString(name) &&
		       strcmp(name->valuestring, "gone") == 0;
	}
	assert_true(seen);
}

static void test_session_keeps_wait(void **state)
{
	struct rec r = { 0 };
	(void)state;

	new_hold(80 * MS, 10 * SEC);
	begin(WAIT_AFTER, NULL, 30 * MS, &r);
	hold_session_opened(fx.h);
	hold_session_opened(fx.h);
	assert_int_equal(hold_sessions(fx.h), 2);
	tu_run_loop_for(fx.loop, 150 * MS);
	assert_int_equal(r.calls, 0);

	cJSON *st = status();
	const cJSON *w = status_wait(st, "after-command", NULL);
	assert_non_null(w);
	assert_true(flag(w, "held_by_sessions"));
	assert_true(flag(w, "at_max_hold"));
	assert_true(num(st, "sessions") == 2);
	cJSON_Delete(st);

	/* One of two leaves: still held. */
	hold_session_closed(fx.h);
	assert_int_equal(hold_sessions(fx.h), 1);
	tu_run_loop_for(fx.loop, 150 * MS);
	assert_int_equal(r.calls, 0);

	/* The last leaves: the grace runs from now. */
	uint64_t closed = tu_now_usec();
	hold_session_closed(fx.h);
	assert_int_equal(hold_sessions(fx.h), 0);
	assert_true(tu_run_loop_until(fx.loop, &r.calls, 1, 5 * SEC));
	assert_int_equal(r.why, END_TIMEOUT);
	assert_true(r.at - closed >= 80 * MS);
	assert_true(r.at - closed < 80 * MS + SLACK);

	/* More closes than opens never underflow. */
	hold_session_closed(fx.h);
	assert_int_equal(hold_sessions(fx.h), 0);
}

static void test_session_capped_by_max(void **state)
{
	struct rec r = { 0 };
	(void)state;

	new_hold(10 * SEC, 120 * MS);
	uint64_t t0 = tu_now_usec();
	begin(WAIT_AFTER, NULL, 20 * MS, &r);
	hold_session_opened(fx.h);
	assert_true(tu_run_loop_until(fx.loop, &r.calls, 1, 5 * SEC));
	assert_int_equal(r.why, END_TIMEOUT);
	assert_true(r.at - t0 >= 120 * MS);
	assert_true(r.at - t0 < 120 * MS + SLACK);
	assert_int_equal(hold_sessions(fx.h), 1);
}

static void test_session_before_wait_ignored(void **state)
{
	struct rec r = { 0 };
	(void)state;

	new_hold(3 * SEC, 10 * SEC);
	hold_session_opened(fx.h);
	hold_session_closed(fx.h);
	usleep(2000);
	uint64_t t0 = tu_now_usec();
	begin(WAIT_AFTER, NULL, 40 * MS, &r);
	assert_true(tu_run_loop_until(fx.loop, &r.calls, 1, 5 * SEC));
	assert_true(r.at - t0 >= 40 * MS);
	assert_true(r.at - t0 < 2 * SEC); /* not the 3 s grace */
}

static void test_session_opened_before_wait(void **state)
{
	struct rec r = { 0 };
	(void)state;

	/* A session that began before the wait and ends during it still counts. */
	new_hold(100 * MS, 10 * SEC);
	hold_session_opened(fx.h);
	begin(WAIT_BEFORE, NULL, 20 * MS, &r);
	tu_run_loop_for(fx.loop, 60 * MS);
	assert_int_equal(r.calls, 0);
	uint64_t closed = tu_now_usec();
	hold_session_closed(fx.h);
	assert_true(tu_run_loop_until(fx.loop, &r.calls, 1, 5 * SEC));
	assert_true(r.at - closed >= 100 * MS);
}

static void test_free_with_waits(void **state)
{
	struct rec a = { 0 }, b = { 0 };
	(void)state;

	new_hold(0, 10 * SEC);
	begin(WAIT_BEFORE, NULL, 10 * SEC, &a);
	begin(WAIT_BREAKPOINT, "x", 10 * SEC, &b);
	hold_free(fx.h);
	fx.h = NULL;
	assert_int_equal(a.calls + b.calls, 0);
	hold_free(NULL);
}

static void test_end_names(void **state)
{
	(void)state;
	assert_string_equal(hold_end_name(END_CONTINUE), "continue");
	assert_string_equal(hold_end_name(END_RELEASE), "release");
	assert_string_equal(hold_end_name(END_TIMEOUT), "timeout");
	assert_string_equal(hold_end_name(END_SHUTDOWN), "shutdown");
	assert_string_equal(hold_end_name(END_ABANDONED), "abandoned");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deadline_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extend_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_keeps_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_capped_by_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_before_wait_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_opened_before_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
