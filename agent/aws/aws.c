/* SPDX-License-Identifier: Apache-2.0 */
/* aws.c — see aws.h. */
#include "aws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cabundle.h"

#include "../lib/clock.h"
#include "../lib/log.h"

struct aws {
	sd_event *loop;
	struct http *http;
	struct imds *imds;
	struct awscreds *creds;
	struct trust trust;
	struct aws_call *calls;
};

#ifdef PORTHOLE_STATIC
/* The static binary may land in an image with no CA certificates at all:
 * the usual paths are searched, then Debian's bundle built in is used. */
#define TRUST_PATHS trust_usual_paths
#define TRUST_BUILTIN cabundle_load
#else
/* The distribution's libcurl knows where its distribution keeps them. */
#define TRUST_PATHS NULL
#define TRUST_BUILTIN NULL
#endif

struct aws_call {
	struct aws *a;
	char *service, *region, *method, *url, *body;
	size_t body_len;
	char **headers;
	unsigned max_attempts, attempts;
	long timeout_ms;
	size_t max_body;
	struct http_call *http;
	struct awscreds_wait wait;
	sd_event_source *timer;
	bool creds_retried, throttle_ends;
	aws_done_fn done;
	void *ud;
	struct aws_call *prev, *next;
};

int aws_new(sd_event *loop, struct aws **out, char *err, size_t errlen)
{
	struct aws *a;
	int rc;

	/* The one way into the AWS client, so the one place libcurl is loaded:
	 * a process that never publishes never maps it. */
	if (curllib_load(err, errlen) < 0)
		return -ELIBACC;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	a->loop = loop;
	rc = trust_find(&a->trust, TRUST_PATHS, TRUST_BUILTIN, err, errlen);
	if (rc < 0) {
		free(a);
		return rc;
	}
	rc = http_new(loop, &a->trust, &a->http);
	if (rc >= 0)
		rc = imds_new(a->http, &a->imds);
	if (rc >= 0)
		rc = awscreds_new(loop, a->http, a->imds, &a->creds);
	if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
		aws_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

struct http *aws_http(struct aws *a)
{
	return a->http;
}

struct imds *aws_imds(struct aws *a)
{
	return a->imds;
}

struct awscreds *aws_creds(struct aws *a)
{
	return a->creds;
}

static void call_free(struct aws_call *c)
{
	struct aws *a = c->a;

	if (c->prev)
		c->prev->next = c->next;
	else
		a->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	http_cancel(c->http);
	awscreds_wait_cancel(&c->wait);
	sd_event_source_disable_unref(c->timer);
	for (char **h = c->headers; h && *h; h++)
		free(*h);
	free(c->headers);
	free(c->service);
	free(c->region);
	free(c->method);
	free(c->url);
	free(c->body);
	free(c);
}

void aws_call_cancel(struct aws_call *c)
{
	if (c)
		call_free(c);
}

void aws_free(struct aws *a)
{
	if (!a)
		return;
	while (a->calls)
		call_free(a->calls);
	awscreds_free(a->creds);
	imds_free(a->imds);
	http_free(a->http);
	trust_clear(&a->trust);
	free(a);
}

const struct trust *aws_trust(const struct aws *a)
{
	return &a->trust;
}

/* ---- errors ------------------------------------------------------------- */

static void xml_member(const char *body, const char *tag, char *out, size_t len)
{
	char open[64], close[64];
	const char *s, *e;

	out[0] = '\0';
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(body, open);
	if (!s)
		return;
	s += strlen(open);
	e = strstr(s, close);
	if (!e)
		return;
	snprintf(out, len, "%.*s", (int)(e - s), s);
}

/* Code and message of an error response: JSON protocols put the code in
 * X-Amzn-ErrorType or "__type", S3 in an XML <Error>. */
static void parse_error(const struct http_response *r, char *code, size_t clen, char *msg, size_t mlen)
{
	char hdr[256];
	cJSON *j = cJSON_Parse(r->body);

	code[0] = msg[0] = '\0';
	if (cJSON_IsObject(j)) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (!cJSON_IsString(m))
			m = cJSON_GetObjectItemCaseSensitive(j, "Message");
		if (cJSON_IsString(t))
			retry_error_code(t->valuestring, code, clen);
		if (cJSON_IsString(m))
			snprintf(msg, mlen, "%s", m->valuestring);
	} else if (strstr(r->body, "<Error>")) {
		xml_member(r->body, "Code", code, clen);
		xml_member(r->body, "Message", msg, mlen);
	}
	cJSON_Delete(j);
	if (http_header(r, "X-Amzn-ErrorType", hdr, sizeof(hdr)))
		retry_error_code(hdr, code, clen);
	if (!msg[0])
		snprintf(msg, mlen, "HTTP %ld", r->status);
}

/* ---- attempts ----------------------------------------------------------- */

static void attempt(struct aws_call *c);

static void deliver(struct aws_call *c, const struct aws_result *res)
{
	aws_done_fn done = c->done;
	void *ud = c->ud;

	call_free(c);
	done(ud, res);
}

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	attempt(ud);
	return 0;
}

static bool schedule_retry(struct aws_call *c, uint64_t delay)
{
	if (!c->timer)
		return sd_event_add_time_relative(c->a->loop, &c->timer, CLOCK_MONOTONIC, delay, 1000, on_retry_timer,
						  c) >= 0;
	return sd_event_source_set_time_relative(c->timer, delay) >= 0 &&
	       sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) >= 0;
}

static void on_response(void *ud, const struct http_response *r)
{
	struct aws_call *c = ud;
	char code[128], msg[1024];
	struct aws_result res = { .status = r->status, .code = "", .body = r->body, .body_len = r->body_len,
				  .attempts = c->attempts };
	bool transport = r->curl_code != CURLE_OK;

	c->http = NULL;
	if (!transport && r->status >= 200 && r->status < 300) {
		res.outcome = AWS_OK;
		deliver(c, &res);
		return;
	}
	if (transport) {
		res.outcome = AWS_TRANSPORT;
		res.message = r->error;
	} else {
		parse_error(r, code, sizeof(code), msg, sizeof(msg));
		res.outcome = AWS_ERROR;
		res.code = code;
		res.message = msg;
	}
	res.retry = retry_classify(transport, r->status, res.code);
	if (res.retry == RETRY_CREDS && !c->creds_retried) {
		/* Not counted as an attempt: the SDKs refresh and go again. */
		c->creds_retried = true;
		c->attempts--;
		awscreds_invalidate(c->a->creds);
		log_debug("%s %s: %s; fetching new credentials", c->service, c->url, res.code);
		attempt(c);
		return;
	}
	if (res.retry != RETRY_NEVER && res.retry != RETRY_CREDS && c->attempts < c->max_attempts &&
	    !(res.retry == RETRY_THROTTLE && c->throttle_ends)) {
		uint64_t delay = retry_backoff_usec(c->attempts, RETRY_BASE_USEC, RETRY_CAP_USEC, retry_random());
		log_debug("%s %s: attempt %u failed (%s); retrying in %llu ms", c->service, c->url, c->attempts,
			  transport ? r->error : code, (unsigned long long)(delay / 1000));
		if (schedule_retry(c, delay))
			return;
	}
	deliver(c, &res);
}

static void send_signed(struct aws_call *c, const struct aws_creds *cr)
{
	struct curl_slist *h = NULL, *nh;
	char sigv4[160];
	bool ok = true;

	for (char **p = c->headers; ok && p && *p; p++) {
		nh = curl_slist_append(h, *p);
		ok = nh != NULL;
		h = nh ? nh : h;
	}
	if (ok && cr->token) {
		char *line = NULL;
		ok = asprintf(&line, "X-Amz-Security-Token: %s", cr->token) >= 0;
		nh = ok ? curl_slist_append(h, line) : NULL;
		ok = nh != NULL;
		h = nh ? nh : h;
		free(line);
	}
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", c->region, c->service);
	struct http_request req = { .method = c->method, .url = c->url, .headers = h, .body = c->body,
				    .body_len = c->body_len, .sigv4 = sigv4, .user = cr->access_key,
				    .password = cr->secret_key, .timeout_ms = c->timeout_ms, .max_body = c->max_body };
	if (ok)
		c->http = http_start(c->a->http, &req, on_response, c);
	else
		curl_slist_free_all(h);
	if (!c->http) {
		struct aws_result res = { .outcome = AWS_TRANSPORT, .code = "", .message = "out of memory",
					  .body = "", .retry = RETRY_TRANSIENT, .attempts = c->attempts };
		deliver(c, &res);
	}
}

static void on_creds(void *ud, const struct aws_creds *cr, const char *why)
{
	struct aws_call *c = ud;

	if (!cr) {
		struct aws_result res = { .outcome = AWS_NO_CREDS, .code = "", .message = why, .body = "",
					  .retry = RETRY_TRANSIENT, .attempts = c->attempts };
		deliver(c, &res);
		return;
	}
	send_signed(c, cr);
}

static void attempt(struct aws_call *c)
{
	const struct aws_creds *cr = awscreds_peek(c->a->creds);

	c->attempts++;
	if (cr)
		send_signed(c, cr);
	else
		awscreds_get(c->a->creds, &c->wait, on_creds, c);
}

static int on_first(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	attempt(ud);
	return 0;
}

struct aws_call *aws_call_start(struct aws *a, const struct aws_call_spec *spec, aws_done_fn done, void *ud)
{
	struct aws_call *c = calloc(1, sizeof(*c));
	size_t n = 0;

	if (!c)
		return NULL;
	c->a = a;
	c->done = done;
	c->ud = ud;
	c->max_attempts = spec->max_attempts ? spec->max_attempts : RETRY_MAX_ATTEMPTS;
	c->throttle_ends = spec->throttle_ends;
	c->timeout_ms = spec->timeout_ms;
	c->max_body = spec->max_body;
	c->next = a->calls;
	if (a->calls)
		a->calls->prev = c;
	a->calls = c;
	while (spec->headers && spec->headers[n])
		n++;
	c->headers = calloc(n + 1, sizeof(char *));
	c->service = strdup(spec->service);
	c->region = strdup(spec->region);
	c->method = strdup(spec->method);
	c->url = strdup(spec->url);
	c->body_len = spec->body_len;
	c->body = spec->body ? malloc(spec->body_len + 1) : NULL;
	if (!c->headers || !c->service || !c->region || !c->method || !c->url || (spec->body && !c->body))
		goto fail;
	if (c->body)
		memcpy(c->body, spec->body, spec->body_len);
	for (size_t i = 0; i < n; i++)
		if (!(c->headers[i] = strdup(spec->headers[i])))
			goto fail;
	/* The first attempt also starts from the loop, so done never runs
	 * inside aws_call_start. */
	if (sd_event_add_time_relative(a->loop, &c->timer, CLOCK_MONOTONIC, 0, 1, on_first, c) < 0)
		goto fail;
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	return c;
fail:
	call_free(c);
	return NULL;
}
