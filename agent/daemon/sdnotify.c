/* SPDX-License-Identifier: Apache-2.0 */
/* sdnotify.c — the systemd notification protocol, through libsystemd's
 * sd_notify (never by hand: it knows abstract sockets, credentials and
 * WATCHDOG_PID). */
#include "sdnotify.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "porthole.h"

#include "../lib/log.h"

struct sdnotify {
	struct porthole *p;
	sd_event_source *post;
	char status[256];       /* the last STATUS= sent */
	bool ready, stopping;
};

static void compose(const struct porthole *p, char *buf, size_t len)
{
	cJSON *st = cJSON_CreateObject();
	unsigned n = hold_sessions(p->hold);
	char hold[160] = "";

	if (st) {
		hold_status(p->hold, st);
		const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "waits"), 0);
		const cJSON *kind = w ? cJSON_GetObjectItem(w, "kind") : NULL;
		const cJSON *d = w ? cJSON_GetObjectItem(w, "deadline") : NULL;
		/* While sessions hold it the deadline is moot; saying so keeps
		 * STATUS= from naming a time that will not happen. */
		if (cJSON_IsString(kind) && cJSON_IsTrue(cJSON_GetObjectItem(w, "held_by_sessions")))
			snprintf(hold, sizeof(hold), "; %s held by sessions", kind->valuestring);
		else if (cJSON_IsString(kind) && cJSON_IsString(d))
			snprintf(hold, sizeof(hold), "; %s until %s", kind->valuestring, d->valuestring);
		cJSON_Delete(st);
	}
	snprintf(buf, len, "%s; %u session%s%s", phase_name(p->phase), n, n == 1 ? "" : "s", hold);
}

/* STATUS= is compared with what was last sent, after every loop iteration
 * that dispatched something: sessions come and go through several paths
 * (SSH logins, `porthole attach`, SSM), not all of which log an event, and
 * this sees them all without hooks in each.  The main loop never carries
 * session traffic (that lives in per-connection processes), so it is cheap. */
static int on_post(sd_event_source *s, void *ud)
{
	struct sdnotify *n = ud;
	char now[sizeof(n->status)];
	(void)s;

	if (!n->ready)
		return 0;
	if (n->p->phase == PHASE_EXITING && !n->stopping) {
		n->stopping = true;
		sd_notify(0, "STOPPING=1");
	}
	compose(n->p, now, sizeof(now));
	if (strcmp(now, n->status) != 0) {
		memcpy(n->status, now, sizeof(now));
		sd_notifyf(0, "STATUS=%s", now);
	}
	return 0;
}

int sdnotify_new(struct porthole *p, struct sdnotify **ret)
{
	struct sdnotify *n;
	int rc;

	*ret = NULL;
	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->p = p;
	rc = sd_event_add_post(p->loop, &n->post, on_post, n);
	if (rc < 0)
		log_warn("systemd: cannot watch for state changes (%s); STATUS= will not follow them", strerror(-rc));
	/* The loop pings WATCHDOG=1 at a safe fraction of WATCHDOG_USEC, and
	 * does nothing when it is unset or names another pid. */
	rc = sd_event_set_watchdog(p->loop, true);
	if (rc < 0)
		log_warn("systemd: cannot arm the watchdog: %s", strerror(-rc));
	*ret = n;
	return 0;
}

void sdnotify_ready(struct sdnotify *n)
{
	if (!n)
		return;
	compose(n->p, n->status, sizeof(n->status));
	n->ready = true;
	sd_notifyf(0, "READY=1\nSTATUS=%s", n->status);
}

void sdnotify_free(struct sdnotify *n)
{
	if (!n)
		return;
	if (!n->stopping)
		sd_notify(0, "STOPPING=1");
	sd_event_source_disable_unref(n->post);
	free(n);
}
