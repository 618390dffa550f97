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

struct porthole;
struct ssm;

/* NULL when there is nothing to do (off, or auto with nothing to do).
 * Uses p->aws, creating it if the publisher did not. */
struct ssm *ssm_start(struct porthole *p);
/* Stop the agent and deregister the instance, for at most usec.  false if
 * there is nothing to wait for; else done runs from the loop. */
bool ssm_stop(struct ssm *s, uint64_t usec, void (*done)(void *ud), void *ud);
void ssm_free(struct ssm *s);

/* Adds "ssm": {mode, state, target, command, error} (null when off). */
void ssm_to_json(const struct ssm *s, cJSON *obj);

#endif
