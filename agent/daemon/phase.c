/* SPDX-License-Identifier: Apache-2.0 */
/* phase.c — see phase.h. */
#include "phase.h"

const char *phase_name(enum phase ph)
{
	static const char *const names[] = { "waiting-before-start", "training", "holding", "serving", "exiting" };
	return names[ph];
}
