/* log.c — see log.h.  The logger is process-wide by nature (every module
 * reports through it), so its state lives in one named static struct. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#define MAX_SINKS 4

static struct logger {
	enum plog_level min;
	bool journal;
	struct { log_sink_fn fn; void *ud; } sinks[MAX_SINKS];
	bool in_sink; /* a sink that logs must not recurse into sinks */
} the_log = { .min = PLOG_INFO };

static const char *const level_names[] = { "debug", "info", "warning", "error" };

void log_init(void)
{
	/* JOURNAL_STREAM is set by systemd when stderr is connected to the
	 * journal; only then are structured fields worth sending. */
	the_log.journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum plog_level min)
{
	the_log.min = min;
}

const char *log_level_name(enum plog_level lvl)
{
	return level_names[lvl];
}

int log_level_parse(const char *s, enum plog_level *out)
{
	for (int i = PLOG_DEBUG; i <= PLOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum plog_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warn") == 0) {
		*out = PLOG_WARN;
		return 0;
	}
	return -EINVAL;
}

static int syslog_priority(enum plog_level lvl)
{
	switch (lvl) {
	case PLOG_DEBUG: return LOG_DEBUG;
	case PLOG_INFO: return LOG_INFO;
	case PLOG_WARN: return LOG_WARNING;
	default: return LOG_ERR;
	}
}

static void emit(enum plog_level lvl, const char *event, const cJSON *fields, const char *msg)
{
	if (lvl >= the_log.min) {
		if (the_log.journal) {
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", syslog_priority(lvl),
					"SYSLOG_IDENTIFIER=porthole", "PORTHOLE_EVENT=%s", event ? event : "",
					NULL);
		} else {
			int saved = errno;
			fprintf(stderr, "porthole: %s: %s\n", level_names[lvl], msg);
			errno = saved;
		}
	}
	if ((lvl >= PLOG_WARN || event) && !the_log.in_sink) {
		the_log.in_sink = true;
		for (int i = 0; i < MAX_SINKS; i++)
			if (the_log.sinks[i].fn)
				the_log.sinks[i].fn(the_log.sinks[i].ud, lvl, event, fields, msg);
		the_log.in_sink = false;
	}
}

void plog(enum plog_level lvl, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(lvl, NULL, NULL, msg);
}

void log_event(enum plog_level lvl, const char *event, cJSON *fields, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(lvl, event, fields, msg);
	cJSON_Delete(fields);
}

int log_add_sink(log_sink_fn fn, void *ud)
{
	for (int i = 0; i < MAX_SINKS; i++) {
		if (!the_log.sinks[i].fn) {
			the_log.sinks[i].fn = fn;
			the_log.sinks[i].ud = ud;
			return 0;
		}
	}
	return -ENOSPC;
}

void log_remove_sink(log_sink_fn fn, void *ud)
{
	for (int i = 0; i < MAX_SINKS; i++)
		if (the_log.sinks[i].fn == fn && the_log.sinks[i].ud == ud)
			the_log.sinks[i].fn = NULL;
}
