/* SPDX-License-Identifier: Apache-2.0 */
/* cwpub.c — see cwpub.h.
 *
 * One step at a time, all driven from the loop: find the region, make sure
 * the stream exists (creating the group if allowed), then PutLogEvents
 * batches read from the spool until it is empty.  Only one call is in
 * flight, so the spool's cursor moves strictly forward. */
#include "cwpub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "cwlogs.h"
#include "events.h"
#include "spool.h"

#include "../aws/awsregion.h"
#include "../lib/clock.h"
#include "../lib/log.h"

/* Enough file bytes for a full batch: every record costs at most its
 * message + 26 in a batch and at most message + 22 in the file. */
#define READ_BUDGET (CW_MAX_BATCH_BYTES + 64 * 1024)
/* Slow retries after the SDK-style retries of one call gave up. */
#define SLOW_BASE_USEC (2 * USEC_PER_SEC)
#define SLOW_CAP_USEC (300 * USEC_PER_SEC)
#define SLOW_MIN_USEC (1 * USEC_PER_SEC)

enum step { STEP_NONE, STEP_REGION, STEP_GROUP, STEP_STREAM, STEP_PUT };

struct cwpub {
	sd_event *loop;
	struct aws *aws;        /* made on the first send */
	struct aws *(*get_aws)(void *ud);
	void *aws_ud;
	bool no_client;         /* it could not be made: nothing is sent */
	struct spool *sp;
	char *group, *stream, *job, *host;
	char *region, *endpoint;
	bool create_group, stream_ready;

	enum step step;
	struct aws_call *call;
	struct imds_req *region_req;
	struct spool_pos batch_end;
	size_t batch_n;

	sd_event_source *kick;  /* defer: look for work */
	sd_event_source *retry; /* slow retry after a failure */
	unsigned failures;
	bool troubled;          /* a failure was reported and not yet cleared */
	bool write_failed;

	bool flushing;
	sd_event_source *flush_timer;
	void (*flush_done)(void *ud);
	void *flush_ud;

	cJSON *(*identity)(void *ud);
	void *identity_ud;
	char *group_region;
	sd_event_source *ident; /* defer: compare and re-send the identity */
	char *ident_key;
};

static void pump(struct cwpub *pub);

/* ---- appending ---------------------------------------------------------- */

static void kick(struct cwpub *pub)
{
	/* Only when idle: a pending retry keeps its schedule. */
	if (!pub->call && !pub->region_req && !sd_event_source_get_enabled(pub->retry, NULL))
		sd_event_source_set_enabled(pub->kick, SD_EVENT_ONESHOT);
}

static void store(struct cwpub *pub, int64_t ts, const char *line)
{
	size_t len = strlen(line);
	int rc = 0;

	/* Long messages go as pieces, every piece but the last marked. */
	while (len && rc == 0) {
		size_t piece = batch_split(line, len, CW_MAX_MESSAGE_BYTES);
		if (piece < len) {
			char *buf = malloc(piece + sizeof(CW_CONTINUED_MARK));
			if (!buf) {
				rc = -ENOMEM;
				break;
			}
			memcpy(buf, line, piece);
			memcpy(buf + piece, CW_CONTINUED_MARK, sizeof(CW_CONTINUED_MARK));
			rc = spool_append(pub->sp, ts, buf, piece + sizeof(CW_CONTINUED_MARK) - 1);
			free(buf);
		} else {
			rc = spool_append(pub->sp, ts, line, piece);
		}
		line += piece;
		len -= piece;
	}
	if (rc < 0 && !pub->write_failed) {
		pub->write_failed = true;
		/* Called from inside the log sink: this reaches stderr only. */
		log_error("cannot write to the CloudWatch spool %s: %s; events are being lost", spool_dir(pub->sp),
			  strerror(-rc));
	} else if (rc == 0) {
		pub->write_failed = false;
	}
}

static void add_event(struct cwpub *pub, const char *level, const char *event, const char *msg,
		      const cJSON *fields)
{
	int64_t ts = (int64_t)(clock_real_usec() / 1000);
	char *line = events_encode(ts, level, event, pub->job, pub->host, msg, fields);
	uint64_t dropped;

	if (!line)
		return;
	store(pub, ts, line);
	free(line);
	dropped = spool_take_dropped(pub->sp);
	if (dropped) {
		char text[256];
		cJSON *f = cJSON_CreateObject();
		cJSON_AddNumberToObject(f, "dropped", (double)dropped);
		snprintf(text, sizeof(text), "CloudWatch spool %s reached its bound (PORTHOLE_SPOOL_MAX): dropped the "
			 "%" PRIu64 " oldest unsent events", spool_dir(pub->sp), dropped);
		log_warn("%s", text);
		line = events_encode(ts, "warning", "spool_dropped", pub->job, pub->host, text, f);
		if (line)
			store(pub, ts, line);
		free(line);
		cJSON_Delete(f);
	}
	kick(pub);
}

/* State and addresses: what makes an identity record worth re-sending. */
static char *identity_key(const cJSON *rec)
{
	static const char *const keys[] = { "state", "ip", "ipv6", "port", "ssm", "cluster", NULL };
	cJSON *k = cJSON_CreateObject();
	char *s;

	for (int i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, keys[i]);
		if (v)
			cJSON_AddItemToObject(k, keys[i], cJSON_Duplicate(v, 1));
	}
	s = cJSON_PrintUnformatted(k);
	cJSON_Delete(k);
	return s;
}

static int on_ident(sd_event_source *s, void *ud)
{
	struct cwpub *pub = ud;
	cJSON *rec = pub->identity(pub->identity_ud);
	char *key;
	(void)s;

	if (!rec)
		return 0;
	key = identity_key(rec);
	if (key && (!pub->ident_key || strcmp(key, pub->ident_key) != 0)) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "state");
		char msg[128];
		snprintf(msg, sizeof(msg), "identity: state %s", cJSON_IsString(st) ? st->valuestring : "?");
		add_event(pub, "info", "identity", msg, rec);
		free(pub->ident_key);
		pub->ident_key = key;
		key = NULL;
	}
	free(key);
	cJSON_Delete(rec);
	return 0;
}

static void on_log(void *ud, enum plog_level lvl, const char *event, const cJSON *fields, const char *msg)
{
	struct cwpub *pub = ud;

	/* Named events logged at debug level (the ready record) are still
	 * events worth keeping: they go as info. */
	add_event(pub, log_level_name(lvl < PLOG_INFO ? PLOG_INFO : lvl), event, msg, fields);
	if (event && strcmp(event, "ready") == 0 && fields) {
		free(pub->ident_key);
		pub->ident_key = identity_key(fields);
	}
	/* After these the state has changed; look once the handler that
	 * logged them is done changing it. */
	if (event && pub->identity &&
	    (strcmp(event, "command_exit") == 0 || strcmp(event, "hold_begin") == 0 ||
	     strcmp(event, "hold_end") == 0 || strcmp(event, "address_change") == 0 ||
	     strncmp(event, "ssh_", 4) == 0 || strncmp(event, "ssm_", 4) == 0 ||
	     strncmp(event, "session", 7) == 0 || strncmp(event, "cluster_", 8) == 0))
		sd_event_source_set_enabled(pub->ident, SD_EVENT_ONESHOT);
}

/* ---- outcomes ------------------------------------------------------------ */

static void flush_finish(struct cwpub *pub, const char *why)
{
	void (*done)(void *) = pub->flush_done;

	if (!pub->flushing)
		return;
	pub->flushing = false;
	sd_event_source_set_enabled(pub->flush_timer, SD_EVENT_OFF);
	if (why && spool_pending(pub->sp))
		log_warn("CloudWatch: %" PRIu64 " events not sent before exit (%s); they stay in the spool %s",
			 spool_pending(pub->sp), why, spool_dir(pub->sp));
	pub->flush_done = NULL;
	if (done)
		done(pub->flush_ud);
}

static void recovered(struct cwpub *pub)
{
	pub->failures = 0;
	if (pub->troubled) {
		pub->troubled = false;
		log_info("CloudWatch Logs: sending to %s %s again", pub->group, pub->stream);
	}
}

/* A failure that keeps the events: say so once, then retry slowly. */
static void trouble(struct cwpub *pub, bool is_error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void trouble(struct cwpub *pub, bool is_error, const char *fmt, ...)
{
	char why[1024];
	va_list ap;
	uint64_t delay;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pub->step = STEP_NONE;
	/* Arm the retry before saying anything: the message itself is an event
	 * and must not trigger an immediate attempt. */
	if (!pub->flushing) {
		pub->failures++;
		delay = retry_backoff_usec(pub->failures, SLOW_BASE_USEC, SLOW_CAP_USEC, retry_random());
		if (delay < SLOW_MIN_USEC)
			delay = SLOW_MIN_USEC;
		sd_event_source_set_time_relative(pub->retry, delay);
		sd_event_source_set_enabled(pub->retry, SD_EVENT_ONESHOT);
	}
	if (!pub->troubled) {
		pub->troubled = true;
		log_msg(is_error ? PLOG_ERROR : PLOG_WARN,
		     "CloudWatch Logs: cannot send to %s %s: %s; events stay in the spool %s and are retried "
		     "(the training is not affected)", pub->group, pub->stream, why, spool_dir(pub->sp));
	} else {
		log_debug("CloudWatch Logs: still failing: %s", why);
	}
	if (pub->flushing)
		flush_finish(pub, why);
}

static bool is_code(const struct aws_result *r, const char *code)
{
	return r->outcome == AWS_ERROR && strcmp(r->code, code) == 0;
}

/* The failure of any call that did not get its job done. */
static void call_failed(struct cwpub *pub, const char *what, const struct aws_result *r)
{
	switch (r->outcome) {
	case AWS_NO_CREDS:
		trouble(pub, false, "no AWS credentials (%s)", r->message);
		return;
	case AWS_TRANSPORT:
		trouble(pub, false, "%s: %s at %s after %u attempts", what, r->message, pub->endpoint, r->attempts);
		return;
	default:
		break;
	}
	if (r->retry == RETRY_NEVER || r->retry == RETRY_CREDS) {
		/* Wrong keys, no permission, bad endpoint: people must act. */
		trouble(pub, true, "%s: %s%s%s (HTTP %ld)", what, r->code, *r->code ? ": " : "", r->message, r->status);
		return;
	}
	trouble(pub, false, "%s: %s%s%s (HTTP %ld) after %u attempts", what, r->code, *r->code ? ": " : "",
		r->message, r->status, r->attempts);
}

static void on_put(void *ud, const struct aws_result *r)
{
	struct cwpub *pub = ud;
	struct cwlogs_rejected rej;

	pub->call = NULL;
	pub->step = STEP_NONE;
	if (r->outcome == AWS_OK || is_code(r, "DataAlreadyAcceptedException")) {
		size_t bad = r->outcome == AWS_OK ? cwlogs_rejected(r->body, pub->batch_n, &rej) : 0;
		spool_commit(pub->sp, pub->batch_end);
		recovered(pub);
		if (bad)
			log_warn("CloudWatch Logs rejected %zu of %zu events: %s%s%s (tooNewLogEventStartIndex %ld, "
				 "tooOldLogEventEndIndex %ld, expiredLogEventEndIndex %ld)",
				 bad, pub->batch_n, rej.too_new_start >= 0 ? "more than 2 h in the future; " : "",
				 rej.too_old_end > 0 ? "older than 14 days; " : "",
				 rej.expired_end > 0 ? "older than the group's retention" : "", rej.too_new_start,
				 rej.too_old_end, rej.expired_end);
		pump(pub);
		return;
	}
	if (is_code(r, "ResourceNotFoundException")) {
		/* The stream (or the group) was deleted: make it again. */
		log_warn("CloudWatch Logs: %s; creating %s %s again", r->message, pub->group, pub->stream);
		pub->stream_ready = false;
		pump(pub);
		return;
	}
	if (is_code(r, "InvalidParameterException") || is_code(r, "SerializationException") ||
	    is_code(r, "ValidationException")) {
		/* The same batch would fail forever: report it and move on. */
		log_error("CloudWatch Logs refused a batch of %zu events: %s: %s; those events are dropped",
			  pub->batch_n, r->code, r->message);
		spool_commit(pub->sp, pub->batch_end);
		pump(pub);
		return;
	}
	call_failed(pub, "PutLogEvents", r);
}

static void on_stream(void *ud, const struct aws_result *r);

static void create(struct cwpub *pub, enum step step)
{
	char *body = cwlogs_name_body(pub->group, step == STEP_STREAM ? pub->stream : NULL);

	pub->step = step;
	pub->call = body ? cwlogs_call(pub->aws, pub->endpoint, pub->region,
				       step == STEP_STREAM ? "CreateLogStream" : "CreateLogGroup", body, on_stream, pub)
			 : NULL;
	free(body);
	if (!pub->call)
		trouble(pub, false, "out of memory");
}

static void on_stream(void *ud, const struct aws_result *r)
{
	struct cwpub *pub = ud;
	enum step step = pub->step;

	pub->call = NULL;
	pub->step = STEP_NONE;
	if (r->outcome == AWS_OK || is_code(r, "ResourceAlreadyExistsException")) {
		if (step == STEP_GROUP) {
			log_info("CloudWatch Logs: created log group %s", pub->group);
			create(pub, STEP_STREAM);
			return;
		}
		pub->stream_ready = true;
		pump(pub);
		return;
	}
	if (step == STEP_STREAM && is_code(r, "ResourceNotFoundException")) {
		if (pub->create_group) {
			create(pub, STEP_GROUP);
			return;
		}
		trouble(pub, true, "log group %s does not exist; create it, or set PORTHOLE_CREATE_LOG_GROUP=1 to let "
			"porthole create it", pub->group);
		return;
	}
	call_failed(pub, step == STEP_STREAM ? "CreateLogStream" : "CreateLogGroup", r);
}

static void put_batch(struct cwpub *pub)
{
	const struct spool_rec *recs;
	struct batch b = { 0 };
	size_t n, take = 0;
	char *body;
	int rc = spool_read(pub->sp, READ_BUDGET, CW_MAX_BATCH_EVENTS, &recs, &n);

	if (rc < 0) {
		trouble(pub, true, "cannot read the spool %s: %s", spool_dir(pub->sp), strerror(-rc));
		return;
	}
	for (; take < n; take++)
		if (recs[take].msg && !batch_add(&b, &batch_limits_default, recs[take].ts_ms, recs[take].len))
			break;
	if (take == 0)
		return;
	pub->batch_end = recs[take - 1].end;
	pub->batch_n = b.events;
	if (!b.events) {
		/* Only unreadable records: skip them. */
		spool_commit(pub->sp, pub->batch_end);
		kick(pub);
		return;
	}
	body = cwlogs_put_body(pub->group, pub->stream, recs, take);
	pub->step = STEP_PUT;
	pub->call = body ? cwlogs_call(pub->aws, pub->endpoint, pub->region, "PutLogEvents", body, on_put, pub)
			 : NULL;
	free(body);
	if (!pub->call)
		trouble(pub, false, "out of memory");
}

static bool set_region(struct cwpub *pub, const char *region, const char *source)
{
	int custom;

	if (!awsregion_valid(region)) {
		trouble(pub, true, "the region \"%s\" from %s is not a region name", region, source);
		return false;
	}
	pub->region = strdup(region);
	pub->endpoint = awsregion_endpoint_url("CLOUDWATCH_LOGS", "logs", region, &custom);
	if (!pub->region || !pub->endpoint) {
		free(pub->region);
		pub->region = NULL;
		trouble(pub, false, "out of memory");
		return false;
	}
	log_debug("CloudWatch Logs: region %s (%s), endpoint %s", region, source, pub->endpoint);
	return true;
}

static void on_region(void *ud, const char *body, const char *why)
{
	struct cwpub *pub = ud;
	char region[64];

	pub->region_req = NULL;
	pub->step = STEP_NONE;
	if (!body) {
		trouble(pub, false, "no AWS region: set AWS_REGION (none in the environment, TRAINING_JOB_ARN or the "
			"config file; %s)", why);
		return;
	}
	snprintf(region, sizeof(region), "%.*s", (int)strcspn(body, "\r\n"), body);
	if (set_region(pub, region, "the instance metadata service"))
		pump(pub);
}

/* Without an AWS client nothing can ever be sent: stop collecting. */
static void give_up(struct cwpub *pub)
{
	pub->no_client = true;
	log_remove_sink(on_log, pub);
	sd_event_source_set_enabled(pub->kick, SD_EVENT_OFF);
	sd_event_source_set_enabled(pub->ident, SD_EVENT_OFF);
	sd_event_source_set_enabled(pub->retry, SD_EVENT_OFF);
	/* Said where the client was to be made. */
	log_debug("CloudWatch: no AWS client; nothing is sent to %s %s", pub->group, pub->stream);
	flush_finish(pub, "no AWS client");
}

static void pump(struct cwpub *pub)
{
	if (pub->call || pub->region_req || pub->no_client)
		return;
	if (!spool_pending(pub->sp)) {
		flush_finish(pub, NULL);
		return;
	}
	/* Made only now, from the loop, so porthole's start never waits for
	 * libcurl to load. */
	if (!pub->aws && !(pub->aws = pub->get_aws(pub->aws_ud))) {
		give_up(pub);
		return;
	}
	if (!pub->region) {
		const char *source;
		char *r = awsregion_local(&source);
		bool ok;
		/* The group's own region beats a profile's or TRAINING_JOB_ARN's
		 * guess; only the environment overrides it. */
		if (pub->group_region && (!r || strncmp(source, "AWS_", 4) != 0)) {
			free(r);
			r = strdup(pub->group_region);
			source = "the HyperPod cluster ARN";
		}
		if (r) {
			ok = set_region(pub, r, source);
			free(r);
			if (!ok)
				return;
		} else if (imds_disabled()) {
			trouble(pub, false, "no AWS region: set AWS_REGION");
			return;
		} else {
			pub->step = STEP_REGION;
			pub->region_req = imds_get(aws_imds(pub->aws), "/latest/meta-data/placement/region", on_region, pub);
			if (!pub->region_req)
				trouble(pub, false, "out of memory");
			return;
		}
	}
	if (!pub->stream_ready) {
		create(pub, STEP_STREAM);
		return;
	}
	put_batch(pub);
}

static int on_kick(sd_event_source *s, void *ud)
{
	(void)s;
	pump(ud);
	return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	pump(ud);
	return 0;
}

static int on_flush_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct cwpub *pub = ud;
	(void)s;
	(void)usec;

	aws_call_cancel(pub->call);
	pub->call = NULL;
	imds_cancel(pub->region_req);
	pub->region_req = NULL;
	pub->step = STEP_NONE;
	flush_finish(pub, "PORTHOLE_FLUSH_TIMEOUT reached");
	return 0;
}

bool cwpub_flush(struct cwpub *pub, uint64_t usec, void (*done)(void *ud), void *ud)
{
	/* The last identity record says the host is going, so readers
	 * (`porthole hosts`) can tell it is gone whatever ended it. */
	if (pub && pub->identity && !pub->no_client)
		on_ident(NULL, pub);
	if (!pub || pub->no_client || (!spool_pending(pub->sp) && !pub->call))
		return false;
	pub->flushing = true;
	pub->flush_done = done;
	pub->flush_ud = ud;
	sd_event_source_set_time_relative(pub->flush_timer, usec);
	sd_event_source_set_enabled(pub->flush_timer, SD_EVENT_ONESHOT);
	/* One last try now, even in the middle of a slow retry. */
	sd_event_source_set_enabled(pub->retry, SD_EVENT_OFF);
	sd_event_source_set_enabled(pub->kick, SD_EVENT_ONESHOT);
	return true;
}

uint64_t cwpub_pending(const struct cwpub *pub)
{
	return spool_pending(pub->sp);
}

/* ---- setup --------------------------------------------------------------- */

int cwpub_new(sd_event *loop, const struct cwpub_config *cfg, struct cwpub **out)
{
	struct cwpub *pub = calloc(1, sizeof(*pub));
	uint64_t backlog;
	int rc;

	if (!pub)
		return -ENOMEM;
	pub->loop = loop;
	pub->get_aws = cfg->aws;
	pub->aws_ud = cfg->aws_ud;
	pub->create_group = cfg->create_group;
	pub->identity = cfg->identity;
	pub->identity_ud = cfg->identity_ud;
	pub->group_region = cfg->group_region ? strdup(cfg->group_region) : NULL;
	rc = spool_open(cfg->spool_dir, cfg->spool_max, &pub->sp);
	if (rc < 0) {
		log_error("cannot use the CloudWatch spool %s (PORTHOLE_SPOOL_DIR): %s; events will not be sent to "
			  "CloudWatch", cfg->spool_dir,
			  rc == -EBUSY ? "another porthole is using it" : strerror(-rc));
		free(pub);
		return rc;
	}
	pub->group = strdup(cfg->group ? cfg->group : CW_DEFAULT_GROUP);
	if (cfg->stream)
		pub->stream = strdup(cfg->stream);
	else if (asprintf(&pub->stream, "%s/%s-%" PRIu64 "/ssm", cfg->job, cfg->host, spool_epoch(pub->sp)) < 0)
		pub->stream = NULL;
	pub->job = strdup(cfg->job);
	pub->host = strdup(cfg->host);
	rc = -ENOMEM;
	if (!pub->group || !pub->stream || !pub->job || !pub->host)
		goto fail;
	rc = -EINVAL;
	if (!cwlogs_valid_group(pub->group)) {
		log_error("PORTHOLE_LOG_GROUP \"%s\" is not a log group name (1-512 of A-Z a-z 0-9 . _ - / #); events "
			  "will not be sent to CloudWatch", pub->group);
		goto fail;
	}
	if (!cwlogs_valid_stream(pub->stream)) {
		log_error("log stream name \"%s\" is not valid (1-512 characters, no ':' or '*'); set "
			  "PORTHOLE_LOG_STREAM; events will not be sent to CloudWatch", pub->stream);
		goto fail;
	}
	if ((rc = sd_event_add_defer(loop, &pub->kick, on_kick, pub)) < 0 ||
	    (rc = sd_event_add_defer(loop, &pub->ident, on_ident, pub)) < 0 ||
	    (rc = sd_event_add_time_relative(loop, &pub->retry, CLOCK_MONOTONIC, 0, 100000, on_retry, pub)) < 0 ||
	    (rc = sd_event_add_time_relative(loop, &pub->flush_timer, CLOCK_MONOTONIC, 0, 1000, on_flush_timeout,
					     pub)) < 0)
		goto fail;
	sd_event_source_set_enabled(pub->kick, SD_EVENT_OFF);
	sd_event_source_set_enabled(pub->ident, SD_EVENT_OFF);
	sd_event_source_set_enabled(pub->retry, SD_EVENT_OFF);
	sd_event_source_set_enabled(pub->flush_timer, SD_EVENT_OFF);
	rc = log_add_sink(on_log, pub);
	if (rc < 0)
		goto fail;
	backlog = spool_pending(pub->sp);
	if (backlog) {
		log_info("CloudWatch: %" PRIu64 " events left by an earlier porthole in %s are sent first", backlog,
			 spool_dir(pub->sp));
		kick(pub);
	}
	log_debug("CloudWatch: publishing to %s %s, spool %s", pub->group, pub->stream, spool_dir(pub->sp));
	*out = pub;
	return 0;
fail:
	cwpub_free(pub);
	return rc;
}

void cwpub_free(struct cwpub *pub)
{
	if (!pub)
		return;
	log_remove_sink(on_log, pub);
	aws_call_cancel(pub->call);
	imds_cancel(pub->region_req);
	sd_event_source_disable_unref(pub->kick);
	sd_event_source_disable_unref(pub->ident);
	sd_event_source_disable_unref(pub->retry);
	sd_event_source_disable_unref(pub->flush_timer);
	spool_close(pub->sp);
	free(pub->group);
	free(pub->stream);
	free(pub->group_region);
	free(pub->job);
	free(pub->host);
	free(pub->region);
	free(pub->endpoint);
	free(pub->ident_key);
	free(pub);
}

const char *cwpub_group(const struct cwpub *pub)
{
	return pub ? pub->group : NULL;
}

const char *cwpub_stream(const struct cwpub *pub)
{
	return pub ? pub->stream : NULL;
}
