/* SPDX-License-Identifier: Apache-2.0 */
/* test_session_env.c — what a session's command gets: porthole's own
 * environment without the shell's bookkeeping, the login's variables on
 * top (HOME, USER, SSH_CONNECTION …), what a client may set, the key's
 * environment="…", SSH_ORIGINAL_COMMAND; the user; the working directory. */
#include "testutil.h"

#include <pwd.h>

#include "ssh/session_env.h"

/* name's value in e, or NULL. */
static const char *get(const struct envb *e, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=')
			return e->v[i] + nl + 1;
	return NULL;
}

/* How often name is set in e. */
static size_t count(const struct envb *e, const char *name)
{
	size_t nl = strlen(name), n = 0;

	for (size_t i = 0; i < e->n; i++)
		n += strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=';
	return n;
}

static void test_user(void **state)
{
	struct session_user u;
	struct passwd *pw = getpwuid(getuid());
	(void)state;

	session_env_user(&u);
	assert_int_equal(u.uid, getuid());
	if (pw) {
		assert_string_equal(u.name, pw->pw_name);
		assert_string_equal(u.home, pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	}
	/* A shell that can run, or /bin/sh. */
	assert_true(u.shell[0] == '/');
	assert_int_equal(access(u.shell, X_OK), 0);
}

/* porthole's environment is the training environment, minus what only
 * described the shell that started porthole. */
static void test_init_copies_environment(void **state)
{
	struct envb e = { 0 };
	(void)state;

	setenv("SM_CURRENT_HOST", "algo-1", 1);
	setenv("SHLVL", "3", 1);
	setenv("PWD", "/somewhere", 1);
	setenv("OLDPWD", "/before", 1);
	setenv("_", "/usr/bin/porthole", 1);
	assert_int_equal(session_env_init(&e), 0);
	assert_string_equal(tu_str(get(&e, "SM_CURRENT_HOST")), "algo-1");
	assert_null(get(&e, "SHLVL"));
	assert_null(get(&e, "PWD"));
	assert_null(get(&e, "OLDPWD"));
	assert_null(get(&e, "_"));
	assert_null(e.v[e.n]);
	session_env_free(&e);
	assert_null(e.v);
	assert_int_equal(e.n, 0);
	unsetenv("SM_CURRENT_HOST");
	unsetenv("SHLVL");
	unsetenv("PWD");
	unsetenv("OLDPWD");
	unsetenv("_");
}

static void test_set_and_put(void **state)
{
	struct envb e = { 0 };
	(void)state;

	assert_int_equal(session_env_set(&e, "A", "1"), 0);
	assert_int_equal(session_env_set(&e, "AB", "2"), 0);
	assert_int_equal(session_env_put(&e, "A=3"), 0);     /* replaces A, not AB */
	assert_int_equal(session_env_set(&e, "EMPTY", ""), 0);
	assert_int_equal(e.n, 3);
	assert_string_equal(get(&e, "A"), "3");
	assert_string_equal(get(&e, "AB"), "2");
	assert_string_equal(get(&e, "EMPTY"), "");
	assert_int_equal(count(&e, "A"), 1);
	assert_null(e.v[e.n]);
	session_env_free(&e);
	session_env_free(&e); /* twice is fine */
}

/* Like Debian's AcceptEnv: locale and terminal, nothing that changes what
 * runs or how. */
static void test_client_may_set(void **state)
{
	static const struct {
		const char *name;
		bool may;
	} rows[] = {
		{ "LANG", true },          { "LC_ALL", true },         { "LC_CTYPE", true },
		{ "LC_", true },           { "TERM", true },           { "COLORTERM", true },
		{ "NO_COLOR", true },      { "LANGUAGE", false },      { "LC", false },
		{ "lang", false },         { "", false },              { "PATH", false },
		{ "LD_PRELOAD", false },   { "LD_LIBRARY_PATH", false }, { "BASH_ENV", false },
		{ "HOME", false },         { "SSH_ORIGINAL_COMMAND", false }, { "TERMINFO", false },
		{ "PORTHOLE_SSH", false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TU_CHECK(session_env_client_may_set(rows[i].name) == rows[i].may, "\"%s\": want %s", rows[i].name,
			 rows[i].may ? "allowed" : "refused");
	TU_END();
}

static struct session_user test_user_of(void)
{
	struct session_user u = { .uid = 1234 };

	snprintf(u.name, sizeof(u.name), "trainer");
	snprintf(u.home, sizeof(u.home), "/home/trainer");
	snprintf(u.shell, sizeof(u.shell), "/bin/bash");
	return u;
}

static void test_login_variables(void **state)
{
	struct session_user u = test_user_of();
	struct session_login l = { .user = &u, .peer = "10.0.0.5", .peer_port = 50022, .local = "10.0.0.9",
				   .local_port = 2222 };
	struct envb e = { 0 };
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	(void)state;

	setenv("HOME", "/root", 1);
	setenv("NCCL_DEBUG", "INFO", 1);
	unsetenv("TERM");
	unsetenv("SSH_TTY");
	assert_int_equal(session_env_login(&e, &l), 0);
	assert_string_equal(tu_str(get(&e, "HOME")), "/home/trainer"); /* the user's, not porthole's */
	assert_int_equal(count(&e, "HOME"), 1);
	assert_string_equal(tu_str(get(&e, "USER")), "trainer");
	assert_string_equal(tu_str(get(&e, "LOGNAME")), "trainer");
	assert_string_equal(tu_str(get(&e, "SHELL")), "/bin/bash");
	assert_string_equal(tu_str(get(&e, "SSH_CONNECTION")), "10.0.0.5 50022 10.0.0.9 2222");
	assert_string_equal(tu_str(get(&e, "SSH_CLIENT")), "10.0.0.5 50022 2222");
	assert_string_equal(tu_str(get(&e, "NCCL_DEBUG")), "INFO"); /* the training environment */
	/* Without a pty: no SSH_TTY, no TERM. */
	assert_null(get(&e, "SSH_TTY"));
	assert_null(get(&e, "TERM"));
	assert_null(get(&e, "SSH_ORIGINAL_COMMAND"));
	assert_null(e.v[e.n]);
	session_env_free(&e);
	unsetenv("NCCL_DEBUG");
	if (home)
		setenv("HOME", home, 1);
	free(home);
}

static void test_login_pty_and_overrides(void **state)
{
	struct session_user u = test_user_of();
	struct envb client = { 0 }, e = { 0 };
	char *key_env[] = { "LANG=C.UTF-8", "WANDB_MODE=offline", NULL };
	struct session_login l = { .user = &u, .peer = "::1", .peer_port = 1, .local = "::1", .local_port = 22,
				   .tty = "/dev/pts/7", .term = "", .client_env = &client, .key_env = key_env,
				   .original = "" };
	(void)state;

	assert_int_equal(session_env_set(&client, "LANG", "de_DE.UTF-8"), 0);
	assert_int_equal(session_env_set(&client, "LC_TIME", "en_GB.UTF-8"), 0);
	assert_int_equal(session_env_login(&e, &l), 0);
	assert_string_equal(tu_str(get(&e, "SSH_TTY")), "/dev/pts/7");
	assert_string_equal(tu_str(get(&e, "TERM")), "xterm"); /* none asked for */
	assert_string_equal(tu_str(get(&e, "LC_TIME")), "en_GB.UTF-8");
	/* The key's environment="…" over the client's. */
	assert_string_equal(tu_str(get(&e, "LANG")), "C.UTF-8");
	assert_int_equal(count(&e, "LANG"), 1);
	assert_string_equal(tu_str(get(&e, "WANDB_MODE")), "offline");
	/* A forced command for a shell: SSH_ORIGINAL_COMMAND is empty, not unset. */
	assert_string_equal(tu_str(get(&e, "SSH_ORIGINAL_COMMAND")), "");
	/* No agent forwarded: porthole sets no SSH_AUTH_SOCK of its own. */
	assert_int_equal(count(&e, "SSH_AUTH_SOCK"), getenv("SSH_AUTH_SOCK") ? 1 : 0);
	session_env_free(&e);

	l.auth_sock = "/tmp/ssh-abc/agent.42";
	assert_int_equal(session_env_login(&e, &l), 0);
	assert_string_equal(tu_str(get(&e, "SSH_AUTH_SOCK")), "/tmp/ssh-abc/agent.42");
	assert_int_equal(count(&e, "SSH_AUTH_SOCK"), 1);
	session_env_free(&e);
	l.auth_sock = NULL;

	l.term = "screen-256color";
	l.original = "python train.py";
	assert_int_equal(session_env_login(&e, &l), 0);
	assert_string_equal(tu_str(get(&e, "TERM")), "screen-256color");
	assert_string_equal(tu_str(get(&e, "SSH_ORIGINAL_COMMAND")), "python train.py");
	session_env_free(&e);
	session_env_free(&client);
}

/* ML_ROOT/code when it is a directory, else the user's home. */
static void test_workdir(void **state)
{
	char *dir = tu_tmpdir();
	char *code = tu_path("%s/code", dir), *file = tu_path("%s/file", dir), buf[4096];
	struct session_user u = test_user_of();
	struct ssh_settings cfg = { .code_dir = code };
	(void)state;

	session_env_workdir(&cfg, &u, buf, sizeof(buf));
	assert_string_equal(buf, "/home/trainer"); /* missing */
	assert_int_equal(mkdir(code, 0755), 0);
	session_env_workdir(&cfg, &u, buf, sizeof(buf));
	assert_string_equal(buf, code);
	tu_write_file(file, "x");
	cfg.code_dir = file;
	session_env_workdir(&cfg, &u, buf, sizeof(buf));
	assert_string_equal(buf, "/home/trainer"); /* not a directory */

	tu_rm_rf(dir);
	free(file);
	free(code);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_user, tu_setup),
		cmocka_unit_test_setup(test_init_copies_environment, tu_setup),
		cmocka_unit_test_setup(test_set_and_put, tu_setup),
		cmocka_unit_test_setup(test_client_may_set, tu_setup),
		cmocka_unit_test_setup(test_login_variables, tu_setup),
		cmocka_unit_test_setup(test_login_pty_and_overrides, tu_setup),
		cmocka_unit_test_setup(test_workdir, tu_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
