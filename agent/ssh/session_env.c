/* SPDX-License-Identifier: Apache-2.0 */
/* session_env.c — see session_env.h. */
#include "session_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/passwd.h"

void session_env_user(struct session_user *u)
{
	struct passwd_entry pw;

	memset(u, 0, sizeof(*u));
	u->uid = getuid();
	if (passwd_by_uid(u->uid, &pw) == 0) {
		snprintf(u->name, sizeof(u->name), "%s", pw.name);
		snprintf(u->home, sizeof(u->home), "%s", pw.dir[0] ? pw.dir : "/");
		if (pw.shell[0] && access(pw.shell, X_OK) == 0)
			snprintf(u->shell, sizeof(u->shell), "%s", pw.shell);
	} else {
		/* Images run with an arbitrary uid have no passwd entry. */
		snprintf(u->name, sizeof(u->name), "%u", (unsigned)u->uid);
		snprintf(u->home, sizeof(u->home), "%s", getenv("HOME") ? getenv("HOME") : "/");
	}
	if (!u->shell[0])
		snprintf(u->shell, sizeof(u->shell), "/bin/sh");
}

/* Shell bookkeeping of whoever started porthole, not part of the training
 * environment.  SHLVL in particular changes what a session's bash reads:
 * bash sources ~/.bashrc for ssh commands only at the first shell level,
 * which is what sessions get from OpenSSH's sshd. */
static bool shell_bookkeeping(const char *assignment)
{
	static const char *const names[] = { "SHLVL=", "PWD=", "OLDPWD=", "_=" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(assignment, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

int session_env_init(struct envb *e)
{
	extern char **environ;
	size_t n = 0;

	while (environ[n])
		n++;
	e->v = calloc(n + 1, sizeof(*e->v));
	e->n = 0;
	if (!e->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!strchr(environ[i], '=') || shell_bookkeeping(environ[i]))
			continue;
		if (!(e->v[e->n] = strdup(environ[i]))) {
			session_env_free(e);
			return -ENOMEM;
		}
		e->n++;
	}
	return 0;
}

int session_env_put(struct envb *e, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	size_t nl = eq ? (size_t)(eq - assignment) : strlen(assignment);
	char *dup = strdup(assignment);

	if (!dup)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], assignment, nl) == 0 && e->v[i][nl] == '=') {
			free(e->v[i]);
			e->v[i] = dup;
			return 0;
		}
	}
	char **nv = realloc(e->v, (e->n + 2) * sizeof(*nv));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	e->v = nv;
	e->v[e->n++] = dup;
	e->v[e->n] = NULL;
	return 0;
}

int session_env_set(struct envb *e, const char *name, const char *value)
{
	char *a;
	int rc;

	if (asprintf(&a, "%s=%s", name, value) < 0)
		return -ENOMEM;
	rc = session_env_put(e, a);
	free(a);
	return rc;
}

void session_env_free(struct envb *e)
{
	for (size_t i = 0; e->v && i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

int session_env_login(struct envb *e, const struct session_login *l)
{
	char conn[256], client[160];
	int rc = session_env_init(e);

	snprintf(conn, sizeof(conn), "%s %u %s %u", l->peer, l->peer_port, l->local, l->local_port);
	snprintf(client, sizeof(client), "%s %u %u", l->peer, l->peer_port, l->local_port);
	rc = rc ?: session_env_set(e, "HOME", l->user->home);
	rc = rc ?: session_env_set(e, "USER", l->user->name);
	rc = rc ?: session_env_set(e, "LOGNAME", l->user->name);
	rc = rc ?: session_env_set(e, "SHELL", l->user->shell);
	rc = rc ?: session_env_set(e, "SSH_CONNECTION", conn);
	rc = rc ?: session_env_set(e, "SSH_CLIENT", client);
	if (l->tty) {
		rc = rc ?: session_env_set(e, "SSH_TTY", l->tty);
		rc = rc ?: session_env_set(e, "TERM", l->term && *l->term ? l->term : "xterm");
	}
	if (l->auth_sock)
		rc = rc ?: session_env_set(e, "SSH_AUTH_SOCK", l->auth_sock);
	for (size_t i = 0; !rc && l->client_env && i < l->client_env->n; i++)
		rc = session_env_put(e, l->client_env->v[i]);
	for (size_t i = 0; !rc && l->key_env && l->key_env[i]; i++)
		rc = session_env_put(e, l->key_env[i]);
	if (!rc && l->original)
		rc = session_env_set(e, "SSH_ORIGINAL_COMMAND", l->original);
	if (rc)
		session_env_free(e);
	return rc;
}

bool session_env_client_may_set(const char *name)
{
	return strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0 || strcmp(name, "TERM") == 0 ||
	       strcmp(name, "COLORTERM") == 0 || strcmp(name, "NO_COLOR") == 0;
}

void session_env_workdir(const struct ssh_settings *cfg, const struct session_user *u, char *buf, size_t len)
{
	struct stat st;

	snprintf(buf, len, "%s", cfg->code_dir ? cfg->code_dir : "/opt/ml/code");
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	snprintf(buf, len, "%s", u->home);
}
