/* SPDX-License-Identifier: Apache-2.0 */
/* test_spawn.c — exit codes, wait-status descriptions, spawn_command (the
 * training command) and spawn_start's options (what a session's command
 * gets: path, environment, directory, stdio, a session and controlling
 * terminal of its own, no other descriptors). */
#include "testutil.h"

#include <pty.h>
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

/* Everything the child writes to fd, until it closes it. */
static char *read_all(int fd)
{
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	return buf;
}

/* Run /bin/sh -c script as o says (with stdout and stderr on one pipe unless
 * o has stdio); its output, and its wait status in *st. */
static char *run_sh(const char *script, struct spawn_opts *o, int *st)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	int p[2], null = open("/dev/null", O_RDONLY | O_CLOEXEC), fds[3];
	pid_t pid = 0;
	int err = -1;
	char *out;

	assert_true(null >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fds[0] = null;
	fds[1] = fds[2] = p[1];
	if (!o->stdio)
		o->stdio = fds;
	o->path = "/bin/sh";
	assert_int_equal(spawn_start(argv, o, &pid, &err), 0);
	assert_int_equal(err, 0);
	close(p[1]);
	close(null);
	out = read_all(p[0]);
	close(p[0]);
	*st = reap(pid);
	return out;
}

static void test_start_env_dir_stdio(void **state)
{
	char *dir = tu_tmpdir();
	char *envp[] = { "FOO=bar", "PATH=/usr/bin:/bin", NULL };
	struct spawn_opts o = { .envp = envp, .dir = dir };
	char *want = tu_path("bar %s x\ngone\n", dir), *out;
	int st;
	(void)state;

	/* Our own environment does not leak in when envp is given. */
	setenv("PORTHOLE_UNIT_LEAK", "1", 1);
	out = run_sh("echo \"$FOO $(pwd) ${PORTHOLE_UNIT_LEAK:-x}\"; echo gone >&2; exit 4", &o, &st);
	unsetenv("PORTHOLE_UNIT_LEAK");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 4);
	assert_string_equal(out, want);
	free(out);

	/* A directory that cannot be entered: "/" instead. */
	struct spawn_opts o2 = { .dir = "/nonexistent/porthole-unit" };
	out = run_sh("pwd", &o2, &st);
	assert_string_equal(out, "/\n");
	free(out);

	tu_rm_rf(dir);
	free(want);
	free(dir);
}

/* stdin from a pipe: what we write is what the command reads. */
static void test_start_stdin(void **state)
{
	char *argv[] = { "sh", "-c", "read x; echo \"got $x\"", NULL };
	int in[2], out[2];
	pid_t pid = 0;
	int err = -1;
	(void)state;

	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	const int fds[3] = { in[0], out[1], out[1] };
	struct spawn_opts o = { .stdio = fds };
	assert_int_equal(spawn_start(argv, &o, &pid, &err), 0);
	assert_int_equal(err, 0);
	close(in[0]);
	close(out[1]);
	assert_int_equal(write(in[1], "hello\n", 6), 6);
	close(in[1]);
	char *got = read_all(out[0]);
	close(out[0]);
	assert_string_equal(got, "got hello\n");
	free(got);
	assert_int_equal(spawn_exit_code(reap(pid)), 0);
}

/* close_fds: a descriptor porthole left open (no CLOEXEC) reaches the
 * command only without it. */
static void test_start_close_fds(void **state)
{
	const char *script = "if [ -e /proc/self/fd/37 ]; then echo open; else echo closed; fi";
	int p[2], st;
	char *out;
	(void)state;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], 37), 37);
	struct spawn_opts keep = { 0 }, shut = { .close_fds = true };
	out = run_sh(script, &keep, &st);
	assert_string_equal(out, "open\n");
	free(out);
	out = run_sh(script, &shut, &st);
	assert_string_equal(out, "closed\n");
	free(out);
	close(37);
	close(p[0]);
	close(p[1]);
}

/* Fields 5 to 7 of /proc/PID/stat: process group, session, tty_nr. */
static void proc_stat(pid_t pid, int *pgrp, int *sid, int *tty)
{
	char path[64], buf[1024];
	const char *rp;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	rp = strrchr(buf, ')');
	assert_non_null(rp);
	assert_int_equal(sscanf(rp + 2, "%*c %*d %d %d %d", pgrp, sid, tty), 3);
}

/* A session's command: a session of its own, the pty as its controlling
 * terminal on 0, 1 and 2; on pipes, no terminal at all.  Without
 * new_session: a process group of its own in porthole's session. */
static void test_start_session_and_pty(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	int master, slave, pgrp, sid, tty, err;
	pid_t pid;
	(void)state;

	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	fcntl(master, F_SETFD, FD_CLOEXEC);
	fcntl(slave, F_SETFD, FD_CLOEXEC);
	const int pty[3] = { slave, slave, slave };
	struct spawn_opts o = { .stdio = pty, .new_session = true, .close_fds = true };
	assert_int_equal(spawn_start(argv, &o, &pid, &err), 0);
	assert_int_equal(err, 0);
	proc_stat(pid, &pgrp, &sid, &tty);
	assert_int_equal(sid, pid);
	assert_int_equal(pgrp, pid);
	assert_int_not_equal(tty, 0);
	kill(pid, SIGKILL);
	reap(pid);
	close(master);
	close(slave);

	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	const int fds[3] = { p[0], p[1], p[1] };
	struct spawn_opts o2 = { .stdio = fds, .new_session = true };
	assert_int_equal(spawn_start(argv, &o2, &pid, &err), 0);
	proc_stat(pid, &pgrp, &sid, &tty);
	assert_int_equal(sid, pid);
	assert_int_equal(tty, 0);
	kill(pid, SIGKILL);
	reap(pid);
	close(p[0]);
	close(p[1]);

	struct spawn_opts o3 = { 0 };
	assert_int_equal(spawn_start(argv, &o3, &pid, &err), 0);
	proc_stat(pid, &pgrp, &sid, &tty);
	assert_int_equal(pgrp, pid);
	assert_int_equal(sid, getsid(0));
	kill(pid, SIGKILL);
	reap(pid);
}

/* A path is run as given, not searched; a missing one is exec_errno. */
static void test_start_path(void **state)
{
	char *argv[] = { "porthole-unit-name", NULL };
	struct spawn_opts o = { .path = "/nonexistent/porthole-unit" };
	pid_t pid = 0;
	int err = -1;
	(void)state;

	assert_int_equal(spawn_start(argv, &o, &pid, &err), 0);
	assert_int_equal(err, ENOENT);
	assert_int_equal(spawn_exit_code(reap(pid)), 127);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_exit_statuses, tu_setup),
		cmocka_unit_test_setup(test_signals, tu_setup),
		cmocka_unit_test_setup(test_synthetic_statuses, tu_setup),
		cmocka_unit_test_setup(test_exec_failure_code, tu_setup),
		cmocka_unit_test_setup(test_spawn_missing, tu_setup),
		cmocka_unit_test_setup(test_spawn_exec_errors, tu_setup),
		cmocka_unit_test_setup(test_spawn_runs, tu_setup),
		cmocka_unit_test_setup(test_spawn_signal_state, tu_setup),
		cmocka_unit_test_setup(test_start_env_dir_stdio, tu_setup),
		cmocka_unit_test_setup(test_start_stdin, tu_setup),
		cmocka_unit_test_setup(test_start_close_fds, tu_setup),
		cmocka_unit_test_setup(test_start_session_and_pty, tu_setup),
		cmocka_unit_test_setup(test_start_path, tu_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
