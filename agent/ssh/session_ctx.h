/* SPDX-License-Identifier: Apache-2.0 */
/* session_ctx.h — what the channels of one SSH connection need to know about
 * it: the login's facts, set by session.c once the user has logged in, and
 * the connection's loop.  Read-only for everyone else. */
#ifndef PORTHOLE_SESSION_CTX_H
#define PORTHOLE_SESSION_CTX_H

#include <cjson/cJSON.h>

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

/* A new ssh_request audit event with the fields every one starts with:
 * who, from where, with which key, asking for what.  The caller adds its
 * own and hands it to report_log(). */
static inline cJSON *session_ctx_event(const struct session_ctx *ctx, const char *request)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "user", ctx->user.name);
	cJSON_AddStringToObject(f, "addr", ctx->peer);
	cJSON_AddStringToObject(f, "key", ctx->fingerprint);
	cJSON_AddStringToObject(f, "request", request);
	return f;
}

#endif
