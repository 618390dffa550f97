/* SPDX-License-Identifier: Apache-2.0 */
/* events.h — porthole's CloudWatch events: one JSON object per event
 * (schema in docs/cloudwatch-events.md).  Whatever bytes come in (quotes,
 * control characters, invalid UTF-8), what comes out is valid JSON and
 * valid UTF-8: CloudWatch rejects the whole batch otherwise. */
#ifndef PORTHOLE_EVENTS_H
#define PORTHOLE_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define EVENTS_SCHEMA 1

/* A copy of s[0..len) with each invalid UTF-8 sequence (overlong forms,
 * surrogates, code points past U+10FFFF, truncated sequences) replaced by
 * U+FFFD.  Caller frees. */
char *utf8_sanitize(const char *s, size_t len);
/* 1 if s[0..len) is valid UTF-8. */
int utf8_valid(const char *s, size_t len);

/* {"version":1,"ts":"…Z","level":…,"event":…,"job":…,"host":…,"msg":…,
 *  "data":{fields}} as one line.  event NULL means "log"; msg and fields
 * may be NULL.  Caller frees; NULL if out of memory. */
char *events_encode(int64_t ts_ms, const char *level, const char *event, const char *job, const char *host,
		   const char *msg, const cJSON *fields);

#endif
