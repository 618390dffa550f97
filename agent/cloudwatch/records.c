/* SPDX-License-Identifier: Apache-2.0 */
/* records.c — reading a job's identity records out of FilterLogEvents answers. */
#include "records.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>

#include "../lib/jsonutil.h"
#include "../lib/strutil.h"

/* Term patterns work everywhere (the JSON syntax is not universal); every
 * identity record carries a host_key member, and hold_end tells released
 * hosts apart.  Matching is loose, so each message is checked again here. */
#define RECORDS_PATTERN "?host_key ?hold_end"

char *records_filter_body(const char *group, const char *job, const char *token)
{
	cJSON *o = cJSON_CreateObject();
	size_t n = strlen(job);
	char prefix[n + 2];
	char *body;

	memcpy(prefix, job, n);
	memcpy(prefix + n, "/", 2);
	if (!cJSON_AddStringToObject(o, "logGroupName", group) ||
	    !cJSON_AddStringToObject(o, "logStreamNamePrefix", prefix) ||
	    !cJSON_AddStringToObject(o, "filterPattern", RECORDS_PATTERN) ||
	    (token && !cJSON_AddStringToObject(o, "nextToken", token))) {
		cJSON_Delete(o);
		return NULL;
	}
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return body;
}

static void rec_clear(struct host_rec *h)
{
	free(h->host);
	free(h->stream);
	free(h->ts);
	free(h->ip);
	free(h->host_key);
	free(h->client_key);
	free(h->fingerprint);
	free(h->instance_type);
	free(h->ssm_target);
	free(h->ssm_region);
	free(h->state);
	free(h->deadline);
	memset(h, 0, sizeof(*h));
}

/* The region of a record's SSM target: its "region", or (records from
 * before it was there) the --region of its "command"; NULL when neither
 * says, or when it is not a plain region name (it ends up in a command). */
static char *ssm_region(const cJSON *ssm)
{
	const char *r = jsonutil_str(ssm, "region"), *cmd = jsonutil_str(ssm, "command"), *p;
	char buf[64];
	size_t n;

	if (!r && cmd && (p = strstr(cmd, " --region ")) != NULL) {
		p += strlen(" --region ");
		n = strcspn(p, " ");
		if (n < sizeof(buf)) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			r = buf;
		}
	}
	if (!r || !*r || strlen(r) > 32 || strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r))
		return NULL;
	return strdup(r);
}

int records_host_cmp(const char *x, const char *y)
{
	bool ax = strncmp(x, "algo-", 5) == 0, ay = strncmp(y, "algo-", 5) == 0;

	if (ax && ay) {
		long nx = strtol(x + 5, NULL, 10), ny = strtol(y + 5, NULL, 10);
		if (nx != ny)
			return nx < ny ? -1 : 1;
	} else if (ax != ay) {
		return ax ? -1 : 1;
	}
	return strcmp(x, y);
}

static int host_cmp(const void *a, const void *b)
{
	return records_host_cmp(((const struct host_rec *)a)->host, ((const struct host_rec *)b)->host);
}

static struct host_rec *slot(struct hostset *set, const char *host)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].host, host) == 0)
			return &set->v[i];
	struct host_rec *v = realloc(set->v, (set->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	set->v = v;
	memset(&v[set->n], 0, sizeof(*v));
	v[set->n].host = strdup(host);
	if (!v[set->n].host)
		return NULL;
	return &v[set->n++];
}

/* Names and addresses end up in known_hosts and ssh_config lines: a record
 * must not be able to add lines or patterns there. */
bool records_plain_name(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

bool records_address(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static char *address_or_null(const char *s)
{
	return records_address(s) ? strdup(s) : NULL;
}

static void take_record(struct host_rec *h, const cJSON *r, const char *stream, int64_t ts)
{
	const cJSON *port = cJSON_GetObjectItem(r, "port"), *gpus = cJSON_GetObjectItem(r, "gpus");
	int64_t hold_end = h->hold_end_ms;
	bool released = h->released;
	char *host = h->host;

	h->host = NULL;
	rec_clear(h);
	h->host = host;
	h->hold_end_ms = hold_end;
	h->released = released;
	h->ts_ms = ts;
	h->stream = strutil_dup(stream);
	h->ts = strutil_dup(jsonutil_str(r, "ts"));
	h->ip = address_or_null(jsonutil_str(r, "ip"));
	h->host_key = strutil_dup(jsonutil_str(r, "host_key"));
	h->client_key = strutil_dup(jsonutil_str(r, "client_key"));
	h->fingerprint = strutil_dup(jsonutil_str(r, "fingerprint"));
	h->instance_type = strutil_dup(jsonutil_str(r, "instance_type"));
	/* "ssm": {mode, state, target, ...}, null when Session Manager is off. */
	h->ssm_target = strutil_dup(jsonutil_str(cJSON_GetObjectItem(r, "ssm"), "target"));
	h->ssm_region = ssm_region(cJSON_GetObjectItem(r, "ssm"));
	h->state = strutil_dup(jsonutil_str(r, "state"));
	h->deadline = strutil_dup(jsonutil_str(r, "deadline"));
	if (cJSON_IsNumber(port) && port->valuedouble > 0 && port->valuedouble < 65536)
		h->port = (unsigned)port->valuedouble;
	if (cJSON_IsNumber(gpus) && gpus->valuedouble > 0 && gpus->valuedouble < 4096)
		h->gpus = (unsigned)gpus->valuedouble;
}

/* One log event: an identity or ready event from the publisher's stream,
 * the bare ready record from the training log, or a hold_end event. */
static int merge_message(struct hostset *set, const char *job, const char *stream, int64_t ts, const char *msg)
{
	cJSON *m = cJSON_Parse(msg);
	const cJSON *rec = NULL;
	const char *event = jsonutil_str(m, "event"), *host;
	int rc = 0;

	if (!cJSON_IsObject(m))
		goto out;
	if (event && (strcmp(event, "identity") == 0 || strcmp(event, "ready") == 0))
		rec = cJSON_GetObjectItem(m, "data");
	else if (!event && jsonutil_str(m, "porthole") && strcmp(jsonutil_str(m, "porthole"), "ready") == 0)
		rec = m;
	if (rec) {
		host = jsonutil_str(rec, "host");
		if (!records_plain_name(host) || !jsonutil_str(rec, "job") || strcmp(jsonutil_str(rec, "job"), job) != 0)
			goto out;
		struct host_rec *h = slot(set, host);
		if (!h) {
			rc = -1;
			goto out;
		}
		if (ts >= h->ts_ms)
			take_record(h, rec, stream, ts);
	} else if (event && strcmp(event, "hold_end") == 0) {
		host = jsonutil_str(m, "host");
		if (!records_plain_name(host) || !jsonutil_str(m, "job") || strcmp(jsonutil_str(m, "job"), job) != 0)
			goto out;
		struct host_rec *h = slot(set, host);
		if (!h) {
			rc = -1;
			goto out;
		}
		if (ts >= h->hold_end_ms) {
			const char *reason = jsonutil_str(cJSON_GetObjectItem(m, "data"), "reason");
			h->hold_end_ms = ts;
			h->released = reason && strcmp(reason, "release") == 0;
		}
	}
out:
	cJSON_Delete(m);
	return rc;
}

int records_merge_page(struct hostset *set, const char *job, const char *body, char **next)
{
	cJSON *root = cJSON_Parse(body);
	const cJSON *events = cJSON_GetObjectItem(root, "events"), *e;
	const char *token = jsonutil_str(root, "nextToken");
	int rc = 0;

	*next = NULL;
	if (!cJSON_IsArray(events)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(e, events) {
		const cJSON *ts = cJSON_GetObjectItem(e, "timestamp");
		const char *msg = jsonutil_str(e, "message");
		if (msg && cJSON_IsNumber(ts) && merge_message(set, job, jsonutil_str(e, "logStreamName"),
							jsonutil_int(ts, INT64_MIN, INT64_MAX, 0), msg) < 0)
			rc = -1;
	}
	if (token && *token && rc == 0) {
		*next = strdup(token);
		if (!*next)
			rc = -1;
	}
	cJSON_Delete(root);
	if (set->n)
		qsort(set->v, set->n, sizeof(set->v[0]), host_cmp);
	return rc;
}

const struct host_rec *records_find(const struct hostset *set, const char *host)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].ts_ms && strcmp(set->v[i].host, host) == 0)
			return &set->v[i];
	return NULL;
}

void records_free(struct hostset *set)
{
	for (size_t i = 0; i < set->n; i++)
		rec_clear(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

bool records_gone(const struct host_rec *h)
{
	return h->state && strcmp(h->state, "exiting") == 0;
}

void records_state_text(const struct host_rec *h, char *buf, size_t len)
{
	const char *s = h->state ? h->state : "unknown";

	if (records_gone(h))
		snprintf(buf, len, "%s", h->released && h->hold_end_ms <= h->ts_ms ? "released" : "gone");
	else if (strcmp(s, "holding") == 0 && h->deadline)
		snprintf(buf, len, "holding until %s", h->deadline);
	else if (strcmp(s, "waiting-before-start") == 0 && h->deadline)
		snprintf(buf, len, "waiting to start until %s", h->deadline);
	else
		snprintf(buf, len, "%s", s);
}
