/* SPDX-License-Identifier: Apache-2.0 */
/* test_cwpub.c — the CloudWatch publisher's decisions, driven through its
 * real seam: a real loop and spool, and a fake AWS call layer
 * (fakes/fake_aws.c) whose calls the test answers.  When a batch goes and
 * what it holds (one call at a time, the backlog first, timestamps that
 * step back or span a day, unreadable records, long messages); what a
 * refusal, a rejection, a deleted stream or a missing group leads to;
 * throttling reported once and retried slowly, not at once; the identity
 * record re-sent only when it changed; and the flush at exit, which tries
 * at once and gives up within its time. */
#include "testutil.h"

#include "cloudwatch/batch.h"
#include "cloudwatch/cwpub.h"
#include "cloudwatch/spool.h"
#include "fakes/fake_aws.h"
#include "lib/clock.h"

#define MS (UINT64_C(1000))
#define SEC (UINT64_C(1000000))
#define SLACK (5 * SEC) /* an upper bound for "soon", under valgrind on a loaded machine */

struct fixture {
	char *dir;
	sd_event *loop;
	struct cwpub *pub;
	struct tu_log log;
	const char *state;  /* what the identity callback says */
	int flushed;
};

static cJSON *identity(void *ud)
{
	struct fixture *fx = ud;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "state", fx->state);
	cJSON_AddStringToObject(o, "ip", "10.0.0.1");
	return o;
}

/* The daemon's AWS client, as cwpub asks for it on its first send: any
 * pointer will do, the fake call layer never looks inside. */
static struct aws *fake_client(void *ud)
{
	return (struct aws *)ud;
}

static void start(struct fixture *fx, bool create_group, bool with_identity)
{
	struct cwpub_config cfg = { .group = "g", .stream = "s", .create_group = create_group, .spool_dir = fx->dir,
				    .spool_max = 64 << 20, .job = "job", .host = "algo-1",
				    .identity = with_identity ? identity : NULL, .identity_ud = fx,
				    .aws = fake_client, .aws_ud = fx };

	assert_int_equal(cwpub_new(fx->loop, &cfg, &fx->pub), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	tu_clear_env_prefix("AWS_");
	setenv("AWS_REGION", "us-west-2", 1);
	log_discard_early();
	/* What cwpub logs is checked through a sink; stderr stays quiet. */
	log_set_level(PLOG_NONE);
	fx->dir = tu_tmpdir();
	fx->state = "training";
	assert_int_equal(sd_event_new(&fx->loop), 0);
	fake_aws_reset();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cwpub_free(fx->pub);
	tu_log_stop(&fx->log);
	tu_log_clear(&fx->log);
	sd_event_unref(fx->loop);
	fake_aws_reset();
	tu_rm_rf(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* The next call cwpub starts (running the loop for it), or NULL. */
static struct fake_aws_call *next_call(struct fixture *fx, uint64_t max_usec)
{
	uint64_t end = tu_now_usec() + max_usec;
	struct fake_aws_call *c;

	while (!(c = fake_aws_pending())) {
		uint64_t now = tu_now_usec();
		if (now >= end || sd_event_run(fx->loop, end - now) < 0)
			break;
	}
	return c;
}

/* No call is started for a while (not at once, at least). */
static void no_call_for(struct fixture *fx, uint64_t usec)
{
	size_t before = fake_aws_count();

	tu_run_loop_for(fx->loop, usec);
	assert_int_equal(fake_aws_count(), before);
}

static struct fake_aws_call *expect_call(struct fixture *fx, const char *op)
{
	struct fake_aws_call *c = next_call(fx, SLACK);

	assert_non_null(c);
	assert_string_equal(c->op, op);
	return c;
}

/* The stream is created, and the first PutLogEvents starts. */
static struct fake_aws_call *first_put(struct fixture *fx)
{
	fake_aws_ok(expect_call(fx, "CreateLogStream"), NULL);
	return expect_call(fx, "PutLogEvents");
}

/* The events of a PutLogEvents: each one's "msg" (or the message itself
 * when it is no porthole event), joined by "|". */
static char *put_msgs(const struct fake_aws_call *c, size_t *n)
{
	cJSON *o = cJSON_Parse(c->body), *e;
	char *out = calloc(1, 1 << 20);
	size_t off = 0;

	assert_non_null(o);
	assert_non_null(out);
	*n = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "logEvents"))
	{
		const char *m = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
		cJSON *ev = cJSON_Parse(m);
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ev, "msg");
		off += (size_t)snprintf(out + off, (1 << 20) - off, "%s%s", (*n)++ ? "|" : "",
					cJSON_IsString(msg) ? msg->valuestring : m);
		cJSON_Delete(ev);
	}
	cJSON_Delete(o);
	return out;
}

static void expect_msgs(const struct fake_aws_call *c, const char *want)
{
	size_t n;
	char *got = put_msgs(c, &n);

	assert_string_equal(got, want);
	free(got);
}

/* Warnings and errors whose text holds needle. */
static size_t said(const struct fixture *fx, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < fx->log.n; i++)
		n += fx->log.e[i].msg && strstr(fx->log.e[i].msg, needle) != NULL;
	return n;
}

/* The level of the first of them. */
static enum plog_level said_at(const struct fixture *fx, const char *needle)
{
	for (size_t i = 0; i < fx->log.n; i++)
		if (fx->log.e[i].msg && strstr(fx->log.e[i].msg, needle))
			return fx->log.e[i].lvl;
	fail_msg("nothing said \"%s\"", needle);
	return PLOG_NONE;
}

/* ---- sending ------------------------------------------------------------- */

static void test_sends_what_is_logged(void **state)
{
	struct fixture *fx = *state;
	struct fake_aws_call *c;

	start(fx, false, false);
	/* Nothing to send: no call, no timer. */
	no_call_for(fx, 20 * MS);
	log_warn("first warning");
	log_event(PLOG_INFO, "thing", NULL, "an event");
	c = expect_call(fx, "CreateLogStream");
	assert_non_null(strstr(c->body, "\"logGroupName\":\"g\""));
	assert_non_null(strstr(c->body, "\"logStreamName\":\"s\""));
	fake_aws_ok(c, NULL);
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "first warning|an event");
	assert_int_equal(cwpub_pending(fx->pub), 2);

	/* One call at a time: what comes meanwhile waits for the answer. */
	log_warn("third");
	no_call_for(fx, 20 * MS);
	fake_aws_ok(c, "{\"nextSequenceToken\":\"1\"}");
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "third");
	assert_int_equal(cwpub_pending(fx->pub), 1);
	fake_aws_ok(c, NULL);
	assert_int_equal(cwpub_pending(fx->pub), 0);
	no_call_for(fx, 20 * MS);
	/* Debug and info messages are not events: nothing to send. */
	log_info("just saying");
	no_call_for(fx, 20 * MS);
}

static void test_backlog_first_in_batches(void **state)
{
	struct fixture *fx = *state;
	char *seg = tu_path("%s/0000000000000001.seg", fx->dir);
	struct spool *sp;
	struct fake_aws_call *c;

	/* Left by an earlier porthole: a timestamp that steps back, an
	 * unreadable record, and one more than a day after the batch's first. */
	assert_int_equal(spool_open(fx->dir, 64 << 20, &sp), 0);
	spool_close(sp);
	tu_write_file(seg, "2000 b1\n1000 b2\ngarbage\n3000 b3\n86401001 b4\n");
	start(fx, false, false);
	c = first_put(fx);
	/* A step back in time ends a batch ... */
	expect_msgs(c, "b1");
	fake_aws_ok(c, NULL);
	/* ... an unreadable record is skipped ... */
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "b2|b3");
	fake_aws_ok(c, NULL);
	/* ... and a batch spans a day at most. */
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "b4");
	fake_aws_ok(c, NULL);
	assert_int_equal(cwpub_pending(fx->pub), 0);
	no_call_for(fx, 20 * MS);
	free(seg);
}

static void test_long_message_in_pieces(void **state)
{
	struct fixture *fx = *state;
	size_t big = CW_MAX_MESSAGE_BYTES + 1000, n;
	char *blob = malloc(big + 1), *msgs;
	cJSON *f = cJSON_CreateObject(), *o, *e;
	struct fake_aws_call *c;

	assert_non_null(blob);
	memset(blob, 'a', big);
	blob[big] = '\0';
	cJSON_AddStringToObject(f, "blob", blob);
	start(fx, false, false);
	log_event(PLOG_WARN, "big", f, "a big one");
	c = first_put(fx);
	/* Two events, the first marked as continued, each within the limit. */
	msgs = put_msgs(c, &n);
	assert_int_equal(n, 2);
	free(msgs);
	o = cJSON_Parse(c->body);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "logEvents"), 0);
	const char *m = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
	assert_true(strlen(m) <= CW_MAX_MESSAGE_BYTES);
	assert_string_equal(m + strlen(m) - strlen(CW_CONTINUED_MARK), CW_CONTINUED_MARK);
	cJSON_Delete(o);
	fake_aws_ok(c, NULL);
	assert_int_equal(cwpub_pending(fx->pub), 0);
	free(blob);
}

/* ---- what goes wrong ------------------------------------------------------ */

static void test_missing_group(void **state)
{
	struct fixture *fx = *state;

	start(fx, false, false);
	tu_log_start(&fx->log);
	log_warn("w");
	fake_aws_error(expect_call(fx, "CreateLogStream"), "ResourceNotFoundException", 400, RETRY_NEVER, 1);
	/* People must act: an error naming the setting; the events wait. */
	assert_int_equal(said(fx, "log group g does not exist; create it, or set PORTHOLE_CREATE_LOG_GROUP=1"), 1);
	assert_int_equal(said_at(fx, "log group g does not exist"), PLOG_ERROR);
	assert_true(cwpub_pending(fx->pub) >= 1);
	no_call_for(fx, 200 * MS);
}

static void test_creates_group_when_allowed(void **state)
{
	struct fixture *fx = *state;
	struct fake_aws_call *c;

	start(fx, true, false);
	log_warn("w");
	fake_aws_error(expect_call(fx, "CreateLogStream"), "ResourceNotFoundException", 400, RETRY_NEVER, 1);
	c = expect_call(fx, "CreateLogGroup");
	assert_null(strstr(c->body, "logStreamName"));
	fake_aws_ok(c, NULL);
	/* The group's creation is logged at info: not an event to send. */
	fake_aws_error(expect_call(fx, "CreateLogStream"), "ResourceAlreadyExistsException", 400, RETRY_NEVER, 1);
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "w");
	fake_aws_ok(c, NULL);
	assert_int_equal(cwpub_pending(fx->pub), 0);
}

static void test_refused_and_rejected(void **state)
{
	struct fixture *fx = *state;
	struct fake_aws_call *c;

	start(fx, false, false);
	tu_log_start(&fx->log);
	log_warn("bad batch");
	c = first_put(fx);
	/* The same batch would fail forever: dropped, and said so. */
	fake_aws_error(c, "InvalidParameterException", 400, RETRY_NEVER, 1);
	assert_int_equal(said(fx, "CloudWatch Logs refused a batch of 1 events: InvalidParameterException"), 1);
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "CloudWatch Logs refused a batch of 1 events: InvalidParameterException: said the fake; "
		       "those events are dropped");
	/* Some events rejected: the batch counts as sent, the loss is said. */
	fake_aws_ok(c, "{\"rejectedLogEventsInfo\":{\"tooOldLogEventEndIndex\":1}}");
	assert_int_equal(said(fx, "CloudWatch Logs rejected 1 of 1 events: older than 14 days"), 1);
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "CloudWatch Logs rejected 1 of 1 events: older than 14 days;  (tooNewLogEventStartIndex -1, "
		       "tooOldLogEventEndIndex 1, expiredLogEventEndIndex -1)");
	/* Already taken (a retry of a call that had worked): sent. */
	fake_aws_error(c, "DataAlreadyAcceptedException", 400, RETRY_NEVER, 1);
	assert_int_equal(cwpub_pending(fx->pub), 0);
	no_call_for(fx, 20 * MS);
}

static void test_stream_deleted(void **state)
{
	struct fixture *fx = *state;
	struct fake_aws_call *c;

	start(fx, false, false);
	tu_log_start(&fx->log);
	log_warn("w");
	c = first_put(fx);
	fake_aws_error(c, "ResourceNotFoundException", 400, RETRY_NEVER, 1);
	assert_int_equal(said(fx, "creating g s again"), 1);
	/* Made again at once, then the same events. */
	fake_aws_ok(expect_call(fx, "CreateLogStream"), NULL);
	c = expect_call(fx, "PutLogEvents");
	expect_msgs(c, "w|CloudWatch Logs: said the fake; creating g s again");
	fake_aws_ok(c, NULL);
	assert_int_equal(cwpub_pending(fx->pub), 0);
}

static void on_flushed(void *ud)
{
	((struct fixture *)ud)->flushed++;
}

static void test_throttled_retried_slowly(void **state)
{
	struct fixture *fx = *state;
	struct fake_aws_call *c;
	uint64_t t;
	size_t n;
	char *msgs;

	start(fx, false, false);
	tu_log_start(&fx->log);
	log_warn("w");
	c = first_put(fx);
	/* The client's own retries gave up: said once, as a warning. */
	fake_aws_error(c, "ThrottlingException", 400, RETRY_THROTTLE, 3);
	t = clock_mono_usec();
	assert_int_equal(said(fx, "cannot send to g s: PutLogEvents: ThrottlingException: said the fake (HTTP 400) "
				  "after 3 attempts; events stay in the spool"), 1);
	assert_int_equal(said_at(fx, "cannot send to g s"), PLOG_WARN);
	/* The warning is an event itself, yet it does not bring the retry
	 * forward: that waits a second at least. */
	no_call_for(fx, 300 * MS);
	c = expect_call(fx, "PutLogEvents");
	assert_true(clock_mono_usec() - t >= 1 * SEC);
	msgs = put_msgs(c, &n);
	assert_int_equal(n, 2);
	assert_true(strncmp(msgs, "w|CloudWatch Logs: cannot send to g s: PutLogEvents: ThrottlingException", 71) == 0);
	free(msgs);

	/* Failing again: no second warning. */
	fake_aws_error(c, "ServiceUnavailableException", 503, RETRY_TRANSIENT, 3);
	assert_int_equal(said(fx, "cannot send to"), 1);
	/* At exit, one last try at once, not after the slow retry's delay. */
	t = clock_mono_usec();
	assert_true(cwpub_flush(fx->pub, SLACK, on_flushed, fx));
	c = expect_call(fx, "PutLogEvents");
	assert_true(clock_mono_usec() - t < 1 * SEC);
	assert_int_equal(fx->flushed, 0);
	fake_aws_ok(c, NULL);
	/* Everything sent: the flush is done, with nothing to regret. */
	assert_int_equal(fx->flushed, 1);
	assert_int_equal(cwpub_pending(fx->pub), 0);
	assert_int_equal(said(fx, "not sent before exit"), 0);
}

/* ---- at exit --------------------------------------------------------------- */

static void test_flush_within_its_time(void **state)
{
	struct fixture *fx = *state;
	struct fake_aws_call *c;
	uint64_t t;

	start(fx, false, false);
	tu_log_start(&fx->log);
	/* Nothing to send: nothing to wait for. */
	assert_false(cwpub_flush(fx->pub, SEC, on_flushed, fx));
	log_warn("w");
	/* CloudWatch never answers. */
	c = expect_call(fx, "CreateLogStream");
	t = clock_mono_usec();
	assert_true(cwpub_flush(fx->pub, 200 * MS, on_flushed, fx));
	assert_true(tu_run_loop_until(fx->loop, &fx->flushed, 1, SLACK));
	assert_true(clock_mono_usec() - t >= 200 * MS);
	/* The call is given up, the events stay for the next porthole. */
	assert_true(c->cancelled);
	assert_int_equal(said(fx, "1 events not sent before exit (PORTHOLE_FLUSH_TIMEOUT reached); they stay in the "
				  "spool"), 1);
	assert_int_equal(fx->flushed, 1);
}

static void test_flush_ends_at_a_failure(void **state)
{
	struct fixture *fx = *state;

	start(fx, false, false);
	tu_log_start(&fx->log);
	log_warn("w");
	struct fake_aws_call *c = expect_call(fx, "CreateLogStream");
	assert_true(cwpub_flush(fx->pub, SLACK, on_flushed, fx));
	/* No slow retry while exiting: the flush ends with the failure. */
	fake_aws_error(c, "AccessDeniedException", 400, RETRY_NEVER, 1);
	assert_int_equal(fx->flushed, 1);
	assert_int_equal(said(fx, "CloudWatch Logs: cannot send to g s: CreateLogStream: AccessDeniedException"), 1);
	assert_int_equal(said(fx, "events not sent before exit (CreateLogStream: AccessDeniedException"), 1);
}

/* ---- the identity record ------------------------------------------------------ */

/* Answer every PutLogEvents until nothing more goes: their messages. */
static char *drain(struct fixture *fx)
{
	char *all = calloc(1, 1 << 16);
	struct fake_aws_call *c;
	size_t off = 0, n;

	assert_non_null(all);
	while ((c = next_call(fx, 50 * MS))) {
		char *m = put_msgs(c, &n);
		assert_string_equal(c->op, "PutLogEvents");
		off += (size_t)snprintf(all + off, (1 << 16) - off, "%s%s", off ? "|" : "", m);
		free(m);
		fake_aws_ok(c, NULL);
	}
	return all;
}

static void test_identity_resent_when_changed(void **state)
{
	struct fixture *fx = *state;
	cJSON *f = cJSON_CreateObject();
	char *msgs;

	start(fx, false, true);
	cJSON_AddStringToObject(f, "state", "training");
	cJSON_AddStringToObject(f, "ip", "10.0.0.1");
	/* The ready record is logged at debug level, and sent all the same. */
	log_event(PLOG_DEBUG, "ready", f, "ready");
	fake_aws_ok(expect_call(fx, "CreateLogStream"), NULL);
	msgs = drain(fx);
	assert_string_equal(msgs, "ready");
	free(msgs);

	/* After a state change event the record is looked at: unchanged, it
	 * is not sent again ... */
	log_event(PLOG_INFO, "hold_begin", NULL, "holding");
	msgs = drain(fx);
	assert_string_equal(msgs, "holding");
	free(msgs);
	/* ... changed, it is. */
	fx->state = "holding";
	log_event(PLOG_INFO, "hold_end", NULL, "held");
	msgs = drain(fx);
	assert_non_null(strstr(msgs, "held"));
	assert_non_null(strstr(msgs, "identity: state holding"));
	free(msgs);
	/* Other events do not look. */
	fx->state = "training";
	log_event(PLOG_INFO, "thing", NULL, "other");
	msgs = drain(fx);
	assert_string_equal(msgs, "other");
	free(msgs);

	/* At exit, the last record says the host is going. */
	fx->state = "exiting";
	assert_true(cwpub_flush(fx->pub, SLACK, on_flushed, fx));
	msgs = drain(fx);
	assert_string_equal(msgs, "identity: state exiting");
	free(msgs);
	assert_int_equal(fx->flushed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sends_what_is_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_first_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_creates_group_when_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_and_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttled_retried_slowly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_within_its_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_ends_at_a_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_resent_when_changed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
