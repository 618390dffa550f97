/* SPDX-License-Identifier: Apache-2.0 */
/* test_spawn.c — exit codes, wait-status descriptions and spawn_command. */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>

#include "init/spawn.h"

/* A wait status made by the kernel: a child that exits with code, or a
 * shell that kills itself with sig (no core dump; a shell rather than raise()
 * so that neither valgrind nor the sanitizers take the signal over). */
static int real_status(int code, int sig)
{
	pid_t pid = fork();
	int st = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (sig) {
			char script[128];
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			signal(sig, SIG_DFL);
			snprintf(script, sizeof(script), "ulimit -c 0; kill -%d $$; exit 99", sig);
			execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		}
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_exit_statuses(void **state)
{
	static const int codes[] = { 0, 1, 2, 3, 42, 100, 125, 126, 127, 128, 129, 137, 200, 254, 255 };
	(void)state;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int st = real_status(codes[i], 0);
		char buf[128], want[64];
		TU_CHECK(spawn_exit_code(st) == codes[i], "exit %d: spawn_exit_code %d", codes[i], spawn_exit_code(st));
		spawn_describe_status(st, buf, sizeof(buf));
		snprintf(want, sizeof(want), "exited with status %d", codes[i]);
		TU_CHECK(strcmp(buf, want) == 0, "exit %d: \"%s\", want \"%s\"", codes[i], buf, want);
	}
	/* The same for every code, with statuses built by hand. */
	for (int code = 0; code < 256; code++) {
		int st = code << 8;
		char buf[128], want[64];
		TU_CHECK(spawn_exit_code(st) == code, "status 0x%x: %d", st, spawn_exit_code(st));
		spawn_describe_status(st, buf, sizeof(buf));
		snprintf(want, sizeof(want), "exited with status %d", code);
		TU_CHECK(strcmp(buf, want) == 0, "status 0x%x: \"%s\"", st, buf);
	}
	TU_END();
}

static void test_signals(void **state)
{
	static const struct {
		int sig;
		int code;
		const char *text;
	} cases[] = {
		{ SIGKILL, 137, "killed by SIGKILL" },
		{ SIGTERM, 143, "killed by SIGTERM" },
		{ SIGINT, 130, "killed by SIGINT" },
		{ SIGHUP, 129, "killed by SIGHUP" },
		{ SIGSEGV, 139, "killed by SIGSEGV" },
		{ SIGABRT, 134, "killed by SIGABRT" },
		{ SIGUSR1, 138, "killed by SIGUSR1" },
		{ SIGPIPE, 141, "killed by SIGPIPE" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = real_status(0, cases[i].sig);
		char buf[128];
		TU_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == cases[i].sig, "signal %d: status 0x%x", cases[i].sig, st);
		TU_CHECK(spawn_exit_code(st) == cases[i].code, "%s: spawn_exit_code %d, want %d", cases[i].text,
			 spawn_exit_code(st), cases[i].code);
		spawn_describe_status(st, buf, sizeof(buf));
		TU_CHECK(strcmp(buf, cases[i].text) == 0, "signal %d: \"%s\", want \"%s\"", cases[i].sig, buf,
			 cases[i].text);
	}
	TU_END();
}

static void test_synthetic_statuses(void **state)
{
	static const struct {
		int status;
		int code;
		const char *text;
	} cases[] = {
		{ SIGSEGV | 0x80, 139, "killed by SIGSEGV (core dumped)" },
		{ SIGABRT | 0x80, 134, "killed by SIGABRT (core dumped)" },
		{ SIGKILL, 137, "killed by SIGKILL" },
		{ 0x7f | (SIGSTOP << 8), 1, "ended with wait status 0x137f" }, /* stopped, not ended */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[128];
		TU_CHECK(spawn_exit_code(cases[i].status) == cases[i].code, "status 0x%x: code %d, want %d",
			 cases[i].status, spawn_exit_code(cases[i].status), cases[i].code);
		spawn_describe_status(cases[i].status, buf, sizeof(buf));
		TU_CHECK(strcmp(buf, cases[i].text) == 0, "status 0x%x: \"%s\", want \"%s\"", cases[i].status, buf,
			 cases[i].text);
	}
	/* A real-time signal has no abbreviation: still described, never empty. */
	{
		int sig = SIGRTMIN + 1;
		char buf[128];
		spawn_describe_status(sig, buf, sizeof(buf));
		TU_CHECK(strncmp(buf, "killed by ", 10) == 0 && strlen(buf) > 10, "SIGRTMIN+1: \"%s\"", buf);
		TU_CHECK(spawn_exit_code(sig) == 128 + sig, "SIGRTMIN+1: %d", spawn_exit_code(sig));
	}
	/* A short buffer is cut, not overrun. */
	{
		char small[8];
		memset(small, 'X', sizeof(small));
		spawn_describe_status(SIGKILL, small, sizeof(small));
		TU_CHECK(memchr(small, '\0', sizeof(small)) != NULL, "not terminated");
	}
	TU_END();
}

static void test_exec_failure_code(void **state)
{
	static const struct {
		int err, code;
	} cases[] = {
		{ ENOENT, 127 }, { ENOTDIR, 127 }, { EACCES, 126 }, { ENOEXEC, 126 },
		{ EPERM, 126 },  { EISDIR, 126 },  { ELOOP, 126 },  { E2BIG, 126 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TU_CHECK(spawn_exec_failure_code(cases[i].err) == cases[i].code, "%s: %d, want %d", strerror(cases[i].err),
			 spawn_exec_failure_code(cases[i].err), cases[i].code);
	TU_END();
}

static int reap(pid_t pid)
{
	int st = 0;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_spawn_missing(void **state)
{
	char *argv[] = { "porthole-unit-no-such-command-xyz", "arg", NULL };
	pid_t pid = 0;
	int err = -1;
	(void)state;

	assert_int_equal(spawn_command(argv, &pid, &err), 0);
	assert_true(pid > 0);
	assert_int_equal(err, ENOENT);
	int st = reap(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 127);
	assert_int_equal(spawn_exit_code(st), spawn_exec_failure_code(err));
}

static void test_spawn_exec_errors(void **state)
{
	char *dir = tu_tmpdir();
	char *plain = tu_path("%s/not-executable", dir);
	char *notdir = tu_path("%s/x", plain);
	(void)state;

	tu_write_file(plain, "#!/bin/sh\nexit 0\n");
	chmod(plain, 0644);

	const struct {
		char *path;
		int err, code;
	} cases[] = {
		{ notdir, ENOTDIR, 127 },
		{ dir, EACCES, 126 }, /* a directory */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { cases[i].path, NULL };
		pid_t pid = 0;
		int err = -1;
		TU_CHECK(spawn_command(argv, &pid, &err) == 0, "%s: spawn failed", cases[i].path);
		TU_CHECK(err == cases[i].err, "%s: exec_errno %s, want %s", cases[i].path, strerror(err),
			 strerror(cases[i].err));
		int st = reap(pid);
		TU_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == cases[i].code, "%s: status 0x%x, want exit %d",
			 cases[i].path, st, cases[i].code);
	}
	/* Not executable: EACCES, unless root (which may run it anyway). */
	if (geteuid() != 0) {
		char *argv[] = { plain, NULL };
		pid_t pid = 0;
		int err = -1;
		TU_CHECK(spawn_command(argv, &pid, &err) == 0, "spawn failed");
		TU_CHECK(err == EACCES, "mode 0644: exec_errno %s", strerror(err));
		int st = reap(pid);
		TU_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 126, "mode 0644: status 0x%x", st);
	}
	tu_rm_rf(dir);
	free(notdir);
	free(plain);
	free(dir);
	TU_END();
}

static void test_spawn_runs(void **state)
{
	char *ok[] = { "true", NULL };
	char *three[] = { "sh", "-c", "exit 3", NULL };
	pid_t pid = 0;
	int err = -1;
	(void)state;

	assert_int_equal(spawn_command(ok, &pid, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(spawn_exit_code(reap(pid)), 0);

	assert_int_equal(spawn_command(three, &pid, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(spawn_exit_code(reap(pid)), 3);
}

/* The command gets its own process group, default dispositions and an empty
 * signal mask, whatever porthole itself has blocked or ignored. */
static void test_spawn_signal_state(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_term, old_int;
	sigset_t block, old_mask;
	pid_t pid = 0;
	int err = -1;
	(void)state;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	sigaction(SIGTERM, &ign, &old_term);
	sigaction(SIGINT, &ign, &old_int);

	assert_int_equal(spawn_command(argv, &pid, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(getpgid(pid), pid);
	kill(pid, SIGTERM);
	int st = reap(pid);

	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	assert_int_equal(spawn_exit_code(st), 143);

	/* SIGINT, ignored by us, is default again in the command. */
	assert_int_equal(sigaction(SIGINT, &ign, &old_int), 0);
	assert_int_equal(spawn_command(argv, &pid, &err), 0);
	kill(pid, SIGINT);
	st = reap(pid);
	sigaction(SIGINT, &old_int, NULL);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGINT);
}

static int reset(void **state)
{
	(void)state;
	tu_reset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exit_statuses, reset),
		cmocka_unit_test_setup(test_signals, reset),
		cmocka_unit_test_setup(test_synthetic_statuses, reset),
		cmocka_unit_test_setup(test_exec_failure_code, reset),
		cmocka_unit_test_setup(test_spawn_missing, reset),
		cmocka_unit_test_setup(test_spawn_exec_errors, reset),
		cmocka_unit_test_setup(test_spawn_runs, reset),
		cmocka_unit_test_setup(test_spawn_signal_state, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
