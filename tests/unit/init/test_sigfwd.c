/* SPDX-License-Identifier: Apache-2.0 */
/* test_sigfwd.c — the signals porthole takes over, how each reaches a
 * process group (job control as SIGSTOP, SIGCONT after a terminating
 * signal), porthole's own SIGPIPE told apart, and the signalfd on a loop. */
#include "testutil.h"

#include <sys/wait.h>
#include <systemd/sd-event.h>

#include "init/sigfwd.h"

static void test_fill(void **state)
{
	sigset_t set;
	(void)state;

	sigemptyset(&set);
	sigfwd_fill(&set);
	for (int sig = 1; sig <= 31; sig++)
		TU_CHECK(sigismember(&set, sig) == !(sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD), "signal %d",
			 sig);
	TU_CHECK(!sigismember(&set, SIGRTMIN), "no real-time signal");
	TU_END();
}

static void test_own(void **state)
{
	struct signalfd_siginfo si = { .ssi_signo = SIGPIPE, .ssi_code = SI_USER, .ssi_pid = (uint32_t)getpid() };
	(void)state;

	assert_true(sigfwd_own(&si));
	si.ssi_pid = (uint32_t)getpid() + 1;
	assert_false(sigfwd_own(&si));
	/* Sent from outside a PID namespace: pid 0. */
	si.ssi_pid = 0;
	assert_false(sigfwd_own(&si));
	/* The kernel's own (a terminal hanging up) is passed on. */
	si.ssi_pid = (uint32_t)getpid();
	si.ssi_code = SI_KERNEL;
	assert_false(sigfwd_own(&si));
}

/* A child in a process group of its own, waiting for signals. */
static pid_t group_child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t none;
		setpgid(0, 0);
		for (int sig = 1; sig < 32; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;)
			pause();
	}
	setpgid(pid, pid);
	return pid;
}

static void test_job_control_stops_the_group(void **state)
{
	int sigs[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	(void)state;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid_t pid = group_child();
		int st;

		assert_int_equal(sigfwd_deliver(pid, sigs[i]), 0);
		assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
		/* SIGSTOP, whatever the child does with SIGTSTP. */
		assert_true(WIFSTOPPED(st));
		assert_int_equal(WSTOPSIG(st), SIGSTOP);
		assert_int_equal(sigfwd_deliver(pid, SIGCONT), 0);
		assert_int_equal(waitpid(pid, &st, WCONTINUED), pid);
		assert_true(WIFCONTINUED(st));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

static void test_terminating_signal_reaches_a_stopped_group(void **state)
{
	int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	(void)state;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid_t pid = group_child();
		int st;

		kill(pid, SIGSTOP);
		assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
		assert_true(WIFSTOPPED(st));
		/* The SIGCONT after it lets the stopped child act on it. */
		assert_int_equal(sigfwd_deliver(pid, sigs[i]), 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), sigs[i]);
	}
}

static void test_other_signals_as_they_are(void **state)
{
	pid_t pid = group_child();
	int st;
	(void)state;

	assert_int_equal(sigfwd_deliver(pid, SIGALRM), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGALRM);
	/* Nothing left to deliver to. */
	assert_int_equal(sigfwd_deliver(pid, SIGUSR1), -ESRCH);
	assert_int_equal(sigfwd_deliver(0, SIGUSR1), -ESRCH);
}

static void on_sig(void *ud, const struct signalfd_siginfo *si)
{
	int *got = ud;

	got[si->ssi_signo] = 1;
}

static void test_read_from_the_loop(void **state)
{
	sd_event *loop = NULL;
	struct sigfwd *f = NULL;
	int got[64] = { 0 };
	sigset_t set, old;
	(void)state;

	sigemptyset(&set);
	sigfwd_fill(&set);
	sigprocmask(SIG_BLOCK, NULL, &old);
	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(sigfwd_new(loop, on_sig, got, &f), 0);
	/* Blocked now: raising them ends nothing. */
	raise(SIGUSR1);
	raise(SIGTSTP);
	raise(SIGXCPU);
	for (int i = 0; i < 10 && !(got[SIGUSR1] && got[SIGTSTP] && got[SIGXCPU]); i++)
		sd_event_run(loop, 100000);
	assert_true(got[SIGUSR1] && got[SIGTSTP] && got[SIGXCPU]);
	sigfwd_free(f);
	sd_event_unref(loop);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_own),
		cmocka_unit_test(test_job_control_stops_the_group),
		cmocka_unit_test(test_terminating_signal_reaches_a_stopped_group),
		cmocka_unit_test(test_other_signals_as_they_are),
		cmocka_unit_test(test_read_from_the_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
