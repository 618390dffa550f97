/* pace.h — how often each host of a job polls FilterLogEvents during the
 * cluster rendezvous.  The API's quota (5 calls a second per account and
 * region by default) is shared by all the job's hosts, so a host polls no
 * faster than its share of it; small jobs poll no faster than every 300 ms.
 * Without news the delay grows by half up to 2 s (or the share, if longer);
 * news brings it back, since the other hosts are likely close behind;
 * throttling sends it to the longest.  Delays are jittered between half and
 * all of them (on average 3/4), so hosts started together spread out and the
 * job makes about 4.4 calls a second at most.  Pure functions. */
#ifndef PORTHOLE_PACE_H
#define PORTHOLE_PACE_H

#include <stddef.h>
#include <stdint.h>

#define PACE_FIRST_USEC UINT64_C(300000)
#define PACE_MAX_USEC UINT64_C(2000000)
#define PACE_PER_HOST_USEC UINT64_C(300000)

struct pace {
	uint64_t first, cap, delay; /* microseconds */
	size_t best;                /* the most hosts known after a poll so far */
};

void pace_init(struct pace *p, size_t n_hosts);

/* After a poll that found `known` hosts: the delay before the next one,
 * before jitter. */
uint64_t pace_after(struct pace *p, size_t known);

/* After a throttled poll. */
uint64_t pace_throttled(struct pace *p);

/* usec jittered into [usec/2, usec], rnd a uniform 32-bit number. */
uint64_t pace_jitter(uint64_t usec, uint32_t rnd);

#endif
