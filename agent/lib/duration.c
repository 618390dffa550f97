/* SPDX-License-Identifier: Apache-2.0 */
/* duration.c — see duration.h. */
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct { char unit; uint64_t sec; } units[] = {
	{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

int duration_parse(const char *s, uint64_t *sec)
{
	uint64_t total = 0;
	size_t next_unit = 0; /* units must appear largest first, once each */
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		uint64_t n = 0;
		const char *start = p;

		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > DURATION_MAX_SEC)
				return -ERANGE;
			p++;
		}
		if (p == start)
			return -EINVAL;
		if (*p == '\0') {
			/* a bare number is seconds, but only on its own */
			if (start != s)
				return -EINVAL;
			total = n;
			break;
		}
		size_t i;
		for (i = next_unit; i < sizeof(units) / sizeof(units[0]); i++)
			if (units[i].unit == *p)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		next_unit = i + 1;
		total += n * units[i].sec;
		if (total > DURATION_MAX_SEC)
			return -ERANGE;
		p++;
	}
	*sec = total;
	return 0;
}

char *duration_format(uint64_t sec, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (sec == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = sec / units[i].sec;
		if (!n)
			continue;
		sec %= units[i].sec;
		int w = snprintf(buf + off, len - off, "%llu%c", (unsigned long long)n, units[i].unit);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
	return buf;
}
