/* SPDX-License-Identifier: Apache-2.0 */
/* phase.h — where a running porthole is in its life: the one word status,
 * the ready record and systemd's STATUS= all use. */
#ifndef PORTHOLE_PHASE_H
#define PORTHOLE_PHASE_H

enum phase {
	PHASE_BEFORE,   /* holding before the command starts */
	PHASE_TRAINING, /* the command runs */
	PHASE_AFTER,    /* the command ended; holding */
	PHASE_SERVING,  /* `porthole serve`: no command of our own */
	PHASE_EXITING,
};

/* "waiting-before-start", "training", "holding", "serving", "exiting". */
const char *phase_name(enum phase p);

#endif
