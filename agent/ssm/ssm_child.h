/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_child.h — amazon-ssm-agent (or its -register run) as a child: in its
 * own process group, stdin /dev/null, stdout and stderr read line by line
 * from the loop, its end learnt through the reaper. */
#ifndef PORTHOLE_SSM_CHILD_H
#define PORTHOLE_SSM_CHILD_H

#include <sys/types.h>
#include <systemd/sd-event.h>

#include "../init/reaper.h"

struct ssm_child;
typedef void (*ssm_child_line_fn)(void *ud, const char *line);
/* The last call for the child: output read so far has been delivered.  It
 * may free the child. */
typedef void (*ssm_child_exit_fn)(void *ud, int wstatus);

/* argv[0] is a path.  -errno if it could not be started. */
int ssm_child_start(sd_event *loop, struct reaper *r, char *const argv[], ssm_child_line_fn line,
		    ssm_child_exit_fn done, void *ud, struct ssm_child **out);
/* To the whole group: the agent's workers hear it too. */
void ssm_child_signal(struct ssm_child *c, int sig);
/* SIGKILL to the group if it still runs; no callback after this. */
void ssm_child_free(struct ssm_child *c);

#endif
