/* sshd_relay.c — see sshd_relay.h. */
#include "sshd_relay.h"

#include "log.h"

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
	if (event)
		log_event(lvl, event, cJSON_IsObject(f) ? cJSON_Duplicate(f, 1) : NULL, "%s", msg);
	else
		plog(lvl, "%s", msg);
}
