/* SPDX-License-Identifier: Apache-2.0 */
/* sshd.h — porthole's SSH endpoint, as PID 1 sees it.
 *
 * PORTHOLE_SSH=embedded (the default): porthole listens itself and starts one
 * process per connection, a fresh porthole image (connproc.h, session.c),
 * which speaks SSH; a crash there ends that connection only.  That process
 * tells porthole over a socket when its user has logged in, and what they do
 * (audit events, logged here); logged-in connections count as sessions for
 * the hold, through the hooks.  Limits: PORTHOLE_MAX_STARTUPS unauthenticated
 * connections at once, PORTHOLE_PER_SOURCE_MAX_STARTUPS from one source
 * (persource.h), and penalties for sources that keep failing (penalty.h).
 * PORTHOLE_SSH=openssh: the image's sshd, supervised (opensshd.c); falls
 * back to embedded when the image has none.
 * PORTHOLE_SSH=off: nothing.
 *
 * Never fatal: a setup error is logged once, and porthole and the training
 * go on without SSH. */
#ifndef PORTHOLE_SSHD_H
#define PORTHOLE_SSHD_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "hostkey.h"
#include "ssh_settings.h"

#include "../init/reaper.h"
#include "../lib/session_hooks.h"

struct sshd;

/* 0 with *ret the endpoint; 0 with *ret NULL when SSH is off; -errno (after
 * saying why) when it could not start.  cfg must outlive the endpoint.
 * listen_fd: a listening TCP socket to serve instead of binding
 * PORTHOLE_SSH_LISTEN/PORT (socket activation; always embedded), taken over
 * even on failure; or -1. */
int sshd_new(sd_event *loop, struct reaper *reaper, const struct ssh_settings *cfg, const struct session_hooks *hooks,
	     int listen_fd, struct sshd **ret);
/* Before porthole exits: stop listening and ask every connection to end
 * (its commands get SIGHUP, their exit statuses still go out, and the
 * logouts are logged while the publisher runs); done(ud) once the last is
 * gone, or after usec.  False, and done is not called, when there is
 * nothing to wait for. */
bool sshd_drain(struct sshd *d, uint64_t usec, void (*done)(void *ud), void *ud);
/* Stop listening and end every connection. */
void sshd_free(struct sshd *d);

/* `porthole ssh-check-keys ...`: the process the endpoint spawns to read
 * the authorized keys once at start (not for users). */
int sshd_check_keys_main(int argc, char **argv);

/* For the ready record. */
unsigned sshd_port(const struct sshd *d);
const struct hostkey *sshd_hostkey(const struct sshd *d);

#endif
