/* SPDX-License-Identifier: Apache-2.0 */
/* porthole.h — the context of a running porthole (`run` or `serve`): the one
 * place its mutable state lives.  Modules get the parts they need. */
#ifndef PORTHOLE_PORTHOLE_H
#define PORTHOLE_PORTHOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "../platform/addrwatch.h"
#include "../cluster/cluster.h"
#include "config.h"
#include "control.h"
#include "hold.h"
#include "../platform/identity.h"
#include "../lib/version.h"
#include "../init/reaper.h"
#include "../aws/s3keys.h"
#include "../ssh/sshd.h"

#define READY_SCHEMA 1

enum phase {
	PHASE_BEFORE,   /* holding before the command starts */
	PHASE_TRAINING, /* the command runs */
	PHASE_AFTER,    /* the command ended; holding */
	PHASE_SERVING,  /* `porthole serve`: no command of our own */
	PHASE_EXITING,
};

struct porthole {
	sd_event *loop;
	struct config cfg;
	struct identity id;
	struct reaper *reaper;
	struct hold *hold;
	struct control *control;
	struct sshd *sshd;       /* the SSH endpoint, or NULL */
	struct addrwatch *addrwatch; /* NULL if address changes cannot be watched */
	struct s3keys *s3keys;   /* fetching PORTHOLE_AUTHORIZED_KEYS_S3, or NULL */
	struct aws *aws;        /* the AWS client (CloudWatch, S3) */
	struct cwpub *cwpub;    /* the CloudWatch publisher, or NULL */
	struct ssm *ssm;        /* the Session Manager endpoint, or NULL */
	struct sdnotify *sdnotify; /* systemd notifications, or NULL */
	struct cluster *cluster; /* PORTHOLE_CLUSTER_SSH's rendezvous and files, or NULL */

	char **argv;            /* the training command; NULL when serving */
	enum phase phase;
	pid_t child;            /* 0 when not running */
	int wstatus;            /* valid when ended */
	bool ended;
	int exit_code;
	bool stopping;          /* SIGTERM/SIGINT seen: no hold from now on */
	uint64_t started_usec;  /* monotonic, at porthole start */
	uint64_t exit_deadline; /* monotonic: deregistering and flushing end by then */
	struct hold_wait *before, *after;
};

const char *phase_name(enum phase p);

/* run.c */
/* Takes over cfg's contents.  argv NULL: serve without a command. */
int run_main(struct config *cfg, char **argv);
void run_exit(struct porthole *p, int code);

/* requests.c: the control socket's commands. */
void requests_handler(struct porthole *p, struct control_handler *out);
cJSON *requests_status_json(const struct porthole *p);

/* ready.c */
void ready_announce(const struct porthole *p);
/* The ready record as JSON (also the CloudWatch identity record). */
cJSON *ready_json(const struct porthole *p);

/* publish.c: the AWS client and the CloudWatch publisher. */
void publish_start(struct porthole *p);
/* Send what is spooled, within usec; false if nothing to wait for, else
 * done(p) runs from the loop when finished. */
bool publish_flush(struct porthole *p, uint64_t usec, void (*done)(void *ud));
void publish_stop(struct porthole *p);

#endif
