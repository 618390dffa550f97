/* SPDX-License-Identifier: Apache-2.0 */
/* addrwatch.h — be told when this host's addresses change.
 *
 * A netlink route socket subscribed to address changes, as an sd-event I/O
 * source: nothing runs until the kernel reports a change. */
#ifndef PORTHOLE_ADDRWATCH_H
#define PORTHOLE_ADDRWATCH_H

#include <systemd/sd-event.h>

struct addrwatch;

/* changed(ud) is called once per batch of address messages. */
int addrwatch_new(sd_event *loop, void (*changed)(void *ud), void *ud, struct addrwatch **out);
void addrwatch_free(struct addrwatch *w);

#endif
