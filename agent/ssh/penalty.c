/* SPDX-License-Identifier: Apache-2.0 */
/* penalty.c — see penalty.h. */
#include "penalty.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256

struct source {
	char addr[64];
	uint64_t last;        /* monotonic usec of the last penalty; 0: slot free */
	uint64_t until;       /* the penalty runs out then */
	bool active;          /* gathered PENALTY_MIN_USEC since it last ran out */
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

uint64_t penalty_usec(enum penalty_kind kind)
{
	switch (kind) {
	case PENALTY_AUTHFAIL:
		return PENALTY_AUTHFAIL_USEC;
	case PENALTY_GRACE:
		return PENALTY_GRACE_USEC;
	case PENALTY_CRASH:
		return PENALTY_CRASH_USEC;
	}
	return 0;
}

/* Its slot; slots whose penalty ran out are freed on the way. */
static struct source *find(struct penalty *b, const char *addr, uint64_t now)
{
	for (int i = 0; i < SLOTS; i++) {
		struct source *s = &b->s[i];
		if (s->last && now >= s->until)
			memset(s, 0, sizeof(*s));
		if (s->last && strcmp(s->addr, addr) == 0)
			return s;
	}
	return NULL;
}

uint64_t penalty_wait(struct penalty *b, const char *addr, uint64_t now)
{
	struct source *s = b ? find(b, addr, now) : NULL;

	return s && s->active && s->until > now ? s->until - now : 0;
}

void penalty_add(struct penalty *b, const char *addr, enum penalty_kind kind, uint64_t now)
{
	struct source *s;

	if (!b)
		return;
	s = find(b, addr, now);
	if (!s) {
		/* A free slot, else the one whose penalty runs out first. */
		struct source *pick = &b->s[0];
		for (int i = 0; i < SLOTS; i++) {
			if (!b->s[i].last) {
				pick = &b->s[i];
				break;
			}
			if (b->s[i].until < pick->until)
				pick = &b->s[i];
		}
		s = pick;
		memset(s, 0, sizeof(*s));
		strncpy(s->addr, addr, sizeof(s->addr) - 1);
		s->until = now;
	}
	s->last = now;
	s->until = (s->until > now ? s->until : now) + penalty_usec(kind);
	if (s->until > now + PENALTY_MAX_USEC)
		s->until = now + PENALTY_MAX_USEC;
	if (s->until - now >= PENALTY_MIN_USEC)
		s->active = true;
}
