/* SPDX-License-Identifier: Apache-2.0 */
/* session_hooks.h — how an endpoint (SSH, SSM, `porthole attach`) tells
 * whoever counts sessions that one began or ended.  The daemon points them
 * at the hold, so no endpoint knows what a hold is.  Header only. */
#ifndef PORTHOLE_SESSION_HOOKS_H
#define PORTHOLE_SESSION_HOOKS_H

struct session_hooks {
	void (*opened)(void *ud); /* a session began (a user logged in) */
	void (*closed)(void *ud); /* that session ended */
	void *ud;
};

#endif
