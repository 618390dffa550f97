/* SPDX-License-Identifier: Apache-2.0 */
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

#include "vis.h"

#define MAX_SINKS 4
#define MAX_EARLY 64

/* What was said before any sink existed (config errors, identity problems):
 * kept so the first sink still ships it. */
struct early {
	enum plog_level lvl;
	char *event;
	cJSON *fields;
	char *msg;
};

static struct logger {
	enum plog_level min;
	bool journal;
	struct { log_sink_fn fn; void *ud; } sinks[MAX_SINKS];
	bool had_sink;
	bool in_sink; /* a sink that logs must not recurse into sinks */
	struct early early[MAX_EARLY];
	unsigned n_early, early_dropped;
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

static void emit_safe(enum plog_level lvl, const char *event, const cJSON *fields, const char *msg);

/* Every message is escaped (vis.h) on its way in: whatever it quotes (a
 * client's user name, a command, a path), it is one line of printable text
 * on stderr, in the journal and in every sink. */
static void emit(enum plog_level lvl, const char *event, const cJSON *fields, const char *msg)
{
	char safe[4 * 2048];

	if (!vis_needed(msg)) {
		emit_safe(lvl, event, fields, msg);
		return;
	}
	vis_str(safe, sizeof(safe), msg);
	emit_safe(lvl, event, fields, safe);
}

static void emit_safe(enum plog_level lvl, const char *event, const cJSON *fields, const char *msg)
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
	if ((lvl >= PLOG_WARN || event) && !the_log.had_sink) {
		if (the_log.n_early < MAX_EARLY) {
			struct early *e = &the_log.early[the_log.n_early++];
			e->lvl = lvl;
			e->event = event ? strdup(event) : NULL;
			e->fields = fields ? cJSON_Duplicate(fields, 1) : NULL;
			e->msg = strdup(msg);
		} else {
			the_log.early_dropped++;
		}
		return;
	}
	if ((lvl >= PLOG_WARN || event) && !the_log.in_sink) {
		the_log.in_sink = true;
		for (int i = 0; i < MAX_SINKS; i++)
			if (the_log.sinks[i].fn)
				the_log.sinks[i].fn(the_log.sinks[i].ud, lvl, event, fields, msg);
		the_log.in_sink = false;
	}
}

void log_msg(enum plog_level lvl, const char *fmt, ...)
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

static void replay_early(log_sink_fn fn, void *ud)
{
	for (unsigned i = 0; i < the_log.n_early; i++) {
		struct early *e = &the_log.early[i];
		if (fn && e->msg)
			fn(ud, e->lvl, e->event, e->fields, e->msg);
		free(e->event);
		cJSON_Delete(e->fields);
		free(e->msg);
	}
	if (fn && the_log.early_dropped) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%u early log messages were dropped before the log was shipped",
			 the_log.early_dropped);
		fn(ud, PLOG_WARN, NULL, NULL, msg);
	}
	the_log.n_early = the_log.early_dropped = 0;
}

int log_add_sink(log_sink_fn fn, void *ud)
{
	for (int i = 0; i < MAX_SINKS; i++) {
		if (!the_log.sinks[i].fn) {
			the_log.sinks[i].fn = fn;
			the_log.sinks[i].ud = ud;
			if (!the_log.had_sink) {
				the_log.had_sink = true;
				the_log.in_sink = true;
				replay_early(fn, ud);
				the_log.in_sink = false;
			}
			return 0;
		}
	}
	return -ENOSPC;
}

void log_discard_early(void)
{
	the_log.had_sink = true;
	replay_early(NULL, NULL);
}

void log_remove_sink(log_sink_fn fn, void *ud)
{
	for (int i = 0; i < MAX_SINKS; i++)
		if (the_log.sinks[i].fn == fn && the_log.sinks[i].ud == ud)
			the_log.sinks[i].fn = NULL;
}
