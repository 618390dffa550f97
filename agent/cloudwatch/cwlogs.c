/* SPDX-License-Identifier: Apache-2.0 */
/* cwlogs.c — see cwlogs.h. */
#include "cwlogs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

char *cwlogs_put_body(const char *group, const char *stream, const struct spool_rec *recs, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *evs;
	char *out = NULL;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "logGroupName", group);
	cJSON_AddStringToObject(o, "logStreamName", stream);
	evs = cJSON_AddArrayToObject(o, "logEvents");
	for (size_t i = 0; evs && i < n; i++) {
		cJSON *e;
		if (!recs[i].msg)
			continue;
		e = cJSON_CreateObject();
		if (!e)
			goto out;
		cJSON_AddItemToArray(evs, e);
		cJSON_AddNumberToObject(e, "timestamp", (double)recs[i].ts_ms);
		if (!cJSON_AddStringToObject(e, "message", recs[i].msg))
			goto out;
	}
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}

char *cwlogs_name_body(const char *group, const char *stream)
{
	cJSON *o = cJSON_CreateObject();
	char *out;

	cJSON_AddStringToObject(o, "logGroupName", group);
	if (stream)
		cJSON_AddStringToObject(o, "logStreamName", stream);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static long index_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	/* An index is below PutLogEvents' 10000 events; anything above 1e9 is
	 * as good as "past the end" and must not reach the cast (found by
	 * tests/fuzz/responses). */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
		return -1;
	return v->valuedouble > 1e9 ? 1000000000L : (long)v->valuedouble;
}

size_t cwlogs_rejected(const char *body, size_t n, struct cwlogs_rejected *out)
{
	cJSON *root = cJSON_Parse(body);
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "rejectedLogEventsInfo");
	size_t bad = 0;

	out->too_new_start = out->too_old_end = out->expired_end = -1;
	if (cJSON_IsObject(info)) {
		out->too_new_start = index_member(info, "tooNewLogEventStartIndex");
		out->too_old_end = index_member(info, "tooOldLogEventEndIndex");
		out->expired_end = index_member(info, "expiredLogEventEndIndex");
		/* The old and expired ranges both start at 0 and may overlap. */
		long old_end = out->too_old_end > out->expired_end ? out->too_old_end : out->expired_end;
		if (old_end > 0)
			bad += (size_t)old_end < n ? (size_t)old_end : n;
		if (out->too_new_start >= 0 && (size_t)out->too_new_start < n) {
			size_t from = (size_t)out->too_new_start > bad ? (size_t)out->too_new_start : bad;
			bad += n - from;
		}
	}
	cJSON_Delete(root);
	return bad;
}

static int valid_name(const char *s, const char *extra, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > max)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (extra && !strchr(extra, c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9'))
			return 0;
		if (!extra && (c == ':' || c == '*'))
			return 0;
	}
	return 1;
}

int cwlogs_valid_group(const char *name)
{
	return valid_name(name, "._-/#", 512);
}

int cwlogs_valid_stream(const char *name)
{
	return valid_name(name, NULL, 512);
}

struct aws_call *cwlogs_call(struct aws *aws, const char *endpoint, const char *region, const char *op,
			     const char *body, aws_done_fn done, void *ud)
{
	return cwlogs_call_paced(aws, endpoint, region, op, body, false, done, ud);
}

struct aws_call *cwlogs_call_paced(struct aws *aws, const char *endpoint, const char *region, const char *op,
				   const char *body, bool paced, aws_done_fn done, void *ud)
{
	char target[96], url[2048];
	const char *headers[] = { "Content-Type: application/x-amz-json-1.1", target, NULL };
	struct aws_call_spec spec = { .service = "logs", .region = region, .method = "POST", .url = url,
				      .headers = headers, .body = body, .body_len = strlen(body), .timeout_ms = 30000,
				      .max_body = 256 * 1024, .throttle_ends = paced };

	snprintf(target, sizeof(target), "X-Amz-Target: Logs_20140328.%s", op);
	snprintf(url, sizeof(url), "%s/", endpoint);
	return aws_call_start(aws, &spec, done, ud);
}
