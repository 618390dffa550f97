/* SPDX-License-Identifier: Apache-2.0 */
/* session_report.h — how a process porthole forked for SSH (a connection, or
 * the setup helper) tells porthole what happens: one JSON object per line on
 * a pipe, which porthole logs (sshd.c).  Log sinks belong to PID 1, so these
 * processes never log on their own.
 *
 * A line: {"level":"info","event":"ssh_login"|null,"msg":"…","fields":{…}} */
#ifndef PORTHOLE_SESSION_REPORT_H
#define PORTHOLE_SESSION_REPORT_H

#include <cjson/cJSON.h>

#include "log.h"

/* Report to fd from now on (stderr until called). */
void report_init(int fd);

/* Like log_event(); fields (consumed) may be NULL, event may be NULL. */
void report_log(enum plog_level lvl, const char *event, cJSON *fields, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* From a signal handler: a fixed line, written with one write(). */
void report_raw(const char *line);

#endif
