/* SPDX-License-Identifier: Apache-2.0 */
/* session_ctx.h — what the channels of one SSH connection need to know about
 * it: the login's facts, set by session.c once the user has logged in, and
 * the connection's loop.  Read-only for everyone else. */
#ifndef PORTHOLE_SESSION_CTX_H
#define PORTHOLE_SESSION_CTX_H

#include "authkeys.h"
#include "session_env.h"
#include "ssh_settings.h"
#include "sshlib.h"

#include "../init/reaper.h"

struct session_ctx {
	ssh_session s;
	ssh_event ev;
	struct reaper *reaper;      /* the session process's own children */
	const struct ssh_settings *cfg;
	struct session_user user;
	const struct authkey *key;  /* the key that logged in; its options apply */
	char fingerprint[128];      /* of that key */
	char peer[64];              /* client address, IPv4-mapped addresses as IPv4 */
	unsigned peer_port;
	char local[64];
	unsigned local_port;
	/* ssh -A: the connection's agent socket (SSH_AUTH_SOCK), made by
	 * session.c at the first request and shared by the sessions that ask;
	 * NULL when it cannot be made. */
	const char *(*agent_socket)(void *conn);
	void *conn;
};

#endif
