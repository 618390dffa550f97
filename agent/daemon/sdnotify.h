/* SPDX-License-Identifier: Apache-2.0 */
/* sdnotify.h — telling systemd how porthole is doing, when it runs as a
 * Type=notify unit: READY=1 once listening, STATUS= (state, sessions,
 * deadline) whenever that changes, WATCHDOG=1 from the loop when
 * WATCHDOG_USEC asks for it, STOPPING=1 on the way out.
 *
 * Without NOTIFY_SOCKET nothing at all happens: sdnotify_new gives NULL
 * and the other calls take NULL. */
#ifndef PORTHOLE_SDNOTIFY_H
#define PORTHOLE_SDNOTIFY_H

struct porthole;
struct sdnotify;

/* p must outlive the notifier.  0 (*ret NULL without NOTIFY_SOCKET), or
 * -ENOMEM. */
int sdnotify_new(struct porthole *p, struct sdnotify **ret);
/* Where the ready record is printed: the endpoints are up. */
void sdnotify_ready(struct sdnotify *n);
/* Says STOPPING=1 if not said yet. */
void sdnotify_free(struct sdnotify *n);

#endif
