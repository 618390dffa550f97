/* SPDX-License-Identifier: Apache-2.0 */
/* log.h — porthole's own messages and structured events.
 *
 * Every message goes to stderr as "porthole: LEVEL: message", or to the
 * journal with structured fields when running under systemd.  Warnings,
 * errors and events are also handed to the registered sinks: that is the one
 * place the CloudWatch publisher picks them up from. */
#ifndef PORTHOLE_LOG_H
#define PORTHOLE_LOG_H

#include <cjson/cJSON.h>

/* PLOG_NONE as a minimum level prints nothing (the CLI's quiet mode). */
enum plog_level { PLOG_DEBUG, PLOG_INFO, PLOG_WARN, PLOG_ERROR, PLOG_NONE };

/* Decide between stderr and journal output (JOURNAL_STREAM). */
void log_init(void);
void log_set_level(enum plog_level min);
const char *log_level_name(enum plog_level lvl);
int log_level_parse(const char *s, enum plog_level *out);

void log_msg(enum plog_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(PLOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(PLOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(PLOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(PLOG_ERROR, __VA_ARGS__)

/* A structured event (hold state change, session audit ...).  `fields` is
 * consumed; it may be NULL.  The formatted text is the human message. */
void log_event(enum plog_level lvl, const char *event, cJSON *fields, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Sinks see every warning, error and event (never debug/info messages
 * without an event name).  `fields` is borrowed for the call only. */
typedef void (*log_sink_fn)(void *ud, enum plog_level lvl, const char *event,
			    const cJSON *fields, const char *msg);
/* The first sink added also receives what was logged before it (up to a
 * bound).  A process that will have no sink discards that backlog. */
int log_add_sink(log_sink_fn fn, void *ud);
void log_discard_early(void);
void log_remove_sink(log_sink_fn fn, void *ud);

#endif
