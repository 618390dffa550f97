/* SPDX-License-Identifier: Apache-2.0 */
/* pace.c — see pace.h. */
#include "pace.h"

static uint64_t grow(const struct pace *p)
{
	return p->delay * 3 / 2 > p->cap ? p->cap : p->delay * 3 / 2;
}

static uint64_t at_least(uint64_t v, uint64_t floor)
{
	return v > floor ? v : floor;
}

/* The delay before jitter whose jittered average (3/4 of it) is mean. */
static uint64_t delay_for(uint64_t mean)
{
	return mean * 4 / 3;
}

void pace_init(struct pace *p, size_t n_hosts, enum pace_role role)
{
	uint64_t others = n_hosts > 1 ? n_hosts - 1 : 1, share, cap;

	switch (role) {
	case PACE_LEADER:
		share = delay_for(n_hosts > 1 ? PACE_FILTER_LEADER_USEC : PACE_FILTER_JOB_USEC);
		cap = n_hosts > 1 ? PACE_LEADER_MAX_USEC : PACE_MAX_USEC;
		break;
	case PACE_FOLLOWER:
		/* What the leader leaves of the job's calls a second, shared:
		 * 1/mean = 1/JOB - 1/LEADER, per host. */
		share = delay_for(others * PACE_FILTER_JOB_USEC * PACE_FILTER_LEADER_USEC /
				  (PACE_FILTER_LEADER_USEC - PACE_FILTER_JOB_USEC));
		cap = PACE_MAX_USEC;
		break;
	case PACE_ROSTER:
	default:
		share = delay_for(others * PACE_ROSTER_JOB_USEC);
		cap = PACE_ROSTER_MAX_USEC;
		break;
	}
	p->first = at_least(share, PACE_FIRST_USEC);
	p->cap = at_least(p->first, cap);
	p->delay = p->first;
	p->best = 0;
}

uint64_t pace_mean_usec(const struct pace *p)
{
	return p->first * 3 / 4;
}

uint64_t pace_after(struct pace *p, size_t known)
{
	uint64_t now;

	if (known > p->best) {
		p->best = known;
		p->delay = p->first;
	}
	now = p->delay;
	p->delay = grow(p);
	return now;
}

uint64_t pace_throttled(struct pace *p)
{
	p->delay = p->cap;
	return p->cap;
}

uint64_t pace_jitter(uint64_t usec, uint32_t rnd)
{
	return usec / 2 + (uint64_t)(((unsigned __int128)(usec - usec / 2) * rnd) >> 32);
}
