/* SPDX-License-Identifier: Apache-2.0 */
/* backoff.c — see backoff.h. */
#include "backoff.h"

void backoff_init(struct backoff *b, uint64_t min, uint64_t max, uint64_t stable)
{
	*b = (struct backoff){ .min = min, .max = max, .stable = stable, .next = min };
}

void backoff_started(struct backoff *b, uint64_t now)
{
	b->started = now;
}

uint64_t backoff_next(struct backoff *b, uint64_t now)
{
	uint64_t delay;

	/* A long healthy run earns a quick restart again. */
	if (now - b->started >= b->stable) {
		b->next = b->min;
		b->restarts = 0;
	}
	delay = b->next;
	b->next = b->next > b->max / 2 ? b->max : b->next * 2;
	b->restarts++;
	return delay;
}
