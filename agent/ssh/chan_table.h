/* SPDX-License-Identifier: Apache-2.0 */
/* chan_table.h — what a logged-in client may ask of porthole's SSH server,
 * as tables, like dropbear's svr_chantypes[]: the channels it may open and
 * the global requests it may make (enum chan_kind), and the requests a
 * session channel takes (enum chan_req).  Each row has the protocol's name
 * and the policy the request is under: the key option that refuses it
 * (no-pty, no-port-forwarding, no-agent-forwarding, permitopen="…",
 * permitlisten="…"; restrict sets the no-… ones), whether the key's
 * command="…" replaces what it runs, and when in a channel's life it may
 * come.  What is in no table (x11-req, …) is refused.
 *
 * Decisions only, on names, key options and a channel's state: the handlers
 * are in session.c (the connection's table), chan.c (the session channel's
 * table) and forward.c, which ask here before they act. */
#ifndef PORTHOLE_CHAN_TABLE_H
#define PORTHOLE_CHAN_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "authkeys.h"

/* ---- channels and global requests ---------------------------------------- */

enum chan_kind {
	CHAN_SESSION,              /* channel "session": a shell, a command, sftp */
	CHAN_DIRECT_TCPIP,         /* channel "direct-tcpip": ssh -L, ssh -D */
	CHAN_TCPIP_FORWARD,        /* global request "tcpip-forward": ssh -R */
	CHAN_CANCEL_TCPIP_FORWARD, /* global request "cancel-tcpip-forward" */
	CHAN_KIND_N
};

/* Its name in the protocol. */
const char *chan_table_kind_name(enum chan_kind k);

/* The key option that refuses kind k for host:port — "no-port-forwarding",
 * "permitopen" (direct-tcpip: host:port to connect to) or "permitlisten"
 * (tcpip-forward: the address to listen on, "localhost" when the client
 * gave none) — or NULL when the key allows it. */
const char *chan_table_refused_by(enum chan_kind k, const struct authkey_opts *o, const char *host, unsigned port);

/* ---- requests on a session channel ------------------------------------- */

enum chan_req {
	CHAN_REQ_PTY,           /* "pty-req" */
	CHAN_REQ_WINDOW_CHANGE, /* "window-change" */
	CHAN_REQ_ENV,           /* "env" */
	CHAN_REQ_SHELL,         /* "shell" */
	CHAN_REQ_EXEC,          /* "exec" */
	CHAN_REQ_SUBSYSTEM,     /* "subsystem": "sftp" only */
	CHAN_REQ_SIGNAL,        /* "signal" */
	CHAN_REQ_AUTH_AGENT,    /* "auth-agent-req@openssh.com": ssh -A (also PORTHOLE_SSH_AGENT_FORWARDING) */
	CHAN_REQ_N
};

/* A session channel, as far as its requests care. */
struct chan_state {
	bool started;   /* a shell, command or subsystem was started */
	bool running;   /* it was, and has not exited yet */
	bool pty;       /* a pty was allocated */
	size_t n_env;   /* "env" requests taken */
};

enum chan_verdict {
	CHAN_GO,             /* the handler acts (and may still fail) */
	CHAN_REFUSE,         /* refused; the reply says enough */
	CHAN_REFUSE_KEY,     /* refused by a key option: chan_table_req_refused_by() names it */
	CHAN_REFUSE_UNKNOWN, /* refused: porthole has no such subsystem */
};

/* Its name in the protocol ("pty-req"), and the word logs use ("pty"). */
const char *chan_table_req_name(enum chan_req r);
const char *chan_table_req_what(enum chan_req r);

/* What to do with request r on a channel in state st, from a key with
 * options o.  arg names what it asks for: env's variable, subsystem's
 * name, signal's name (ignored for the others).  The key's command="…"
 * refuses nothing: it changes what runs (chan_table_command). */
enum chan_verdict chan_table_decide(enum chan_req r, const struct authkey_opts *o, const struct chan_state *st,
				    const char *arg);

/* The key option that refuses r ("no-pty"), or NULL. */
const char *chan_table_req_refused_by(enum chan_req r, const struct authkey_opts *o);

/* The signal a "signal" request names ("INT", "TERM", as in RFC 4254
 * without "SIG"), or 0 for none. */
int chan_table_signal(const char *name);

/* What a shell, exec or subsystem request runs. */
struct chan_command {
	const char *what;     /* "shell", "exec" or "sftp", for logs */
	const char *command;  /* exec: what the client asked to run; else NULL */
	const char *forced;   /* the key's command="…", which runs instead; or NULL */
	const char *original; /* SSH_ORIGINAL_COMMAND with a forced command: the client's command, or "" */
	const char *path;     /* the file to run */
	bool in_home;         /* starts in the user's home, not the code directory:
			       * the sftp subsystem and scp's remote end (`scp -t`/`scp -f`,
			       * what `scp -O` runs), so that relative paths land where
			       * OpenSSH puts them, the same in both scp modes */
	char *argv[4];
	char argv0[1100];     /* a login shell's "-bash" */
};

/* Fill c for request r (shell, exec or subsystem, which chan_table_decide
 * let go ahead) with arg (exec's command, subsystem's name), for a user
 * whose shell is shell; sftp_server: PORTHOLE_SFTP_SERVER, or NULL for
 * `porthole sftp-server`.  c points into itself and into its arguments. */
void chan_table_command(struct chan_command *c, enum chan_req r, const char *arg, const struct authkey_opts *o,
			const char *shell, const char *sftp_server);

#endif
