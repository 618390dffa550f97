/* SPDX-License-Identifier: Apache-2.0 */
/* test_chan_table.c — the SSH server's tables: the channel kinds and global
 * requests and the key options that refuse them (no-port-forwarding,
 * permitopen, permitlisten), the session requests and when each is taken
 * (no-pty, one pty, before the command starts, AcceptEnv, sftp only,
 * signals while it runs), and what shell, exec and subsystem run (the
 * key's command="…" first).  The same, with options as authorized_keys
 * lines say them (restrict, restrict,pty). */
#include "testutil.h"

#include <signal.h>

#include "ssh/authkeys.h"
#include "ssh/chan_table.h"
#include "ssh/sshlib.h"

#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxeLLG0LFsfmEcDV2VQHzuJf8eqvUaw0ApLI6t/9m2Q"

static const char *verdict_name(enum chan_verdict v)
{
	switch (v) {
	case CHAN_GO:
		return "go";
	case CHAN_REFUSE:
		return "refuse";
	case CHAN_REFUSE_KEY:
		return "refuse (key)";
	case CHAN_REFUSE_UNKNOWN:
		return "refuse (unknown)";
	}
	return "?";
}

static void test_names(void **state)
{
	static const char *const kinds[CHAN_KIND_N] = { "session", "direct-tcpip", "tcpip-forward",
						       "cancel-tcpip-forward" };
	static const char *const reqs[CHAN_REQ_N] = { "pty-req", "window-change", "env", "shell", "exec", "subsystem",
						      "signal", "auth-agent-req@openssh.com" };
	(void)state;

	for (int k = 0; k < CHAN_KIND_N; k++)
		TU_CHECK(tu_streq(chan_table_kind_name(k), kinds[k]), "kind %d: %s", k, tu_str(chan_table_kind_name(k)));
	for (int r = 0; r < CHAN_REQ_N; r++)
		TU_CHECK(tu_streq(chan_table_req_name(r), reqs[r]), "request %d: %s", r, tu_str(chan_table_req_name(r)));
	TU_CHECK(chan_table_kind_name(CHAN_KIND_N) == NULL, "past the table");
	TU_CHECK(chan_table_req_name(CHAN_REQ_N) == NULL, "past the table");
	TU_CHECK(tu_streq(chan_table_req_what(CHAN_REQ_PTY), "pty"), "pty-req is said \"pty\"");
	TU_END();
}

static void test_kinds_and_key_options(void **state)
{
	char *opens[] = { "localhost:8888", "*:6006", NULL }, *listens[] = { "localhost:9000", NULL };
	const struct authkey_opts any = { 0 }, nofwd = { .no_port_forwarding = true },
				  permit = { .permitopen = opens, .permitlisten = listens },
				  nopty = { .no_pty = true, .command = "true" };
	const struct {
		enum chan_kind kind;
		const struct authkey_opts *o;
		const char *host;
		unsigned port;
		const char *want; /* the refusing option, or NULL */
	} rows[] = {
		{ CHAN_SESSION, &any, NULL, 0, NULL },
		{ CHAN_SESSION, &nofwd, NULL, 0, NULL },
		{ CHAN_DIRECT_TCPIP, &any, "10.0.0.2", 22, NULL },
		{ CHAN_DIRECT_TCPIP, &nopty, "localhost", 8888, NULL },
		{ CHAN_DIRECT_TCPIP, &nofwd, "localhost", 8888, "no-port-forwarding" },
		{ CHAN_DIRECT_TCPIP, &permit, "localhost", 8888, NULL },
		{ CHAN_DIRECT_TCPIP, &permit, "10.1.2.3", 6006, NULL },
		{ CHAN_DIRECT_TCPIP, &permit, "localhost", 8889, "permitopen" },
		{ CHAN_DIRECT_TCPIP, &permit, "localhost", 9000, "permitopen" }, /* a listen entry */
		{ CHAN_TCPIP_FORWARD, &any, "0.0.0.0", 9000, NULL },
		{ CHAN_TCPIP_FORWARD, &nofwd, "localhost", 9000, "no-port-forwarding" },
		{ CHAN_TCPIP_FORWARD, &permit, "localhost", 9000, NULL },
		{ CHAN_TCPIP_FORWARD, &permit, "localhost", 8888, "permitlisten" }, /* an open entry */
		{ CHAN_CANCEL_TCPIP_FORWARD, &nofwd, "localhost", 9000, NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = chan_table_refused_by(rows[i].kind, rows[i].o, rows[i].host, rows[i].port);
		TU_CHECK(tu_streq(got, rows[i].want), "row %zu: %s to %s:%u refused by %s, want %s", i,
			 chan_table_kind_name(rows[i].kind), tu_str(rows[i].host), rows[i].port, tu_str(got),
			 tu_str(rows[i].want));
	}
	TU_END();
}

static void test_session_requests(void **state)
{
	const struct authkey_opts any = { 0 }, nopty = { .no_pty = true }, nofwd = { .no_port_forwarding = true },
				  forced = { .command = "echo forced" }, noagent = { .no_agent_forwarding = true };
	const struct chan_state fresh = { 0 }, with_pty = { .pty = true }, running = { .started = true, .running = true },
				exited = { .started = true }, env63 = { .n_env = 63 }, env64 = { .n_env = 64 };
	const struct {
		enum chan_req r;
		const struct authkey_opts *o;
		const struct chan_state *st;
		const char *arg;
		enum chan_verdict want;
	} rows[] = {
		/* pty-req: once, before the command, unless no-pty. */
		{ CHAN_REQ_PTY, &any, &fresh, "xterm", CHAN_GO },
		{ CHAN_REQ_PTY, &nofwd, &fresh, "xterm", CHAN_GO },
		{ CHAN_REQ_PTY, &nopty, &fresh, "xterm", CHAN_REFUSE_KEY },
		{ CHAN_REQ_PTY, &any, &with_pty, "xterm", CHAN_REFUSE },
		{ CHAN_REQ_PTY, &any, &running, "xterm", CHAN_REFUSE },
		{ CHAN_REQ_PTY, &nopty, &running, "xterm", CHAN_REFUSE }, /* too late anyway: quietly */
		/* window-change: whenever. */
		{ CHAN_REQ_WINDOW_CHANGE, &any, &fresh, NULL, CHAN_GO },
		{ CHAN_REQ_WINDOW_CHANGE, &nopty, &running, NULL, CHAN_GO },
		{ CHAN_REQ_WINDOW_CHANGE, &any, &exited, NULL, CHAN_GO },
		/* env: AcceptEnv's names, at most 64, before the command. */
		{ CHAN_REQ_ENV, &any, &fresh, "LANG", CHAN_GO },
		{ CHAN_REQ_ENV, &any, &fresh, "LC_ALL", CHAN_GO },
		{ CHAN_REQ_ENV, &any, &fresh, "LD_PRELOAD", CHAN_REFUSE },
		{ CHAN_REQ_ENV, &any, &fresh, "PATH", CHAN_REFUSE },
		{ CHAN_REQ_ENV, &any, &fresh, NULL, CHAN_REFUSE },
		{ CHAN_REQ_ENV, &any, &env63, "LANG", CHAN_GO },
		{ CHAN_REQ_ENV, &any, &env64, "LANG", CHAN_REFUSE },
		{ CHAN_REQ_ENV, &any, &running, "LANG", CHAN_REFUSE },
		/* shell, exec, subsystem: once; command="…" refuses none of them. */
		{ CHAN_REQ_SHELL, &any, &fresh, NULL, CHAN_GO },
		{ CHAN_REQ_SHELL, &nopty, &fresh, NULL, CHAN_GO },
		{ CHAN_REQ_SHELL, &forced, &fresh, NULL, CHAN_GO },
		{ CHAN_REQ_SHELL, &any, &with_pty, NULL, CHAN_GO },
		{ CHAN_REQ_SHELL, &any, &running, NULL, CHAN_REFUSE },
		{ CHAN_REQ_SHELL, &any, &exited, NULL, CHAN_REFUSE },
		{ CHAN_REQ_EXEC, &any, &fresh, "nvidia-smi", CHAN_GO },
		{ CHAN_REQ_EXEC, &forced, &fresh, "nvidia-smi", CHAN_GO },
		{ CHAN_REQ_EXEC, &any, &running, "nvidia-smi", CHAN_REFUSE },
		{ CHAN_REQ_SUBSYSTEM, &any, &fresh, "sftp", CHAN_GO },
		{ CHAN_REQ_SUBSYSTEM, &nofwd, &fresh, "sftp", CHAN_GO },
		{ CHAN_REQ_SUBSYSTEM, &any, &fresh, "netconf", CHAN_REFUSE_UNKNOWN },
		{ CHAN_REQ_SUBSYSTEM, &any, &fresh, "SFTP", CHAN_REFUSE_UNKNOWN },
		{ CHAN_REQ_SUBSYSTEM, &forced, &fresh, "netconf", CHAN_REFUSE_UNKNOWN },
		{ CHAN_REQ_SUBSYSTEM, &any, &running, "sftp", CHAN_REFUSE },
		{ CHAN_REQ_SUBSYSTEM, &any, &running, "netconf", CHAN_REFUSE },
		/* signal: a known name, while the command runs. */
		{ CHAN_REQ_SIGNAL, &any, &running, "INT", CHAN_GO },
		{ CHAN_REQ_SIGNAL, &nopty, &running, "TERM", CHAN_GO },
		{ CHAN_REQ_SIGNAL, &any, &running, "SIGINT", CHAN_REFUSE },
		{ CHAN_REQ_SIGNAL, &any, &running, "BOGUS", CHAN_REFUSE },
		{ CHAN_REQ_SIGNAL, &any, &running, NULL, CHAN_REFUSE },
		{ CHAN_REQ_SIGNAL, &any, &fresh, "INT", CHAN_REFUSE },
		{ CHAN_REQ_SIGNAL, &any, &exited, "INT", CHAN_REFUSE },
		/* auth-agent-req: whenever, unless no-agent-forwarding (restrict sets it). */
		{ CHAN_REQ_AUTH_AGENT, &any, &fresh, NULL, CHAN_GO },
		{ CHAN_REQ_AUTH_AGENT, &any, &running, NULL, CHAN_GO },
		{ CHAN_REQ_AUTH_AGENT, &nofwd, &fresh, NULL, CHAN_GO },
		{ CHAN_REQ_AUTH_AGENT, &noagent, &fresh, NULL, CHAN_REFUSE_KEY },
		/* Past the table. */
		{ CHAN_REQ_N, &any, &fresh, NULL, CHAN_REFUSE },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum chan_verdict got = chan_table_decide(rows[i].r, rows[i].o, rows[i].st, rows[i].arg);
		TU_CHECK(got == rows[i].want, "row %zu: %s \"%s\": %s, want %s", i, tu_str(chan_table_req_name(rows[i].r)),
			 tu_str(rows[i].arg), verdict_name(got), verdict_name(rows[i].want));
	}
	TU_CHECK(tu_streq(chan_table_req_refused_by(CHAN_REQ_PTY, &nopty), "no-pty"), "pty-req and no-pty");
	TU_CHECK(chan_table_req_refused_by(CHAN_REQ_PTY, &any) == NULL, "pty-req without no-pty");
	TU_CHECK(tu_streq(chan_table_req_refused_by(CHAN_REQ_AUTH_AGENT, &noagent), "no-agent-forwarding"),
		 "auth-agent-req and no-agent-forwarding");
	TU_CHECK(chan_table_req_refused_by(CHAN_REQ_SHELL, &nopty) == NULL, "shell and no-pty");
	TU_END();
}

static void test_signals(void **state)
{
	const struct {
		const char *name;
		int sig;
	} rows[] = {
		{ "INT", SIGINT }, { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "HUP", SIGHUP }, { "QUIT", SIGQUIT },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ABRT", SIGABRT }, { "ALRM", SIGALRM },
		{ "SIGINT", 0 }, { "int", 0 }, { "", 0 }, { NULL, 0 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TU_CHECK(chan_table_signal(rows[i].name) == rows[i].sig, "\"%s\": %d, want %d", tu_str(rows[i].name),
			 chan_table_signal(rows[i].name), rows[i].sig);
	TU_END();
}

static void check_argv(const struct chan_command *c, const char *const want[4], size_t row)
{
	for (size_t i = 0; i < 4; i++)
		TU_CHECK(tu_streq(c->argv[i], want[i]), "row %zu: argv[%zu] \"%s\", want \"%s\"", row, i,
			 tu_str(c->argv[i]), tu_str(want[i]));
}

static void test_what_runs(void **state)
{
	const struct authkey_opts any = { 0 }, forced = { .command = "/opt/bin/only-this --flag" };
	const struct {
		enum chan_req r;
		const char *arg;
		const struct authkey_opts *o;
		const char *shell, *sftp_server;
		const char *what, *command, *original, *path;
		const char *argv[4];
	} rows[] = {
		/* A login shell: "-bash" as argv[0]. */
		{ CHAN_REQ_SHELL, NULL, &any, "/bin/bash", NULL, "shell", NULL, NULL, "/bin/bash", { "-bash" } },
		{ CHAN_REQ_SHELL, NULL, &any, "/bin/sh", NULL, "shell", NULL, NULL, "/bin/sh", { "-sh" } },
		{ CHAN_REQ_EXEC, "ls -l /opt/ml", &any, "/bin/bash", NULL, "exec", "ls -l /opt/ml", NULL, "/bin/bash",
		  { "/bin/bash", "-c", "ls -l /opt/ml" } },
		/* sftp: porthole's own, or PORTHOLE_SFTP_SERVER. */
		{ CHAN_REQ_SUBSYSTEM, "sftp", &any, "/bin/bash", NULL, "sftp", NULL, NULL, "/proc/self/exe",
		  { "porthole", "sftp-server" } },
		{ CHAN_REQ_SUBSYSTEM, "sftp", &any, "/bin/bash", "/usr/lib/openssh/sftp-server", "sftp", NULL, NULL,
		  "/usr/lib/openssh/sftp-server", { "/usr/lib/openssh/sftp-server" } },
		/* command="…" runs instead of whatever was asked; SSH_ORIGINAL_COMMAND tells what that was. */
		{ CHAN_REQ_SHELL, NULL, &forced, "/bin/zsh", NULL, "shell", NULL, "", "/bin/zsh",
		  { "/bin/zsh", "-c", "/opt/bin/only-this --flag" } },
		{ CHAN_REQ_EXEC, "rm -rf /", &forced, "/bin/bash", NULL, "exec", "rm -rf /", "rm -rf /", "/bin/bash",
		  { "/bin/bash", "-c", "/opt/bin/only-this --flag" } },
		{ CHAN_REQ_SUBSYSTEM, "sftp", &forced, "/bin/bash", "/usr/lib/openssh/sftp-server", "sftp", NULL, "",
		  "/bin/bash", { "/bin/bash", "-c", "/opt/bin/only-this --flag" } },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct chan_command c;
		chan_table_command(&c, rows[i].r, rows[i].arg, rows[i].o, rows[i].shell, rows[i].sftp_server);
		TU_CHECK(tu_streq(c.what, rows[i].what), "row %zu: what %s", i, tu_str(c.what));
		TU_CHECK(tu_streq(c.command, rows[i].command), "row %zu: command %s", i, tu_str(c.command));
		TU_CHECK(tu_streq(c.forced, rows[i].o->command), "row %zu: forced %s", i, tu_str(c.forced));
		TU_CHECK(tu_streq(c.original, rows[i].original), "row %zu: original %s", i, tu_str(c.original));
		TU_CHECK(tu_streq(c.path, rows[i].path), "row %zu: path %s", i, tu_str(c.path));
		check_argv(&c, rows[i].argv, i);
	}
	TU_END();
}

/* Shells and commands start in the code directory; the sftp subsystem and
 * scp's remote end in the home, as with OpenSSH, so that both scp modes put
 * `scp f host:x` in the same place. */
static void test_where_it_starts(void **state)
{
	const struct authkey_opts any = { 0 }, forced = { .command = "scp -t /x" };
	const struct {
		enum chan_req r;
		const char *arg;
		const struct authkey_opts *o;
		bool home;
	} rows[] = {
		{ CHAN_REQ_SHELL, NULL, &any, false },
		{ CHAN_REQ_EXEC, "python train.py", &any, false },
		{ CHAN_REQ_SUBSYSTEM, "sftp", &any, true },
		{ CHAN_REQ_EXEC, "scp -t x", &any, true },
		{ CHAN_REQ_EXEC, "scp -v -r -p -d -t -- -dir", &any, true },
		{ CHAN_REQ_EXEC, "scp -f ~/x", &any, true },
		{ CHAN_REQ_EXEC, "/usr/bin/scp -p -f x", &any, true },
		{ CHAN_REQ_EXEC, "scp a.txt host:b", &any, false },  /* scp run as a client */
		{ CHAN_REQ_EXEC, "scp -- -t x", &any, false },
		{ CHAN_REQ_EXEC, "myscp -t x", &any, false },
		{ CHAN_REQ_EXEC, "scp", &any, false },
		{ CHAN_REQ_EXEC, "scp -t x", &forced, false },      /* the key's command runs, as configured */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct chan_command c;
		chan_table_command(&c, rows[i].r, rows[i].arg, rows[i].o, "/bin/bash", NULL);
		TU_CHECK(c.in_home == rows[i].home, "row %zu (%s): in_home %d", i, tu_str(rows[i].arg), c.in_home);
	}
	TU_END();
}

/* The options as authorized_keys says them: restrict refuses ptys and
 * forwarding; restrict,pty gives the pty back; permitopen limits. */
static void test_authorized_keys_lines(void **state)
{
	struct authkeys ak = { 0 };
	const struct chan_state fresh = { 0 };
	(void)state;

	authkeys_parse(&ak,
		       "restrict " KEY_A "\n"
		       "restrict,pty " KEY_A "\n"
		       "permitopen=\"localhost:8888\" " KEY_A "\n"
		       "no-pty,command=\"nvidia-smi\" " KEY_A "\n",
		       "test", NULL, NULL);
	assert_int_equal(ak.n, 4);

	const struct authkey_opts *restrict_ = &ak.v[0].o, *restrict_pty = &ak.v[1].o, *permit = &ak.v[2].o,
				  *nopty_cmd = &ak.v[3].o;
	assert_int_equal(chan_table_decide(CHAN_REQ_PTY, restrict_, &fresh, NULL), CHAN_REFUSE_KEY);
	assert_string_equal(tu_str(chan_table_refused_by(CHAN_DIRECT_TCPIP, restrict_, "localhost", 8888)),
			    "no-port-forwarding");
	assert_string_equal(tu_str(chan_table_refused_by(CHAN_TCPIP_FORWARD, restrict_, "localhost", 9000)),
			    "no-port-forwarding");
	assert_int_equal(chan_table_decide(CHAN_REQ_SHELL, restrict_, &fresh, NULL), CHAN_GO);
	assert_int_equal(chan_table_decide(CHAN_REQ_AUTH_AGENT, restrict_, &fresh, NULL), CHAN_REFUSE_KEY);
	assert_int_equal(chan_table_decide(CHAN_REQ_AUTH_AGENT, permit, &fresh, NULL), CHAN_GO);

	assert_int_equal(chan_table_decide(CHAN_REQ_PTY, restrict_pty, &fresh, "xterm"), CHAN_GO);
	assert_non_null(chan_table_refused_by(CHAN_DIRECT_TCPIP, restrict_pty, "localhost", 8888));

	assert_null(chan_table_refused_by(CHAN_DIRECT_TCPIP, permit, "localhost", 8888));
	assert_string_equal(tu_str(chan_table_refused_by(CHAN_DIRECT_TCPIP, permit, "localhost", 22)), "permitopen");
	assert_null(chan_table_refused_by(CHAN_TCPIP_FORWARD, permit, "localhost", 9000));

	struct chan_command c;
	assert_int_equal(chan_table_decide(CHAN_REQ_PTY, nopty_cmd, &fresh, NULL), CHAN_REFUSE_KEY);
	chan_table_command(&c, CHAN_REQ_EXEC, "bash", nopty_cmd, "/bin/sh", NULL);
	assert_string_equal(c.argv[2], "nvidia-smi");
	assert_string_equal(c.original, "bash");
	authkeys_free(&ak);
}

static int setup(void **state)
{
	char err[256];
	(void)state;
	/* authorized_keys lines carry keys: parsing them needs libssh. */
	if (sshlib_load(err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_names, tu_setup),
		cmocka_unit_test_setup(test_kinds_and_key_options, tu_setup),
		cmocka_unit_test_setup(test_session_requests, tu_setup),
		cmocka_unit_test_setup(test_signals, tu_setup),
		cmocka_unit_test_setup(test_what_runs, tu_setup),
		cmocka_unit_test_setup(test_where_it_starts, tu_setup),
		cmocka_unit_test_setup(test_authorized_keys_lines, tu_setup),
	};
	return cmocka_run_group_tests(tests, setup, NULL) ? 1 : 0;
}
