/* SPDX-License-Identifier: Apache-2.0 */
/* batch.c — see batch.h. */
#include "batch.h"

#include <string.h>

const struct batch_limits batch_limits_default = {
	.max_bytes = CW_MAX_BATCH_BYTES,
	.max_events = CW_MAX_BATCH_EVENTS,
	.max_span_ms = CW_MAX_SPAN_MS,
};

bool batch_add(struct batch *b, const struct batch_limits *lim, int64_t ts_ms, size_t len)
{
	size_t cost = len + CW_EVENT_OVERHEAD;

	if (b->events) {
		if (b->events >= lim->max_events || b->bytes + cost > lim->max_bytes)
			return false;
		/* CloudWatch refuses the whole call for out-of-order events or a
		 * span over 24 h, so a step back in the wall clock starts a new
		 * batch rather than reordering what porthole logged. */
		if (ts_ms < b->last_ms || ts_ms - b->first_ms > lim->max_span_ms)
			return false;
	} else {
		if (cost > lim->max_bytes)
			return false;
		b->first_ms = ts_ms;
	}
	b->events++;
	b->bytes += cost;
	b->last_ms = ts_ms;
	return true;
}

size_t batch_split(const char *msg, size_t len, size_t max)
{
	size_t room, cut;

	if (len <= max)
		return len;
	room = max > strlen(CW_CONTINUED_MARK) ? max - strlen(CW_CONTINUED_MARK) : 0;
	cut = room;
	/* Back up over continuation bytes (10xxxxxx) to a character start. */
	while (cut > 0 && ((unsigned char)msg[cut] & 0xc0) == 0x80)
		cut--;
	/* Never a zero-length piece: a lone huge "character" is cut anyway. */
	return cut ? cut : (room ? room : 1);
}
