/* SPDX-License-Identifier: Apache-2.0 */
/* jsonutil.h — reading members of cJSON objects, the way every parser here
 * wants them: case-sensitive keys, wrong types treated as absent. */
#ifndef PORTHOLE_JSONUTIL_H
#define PORTHOLE_JSONUTIL_H

#include <stdint.h>
#include <cjson/cJSON.h>

/* obj's member key when it is a string, else NULL. */
const char *jsonutil_str(const cJSON *obj, const char *key);
/* The same, but NULL for "" too. */
const char *jsonutil_str_nonempty(const cJSON *obj, const char *key);
/* v as a whole number clamped to [lo, hi], or dflt when it is not a number
 * (NaN included): a double outside int64_t's range is never cast, which
 * would be undefined behaviour (found by tests/fuzz/records). */
int64_t jsonutil_int(const cJSON *v, int64_t lo, int64_t hi, int64_t dflt);

#endif
