/* SPDX-License-Identifier: Apache-2.0 */
/* requests.h — what each control socket command (control.h carries
 * them) does to the running porthole. */
#ifndef PORTHOLE_REQUESTS_H
#define PORTHOLE_REQUESTS_H

#include <cjson/cJSON.h>

#include "control.h"
#include "porthole.h"

void requests_handler(struct porthole *p, struct control_handler *out);
/* `porthole status --json`: phase, deadline, sessions, endpoints. */
cJSON *requests_status_json(const struct porthole *p);

#endif
