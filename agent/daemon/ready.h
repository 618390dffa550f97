/* SPDX-License-Identifier: Apache-2.0 */
/* ready.h — the ready record (docs/ready-record.md): the first thing in
 * the training log, and the identity record sent to CloudWatch. */
#ifndef PORTHOLE_READY_H
#define PORTHOLE_READY_H

#include <cjson/cJSON.h>

#include "porthole.h"

#define READY_SCHEMA 1

/* On stderr, and on --ready-fd's fd, which is closed after (unless 1 or 2). */
void ready_announce(struct porthole *p);
/* The ready record as JSON (also the CloudWatch identity record). */
cJSON *ready_json(const struct porthole *p);

#endif
