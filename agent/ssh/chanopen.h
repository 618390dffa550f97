/* SPDX-License-Identifier: Apache-2.0 */
/* chanopen.h — a channel open request answered after its callback.
 *
 * libssh answers a request before the callback that got it returns (the
 * message is freed then), and its API has no call that answers one later.
 * A direct-tcpip open wants its answer only when the connect is done, and
 * the connection's loop must go on serving every other channel meanwhile,
 * as OpenSSH's does.  So this keeps what libssh's own replies read from the
 * message — the session, the client's channel number, its window and packet
 * size — and has libssh answer from a copy later.
 *
 * Those live in libssh's private struct ssh_message_struct.  It is read
 * through a copy of libssh 0.10's layout, and only after that copy agrees
 * with libssh's public getters on seven members around them (the session,
 * the request's type and kind, the destination and originator pointers and
 * ports); with any other layout chanopen_new says -ENOTSUP and the caller
 * answers at once, as before.
 *
 * libssh 0.10 can only refuse with SSH_OPEN_ADMINISTRATIVELY_PROHIBITED and
 * no text: the reason porthole found is in its log (docs/ssh.md). */
#ifndef PORTHOLE_CHANOPEN_H
#define PORTHOLE_CHANOPEN_H

#include "sshlib.h"

struct chanopen;

/* Keep what answering msg (a channel open request on s) needs: 0, -ENOMEM,
 * or -ENOTSUP when this libssh's message is not laid out as 0.10's. */
int chanopen_new(ssh_session s, ssh_message msg, struct chanopen **ret);

/* Accept it: the new channel (open, callbacks still to set), or NULL. */
ssh_channel chanopen_accept(struct chanopen *o);

/* Refuse it: SSH_MSG_CHANNEL_OPEN_FAILURE. */
void chanopen_refuse(struct chanopen *o);

/* Unanswered, it stays so (the connection is ending). */
void chanopen_free(struct chanopen *o);

#endif
