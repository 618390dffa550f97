/* SPDX-License-Identifier: Apache-2.0 */
/* clock.c — see clock.h. */
#include "clock.h"

#include <stdio.h>
#include <time.h>

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t clock_mono_usec(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t clock_real_usec(void)
{
	return read_clock(CLOCK_REALTIME);
}

void clock_real_iso(uint64_t real_usec, char *buf, size_t len)
{
	time_t t = (time_t)(real_usec / USEC_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void clock_mono_iso(uint64_t mono_usec, char *buf, size_t len)
{
	uint64_t now_mono = clock_mono_usec(), now_real = clock_real_usec();

	clock_real_iso(mono_usec >= now_mono ? now_real + (mono_usec - now_mono) : now_real - (now_mono - mono_usec),
		       buf, len);
}
