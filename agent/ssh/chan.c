/* SPDX-License-Identifier: Apache-2.0 */
/* chan.c — see chan.h.
 *
 * libssh calls one callback per request; each callback only packs what the
 * request carries into a struct req and hands it to request(), where the
 * table in chan_table.c decides and the handler in this file's table acts. */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "chan_table.h"
#include "chanio.h"

#include "../init/spawn.h"
#include "../lib/clock.h"
#include "../lib/report.h"

/* Big pipes from the command: fewer wakeups for bulk output (ssh h cat f). */
#define PIPE_SIZE (1 << 20)

struct chan {
	const struct session_ctx *ctx;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	struct chanio io;
	struct envb client_env;    /* accepted "env" requests */
	int master, slave;         /* pty, or -1 */
	char tty[64], term[128];
	pid_t pid;                 /* 0 until started */
	bool on_pty, exited, finished, remote_closed;
	bool requested;            /* a client request since the last tick */
	int wstatus;
	int exec_errno;
	char what[32];             /* shell, exec, sftp */
	char auth_sock[128];       /* SSH_AUTH_SOCK after auth-agent-req, or "" */
};

/* A request, as libssh gave it; which members are set depends on type. */
struct req {
	enum chan_req type;
	const char *arg;           /* pty-req: TERM; env: the name; exec: the command; subsystem, signal: the name */
	const char *value;         /* env: the value */
	struct winsize ws;         /* pty-req, window-change */
};

/* ---- starting the command ------------------------------------------------ */

/* Between the command and the channel without a pty: [0] read end, [1] write end. */
struct pipes {
	int in[2], out[2], err[2];
};

static void on_exit_(void *ud, pid_t pid, int wstatus)
{
	struct chan *sc = ud;
	(void)pid;

	sc->exited = true;
	sc->wstatus = wstatus;
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The audit event: who runs what, from where, with which key. */
static void audit(const struct chan *sc, const struct chan_command *cmd)
{
	const struct session_ctx *ctx = sc->ctx;
	cJSON *f = session_ctx_event(ctx, cmd->what);

	if (cmd->command)
		cJSON_AddStringToObject(f, "command", cmd->command);
	if (cmd->forced)
		cJSON_AddStringToObject(f, "forced_command", cmd->forced);
	cJSON_AddBoolToObject(f, "pty", sc->slave >= 0);
	report_log(PLOG_INFO, "ssh_request", f, "ssh: %s from %s:%u: %s%s%s%s%s", ctx->user.name, ctx->peer,
		   ctx->peer_port, cmd->what, cmd->command ? " \"" : "", cmd->command ? cmd->command : "",
		   cmd->command ? "\"" : "", cmd->forced ? " (forced command)" : "");
}

static int login_env(const struct chan *sc, struct envb *e, const char *original)
{
	const struct session_ctx *ctx = sc->ctx;
	struct session_login l = {
		.user = &ctx->user, .peer = ctx->peer, .peer_port = ctx->peer_port, .local = ctx->local,
		.local_port = ctx->local_port, .tty = sc->slave >= 0 ? sc->tty : NULL, .term = sc->term,
		.client_env = &sc->client_env, .key_env = ctx->key->o.environment, .original = original,
		.auth_sock = sc->auth_sock[0] ? sc->auth_sock : NULL,
	};

	return session_env_login(e, &l);
}

static int open_pipes(struct pipes *p)
{
	if (pipe2(p->in, O_CLOEXEC) < 0 || pipe2(p->out, O_CLOEXEC) < 0 || pipe2(p->err, O_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static void close_pipes(struct pipes *p)
{
	int *fds[] = { p->in, p->out, p->err };

	for (size_t i = 0; i < 3; i++) {
		for (int j = 0; j < 2; j++) {
			if (fds[i][j] >= 0)
				close(fds[i][j]);
			fds[i][j] = -1;
		}
	}
}

/* Fork and exec it in a session of its own (^C on the pty reaches its
 * foreground job, signal requests its whole group), on the pty or the
 * pipes, with nothing else of porthole's or of other sessions. */
static int spawn(struct chan *sc, const struct chan_command *cmd, const struct envb *env, const struct pipes *p)
{
	const struct session_ctx *ctx = sc->ctx;
	const int pty[3] = { sc->slave, sc->slave, sc->slave }, fds[3] = { p->in[0], p->out[1], p->err[1] };
	char dir[4096];
	struct spawn_opts o = { .path = cmd->path, .envp = env->v, .dir = dir, .stdio = sc->slave >= 0 ? pty : fds,
				.new_session = true, .close_fds = true };
	pid_t pid;
	int rc;

	if (cmd->in_home)
		snprintf(dir, sizeof(dir), "%s", ctx->user.home);
	else
		session_env_workdir(ctx->cfg, &ctx->user, dir, sizeof(dir));
	rc = spawn_start(cmd->argv, &o, &pid, &sc->exec_errno);
	if (rc < 0)
		return rc;
	sc->pid = pid;
	rc = reaper_watch(ctx->reaper, pid, on_exit_, sc);
	if (rc < 0)
		kill(-pid, SIGKILL);
	return rc;
}

/* The command runs with its ends of the pty or pipes; ours become the
 * channel's plumbing. */
static void wire(struct chan *sc, struct pipes *p)
{
	if (sc->slave >= 0) {
		close(sc->slave);
		sc->slave = -1;
		sc->on_pty = true;
		nonblock(sc->master);
		sc->io.wfd = sc->io.rfd[0] = sc->master;
		sc->master = -1;
		return;
	}
	close(p->in[0]);
	close(p->out[1]);
	close(p->err[1]);
	fcntl(p->out[0], F_SETPIPE_SZ, PIPE_SIZE);
	nonblock(p->in[1]);
	nonblock(p->out[0]);
	nonblock(p->err[0]);
	sc->io.wfd = p->in[1];
	sc->io.rfd[0] = p->out[0];
	sc->io.rfd[1] = p->err[0];
}

/* shell, exec, subsystem: what runs is the table's choice (the key's
 * command="…" first). */
static int start(struct chan *sc, const struct req *rq)
{
	const struct session_ctx *ctx = sc->ctx;
	struct pipes p = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	struct chan_command cmd;
	struct envb env = { 0 };
	int rc;

	chan_table_command(&cmd, rq->type, rq->arg, &ctx->key->o, ctx->user.shell, ctx->cfg->sftp_server);
	snprintf(sc->what, sizeof(sc->what), "%s", cmd.what);
	audit(sc, &cmd);
	rc = login_env(sc, &env, cmd.original);
	if (rc == 0 && sc->slave < 0)
		rc = open_pipes(&p);
	if (rc == 0)
		rc = spawn(sc, &cmd, &env, &p);
	session_env_free(&env);
	if (rc < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot start %s: %s", ctx->peer, ctx->peer_port, sc->what,
			   strerror(-rc));
		close_pipes(&p);
		return -1;
	}
	wire(sc, &p);
	if (sc->exec_errno) {
		char msg[1200];
		int len = snprintf(msg, sizeof(msg), "porthole: cannot run %s: %s\r\n", cmd.path, strerror(sc->exec_errno));
		/* snprintf says how long the whole message would have been: a
		 * long configured path is cut, never read past. */
		if (len < 0)
			len = 0;
		else if ((size_t)len >= sizeof(msg))
			len = (int)sizeof(msg) - 1;
		ssh_channel_write_stderr(sc->ch, msg, (uint32_t)len);
		report_log(PLOG_WARN, NULL, NULL, "ssh %s:%u: cannot run %s: %s", ctx->peer, ctx->peer_port, cmd.path,
			   strerror(sc->exec_errno));
	}
	return 0;
}

/* ---- the other requests ---------------------------------------------------- */

static int open_pty(struct chan *sc, const struct req *rq)
{
	/* The kernel's default modes (echo, icanon, isig, ^C, ^? erase) are
	 * what clients expect; libssh 0.10 does not pass on the client's own. */
	if (openpty(&sc->master, &sc->slave, sc->tty, NULL, &rq->ws) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot allocate a pty: %s", sc->ctx->peer,
			   sc->ctx->peer_port, strerror(errno));
		sc->master = sc->slave = -1;
		return -1;
	}
	fcntl(sc->master, F_SETFD, FD_CLOEXEC);
	fcntl(sc->slave, F_SETFD, FD_CLOEXEC);
	snprintf(sc->term, sizeof(sc->term), "%s", rq->arg && *rq->arg ? rq->arg : "xterm");
	return 0;
}

static int resize_pty(struct chan *sc, const struct req *rq)
{
	int fd = sc->master >= 0 ? sc->master : sc->on_pty ? sc->io.rfd[0] : -1;

	if (fd >= 0)
		ioctl(fd, TIOCSWINSZ, &rq->ws);
	return 0;
}

static int take_env(struct chan *sc, const struct req *rq)
{
	return session_env_set(&sc->client_env, rq->arg, rq->value) < 0 ? -1 : 0;
}

static int send_signal(struct chan *sc, const struct req *rq)
{
	kill(-sc->pid, chan_table_signal(rq->arg));
	return 0;
}

/* ssh -A: the connection's agent socket, for what this channel starts. */
static int forward_agent(struct chan *sc, const struct req *rq)
{
	const struct session_ctx *ctx = sc->ctx;
	const char *path = ctx->agent_socket ? ctx->agent_socket(ctx->conn) : NULL;
	(void)rq;

	if (!path)
		return -1;
	snprintf(sc->auth_sock, sizeof(sc->auth_sock), "%s", path);
	return 0;
}

/* The handlers, by request; chan_table.c has their names and policies. */
static int (*const handlers[CHAN_REQ_N])(struct chan *sc, const struct req *rq) = {
	[CHAN_REQ_PTY] = open_pty,
	[CHAN_REQ_WINDOW_CHANGE] = resize_pty,
	[CHAN_REQ_ENV] = take_env,
	[CHAN_REQ_SHELL] = start,
	[CHAN_REQ_EXEC] = start,
	[CHAN_REQ_SUBSYSTEM] = start,
	[CHAN_REQ_SIGNAL] = send_signal,
	[CHAN_REQ_AUTH_AGENT] = forward_agent,
};

/* Every request: 0, or -1 to refuse it. */
static int request(struct chan *sc, const struct req *rq)
{
	const struct session_ctx *ctx = sc->ctx;
	const struct chan_state st = {
		.started = sc->pid != 0,
		.running = sc->pid && !sc->exited,
		.pty = sc->slave >= 0 || sc->on_pty,
		.n_env = sc->client_env.n,
	};

	/* Requests are traffic too: a slow start is not an idle session. */
	sc->requested = true;
	switch (chan_table_decide(rq->type, &ctx->key->o, &st, rq->arg)) {
	case CHAN_GO:
		return handlers[rq->type](sc, rq);
	case CHAN_REFUSE_KEY:
		report_log(PLOG_INFO, NULL, NULL, "ssh %s:%u: %s refused (%s on the key)", ctx->peer, ctx->peer_port,
			   chan_table_req_what(rq->type), chan_table_req_refused_by(rq->type, &ctx->key->o));
		return -1;
	case CHAN_REFUSE_UNKNOWN:
		report_log(PLOG_INFO, NULL, NULL, "ssh %s:%u: unknown %s \"%s\" refused", ctx->peer, ctx->peer_port,
			   chan_table_req_what(rq->type), rq->arg ? rq->arg : "");
		return -1;
	case CHAN_REFUSE:
		break;
	}
	return -1;
}

/* ---- libssh's callbacks ---------------------------------------------------- */

static struct winsize winsize(int cols, int rows, int px, int py)
{
	return (struct winsize){ .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols,
				 .ws_xpixel = (unsigned short)px, .ws_ypixel = (unsigned short)py };
}

static int on_pty(ssh_session s, ssh_channel ch, const char *term, int cols, int rows, int px, int py, void *ud)
{
	(void)s;
	(void)ch;
	return request(ud, &(struct req){ .type = CHAN_REQ_PTY, .arg = term, .ws = winsize(cols, rows, px, py) });
}

static int on_window(ssh_session s, ssh_channel ch, int cols, int rows, int px, int py, void *ud)
{
	(void)s;
	(void)ch;
	return request(ud, &(struct req){ .type = CHAN_REQ_WINDOW_CHANGE, .ws = winsize(cols, rows, px, py) });
}

static int on_env(ssh_session s, ssh_channel ch, const char *name, const char *value, void *ud)
{
	(void)s;
	(void)ch;
	return request(ud, &(struct req){ .type = CHAN_REQ_ENV, .arg = name, .value = value });
}

static int on_shell(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	return request(ud, &(struct req){ .type = CHAN_REQ_SHELL });
}

static int on_exec(ssh_session s, ssh_channel ch, const char *cmd, void *ud)
{
	(void)s;
	(void)ch;
	return request(ud, &(struct req){ .type = CHAN_REQ_EXEC, .arg = cmd });
}

static int on_subsystem(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
	(void)s;
	(void)ch;
	return request(ud, &(struct req){ .type = CHAN_REQ_SUBSYSTEM, .arg = name });
}

static void on_signal(ssh_session s, ssh_channel ch, const char *signame, void *ud)
{
	(void)s;
	(void)ch;
	request(ud, &(struct req){ .type = CHAN_REQ_SIGNAL, .arg = signame });
}

/* libssh replies success whenever this callback exists (it takes no
 * answer), so chan_new sets it only where the request may succeed. */
static void on_auth_agent(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	request(ud, &(struct req){ .type = CHAN_REQ_AUTH_AGENT });
}

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud)
{
	(void)s;
	(void)ch;
	return chanio_on_data(&((struct chan *)ud)->io, data, len, is_stderr);
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	chanio_on_eof(&((struct chan *)ud)->io);
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	((struct chan *)ud)->remote_closed = true;
}

int chan_new(const struct session_ctx *ctx, struct chan **ret)
{
	struct chan *sc = calloc(1, sizeof(*sc));

	*ret = NULL;
	if (!sc)
		return -ENOMEM;
	sc->ch = ssh_channel_new(ctx->s);
	if (!sc->ch) {
		free(sc);
		return -ENOMEM;
	}
	sc->ctx = ctx;
	sc->master = sc->slave = -1;
	chanio_init(&sc->io, sc->ch);
	sc->cb.userdata = sc;
	sc->cb.channel_data_function = on_data;
	sc->cb.channel_eof_function = on_eof;
	sc->cb.channel_close_function = on_close;
	sc->cb.channel_signal_function = on_signal;
	sc->cb.channel_pty_request_function = on_pty;
	sc->cb.channel_pty_window_change_function = on_window;
	sc->cb.channel_shell_request_function = on_shell;
	sc->cb.channel_exec_request_function = on_exec;
	sc->cb.channel_subsystem_request_function = on_subsystem;
	sc->cb.channel_env_request_function = on_env;
	/* PORTHOLE_SSH_AGENT_FORWARDING=0 or the key's no-agent-forwarding:
	 * without the callback libssh refuses the request itself. */
	if (ctx->cfg->agent_forwarding && !chan_table_req_refused_by(CHAN_REQ_AUTH_AGENT, &ctx->key->o))
		sc->cb.channel_auth_agent_req_function = on_auth_agent;
	ssh_callbacks_init(&sc->cb);
	ssh_set_channel_callbacks(sc->ch, &sc->cb);
	*ret = sc;
	return 0;
}

ssh_channel chan_channel(const struct chan *sc)
{
	return sc->ch;
}

/* ---- the end ------------------------------------------------------------------ */

static void send_exit(struct chan *sc)
{
	int st = sc->exec_errno ? (spawn_exec_failure_code(sc->exec_errno) << 8) : sc->wstatus;

	if (WIFSIGNALED(st)) {
		const char *name = sigabbrev_np(WTERMSIG(st));
		ssh_channel_request_send_exit_signal(sc->ch, name ? name : "KILL", WCOREDUMP(st), "", "");
	} else {
		ssh_channel_request_send_exit_status(sc->ch, WIFEXITED(st) ? WEXITSTATUS(st) : 255);
	}
}

bool chan_tick(struct chan *sc, uint64_t *last_activity)
{
	/* The client closed it: chan_free ends what still runs. */
	if (sc->remote_closed)
		return true;
	if (sc->requested) {
		sc->requested = false;
		*last_activity = clock_mono_usec();
	}
	if (!sc->pid)
		return false;
	if (sc->exited && sc->on_pty)
		sc->io.eof_on_again = true; /* what the pty holds, then done */
	chanio_pump(&sc->io, sc->ctx->ev);
	if (sc->io.moved) {
		sc->io.moved = false;
		*last_activity = clock_mono_usec();
	}
	if (!sc->finished && sc->exited && chanio_read_done(&sc->io)) {
		char how[128];
		spawn_describe_status(sc->wstatus, how, sizeof(how));
		report_log(PLOG_DEBUG, NULL, NULL, "ssh %s:%u: %s %s", sc->ctx->peer, sc->ctx->peer_port, sc->what, how);
		ssh_channel_send_eof(sc->ch);
		send_exit(sc);
		ssh_channel_close(sc->ch);
		sc->finished = true;
	}
	return false;
}

void chan_hangup(struct chan *sc)
{
	if (sc->pid && !sc->exited)
		kill(-sc->pid, SIGHUP);
}

void chan_free(struct chan *sc)
{
	if (!sc)
		return;
	/* SIGHUP to what still runs, pty or not: a debugging session leaves
	 * no strays behind unless asked to (nohup, setsid). */
	if (sc->pid && !sc->exited) {
		kill(-sc->pid, SIGHUP);
		reaper_unwatch(sc->ctx->reaper, sc->pid);
	}
	chanio_close(&sc->io, sc->ctx->ev);
	if (sc->master >= 0)
		close(sc->master);
	if (sc->slave >= 0)
		close(sc->slave);
	session_env_free(&sc->client_env);
	/* libssh may still get the client's close for it: no callbacks then. */
	ssh_remove_channel_callbacks(sc->ch, &sc->cb);
	ssh_channel_free(sc->ch);
	free(sc);
}
