/* SPDX-License-Identifier: Apache-2.0 */
/* spawn.c — see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int spawn_exec_failure_code(int exec_errno)
{
	return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
}

/* In the child: 0, 1 and 2 from fds.  Any of them below 3 is moved out of
 * the way first, so that no dup2() overwrites one still to be copied. */
static int set_stdio(const int fds[3])
{
	int tmp[3];

	for (int i = 0; i < 3; i++) {
		tmp[i] = fds[i] < 3 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3) : fds[i];
		if (tmp[i] < 0)
			return -1;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(tmp[i], i) < 0)
			return -1;
	return 0;
}

/* In the child, up to exec; errno goes back over errfd if it fails.  Not
 * inlined: with vfork the child must work in a frame of its own, below the
 * parent's, which it shares until the exec. */
__attribute__((noinline)) static void child_exec(char *const argv[], const struct spawn_opts *o, int errfd)
{
	extern char **environ;
	sigset_t none;
	int err;

	/* A process group of its own, so signals porthole forwards reach
	 * everything the program starts; or a session of its own, so ^C on a
	 * session's pty reaches its foreground job. */
	if (o->new_session)
		setsid();
	else
		setpgid(0, 0);
	if (o->stdio && set_stdio(o->stdio) < 0)
		goto fail;
	if (o->new_session && o->stdio && isatty(STDIN_FILENO))
		ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	/* The terminal's foreground group, or reads from it would stop the
	 * program. */
	if (o->foreground && isatty(STDIN_FILENO)) {
		signal(SIGTTOU, SIG_IGN);
		tcsetpgrp(STDIN_FILENO, getpgrp());
	}
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (o->dir && chdir(o->dir) < 0 && chdir("/") < 0) {
		/* "/" always exists */
	}
	/* Nothing of porthole's (or of other sessions) leaks into it. */
	if (o->close_fds)
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (o->path)
		execve(o->path, argv, o->envp ? o->envp : environ);
	else
		execvpe(argv[0], argv, o->envp ? o->envp : environ);
fail:
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(spawn_exec_failure_code(err));
}

int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *exec_errno)
{
	int pfd[2], err = 0;
	ssize_t n;
	pid_t p;

	*exec_errno = 0;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	/* vfork: the page tables of porthole (and of the libraries it maps)
	 * are not copied, nor touched copy-on-write, on the way to the exec;
	 * most of a millisecond.  The caller is suspended until the exec, as
	 * it waits for it anyway.  The child only makes system calls before
	 * exec or _exit (signal dispositions it changes are its own copy), and
	 * runs no handler: porthole's signals are blocked and read from the
	 * loop. */
	p = vfork();
	if (p < 0) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -err;
	}
	if (p == 0) {
		close(pfd[0]);
		child_exec(argv, o, pfd[1]);
	}
	close(pfd[1]);
	/* Also from here, so forwarding never races the child.  Not for a new
	 * session: a group leader could not call setsid(). */
	if (!o->new_session)
		setpgid(p, p);
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

int spawn_command(char *const argv[], pid_t *pid, int *exec_errno)
{
	return spawn_start(argv, &(const struct spawn_opts){ .foreground = true }, pid, exec_errno);
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
