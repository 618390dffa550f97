/* SPDX-License-Identifier: Apache-2.0 */
/* chan_table.c — see chan_table.h. */
#include "chan_table.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "session_env.h"

/* "env" requests a channel takes: enough for LANG and the LC_* family. */
#define ENV_MAX 64

/* The key options a request may be refused by. */
enum keyopt {
	KEY_NONE,
	KEY_OPEN,   /* no-port-forwarding, permitopen="…" */
	KEY_LISTEN, /* no-port-forwarding, permitlisten="…" */
	KEY_PTY,    /* no-pty */
	KEY_AGENT,  /* no-agent-forwarding */
};

static const struct {
	const char *name;
	enum keyopt key;
} kinds[CHAN_KIND_N] = {
	[CHAN_SESSION] = { "session", KEY_NONE },
	[CHAN_DIRECT_TCPIP] = { "direct-tcpip", KEY_OPEN },
	[CHAN_TCPIP_FORWARD] = { "tcpip-forward", KEY_LISTEN },
	[CHAN_CANCEL_TCPIP_FORWARD] = { "cancel-tcpip-forward", KEY_NONE },
};

/* When in a channel's life a request may come. */
enum when {
	ANY_TIME,      /* window-change */
	BEFORE_START,  /* pty-req, env, and what starts the command */
	WHILE_RUNNING, /* signal */
};

static const struct {
	const char *name, *what;
	enum keyopt key;
	enum when when;
} reqs[CHAN_REQ_N] = {
	[CHAN_REQ_PTY] = { "pty-req", "pty", KEY_PTY, BEFORE_START },
	[CHAN_REQ_WINDOW_CHANGE] = { "window-change", "window change", KEY_NONE, ANY_TIME },
	[CHAN_REQ_ENV] = { "env", "env", KEY_NONE, BEFORE_START },
	/* What these start, the key's command="…" replaces (chan_table_command). */
	[CHAN_REQ_SHELL] = { "shell", "shell", KEY_NONE, BEFORE_START },
	[CHAN_REQ_EXEC] = { "exec", "exec", KEY_NONE, BEFORE_START },
	[CHAN_REQ_SUBSYSTEM] = { "subsystem", "subsystem", KEY_NONE, BEFORE_START },
	[CHAN_REQ_SIGNAL] = { "signal", "signal", KEY_NONE, WHILE_RUNNING },
	/* OpenSSH takes it at any time; what starts later gets SSH_AUTH_SOCK. */
	[CHAN_REQ_AUTH_AGENT] = { "auth-agent-req@openssh.com", "agent forwarding", KEY_AGENT, ANY_TIME },
};

const char *chan_table_kind_name(enum chan_kind k)
{
	return k < CHAN_KIND_N ? kinds[k].name : NULL;
}

static const char *refused_by(enum keyopt key, const struct authkey_opts *o, const char *host, unsigned port)
{
	switch (key) {
	case KEY_OPEN:
		return authkeys_may_open(o, host, port) ? NULL : o->no_port_forwarding ? "no-port-forwarding" : "permitopen";
	case KEY_LISTEN:
		return authkeys_may_listen(o, host, port) ? NULL :
		       o->no_port_forwarding ? "no-port-forwarding" : "permitlisten";
	case KEY_PTY:
		return o->no_pty ? "no-pty" : NULL;
	case KEY_AGENT:
		return o->no_agent_forwarding ? "no-agent-forwarding" : NULL;
	case KEY_NONE:
		break;
	}
	return NULL;
}

const char *chan_table_refused_by(enum chan_kind k, const struct authkey_opts *o, const char *host, unsigned port)
{
	return k < CHAN_KIND_N ? refused_by(kinds[k].key, o, host, port) : "unknown";
}

const char *chan_table_req_name(enum chan_req r)
{
	return r < CHAN_REQ_N ? reqs[r].name : NULL;
}

const char *chan_table_req_what(enum chan_req r)
{
	return r < CHAN_REQ_N ? reqs[r].what : NULL;
}

const char *chan_table_req_refused_by(enum chan_req r, const struct authkey_opts *o)
{
	return r < CHAN_REQ_N ? refused_by(reqs[r].key, o, NULL, 0) : NULL;
}

enum chan_verdict chan_table_decide(enum chan_req r, const struct authkey_opts *o, const struct chan_state *st,
				    const char *arg)
{
	if (r >= CHAN_REQ_N)
		return CHAN_REFUSE;
	if ((reqs[r].when == BEFORE_START && st->started) || (reqs[r].when == WHILE_RUNNING && !st->running))
		return CHAN_REFUSE;
	switch (r) {
	case CHAN_REQ_PTY:
		if (st->pty)
			return CHAN_REFUSE; /* one per channel */
		break;
	case CHAN_REQ_ENV:
		/* Like Debian's AcceptEnv: locale and terminal, nothing that
		 * changes what runs (LD_PRELOAD, PATH, BASH_ENV …). */
		if (!arg || !session_env_client_may_set(arg) || st->n_env >= ENV_MAX)
			return CHAN_REFUSE;
		break;
	case CHAN_REQ_SUBSYSTEM:
		if (!arg || strcmp(arg, "sftp") != 0)
			return CHAN_REFUSE_UNKNOWN;
		break;
	case CHAN_REQ_SIGNAL:
		if (!chan_table_signal(arg))
			return CHAN_REFUSE;
		break;
	default:
		break;
	}
	return chan_table_req_refused_by(r, o) ? CHAN_REFUSE_KEY : CHAN_GO;
}

int chan_table_signal(const char *name)
{
	for (int sig = 1; name && sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcmp(abbrev, name) == 0)
			return sig;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Is cmd scp's remote end: "scp [flags] -t|-f [--] path", as scp -O runs it? */
static bool is_scp_remote(const char *cmd)
{
	const char *p = cmd, *word;
	size_t n;
	bool first = true;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return false;
		word = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		n = (size_t)(p - word);
		if (first) {
			/* "scp" or ".../scp" */
			if (!((n == 3 && strncmp(word, "scp", 3) == 0) || (n > 3 && strncmp(p - 4, "/scp", 4) == 0)))
				return false;
			first = false;
		} else if (n == 2 && (strncmp(word, "-t", 2) == 0 || strncmp(word, "-f", 2) == 0)) {
			return true;
		} else if (word[0] != '-' || (n == 2 && word[1] == '-')) {
			return false; /* a path or "--" before -t/-f: not scp's sink or source */
		}
	}
}

void chan_table_command(struct chan_command *c, enum chan_req r, const char *arg, const struct authkey_opts *o,
			const char *shell, const char *sftp_server)
{
	bool sftp = r == CHAN_REQ_SUBSYSTEM;

	memset(c, 0, sizeof(*c));
	c->what = sftp ? "sftp" : reqs[r].name;
	c->command = r == CHAN_REQ_EXEC ? arg : NULL;
	c->forced = o->command;
	if (c->forced) {
		/* The key decides what runs; the client's wish is only told. */
		c->original = c->command ? c->command : "";
		c->path = shell;
		c->argv[0] = (char *)shell;
		c->argv[1] = "-c";
		c->argv[2] = (char *)c->forced;
	} else if (sftp && sftp_server) {
		c->in_home = true;
		c->path = sftp_server;
		c->argv[0] = (char *)sftp_server;
	} else if (sftp) {
		c->in_home = true;
		c->path = "/proc/self/exe";
		c->argv[0] = "porthole";
		c->argv[1] = "sftp-server";
	} else if (c->command) {
		c->in_home = is_scp_remote(c->command);
		c->path = shell;
		c->argv[0] = (char *)shell;
		c->argv[1] = "-c";
		c->argv[2] = (char *)c->command;
	} else {
		/* A login shell: "-bash" as argv[0]. */
		snprintf(c->argv0, sizeof(c->argv0), "-%s", base_name(shell));
		c->path = shell;
		c->argv[0] = c->argv0;
	}
}
