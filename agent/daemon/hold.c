/* SPDX-License-Identifier: Apache-2.0 */
/* hold.c — see hold.h. */
#include "hold.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/clock.h"
#include "../lib/duration.h"
#include "../lib/log.h"

struct hold_wait {
	struct hold *h;
	enum wait_kind kind;
	char *name;
	struct hold_times t;
	wait_done_fn done;
	void *ud;
	struct hold_wait *next;
};

struct hold {
	sd_event *loop;
	sd_event_source *timer;
	uint64_t grace, max;
	unsigned sessions;
	uint64_t last_session_end;
	bool released;
	struct hold_wait *waits;
};

static const char *const kind_names[] = { "before-start", "breakpoint", "after-command" };
static const char *const end_names[] = { "continue", "release", "timeout", "shutdown", "abandoned" };

const char *hold_end_name(enum wait_end why)
{
	return end_names[why];
}

uint64_t hold_deadline(const struct hold_times *t, unsigned sessions, uint64_t last_session_end,
		       uint64_t idle_grace, uint64_t max_hold)
{
	uint64_t cap = t->begin + max_hold;
	uint64_t d = t->begin + t->window + t->extra;

	if (sessions > 0)
		d = cap;
	else if (last_session_end >= t->begin && last_session_end && last_session_end + idle_grace > d)
		d = last_session_end + idle_grace;
	return d < cap ? d : cap;
}

static uint64_t wait_deadline(const struct hold_wait *w)
{
	const struct hold *h = w->h;
	return hold_deadline(&w->t, h->sessions, h->last_session_end, h->grace, h->max);
}

static void reschedule(struct hold *h)
{
	uint64_t earliest = UINT64_MAX;

	for (struct hold_wait *w = h->waits; w; w = w->next) {
		uint64_t d = wait_deadline(w);
		if (d < earliest)
			earliest = d;
	}
	if (earliest == UINT64_MAX) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(h->timer, earliest);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

static void wait_end(struct hold_wait *w, enum wait_end why)
{
	struct hold *h = w->h;
	cJSON *f = cJSON_CreateObject();

	for (struct hold_wait **pp = &h->waits; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	cJSON_AddStringToObject(f, "kind", kind_names[w->kind]);
	if (w->name)
		cJSON_AddStringToObject(f, "name", w->name);
	cJSON_AddStringToObject(f, "reason", end_names[why]);
	log_event(PLOG_INFO, "hold_end", f, "%s%s%s ended (%s)", kind_names[w->kind], w->name ? " " : "",
		  w->name ? w->name : "", end_names[why]);
	if (w->done)
		w->done(w->ud, w, why);
	free(w->name);
	free(w);
	reschedule(h);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct hold *h = ud;
	(void)s;
	(void)usec;

	for (;;) {
		uint64_t now = clock_mono_usec();
		struct hold_wait *w;
		for (w = h->waits; w; w = w->next)
			if (wait_deadline(w) <= now)
				break;
		if (!w)
			break;
		wait_end(w, END_TIMEOUT);
	}
	reschedule(h);
	return 0;
}

int hold_new(sd_event *loop, uint64_t idle_grace_usec, uint64_t max_hold_usec, struct hold **out)
{
	struct hold *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->grace = idle_grace_usec;
	h->max = max_hold_usec;
	/* 10 ms accuracy: deadlines are human-scale, so let the kernel batch. */
	rc = sd_event_add_time(loop, &h->timer, CLOCK_MONOTONIC, UINT64_MAX, 10000, on_timer, h);
	if (rc < 0) {
		free(h);
		return rc;
	}
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	*out = h;
	return 0;
}

void hold_free(struct hold *h)
{
	if (!h)
		return;
	while (h->waits) {
		struct hold_wait *w = h->waits;
		h->waits = w->next;
		free(w->name);
		free(w);
	}
	sd_event_source_disable_unref(h->timer);
	free(h);
}

struct hold_wait *hold_wait_begin(struct hold *h, enum wait_kind kind, const char *name, uint64_t window_usec,
				  wait_done_fn done, void *ud)
{
	struct hold_wait *w = calloc(1, sizeof(*w));
	char when[32], dur[32];

	if (!w)
		return NULL;
	w->h = h;
	w->kind = kind;
	w->name = name && *name ? strdup(name) : NULL;
	w->t.begin = clock_mono_usec();
	w->t.window = window_usec;
	w->done = done;
	w->ud = ud;
	w->next = h->waits;
	h->waits = w;

	cJSON *f = cJSON_CreateObject();
	clock_mono_iso(wait_deadline(w), when, sizeof(when));
	cJSON_AddStringToObject(f, "kind", kind_names[kind]);
	if (w->name)
		cJSON_AddStringToObject(f, "name", w->name);
	cJSON_AddStringToObject(f, "deadline", when);
	cJSON_AddNumberToObject(f, "window_s", (double)(window_usec / USEC_PER_SEC));
	log_event(PLOG_INFO, "hold_begin", f, "%s%s%s: holding for %s (until %s); `porthole %s` to end it",
		  kind_names[kind], w->name ? " " : "", w->name ? w->name : "",
		  duration_format(window_usec / USEC_PER_SEC, dur, sizeof(dur)), when,
		  kind == WAIT_AFTER ? "release" : "continue");
	reschedule(h);
	return w;
}

void hold_wait_cancel(struct hold_wait *w)
{
	w->done = NULL;
	wait_end(w, END_ABANDONED);
}

int hold_extend(struct hold *h, uint64_t usec)
{
	int n = 0;

	/* Saturating: repeated extensions must not wrap the deadline around. */
	for (struct hold_wait *w = h->waits; w; w = w->next, n++)
		w->t.extra = w->t.extra > UINT64_MAX / 4 - usec ? UINT64_MAX / 4 : w->t.extra + usec;
	reschedule(h);
	return n;
}

/* End the first wait matching pred; true if one did. */
static bool end_first(struct hold *h, bool (*pred)(const struct hold_wait *, const void *), const void *arg,
		      enum wait_end why)
{
	for (struct hold_wait *w = h->waits; w; w = w->next) {
		if (pred(w, arg)) {
			wait_end(w, why);
			return true;
		}
	}
	return false;
}

static bool continuable(const struct hold_wait *w, const void *name)
{
	if (w->kind == WAIT_AFTER)
		return false;
	return !name || (w->name && strcmp(w->name, name) == 0);
}

static bool any(const struct hold_wait *w, const void *unused)
{
	(void)w;
	(void)unused;
	return true;
}

int hold_continue(struct hold *h, const char *name)
{
	int n = 0;

	while (end_first(h, continuable, name, END_CONTINUE))
		n++;
	return n;
}

int hold_release(struct hold *h)
{
	int n = 0;

	h->released = true;
	while (end_first(h, any, NULL, END_RELEASE))
		n++;
	return n;
}

bool hold_was_released(const struct hold *h)
{
	return h->released;
}

void hold_shutdown(struct hold *h)
{
	while (end_first(h, any, NULL, END_SHUTDOWN))
		;
}

void hold_session_opened(struct hold *h)
{
	h->sessions++;
	reschedule(h);
}

void hold_session_closed(struct hold *h)
{
	if (h->sessions == 0)
		return;
	h->sessions--;
	if (h->sessions == 0)
		h->last_session_end = clock_mono_usec();
	reschedule(h);
}

unsigned hold_sessions(const struct hold *h)
{
	return h->sessions;
}

unsigned hold_active(const struct hold *h, enum wait_kind kind)
{
	unsigned n = 0;

	for (const struct hold_wait *w = h->waits; w; w = w->next)
		n += w->kind == kind;
	return n;
}

void hold_status(const struct hold *h, cJSON *obj)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "waits");
	uint64_t now = clock_mono_usec();

	cJSON_AddNumberToObject(obj, "sessions", h->sessions);
	cJSON_AddBoolToObject(obj, "released", h->released);
	for (const struct hold_wait *w = h->waits; w; w = w->next) {
		cJSON *o = cJSON_CreateObject();
		uint64_t d = wait_deadline(w);
		char when[32];
		clock_mono_iso(d, when, sizeof(when));
		cJSON_AddStringToObject(o, "kind", kind_names[w->kind]);
		if (w->name)
			cJSON_AddStringToObject(o, "name", w->name);
		else
			cJSON_AddNullToObject(o, "name");
		cJSON_AddStringToObject(o, "deadline", when);
		cJSON_AddNumberToObject(o, "remaining_s", d > now ? (double)((d - now + 999999) / USEC_PER_SEC) : 0);
		cJSON_AddBoolToObject(o, "held_by_sessions", h->sessions > 0);
		cJSON_AddBoolToObject(o, "at_max_hold", d == w->t.begin + h->max);
		cJSON_AddItemToArray(arr, o);
	}
}
