/* SPDX-License-Identifier: Apache-2.0 */
/* chan.h — a "session" channel: a shell or a command, on a pty or on pipes,
 * or the sftp subsystem; env requests, signals, window changes, and
 * exit-status or exit-signal when the command ends.  Which requests it
 * takes, when, and what the key's command="…" and no-pty change, is
 * chan_table.h's; the command starts through init/spawn.h. */
#ifndef PORTHOLE_CHAN_H
#define PORTHOLE_CHAN_H

#include <stdbool.h>
#include <stdint.h>

#include "session_ctx.h"

struct chan;

/* A new channel with its callbacks set, for libssh to accept: 0, or
 * -ENOMEM. */
int chan_new(const struct session_ctx *ctx, struct chan **ret);
ssh_channel chan_channel(const struct chan *sc);

/* Between polls: move data, and finish when the command has ended and its
 * output is out.  True when the channel is over (then chan_free it).
 * *last_activity becomes now when bytes moved or the client made a request. */
bool chan_tick(struct chan *sc, uint64_t *last_activity);

/* porthole is stopping: SIGHUP to the command, which then ends the usual
 * way, so its exit status still reaches the client. */
void chan_hangup(struct chan *sc);

/* Drop it now (the connection ends): the command gets SIGHUP. */
void chan_free(struct chan *sc);

#endif
