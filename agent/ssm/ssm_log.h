/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_log.h — amazon-ssm-agent's log lines: what level a line has, and
 * following its log files as they grow (inotify on the log directory,
 * through sd-event: nothing runs while the agent writes nothing). */
#ifndef PORTHOLE_SSM_LOG_H
#define PORTHOLE_SSM_LOG_H

#include <stddef.h>
#include <systemd/sd-event.h>

#include "../lib/log.h"

/* "2025-06-24 23:37:35.7201 ERROR [Func @ file.go.123] message" (older
 * agents write no fraction).  0 with the level mapped to porthole's
 * (CRITICAL and ERROR: error, WARN: warning, INFO: info, DEBUG and TRACE:
 * debug), the agent's own level word copied to word, and *msg pointing at
 * what follows it; -1 if the line is not in that format. */
int ssm_log_parse(const char *line, enum plog_level *lvl, char *word, size_t wordlen, const char **msg);

/* Splits a byte stream into lines; a line longer than the buffer is
 * delivered cut at its size. */
struct ssm_lines {
	char buf[2048];
	size_t len;
};
typedef void (*ssm_line_fn)(void *ud, const char *line);
void ssm_log_lines_feed(struct ssm_lines *l, const char *data, size_t n, ssm_line_fn fn, void *ud);

/* Follow the named files in dir from their current ends (a file that does
 * not exist yet is followed from its start once it appears; a truncated or
 * rotated file from its new start).  fn gets each complete line with the
 * file's name.  dir must exist. */
struct ssm_follow;
typedef void (*ssm_follow_fn)(void *ud, const char *file, const char *line);
int ssm_log_follow_new(sd_event *loop, const char *dir, const char *const *files, ssm_follow_fn fn, void *ud,
		   struct ssm_follow **out);
void ssm_log_follow_free(struct ssm_follow *f);

#endif
