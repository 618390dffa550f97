/* SPDX-License-Identifier: Apache-2.0 */
/* penalty.h — per-source penalties for repeated SSH login failures.
 *
 * A source (client address) may fail a few times freely; after that each
 * further failed connection shuts it out for twice as long as the last time,
 * up to a limit.  A login from it forgives it; quiet sources are forgotten.
 * The table is bounded: a flood of sources evicts the quietest. */
#ifndef PORTHOLE_PENALTY_H
#define PORTHOLE_PENALTY_H

#include <stdint.h>

#define PENALTY_FREE_FAILURES 3
#define PENALTY_MAX_USEC (60 * UINT64_C(1000000))
#define PENALTY_FORGET_USEC (10 * 60 * UINT64_C(1000000))

struct penalty;

/* 0, or -ENOMEM. */
int penalty_new(struct penalty **ret);
void penalty_free(struct penalty *b);

/* Microseconds until addr may connect again; 0 if it may now. */
uint64_t penalty_wait(struct penalty *b, const char *addr, uint64_t now);
/* A connection from addr ended without a login after failing to log in. */
void penalty_failure(struct penalty *b, const char *addr, uint64_t now);
/* Someone logged in from addr. */
void penalty_success(struct penalty *b, const char *addr);

#endif
