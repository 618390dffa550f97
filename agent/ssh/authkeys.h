/* SPDX-License-Identifier: Apache-2.0 */
/* authkeys.h — authorized keys in OpenSSH's authorized_keys format, with
 * the options porthole honours: restrict, [no-]pty, [no-]port-forwarding,
 * no-agent-forwarding, no-x11-forwarding, no-user-rc, command="…",
 * from="…", permitopen="…", permitlisten="…", environment="…",
 * expiry-time="…", and for security keys no-touch-required and
 * verify-required (checked by session.c through authsig.h).  An option porthole does not know makes the line unusable
 * (never silently less restrictive than the author meant).
 *
 * The sources, in order: PORTHOLE_AUTHORIZED_KEYS (or the hyperparameter),
 * PORTHOLE_AUTHORIZED_KEYS_FILE, /etc/porthole/authorized_keys and the
 * user's ~/.ssh/authorized_keys.  Needs libssh loaded (sshlib.h). */
#ifndef PORTHOLE_AUTHKEYS_H
#define PORTHOLE_AUTHKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ssh_settings.h"
#include "sshlib.h"

#define AUTHKEYS_SYSTEM_FILE "/etc/porthole/authorized_keys"

struct authkey_opts {
	bool no_pty, no_port_forwarding, no_agent_forwarding, no_x11_forwarding, no_user_rc;
	bool no_touch_required;  /* an sk-* signature needs no user presence */
	bool verify_required;    /* an sk-* signature needs user verification */
	char *command;        /* forced command, or NULL */
	char *from;           /* pattern list, or NULL */
	char **permitopen;    /* NULL-terminated "host:port" list, or NULL for any */
	char **permitlisten;
	char **environment;   /* NULL-terminated NAME=value list */
	time_t expiry;        /* 0: none */
};

struct authkey {
	ssh_key key;
	char *where;          /* "file:line" */
	char *comment;        /* or NULL */
	struct authkey_opts o;
};

struct authkeys {
	struct authkey *v;
	size_t n;
	unsigned errors;      /* unusable lines seen */
};

/* Told about each unusable line (where is "source:line"). */
typedef void (*authkeys_error_fn)(void *ud, const char *where, const char *why);

/* Add the keys in text, an authorized_keys file's contents named source. */
void authkeys_parse(struct authkeys *ak, const char *text, const char *source, authkeys_error_fn err, void *ud);

/* Add the keys in the file at path: 0, or -errno (-ENOENT when missing). */
int authkeys_load_file(struct authkeys *ak, const char *path, authkeys_error_fn err, void *ud);

/* Every source; a missing file is fine, an unreadable one is an error. */
void authkeys_load_all(struct authkeys *ak, const struct ssh_settings *cfg, authkeys_error_fn err, void *ud);

/* The user's ~/.ssh/authorized_keys (porthole's own user, from passwd). */
void authkeys_user_file(char *buf, size_t len);

void authkeys_free(struct authkeys *ak);

/* The entry for key that admits addr now, or NULL; then *why (if a key
 * matched but its options refused) says why, else is NULL. */
const struct authkey *authkeys_match(const struct authkeys *ak, const ssh_key key, const char *addr,
				     time_t now, const char **why);

/* May the holder of a key with these options open host:port (ssh -L/-D) or
 * listen on it (ssh -R)? */
bool authkeys_may_open(const struct authkey_opts *o, const char *host, unsigned port);
bool authkeys_may_listen(const struct authkey_opts *o, const char *host, unsigned port);

#endif
