/* SPDX-License-Identifier: Apache-2.0 */
/* forward.h — forwarding for one SSH connection: direct-tcpip channels
 * (ssh -L, ssh -D, VS Code Remote-SSH, Jupyter, debugpy), tcpip-forward
 * listeners (ssh -R) and the agent socket (ssh -A).  The key's no-port-forwarding, permitopen="…" and
 * permitlisten="…" apply (chan_table.h decides).  ssh -R listens on
 * loopback only, whatever address the client asks for, unless
 * PORTHOLE_SSH_GATEWAY_PORTS=1 (sshd's GatewayPorts). */
#ifndef PORTHOLE_FORWARD_H
#define PORTHOLE_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "session_ctx.h"

struct forward;          /* one forwarded connection: a channel and a socket */
struct forward_listener; /* one ssh -R listening socket */

/* A direct-tcpip open request: connect, and accept the channel (then the
 * forward is returned) or return NULL for the caller to refuse it. */
struct forward *forward_direct(const struct session_ctx *ctx, ssh_message msg);

/* A tcpip-forward request: listen, and reply success (then the listener is
 * returned) or return NULL for the caller to refuse it. */
struct forward_listener *forward_listen(const struct session_ctx *ctx, ssh_message msg);
/* ssh -A: a listening socket for the client's agent in a new 0700
 * directory under /tmp, as OpenSSH makes it; each connection to it becomes
 * a forward that opens an auth-agent@openssh.com channel to the client.
 * Freeing it removes the socket and the directory.  0 or -errno. */
int forward_agent_listen(const struct session_ctx *ctx, struct forward_listener **ret);
/* The agent socket's path (SSH_AUTH_SOCK), or NULL for a TCP listener. */
const char *forward_listener_path(const struct forward_listener *l);

/* Does a cancel-tcpip-forward request name l? */
bool forward_listener_is(const struct forward_listener *l, ssh_message msg);

/* Between polls: accept a connection on l; it becomes a forward that opens
 * a forwarded-tcpip channel to the client.  NULL when none is waiting. */
struct forward *forward_listener_tick(struct forward_listener *l);
void forward_listener_free(struct forward_listener *l);

/* Between polls: move data; true when the forward is over (then free it).
 * *last_activity becomes now when bytes moved. */
bool forward_tick(struct forward *f, uint64_t *last_activity);
void forward_free(struct forward *f);

#endif
