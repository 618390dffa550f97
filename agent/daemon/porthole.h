/* SPDX-License-Identifier: Apache-2.0 */
/* porthole.h — the context of a running porthole (`run` or `serve`): the one
 * place its mutable state lives.  Only daemon/ sees it; the areas it drives
 * are handed the parts they need. */
#ifndef PORTHOLE_PORTHOLE_H
#define PORTHOLE_PORTHOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "control.h"
#include "hold.h"
#include "phase.h"

#include "../aws/s3keys.h"
#include "../cluster/cluster.h"
#include "../init/leftover.h"
#include "../init/reaper.h"
#include "../init/sigfwd.h"
#include "../platform/addrwatch.h"
#include "../platform/identity.h"
#include "../ssh/sshd.h"

struct porthole {
	sd_event *loop;
	struct config cfg;
	struct identity id;
	struct reaper *reaper;
	struct sigfwd *sigfwd;   /* the signals porthole passes on */
	struct hold *hold;
	struct control *control;
	struct sshd *sshd;       /* the SSH endpoint, or NULL */
	struct addrwatch *addrwatch; /* NULL if address changes cannot be watched */
	struct s3keys *s3keys;   /* fetching PORTHOLE_AUTHORIZED_KEYS_S3, or NULL */
	struct aws *aws;        /* the AWS client (run_aws), or NULL until first needed */
	bool aws_failed;        /* it could not be made; said once */
	struct cwpub *cwpub;    /* the CloudWatch publisher, or NULL */
	struct ssm *ssm;        /* the Session Manager endpoint, or NULL */
	struct sdnotify *sdnotify; /* systemd notifications, or NULL */
	struct cluster *cluster; /* PORTHOLE_CLUSTER_SSH's rendezvous and files, or NULL */

	char **argv;            /* the training command; NULL when serving */
	enum phase phase;
	pid_t child;            /* 0 when not running */
	pid_t pgid;             /* the command's process group, once started */
	struct leftover *leftover; /* ending what the command left (not PID 1), or NULL */
	int wstatus;            /* valid when ended */
	bool ended;
	int exit_code;
	bool stopping;          /* SIGTERM/SIGINT seen: no hold from now on */
	uint64_t started_usec;  /* monotonic, at porthole start */
	uint64_t exit_deadline; /* monotonic: deregistering and flushing end by then */
	unsigned exit_parts;    /* parts of the exit still going on */
	int ready_fd;           /* --ready-fd: the JSON ready record goes there too, or -1 */
	struct hold_wait *before, *after;
};

#endif
