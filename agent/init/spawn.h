/* SPDX-License-Identifier: Apache-2.0 */
/* spawn.h — start the training command and describe how it ended. */
#ifndef PORTHOLE_SPAWN_H
#define PORTHOLE_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* Fork and exec argv (searched on PATH) in a new process group, with the
 * default signal dispositions and an empty signal mask.  Returns 0 with *pid
 * set; if exec failed, *exec_errno is set too and the child has already
 * exited with 127 (not found) or 126 (found but not runnable).  -errno if
 * fork itself failed. */
int spawn_command(char *const argv[], pid_t *pid, int *exec_errno);

/* 127 for "not found", 126 otherwise. */
int spawn_exec_failure_code(int exec_errno);

/* The wrapper's exit code for a wait status: the status, or 128+signal. */
int spawn_exit_code(int wstatus);

/* "exited with status 3", "killed by SIGKILL". */
void spawn_describe_status(int wstatus, char *buf, size_t len);

#endif
