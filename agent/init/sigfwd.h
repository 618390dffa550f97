/* SPDX-License-Identifier: Apache-2.0 */
/* sigfwd.h — what porthole does with a signal sent to it while the command
 * runs, as an init should.
 *
 * Every catchable signal from 1 to 31 (all but SIGKILL and SIGSTOP, which
 * cannot be caught, and SIGCHLD, which is the reaper's) is taken from its
 * default action: porthole blocks it and reads it from the loop, so none
 * can end or stop porthole, whether it is PID 1 or not.  Each is passed on
 * to the command's process group, as dumb-init does, with two rules:
 * SIGTSTP, SIGTTIN and SIGTTOU stop the group with SIGSTOP (porthole itself
 * goes on: SSH, the control socket and the timers keep working), and after
 * SIGTERM, SIGINT, SIGHUP or SIGQUIT the group also gets SIGCONT, so a
 * stopped command acts on them instead of waiting for SIGKILL. */
#ifndef PORTHOLE_SIGFWD_H
#define PORTHOLE_SIGFWD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct sigfwd;
typedef void (*sigfwd_fn)(void *ud, const struct signalfd_siginfo *si);

/* Adds the signals porthole takes over to set. */
void sigfwd_fill(sigset_t *set);

/* Block those signals and read them on loop: fn(ud, si) for each.  One
 * signalfd for all of them (sd-event's own would update its mask signal by
 * signal, twice as many system calls at start).  0 or -errno. */
int sigfwd_new(sd_event *loop, sigfwd_fn fn, void *ud, struct sigfwd **ret);
void sigfwd_free(struct sigfwd *f);

/* True for a signal porthole caused itself, which is not the command's:
 * SIGPIPE after writing to a closed pipe or socket, SIGXFSZ past the file
 * size limit (sent by the kernel as from porthole's own pid). */
bool sigfwd_own(const struct signalfd_siginfo *si);

/* Pass sig on to the process group pgid by the rules above (to pgid alone
 * if the group is gone but the process is not).  0 or -errno. */
int sigfwd_deliver(pid_t pgid, int sig);

#endif
