/* SPDX-License-Identifier: Apache-2.0 */
/* session_chan.c — see session_chan.h. */
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
	char what[32];             /* shell, exec, subsystem sftp */
};

/* ---- starting the command ------------------------------------------------ */

static void child_exec(struct chan *sc, const char *path, char *const argv[], char *const envp[], const char *dir,
		       int fds[3], int errfd)
{
	sigset_t none;

	/* A session of its own: ^C on the pty reaches its foreground job,
	 * and signal requests reach its whole group. */
	setsid();
	if (sc->slave >= 0) {
		ioctl(sc->slave, TIOCSCTTY, 0);
		fds[0] = fds[1] = fds[2] = sc->slave;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(126);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(dir) < 0 && chdir("/") < 0) {
		/* "/" always exists */
	}
	/* Nothing of porthole's or of other sessions leaks into the command. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(path, argv, envp);
	int err = errno;
	if (write(errfd, &err, sizeof(err)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(spawn_exec_failure_code(err));
}

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

static int make_env(struct chan *sc, struct envb *e, const char *original)
{
	const struct session_ctx *ctx = sc->ctx;
	char conn[256], client[160];
	int rc = session_env_init(e);

	snprintf(conn, sizeof(conn), "%s %u %s %u", ctx->peer, ctx->peer_port, ctx->local, ctx->local_port);
	snprintf(client, sizeof(client), "%s %u %u", ctx->peer, ctx->peer_port, ctx->local_port);
	rc = rc ?: session_env_set(e, "HOME", ctx->user.home);
	rc = rc ?: session_env_set(e, "USER", ctx->user.name);
	rc = rc ?: session_env_set(e, "LOGNAME", ctx->user.name);
	rc = rc ?: session_env_set(e, "SHELL", ctx->user.shell);
	rc = rc ?: session_env_set(e, "SSH_CONNECTION", conn);
	rc = rc ?: session_env_set(e, "SSH_CLIENT", client);
	if (sc->slave >= 0) {
		rc = rc ?: session_env_set(e, "SSH_TTY", sc->tty);
		rc = rc ?: session_env_set(e, "TERM", sc->term[0] ? sc->term : "xterm");
	}
	for (size_t i = 0; !rc && i < sc->client_env.n; i++)
		rc = session_env_put(e, sc->client_env.v[i]);
	for (size_t i = 0; !rc && ctx->key->o.environment && ctx->key->o.environment[i]; i++)
		rc = session_env_put(e, ctx->key->o.environment[i]);
	if (!rc && original)
		rc = session_env_set(e, "SSH_ORIGINAL_COMMAND", original);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* kind: "shell", "exec" or "subsystem"; arg: the command or subsystem name. */
static int start(struct chan *sc, const char *kind, const char *arg)
{
	const struct session_ctx *ctx = sc->ctx;
	const char *forced = ctx->key->o.command, *shell = ctx->user.shell, *path;
	char argv0[1100], dir[4096], *argv[4] = { NULL };
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, ep[2] = { -1, -1 };
	struct envb env = { 0 };
	pid_t pid;
	ssize_t n;
	bool sftp = strcmp(kind, "subsystem") == 0;

	sc->requested = true;
	if (sc->pid || sc->finished)
		return -1;
	if (sftp && strcmp(arg, "sftp") != 0) {
		report_log(PLOG_INFO, NULL, NULL, "ssh %s:%u: unknown subsystem \"%s\" refused", ctx->peer, ctx->peer_port,
		       arg);
		return -1;
	}
	snprintf(sc->what, sizeof(sc->what), "%s", sftp ? "sftp" : kind);

	/* What to run. */
	if (forced) {
		path = shell;
		argv[0] = (char *)shell;
		argv[1] = "-c";
		argv[2] = (char *)forced;
	} else if (sftp && ctx->cfg->sftp_server) {
		path = ctx->cfg->sftp_server;
		argv[0] = (char *)path;
	} else if (sftp) {
		path = "/proc/self/exe";
		argv[0] = "porthole";
		argv[1] = "sftp-server";
	} else if (arg) {
		path = shell;
		argv[0] = (char *)shell;
		argv[1] = "-c";
		argv[2] = (char *)arg;
	} else {
		/* A login shell: "-bash" as argv[0]. */
		snprintf(argv0, sizeof(argv0), "-%s", base_name(shell));
		path = shell;
		argv[0] = argv0;
	}

	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "user", ctx->user.name);
	cJSON_AddStringToObject(f, "addr", ctx->peer);
	cJSON_AddStringToObject(f, "key", ctx->fingerprint);
	cJSON_AddStringToObject(f, "request", sc->what);
	if (arg && !sftp)
		cJSON_AddStringToObject(f, "command", arg);
	if (forced)
		cJSON_AddStringToObject(f, "forced_command", forced);
	cJSON_AddBoolToObject(f, "pty", sc->slave >= 0);
	report_log(PLOG_INFO, "ssh_request", f, "ssh: %s from %s:%u: %s%s%s%s%s", ctx->user.name, ctx->peer,
	       ctx->peer_port, sc->what, arg && !sftp ? " \"" : "", arg && !sftp ? arg : "",
	       arg && !sftp ? "\"" : "", forced ? " (forced command)" : "");

	if (make_env(sc, &env, forced ? (arg && !sftp ? arg : "") : NULL) < 0)
		goto fail;
	if (sc->slave < 0 && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0))
		goto fail;
	if (pipe2(ep, O_CLOEXEC) < 0)
		goto fail;
	session_env_workdir(ctx->cfg, &ctx->user, dir, sizeof(dir));
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		int fds[3] = { in[0], out[1], err[1] };
		close(ep[0]);
		child_exec(sc, path, argv, env.v, dir, fds, ep[1]);
	}
	close(ep[1]);
	do
		n = read(ep[0], &sc->exec_errno, sizeof(sc->exec_errno));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n != (ssize_t)sizeof(sc->exec_errno))
		sc->exec_errno = 0;
	session_env_free(&env);
	sc->pid = pid;
	if (reaper_watch(ctx->reaper, pid, on_exit_, sc) < 0)
		goto fail_started;

	if (sc->slave >= 0) {
		close(sc->slave);
		sc->slave = -1;
		sc->on_pty = true;
		nonblock(sc->master);
		sc->io.wfd = sc->io.rfd[0] = sc->master;
		sc->master = -1;
	} else {
		close(in[0]);
		close(out[1]);
		close(err[1]);
		fcntl(out[0], F_SETPIPE_SZ, PIPE_SIZE);
		nonblock(in[1]);
		nonblock(out[0]);
		nonblock(err[0]);
		sc->io.wfd = in[1];
		sc->io.rfd[0] = out[0];
		sc->io.rfd[1] = err[0];
	}
	if (sc->exec_errno) {
		char msg[1200];
		int len = snprintf(msg, sizeof(msg), "porthole: cannot run %s: %s\r\n", path, strerror(sc->exec_errno));
		ssh_channel_write_stderr(sc->ch, msg, (uint32_t)len);
		report_log(PLOG_WARN, NULL, NULL, "ssh %s:%u: cannot run %s: %s", ctx->peer, ctx->peer_port, path,
		       strerror(sc->exec_errno));
	}
	return 0;

fail_started:
	kill(-pid, SIGKILL);
fail:
	report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot start %s: %s", ctx->peer, ctx->peer_port, sc->what,
	       strerror(errno ? errno : ENOMEM));
	session_env_free(&env);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

/* ---- channel requests ------------------------------------------------------ */

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

static void on_signal(ssh_session s, ssh_channel ch, const char *signame, void *ud)
{
	struct chan *sc = ud;
	char name[32];
	(void)s;
	(void)ch;

	snprintf(name, sizeof(name), "%s", signame);
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcmp(abbrev, name) == 0 && sc->pid && !sc->exited) {
			kill(-sc->pid, sig);
			return;
		}
	}
}

static int on_pty(ssh_session s, ssh_channel ch, const char *term, int cols, int rows, int px, int py, void *ud)
{
	struct chan *sc = ud;
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols,
			      .ws_xpixel = (unsigned short)px, .ws_ypixel = (unsigned short)py };
	(void)s;
	(void)ch;

	sc->requested = true;

	if (sc->pid || sc->slave >= 0)
		return -1;
	if (sc->ctx->key->o.no_pty) {
		report_log(PLOG_INFO, NULL, NULL, "ssh %s:%u: pty refused (no-pty on the key)", sc->ctx->peer,
		       sc->ctx->peer_port);
		return -1;
	}
	/* The kernel's default modes (echo, icanon, isig, ^C, ^? erase) are
	 * what clients expect; libssh 0.10 does not pass on the client's own. */
	if (openpty(&sc->master, &sc->slave, sc->tty, NULL, &ws) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot allocate a pty: %s", sc->ctx->peer,
		       sc->ctx->peer_port, strerror(errno));
		sc->master = sc->slave = -1;
		return -1;
	}
	fcntl(sc->master, F_SETFD, FD_CLOEXEC);
	fcntl(sc->slave, F_SETFD, FD_CLOEXEC);
	snprintf(sc->term, sizeof(sc->term), "%s", term && *term ? term : "xterm");
	return 0;
}

static int on_window(ssh_session s, ssh_channel ch, int cols, int rows, int px, int py, void *ud)
{
	struct chan *sc = ud;
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols,
			      .ws_xpixel = (unsigned short)px, .ws_ypixel = (unsigned short)py };
	int fd = sc->master >= 0 ? sc->master : sc->on_pty ? sc->io.rfd[0] : -1;
	(void)s;
	(void)ch;

	sc->requested = true;

	if (fd >= 0)
		ioctl(fd, TIOCSWINSZ, &ws);
	return 0;
}

static int on_shell(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	return start(ud, "shell", NULL);
}

static int on_exec(ssh_session s, ssh_channel ch, const char *cmd, void *ud)
{
	(void)s;
	(void)ch;
	return start(ud, "exec", cmd);
}

static int on_subsystem(ssh_session s, ssh_channel ch, const char *name, void *ud)
{
	(void)s;
	(void)ch;
	return start(ud, "subsystem", name);
}

static int on_env(ssh_session s, ssh_channel ch, const char *name, const char *value, void *ud)
{
	struct chan *sc = ud;
	(void)s;
	(void)ch;

	sc->requested = true;

	if (sc->pid || !session_env_client_may_set(name) || sc->client_env.n >= 64)
		return -1;
	return session_env_set(&sc->client_env, name, value) < 0 ? -1 : 0;
}

struct chan *chan_new(const struct session_ctx *ctx)
{
	struct chan *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->ch = ssh_channel_new(ctx->s);
	if (!sc->ch) {
		free(sc);
		return NULL;
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
	ssh_callbacks_init(&sc->cb);
	ssh_set_channel_callbacks(sc->ch, &sc->cb);
	return sc;
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
	/* Requests are traffic too: a slow start is not an idle session. */
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
