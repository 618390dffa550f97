/* SPDX-License-Identifier: Apache-2.0 */
/* batch.h — what may go into one PutLogEvents call.  Pure rules, so every
 * limit can be tested on its own:
 *   - at most 1,048,576 bytes, counting each message's UTF-8 bytes + 26;
 *   - at most 10,000 events;
 *   - timestamps never going backwards (a step back ends the batch);
 *   - at most 24 hours between the first and the last event;
 *   - one event at most 262,144 bytes counted the same way: longer messages
 *     are split beforehand (batch_split). */
#ifndef PORTHOLE_BATCH_H
#define PORTHOLE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_MAX_BATCH_BYTES 1048576u
#define CW_MAX_BATCH_EVENTS 10000u
#define CW_EVENT_OVERHEAD 26u
#define CW_MAX_EVENT_BYTES 262144u
#define CW_MAX_MESSAGE_BYTES (CW_MAX_EVENT_BYTES - CW_EVENT_OVERHEAD)
#define CW_MAX_SPAN_MS (24 * 3600 * INT64_C(1000))

/* Ends every piece of a split message but the last. */
#define CW_CONTINUED_MARK " [porthole:continued]"

struct batch_limits {
	size_t max_bytes, max_events;
	int64_t max_span_ms;
};

extern const struct batch_limits batch_limits_default;

struct batch {
	size_t events, bytes;
	int64_t first_ms, last_ms;
};

/* Whether one more event (timestamp, message length) fits; if so, counts it. */
bool batch_add(struct batch *b, const struct batch_limits *lim, int64_t ts_ms, size_t len);

/* Length of the next piece of msg[0..len) when splitting for messages of at
 * most max bytes (marker included): len itself if it fits, else the longest
 * prefix ending on a UTF-8 character boundary that leaves room for
 * CW_CONTINUED_MARK. */
size_t batch_split(const char *msg, size_t len, size_t max);

#endif
