/* sshd_relay.h — porthole's side of session_report.h: the lines a forked
 * SSH process writes, parsed and logged as that process meant them. */
#ifndef PORTHOLE_SSHD_RELAY_H
#define PORTHOLE_SSHD_RELAY_H

#include <cjson/cJSON.h>

/* One line; NULL if it is not a report. */
cJSON *relay_parse(const char *line);
/* Its event name, or NULL for a plain message. */
const char *relay_event(const cJSON *o);
/* A string member of its fields, or NULL. */
const char *relay_field(const cJSON *o, const char *name);
/* Log it: log_event() for events, plog() for messages. */
void relay_log(const cJSON *o);

#endif
