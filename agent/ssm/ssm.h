/* SPDX-License-Identifier: Apache-2.0 */
/* ssm.h — the Session Manager endpoint (PORTHOLE_SSM).
 *
 * register: amazon-ssm-agent from the image is registered as a hybrid
 * managed instance (with the activation given, or one made with
 * CreateActivation), tagged, supervised (restarted with backoff), and
 * deregistered when porthole exits.  auto: if SageMaker remote debug runs
 * its own agent in the container, porthole only names its target;
 * otherwise as register when an activation or role is configured.  The
 * agent's warnings and errors become porthole events ("ssm_agent"), its
 * sessions count for the hold.  Nothing here ever stops the training. */
#ifndef PORTHOLE_SSM_H
#define PORTHOLE_SSM_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "ssm_settings.h"

#include "../aws/aws.h"
#include "../init/reaper.h"
#include "../lib/session_hooks.h"

struct ssm;

struct ssm_params {
	sd_event *loop;
	struct reaper *reaper;
	const struct ssm_settings *cfg; /* must outlive the endpoint */
	const char *job, *host;         /* copied */
	/* The daemon's AWS client, made on first use; NULL (said by the
	 * daemon) when it cannot be.  Asked only when a call is due. */
	struct aws *(*aws)(void *ud);
	void *aws_ud;
	struct session_hooks hooks;     /* Session Manager sessions, for the hold */
};

/* 0 with *ret NULL when there is nothing to do (off); 0 with an endpoint
 * (whose failures are its state, never porthole's); -ENOMEM. */
int ssm_new(const struct ssm_params *prm, struct ssm **ret);
/* Stop the agent and deregister the instance, for at most usec.  false if
 * there is nothing to wait for; else done runs from the loop. */
bool ssm_stop(struct ssm *s, uint64_t usec, void (*done)(void *ud), void *ud);
void ssm_free(struct ssm *s);

/* Adds "ssm": {mode, state, target, command, error} (null when off). */
void ssm_to_json(const struct ssm *s, cJSON *obj);

#endif
