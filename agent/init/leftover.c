/* SPDX-License-Identifier: Apache-2.0 */
/* leftover.c — see leftover.h. */
#include "leftover.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "../lib/log.h"

struct leftover {
	struct reaper *reaper;
	pid_t pgid;
	sd_event_source *kill_timer, *give_up_timer;
	void (*done)(void *ud);
	void *ud;
};

bool leftover_any(pid_t pgid)
{
	if (pgid <= 1)
		return false;
	if (kill(pgid, 0) == 0 || errno == EPERM)
		return false;
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

static void finish(struct leftover *l)
{
	void (*done)(void *ud) = l->done;

	l->done = NULL;
	l->kill_timer = sd_event_source_disable_unref(l->kill_timer);
	l->give_up_timer = sd_event_source_disable_unref(l->give_up_timer);
	reaper_on_orphan(l->reaper, NULL, NULL);
	if (done)
		done(l->ud);
}

/* A member porthole reaped may have been the last. */
static void on_orphan(void *ud)
{
	struct leftover *l = ud;

	if (!leftover_any(l->pgid))
		finish(l);
}

static int on_kill(sd_event_source *s, uint64_t usec, void *ud)
{
	struct leftover *l = ud;
	(void)s;
	(void)usec;

	if (!leftover_any(l->pgid)) {
		finish(l);
		return 0;
	}
	log_info("the training command's processes did not end on SIGTERM; sending SIGKILL to its process group %d",
		 (int)l->pgid);
	kill(-l->pgid, SIGKILL);
	return 0;
}

static int on_give_up(sd_event_source *s, uint64_t usec, void *ud)
{
	struct leftover *l = ud;
	(void)s;
	(void)usec;

	if (leftover_any(l->pgid))
		log_warn("the training command's process group %d is still there; porthole exits without it",
			 (int)l->pgid);
	finish(l);
	return 0;
}

int leftover_end(sd_event *loop, struct reaper *r, pid_t pgid, uint64_t kill_after_usec, uint64_t give_up_usec,
		 void (*done)(void *ud), void *ud, struct leftover **ret)
{
	struct leftover *l;
	int rc;

	*ret = NULL;
	if (!leftover_any(pgid))
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->reaper = r;
	l->pgid = pgid;
	l->done = done;
	l->ud = ud;
	rc = sd_event_add_time_relative(loop, &l->kill_timer, CLOCK_MONOTONIC, kill_after_usec, 10000, on_kill, l);
	if (rc >= 0)
		rc = sd_event_add_time_relative(loop, &l->give_up_timer, CLOCK_MONOTONIC, give_up_usec, 10000,
						on_give_up, l);
	if (rc < 0) {
		l->done = NULL;
		leftover_free(l);
		return rc;
	}
	reaper_on_orphan(r, on_orphan, l);
	log_info("the training command has ended; sending SIGTERM to what is left of its process group %d",
		 (int)pgid);
	kill(-pgid, SIGTERM);
	kill(-pgid, SIGCONT);
	*ret = l;
	return 0;
}

void leftover_free(struct leftover *l)
{
	if (!l)
		return;
	l->done = NULL;
	finish(l);
	free(l);
}
