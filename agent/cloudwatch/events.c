/* SPDX-License-Identifier: Apache-2.0 */
/* events.c — see events.h.  cJSON escapes quotes, backslashes and control
 * characters but passes other bytes through as they are, so every string
 * is made valid UTF-8 before cJSON sees it. */
#include "events.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t l = utf8_seq((const unsigned char *)s + i, len - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

char *utf8_sanitize(const char *s, size_t len)
{
	/* Worst case: every byte becomes the 3-byte U+FFFD. */
	char *out = malloc(len * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t l = utf8_seq((const unsigned char *)s + i, len - i);
		if (l && s[i] != '\0') {
			memcpy(o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return out;
}

/* Make every string (keys too) of a tree valid UTF-8, in place. */
static bool sanitize_tree(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->string && !utf8_valid(item->string, strlen(item->string))) {
			char *fixed = utf8_sanitize(item->string, strlen(item->string));
			if (!fixed)
				return false;
			/* cJSON owns keys unless flagged constant; replace with ours. */
			if (!(item->type & cJSON_StringIsConst))
				cJSON_free(item->string);
			item->type &= ~cJSON_StringIsConst;
			item->string = fixed;
		}
		if (cJSON_IsString(item) && item->valuestring &&
		    !utf8_valid(item->valuestring, strlen(item->valuestring))) {
			char *fixed = utf8_sanitize(item->valuestring, strlen(item->valuestring));
			if (!fixed)
				return false;
			cJSON_free(item->valuestring);
			item->valuestring = fixed;
		}
		if (item->child && !sanitize_tree(item->child))
			return false;
	}
	return true;
}

static cJSON *clean_string(const char *s)
{
	char *fixed = utf8_sanitize(s, strlen(s));
	cJSON *v = fixed ? cJSON_CreateString(fixed) : NULL;

	free(fixed);
	return v;
}

char *events_encode(int64_t ts_ms, const char *level, const char *event, const char *job, const char *host,
		   const char *msg, const cJSON *fields)
{
	cJSON *o = cJSON_CreateObject(), *data = NULL;
	char ts[40], *out = NULL;
	time_t sec = (time_t)(ts_ms / 1000);
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&sec, &tm);
	size_t n = strftime(ts, sizeof(ts) - 8, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03uZ", (unsigned)(ts_ms % 1000) % 1000u);
	cJSON_AddNumberToObject(o, "version", EVENTS_SCHEMA);
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddItemToObject(o, "level", clean_string(level));
	cJSON_AddItemToObject(o, "event", clean_string(event ? event : "log"));
	cJSON_AddItemToObject(o, "job", clean_string(job ? job : ""));
	cJSON_AddItemToObject(o, "host", clean_string(host ? host : ""));
	if (msg)
		cJSON_AddItemToObject(o, "msg", clean_string(msg));
	if (fields) {
		data = cJSON_Duplicate(fields, 1);
		if (!data || !sanitize_tree(data->child)) {
			cJSON_Delete(data);
			goto out;
		}
		cJSON_AddItemToObject(o, "data", data);
	}
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}
