/* SPDX-License-Identifier: Apache-2.0 */
/* session_report.c — see session_report.h.  The pipe is process-wide by
 * nature, like the logger's sinks, so it lives in one named static. */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	int fd;
} the_report = { .fd = STDERR_FILENO };

void report_init(int fd)
{
	the_report.fd = fd;
}

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(the_report.fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* porthole is gone: nobody left to tell */
		p += w;
		n -= (size_t)w;
	}
}

void report_log(enum plog_level lvl, const char *event, cJSON *fields, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char msg[2048], *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(o, "level", log_level_name(lvl));
	if (event)
		cJSON_AddStringToObject(o, "event", event);
	cJSON_AddStringToObject(o, "msg", msg);
	if (fields)
		cJSON_AddItemToObject(o, "fields", fields);
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!line)
		return;
	/* One write per line where possible: lines from a dying process must
	 * not be torn. */
	size_t n = strlen(line);
	char *buf = realloc(line, n + 2);
	if (buf) {
		buf[n] = '\n';
		write_all(buf, n + 1);
		free(buf);
	} else {
		write_all(line, n);
		write_all("\n", 1);
		free(line);
	}
}

void report_raw(const char *line)
{
	write_all(line, strlen(line));
}
