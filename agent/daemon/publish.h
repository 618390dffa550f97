/* SPDX-License-Identifier: Apache-2.0 */
/* publish.h — porthole's side of the CloudWatch publisher: whether events
 * are published, with which settings, and the identity record re-sent
 * when the state changes. */
#ifndef PORTHOLE_PUBLISH_H
#define PORTHOLE_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "porthole.h"

void publish_start(struct porthole *p);
/* Send what is spooled, within usec; false if nothing to wait for, else
 * done(p) runs from the loop when finished. */
bool publish_flush(struct porthole *p, uint64_t usec, void (*done)(void *ud));
void publish_stop(struct porthole *p);

#endif
