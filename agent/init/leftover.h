/* SPDX-License-Identifier: Apache-2.0 */
/* leftover.h — the command's process group after the command itself has
 * ended, when porthole is not PID 1.
 *
 * As PID 1 nothing is needed: when porthole exits, the kernel ends every
 * process of the container.  Anywhere else (sourced from a train script,
 * `porthole run` under another init, a HyperPod node) what the command
 * started would outlive porthole and the command's exit status; so, when
 * porthole ends, the group gets SIGTERM (and SIGCONT, should it be
 * stopped), then SIGKILL once kill_after has passed.  porthole waits for the
 * group to be gone — each member reaped, most of them by porthole as the
 * subreaper — for at most give_up, both within its exit budget. */
#ifndef PORTHOLE_LEFTOVER_H
#define PORTHOLE_LEFTOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "reaper.h"

struct leftover;

/* Whether anything of the group pgid is left (its leader, pid pgid, has
 * ended and been reaped).  A live process with pid pgid means the number
 * was given out again, which the kernel does only once the group is gone. */
bool leftover_any(pid_t pgid);

/* Signal what is left of pgid's group and watch it go; done(ud) runs from
 * the loop once it is gone or give_up_usec has passed.  0 with *ret NULL
 * (done not called) when nothing is left; -errno. */
int leftover_end(sd_event *loop, struct reaper *r, pid_t pgid, uint64_t kill_after_usec, uint64_t give_up_usec,
		 void (*done)(void *ud), void *ud, struct leftover **ret);
void leftover_free(struct leftover *l);

#endif
