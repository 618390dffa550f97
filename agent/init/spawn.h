/* SPDX-License-Identifier: Apache-2.0 */
/* spawn.h — starting a program in a process of its own, the one way porthole
 * does it for the training command (daemon/run.c) and for a session's shell
 * or command (ssh/chan.c); and how a started program ended, in words and as
 * an exit code. */
#ifndef PORTHOLE_SPAWN_H
#define PORTHOLE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How the child is set up between fork and exec.  All zero: like porthole
 * (its environment, working directory and descriptors), in a new process
 * group. */
struct spawn_opts {
	const char *path;   /* the file to run; NULL: argv[0], searched on PATH */
	char *const *envp;  /* NULL: porthole's environment */
	const char *dir;    /* the working directory, "/" if it cannot be entered; NULL: porthole's */
	const int *stdio;   /* three descriptors to become 0, 1 and 2 (a pty's slave three times); NULL: porthole's */
	bool new_session;   /* setsid() rather than a new process group only; a terminal on the new stdin
			     * becomes the controlling terminal */
	bool foreground;    /* a terminal on stdin runs the new group in the foreground (as tini does) */
	bool close_fds;     /* nothing but 0, 1 and 2 reaches the program */
};

/* Fork and exec argv as o says, with the default signal dispositions and an
 * empty signal mask, so signals reach its whole group.  Returns once the
 * exec happened or failed: 0 with *pid set; if exec failed, *exec_errno is
 * set too and the child has already exited with spawn_exec_failure_code()
 * (*exec_errno is 0 otherwise).  -errno if fork itself failed. */
int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *exec_errno);

/* spawn_start() of the training command: its own process group, in the
 * foreground of the terminal if there is one, argv[0] searched on PATH. */
int spawn_command(char *const argv[], pid_t *pid, int *exec_errno);

/* 127 for "not found", 126 otherwise. */
int spawn_exec_failure_code(int exec_errno);

/* The wrapper's exit code for a wait status: the status, or 128+signal. */
int spawn_exit_code(int wstatus);

/* "exited with status 3", "killed by SIGKILL". */
void spawn_describe_status(int wstatus, char *buf, size_t len);

#endif
