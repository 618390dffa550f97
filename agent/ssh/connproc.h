/* SPDX-License-Identifier: Apache-2.0 */
/* connproc.h — a connection's process is a fresh porthole image, as sshd
 * re-execs itself for each connection: PID 1 forks and execs /proc/self/exe
 * with the hidden subcommand `ssh-connection`, passing the accepted socket,
 * the report socket and a sealed memfd of what the connection needs (the
 * SSH settings, the host key, the addresses, the source's penalty).  Nothing
 * of PID 1's memory comes along: not the AWS credentials it fetched, not the
 * spool, not the cluster client key; its environment is a short allowlist
 * (PATH, LD_LIBRARY_PATH, HOME, locale, sanitizer options).  Each connection
 * gets its own address layout and stack canary, so a pre-authentication
 * memory bug in libssh cannot be brute-forced across connections.
 *
 * The training environment, which sessions inherit, is handed over only
 * after the login: PID 1 sends it as a sealed memfd over the report socket
 * (SCM_RIGHTS) when the connection reports "ssh_login".
 *
 * Before authentication the process also cannot gain privileges through
 * exec (PR_SET_NO_NEW_PRIVS, when running as root: root's sessions lose
 * nothing by it) and is not dumpable (no core file with the host key; set
 * back at login).  docs/ARCHITECTURE.md ("Security model") says what more
 * an OpenSSH-style privilege separation would need. */
#ifndef PORTHOLE_CONNPROC_H
#define PORTHOLE_CONNPROC_H

#include <stdint.h>
#include <sys/types.h>

#include "ssh_settings.h"

struct session_params;

/* PID 1: fork and exec the connection process for fd (taken over) with
 * report (its end of the report socket; taken over).  0 with *pid, or
 * -errno. */
int connproc_start(const struct session_params *sp, int fd, int report, pid_t *pid);

/* PID 1: the connection on report (PID 1's end) has logged in: send it the
 * training environment.  0, or -errno. */
int connproc_send_env(int report);

/* The connection process, after reporting its login: wait (bounded) for the
 * environment and make it the process's own.  0, or -errno (sessions then
 * get the short environment it started with). */
int connproc_take_env(int report, uint64_t timeout_usec);

/* The hidden subcommand `porthole ssh-connection` (agent/main.c). */
int connproc_main(int argc, char **argv);

#endif
