/* SPDX-License-Identifier: Apache-2.0 */
/* pace.h — how often each host of a job polls during the cluster rendezvous.
 *
 * Two APIs, each with a quota per account and region shared by all the
 * job's hosts: FilterLogEvents (5 calls a second) and GetLogEvents (25).
 * The leader (roster.h) searches the records with FilterLogEvents and takes
 * most of that quota, about 2.5 calls a second; the other hosts share the
 * rest of it, so that if the leader never writes the roster they still
 * finish as they did before it existed, only more slowly.  Their main path
 * is GetLogEvents on the roster's stream, which they share at about 20 calls
 * a second, below its quota with room for jitter and other callers.
 *
 * Whatever the share, no host polls faster than every 300 ms.  Without news
 * the delay grows by half up to a cap (2 s for FilterLogEvents; 600 ms for
 * the leader, whose poll the whole job waits for, and for the roster; or
 * the share, if longer); news brings it back, since the other hosts are likely
 * close behind; throttling sends it to the cap.  Delays are jittered
 * between half and all of them (on average 3/4), so hosts started together
 * spread out.  Pure functions. */
#ifndef PORTHOLE_PACE_H
#define PORTHOLE_PACE_H

#include <stddef.h>
#include <stdint.h>

#define PACE_FIRST_USEC UINT64_C(300000)   /* the small-job floor */
#define PACE_MAX_USEC UINT64_C(2000000)
#define PACE_LEADER_MAX_USEC UINT64_C(600000)
#define PACE_ROSTER_MAX_USEC UINT64_C(600000)

/* The average time between two calls of the whole job that each API may
 * take (the inverse of the calls a second): FilterLogEvents about 4.4 of
 * its 5, the leader 2.5 of them; GetLogEvents 20 of its 25. */
#define PACE_FILTER_JOB_USEC UINT64_C(225000)
#define PACE_FILTER_LEADER_USEC UINT64_C(400000)
#define PACE_ROSTER_JOB_USEC UINT64_C(50000)

enum pace_role {
	PACE_LEADER,    /* the leader's FilterLogEvents (a job of one: all of it) */
	PACE_FOLLOWER,  /* another host's FilterLogEvents, the fallback */
	PACE_ROSTER,    /* another host's GetLogEvents on the roster */
};

struct pace {
	uint64_t first, cap, delay; /* microseconds */
	size_t best;                /* the most hosts known after a poll so far */
};

void pace_init(struct pace *p, size_t n_hosts, enum pace_role role);

/* The average time between this host's calls at its first delay (the
 * fastest it polls), jitter included: what the quota sees. */
uint64_t pace_mean_usec(const struct pace *p);

/* After a poll that found `known` hosts: the delay before the next one,
 * before jitter. */
uint64_t pace_after(struct pace *p, size_t known);

/* After a throttled poll. */
uint64_t pace_throttled(struct pace *p);

/* usec jittered into [usec/2, usec], rnd a uniform 32-bit number. */
uint64_t pace_jitter(uint64_t usec, uint32_t rnd);

#endif
