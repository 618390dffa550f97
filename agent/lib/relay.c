/* SPDX-License-Identifier: Apache-2.0 */
/* relay.c — see relay.h. */
#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "vis.h"

/* The strings of a report's fields carry what clients sent (user names,
 * commands, forwarding hosts): escaped when logged, for the log and
 * CloudWatch alike.  Its "msg" is escaped by the logger like every
 * message.  (Not at parsing: some reports carry text meant for porthole
 * itself, such as the setup helper's host key.) */
static void escape_fields(cJSON *f)
{
	cJSON *item;

	cJSON_ArrayForEach(item, f) {
		if (cJSON_IsString(item) && vis_needed(item->valuestring)) {
			char *safe = vis_dup(item->valuestring);
			if (safe) {
				cJSON_free(item->valuestring);
				item->valuestring = safe;
			}
		} else if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
			escape_fields(item);
		}
	}
}

cJSON *relay_parse(const char *line)
{
	cJSON *o = cJSON_Parse(line);

	if (!cJSON_IsObject(o) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "msg"))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

const char *relay_event(const cJSON *o)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "event");
	return cJSON_IsString(e) ? e->valuestring : NULL;
}

const char *relay_field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fields"), name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void relay_log(const cJSON *o)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "level");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fields");
	const char *msg = cJSON_GetObjectItemCaseSensitive(o, "msg")->valuestring, *event = relay_event(o);
	enum plog_level lvl = PLOG_INFO;

	if (!cJSON_IsString(l) || log_level_parse(l->valuestring, &lvl) < 0)
		lvl = PLOG_INFO;
	if (event) {
		cJSON *safe = cJSON_IsObject(f) ? cJSON_Duplicate(f, 1) : NULL;
		escape_fields(safe);
		log_event(lvl, event, safe, "%s", msg);
	} else {
		log_msg(lvl, "%s", msg);
	}
}

int relay_lines_add(struct relay_lines *l, const char *chunk, size_t n, size_t max,
		    void (*fn)(void *ud, const char *line), void *ud)
{
	char *nl;

	if (l->len + n > max)
		return -E2BIG;
	char *nb = realloc(l->buf, l->len + n + 1);
	if (!nb)
		return -ENOMEM;
	l->buf = nb;
	memcpy(l->buf + l->len, chunk, n);
	l->len += n;
	l->buf[l->len] = '\0';
	while ((nl = memchr(l->buf, '\n', l->len))) {
		*nl = '\0';
		fn(ud, l->buf);
		l->len -= (size_t)(nl + 1 - l->buf);
		memmove(l->buf, nl + 1, l->len + 1);
	}
	return 0;
}

void relay_lines_clear(struct relay_lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = 0;
}
