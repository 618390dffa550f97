/* SPDX-License-Identifier: Apache-2.0 */
/* backoff.h — when to start a supervised process again after it died: the
 * delay doubles from min at each death up to max, and goes back to min
 * once a run has lasted stable.  opensshd.c (the image's sshd) and ssm.c
 * (amazon-ssm-agent) restart by it.  Pure logic: the caller passes the
 * times and arms its own timer. */
#ifndef PORTHOLE_BACKOFF_H
#define PORTHOLE_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint64_t min, max;  /* the first delay and the cap (usec) */
	uint64_t stable;    /* a run this long (usec) earns min again */
	uint64_t next;      /* what the next death waits */
	uint64_t started;   /* when the current run began (usec, monotonic) */
	unsigned restarts;  /* since the last stable run, the one being waited for included */
};

void backoff_init(struct backoff *b, uint64_t min, uint64_t max, uint64_t stable);

/* A run began at now. */
void backoff_started(struct backoff *b, uint64_t now);

/* The run ended at now: how long to wait before the next one. */
uint64_t backoff_next(struct backoff *b, uint64_t now);

#endif
