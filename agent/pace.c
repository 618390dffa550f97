/* pace.c — see pace.h. */
#include "pace.h"

static uint64_t grow(const struct pace *p)
{
	return p->delay * 3 / 2 > p->cap ? p->cap : p->delay * 3 / 2;
}

void pace_init(struct pace *p, size_t n_hosts)
{
	uint64_t share = PACE_PER_HOST_USEC * n_hosts;

	p->first = share > PACE_FIRST_USEC ? share : PACE_FIRST_USEC;
	p->cap = share > PACE_MAX_USEC ? share : PACE_MAX_USEC;
	p->delay = p->first;
	p->best = 0;
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
