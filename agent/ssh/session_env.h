/* SPDX-License-Identifier: Apache-2.0 */
/* session_env.h — what a command started for an SSH session gets: porthole's
 * own environment (the one the training command inherits: SM_*, PATH,
 * LD_LIBRARY_PATH, CUDA, NCCL, conda …) with the login variables on top,
 * the user's shell, and the working directory. */
#ifndef PORTHOLE_SESSION_ENV_H
#define PORTHOLE_SESSION_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ssh_settings.h"

/* Who sessions run as: porthole's own user (it does not switch users). */
struct session_user {
	char name[256];
	char home[1024];
	char shell[1024]; /* from passwd if it is executable, else /bin/sh */
	uid_t uid;
};

void session_env_user(struct session_user *u);

/* A NULL-terminated NAME=value array under construction. */
struct envb {
	char **v;
	size_t n;
};

/* A copy of porthole's environment; -ENOMEM on failure. */
int session_env_init(struct envb *e);
/* Set (replace) name; -ENOMEM on failure. */
int session_env_set(struct envb *e, const char *name, const char *value);
/* "NAME=value" as one string. */
int session_env_put(struct envb *e, const char *assignment);
void session_env_free(struct envb *e);

/* What a session's environment tells about its login. */
struct session_login {
	const struct session_user *user;
	const char *peer, *local;        /* the client's address and ours */
	unsigned peer_port, local_port;
	const char *tty;                 /* the pty's name, or NULL without a pty */
	const char *term;                /* TERM as the pty request gave it; NULL or "": xterm */
	const struct envb *client_env;   /* the client's accepted "env" requests, or NULL */
	char *const *key_env;            /* the key's environment="…", NULL-terminated; or NULL */
	const char *original;            /* SSH_ORIGINAL_COMMAND (a forced command runs), or NULL */
	const char *auth_sock;           /* SSH_AUTH_SOCK (ssh -A), or NULL */
};

/* A session command's environment: porthole's own (session_env_init), then
 * HOME, USER, LOGNAME, SHELL, SSH_CONNECTION and SSH_CLIENT, SSH_TTY and
 * TERM with a pty, SSH_AUTH_SOCK with a forwarded agent, what the client set, the key's environment="…" over all
 * that, and SSH_ORIGINAL_COMMAND.  0, or -ENOMEM (e is then empty). */
int session_env_login(struct envb *e, const struct session_login *l);

/* May a client set name with an "env" request?  LANG, LC_*, TERM, COLORTERM,
 * NO_COLOR, like Debian's AcceptEnv. */
bool session_env_client_may_set(const char *name);

/* ML_ROOT/code when it is a directory, else the user's home. */
void session_env_workdir(const struct ssh_settings *cfg, const struct session_user *u, char *buf, size_t len);

#endif
