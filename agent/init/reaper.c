/* SPDX-License-Identifier: Apache-2.0 */
/* reaper.c — see reaper.h.  All waitpid() calls in the process are here, so
 * no exit status is ever stolen from its owner. */
#include "reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/log.h"

struct watch {
	pid_t pid;
	child_exit_fn fn;
	void *ud;
};

struct reaper {
	sd_event_source *sigchld;
	struct watch *w;
	size_t n, cap;
	unsigned long orphans; /* reaped processes nobody watched */
	void (*on_orphan)(void *ud);
	void *orphan_ud;
};

void reaper_collect(struct reaper *r)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return;
		}
		size_t i;
		for (i = 0; i < r->n; i++)
			if (r->w[i].pid == pid)
				break;
		if (i == r->n) {
			r->orphans++;
			log_debug("reaped orphan process %d", (int)pid);
			if (r->on_orphan)
				r->on_orphan(r->orphan_ud);
			continue;
		}
		struct watch w = r->w[i];
		r->w[i] = r->w[--r->n];
		w.fn(w.ud, pid, status);
	}
}

static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	(void)s;
	(void)si;
	reaper_collect(ud);
	return 0;
}

int reaper_new(sd_event *loop, int subreaper, struct reaper **out)
{
	struct reaper *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	if (subreaper && getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper (%s): orphaned grandchildren will not be reaped by porthole",
			 strerror(errno));
	rc = sd_event_add_signal(loop, &r->sigchld, SIGCHLD, on_sigchld, r);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void reaper_free(struct reaper *r)
{
	if (!r)
		return;
	sd_event_source_unref(r->sigchld);
	free(r->w);
	free(r);
}

int reaper_watch(struct reaper *r, pid_t pid, child_exit_fn fn, void *ud)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct watch *w = realloc(r->w, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		r->w = w;
		r->cap = cap;
	}
	r->w[r->n++] = (struct watch){ pid, fn, ud };
	return 0;
}

void reaper_on_orphan(struct reaper *r, void (*fn)(void *ud), void *ud)
{
	r->on_orphan = fn;
	r->orphan_ud = ud;
}

void reaper_unwatch(struct reaper *r, pid_t pid)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->w[i].pid == pid) {
			r->w[i] = r->w[--r->n];
			return;
		}
	}
}
