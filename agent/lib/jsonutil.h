/* SPDX-License-Identifier: Apache-2.0 */
/* jsonutil.h — reading members of cJSON objects, the way every parser here
 * wants them: case-sensitive keys, wrong types treated as absent. */
#ifndef PORTHOLE_JSONUTIL_H
#define PORTHOLE_JSONUTIL_H

#include <cjson/cJSON.h>

/* obj's member key when it is a string, else NULL. */
const char *jsonutil_str(const cJSON *obj, const char *key);
/* The same, but NULL for "" too. */
const char *jsonutil_str_nonempty(const cJSON *obj, const char *key);

#endif
