/* SPDX-License-Identifier: Apache-2.0 */
/* hold.h — the debug window: what keeps porthole from moving on, and until when.
 *
 * A wait is one such thing: the hold before the command starts, a breakpoint,
 * or the hold after the command ended.  Every wait's deadline follows one
 * rule (hold_deadline): its window (plus extensions) from when it began;
 * never while sessions are connected; at least the idle grace after the last
 * session ended; never beyond max_hold from when it began.
 *
 * Sessions are counted here through hold_session_opened/closed, by whatever
 * endpoint made them; the hold does not know or care which. */
#ifndef PORTHOLE_HOLD_H
#define PORTHOLE_HOLD_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

enum wait_kind { WAIT_BEFORE, WAIT_BREAKPOINT, WAIT_AFTER };
enum wait_end { END_CONTINUE, END_RELEASE, END_TIMEOUT, END_SHUTDOWN, END_ABANDONED };

/* All times in microseconds on CLOCK_MONOTONIC. */
struct hold_times {
	uint64_t begin;
	uint64_t window;
	uint64_t extra;            /* from `porthole extend` */
};

/* The deadline rule, on its own so it can be tested without a loop.
 * last_session_end is 0 if no session has ended during this wait. */
uint64_t hold_deadline(const struct hold_times *t, unsigned sessions, uint64_t last_session_end,
		       uint64_t idle_grace, uint64_t max_hold);

struct hold;
struct hold_wait;
typedef void (*wait_done_fn)(void *ud, struct hold_wait *w, enum wait_end why);

int hold_new(sd_event *loop, uint64_t idle_grace_usec, uint64_t max_hold_usec, struct hold **out);
void hold_free(struct hold *h);

/* Begin a wait; done is called once when it ends (then the wait is gone). */
struct hold_wait *hold_wait_begin(struct hold *h, enum wait_kind kind, const char *name, uint64_t window_usec,
				  wait_done_fn done, void *ud);
/* Drop a wait without calling its done (its owner went away). */
void hold_wait_cancel(struct hold_wait *w);

/* Push the deadline of every active wait by usec; returns how many. */
int hold_extend(struct hold *h, uint64_t usec);
/* End the before-start wait and breakpoints (all, or the one named). */
int hold_continue(struct hold *h, const char *name);
/* End every wait now, and remember that no further hold is wanted. */
int hold_release(struct hold *h);
bool hold_was_released(const struct hold *h);
const char *hold_end_name(enum wait_end why);
/* End every wait for shutdown. */
void hold_shutdown(struct hold *h);

void hold_session_opened(struct hold *h);
void hold_session_closed(struct hold *h);
unsigned hold_sessions(const struct hold *h);
unsigned hold_active(const struct hold *h, enum wait_kind kind);

/* "sessions", "waits": [{kind, name, deadline, remaining_s, held_by_sessions}] */
void hold_status(const struct hold *h, cJSON *obj);

#endif
