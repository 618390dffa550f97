/* SPDX-License-Identifier: Apache-2.0 */
/* reaper.h — reap every child, including orphans handed to us as PID 1 or
 * child subreaper, and tell whoever started a child when it exits. */
#ifndef PORTHOLE_REAPER_H
#define PORTHOLE_REAPER_H

#include <sys/types.h>
#include <systemd/sd-event.h>

struct reaper;
typedef void (*child_exit_fn)(void *ud, pid_t pid, int wstatus);

/* Watches SIGCHLD on loop (the caller has blocked it).  With subreaper set
 * and not PID 1, become a child subreaper so orphans come to us. */
int reaper_new(sd_event *loop, int subreaper, struct reaper **out);
void reaper_free(struct reaper *r);

int reaper_watch(struct reaper *r, pid_t pid, child_exit_fn fn, void *ud);
void reaper_unwatch(struct reaper *r, pid_t pid);

/* fn(ud) after each process nobody watched is reaped (an orphan); one
 * at a time, NULL to stop. */
void reaper_on_orphan(struct reaper *r, void (*fn)(void *ud), void *ud);

/* Reap whatever has exited now (also done on every SIGCHLD). */
void reaper_collect(struct reaper *r);

#endif
