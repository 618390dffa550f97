/* SPDX-License-Identifier: Apache-2.0 */
/* spawn.c — see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int spawn_exec_failure_code(int exec_errno)
{
	return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
}

/* Not inlined: with vfork the child must work in a frame of its own, below
 * the parent's, which it shares until the exec. */
__attribute__((noinline)) static void child_exec(char *const argv[], int errfd)
{
	sigset_t none;
	int err;

	/* Its own process group, so signals are forwarded to everything the
	 * command starts; and the terminal's foreground group when there is a
	 * terminal, or reads from it would stop the command (as tini does). */
	setpgid(0, 0);
	if (isatty(STDIN_FILENO)) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpgrp());
	}
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(spawn_exec_failure_code(err));
}

int spawn_command(char *const argv[], pid_t *pid, int *exec_errno)
{
	int pfd[2], err = 0;
	ssize_t n;
	pid_t p;

	*exec_errno = 0;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	/* vfork: the page tables of porthole (and of the libraries it maps)
	 * are not copied, nor touched copy-on-write, on the way to the
	 * command's exec; most of a millisecond.  porthole is suspended
	 * until the exec, as it waits for it anyway.  The child only makes
	 * system calls before exec or _exit, and runs no handler: porthole's
	 * signals are all blocked and read from the loop. */
	p = vfork();
	if (p < 0) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -err;
	}
	if (p == 0) {
		close(pfd[0]);
		child_exec(argv, pfd[1]);
	}
	close(pfd[1]);
	setpgid(p, p); /* also from here, so forwarding never races the child */
	/* The pipe closes on a successful exec; otherwise it carries errno. */
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(err))
		*exec_errno = err;
	*pid = p;
	return 0;
}

int spawn_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

void spawn_describe_status(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus)) {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
	} else if (WIFSIGNALED(wstatus)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(wstatus));
		if (abbrev)
			snprintf(buf, len, "killed by SIG%s%s", abbrev, WCOREDUMP(wstatus) ? " (core dumped)" : "");
		else
			snprintf(buf, len, "killed by signal %d", WTERMSIG(wstatus));
	} else {
		snprintf(buf, len, "ended with wait status 0x%x", wstatus);
	}
}
