/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_sessions.h — Session Manager sessions, counted through session hooks.
 *
 * amazon-ssm-agent runs one ssm-session-worker process per session.  They
 * are not porthole's children, so porthole learns of them by looking: a
 * scan of /proc for processes of that name under porthole's own process
 * tree, asked for whenever the agent writes to its log (it logs every
 * session it starts).  Each worker found is watched through a pidfd, so
 * its end is an event too; with no session and a quiet agent nothing runs. */
#ifndef PORTHOLE_SSM_SESSIONS_H
#define PORTHOLE_SSM_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "../lib/session_hooks.h"

/* The pids of processes whose name (/proc/PID/comm, which the kernel cuts
 * at 15 characters) is comm cut the same way; how many were found. */
size_t ssm_sessions_proc_find(const char *comm, pid_t *out, size_t max);
/* Is ancestor pid itself or one of its ancestors (by /proc/PID/stat)? */
bool ssm_sessions_proc_descends(pid_t pid, pid_t ancestor);

struct ssm_sessions;

int ssm_sessions_new(sd_event *loop, const struct session_hooks *hooks, struct ssm_sessions **out);
/* Sessions still counted are reported closed. */
void ssm_sessions_free(struct ssm_sessions *s);
/* Look for new workers soon (coalesced: one scan for a burst of calls). */
void ssm_sessions_rescan(struct ssm_sessions *s);
unsigned ssm_sessions_count(const struct ssm_sessions *s);

#endif
