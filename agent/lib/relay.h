/* SPDX-License-Identifier: Apache-2.0 */
/* relay.h — porthole's side of report.h: the lines a forked process
 * writes, parsed and logged as that process meant them.  relay_reader.h
 * reads a pipe of them. */
#ifndef PORTHOLE_SSHD_RELAY_H
#define PORTHOLE_SSHD_RELAY_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* One line; NULL if it is not a report. */
cJSON *relay_parse(const char *line);
/* Its event name, or NULL for a plain message. */
const char *relay_event(const cJSON *o);
/* A string member of its fields, or NULL. */
const char *relay_field(const cJSON *o, const char *name);
/* Log it: log_event() for events, log_msg() for messages. */
void relay_log(const cJSON *o);

/* The part of a report pipe's stream read so far that is not yet a line. */
struct relay_lines {
	char *buf;
	size_t len;
};

/* Add n bytes read from the pipe and call fn on each line now complete
 * (NUL-terminated, without its newline).  0; -E2BIG if the unfinished line
 * would pass max bytes (nothing is added); -ENOMEM. */
int relay_lines_add(struct relay_lines *l, const char *chunk, size_t n, size_t max,
		    void (*fn)(void *ud, const char *line), void *ud);
void relay_lines_clear(struct relay_lines *l);

#endif
