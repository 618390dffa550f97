/* SPDX-License-Identifier: Apache-2.0 */
/* penalty.c — see penalty.h. */
#include "penalty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256

struct source {
	char addr[64];
	unsigned failures;
	uint64_t last;        /* monotonic usec of the last failure; 0: slot free */
	uint64_t until;       /* shut out until then */
};

struct penalty {
	struct source s[SLOTS];
};

int penalty_new(struct penalty **ret)
{
	*ret = calloc(1, sizeof(struct penalty));
	return *ret ? 0 : -ENOMEM;
}

void penalty_free(struct penalty *b)
{
	free(b);
}

static struct source *find(struct penalty *b, const char *addr, uint64_t now)
{
	for (int i = 0; i < SLOTS; i++) {
		struct source *s = &b->s[i];
		if (s->last && now > s->last + PENALTY_FORGET_USEC && now > s->until)
			memset(s, 0, sizeof(*s));
		if (s->last && strcmp(s->addr, addr) == 0)
			return s;
	}
	return NULL;
}

uint64_t penalty_wait(struct penalty *b, const char *addr, uint64_t now)
{
	struct source *s = b ? find(b, addr, now) : NULL;

	return s && s->until > now ? s->until - now : 0;
}

void penalty_failure(struct penalty *b, const char *addr, uint64_t now)
{
	struct source *s, *oldest;

	if (!b)
		return;
	oldest = &b->s[0];
	s = find(b, addr, now);
	if (!s) {
		for (int i = 0; i < SLOTS; i++) {
			if (!b->s[i].last) {
				oldest = &b->s[i];
				break;
			}
			if (b->s[i].last < oldest->last)
				oldest = &b->s[i];
		}
		s = oldest;
		memset(s, 0, sizeof(*s));
		strncpy(s->addr, addr, sizeof(s->addr) - 1);
	}
	s->failures++;
	s->last = now;
	if (s->failures > PENALTY_FREE_FAILURES) {
		unsigned n = s->failures - PENALTY_FREE_FAILURES - 1;
		uint64_t d = n >= 6 ? PENALTY_MAX_USEC : UINT64_C(1000000) << n;
		s->until = now + (d < PENALTY_MAX_USEC ? d : PENALTY_MAX_USEC);
	}
}

void penalty_success(struct penalty *b, const char *addr)
{
	struct source *s = b ? find(b, addr, 0) : NULL;

	if (s)
		memset(s, 0, sizeof(*s));
}
