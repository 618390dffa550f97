/* SPDX-License-Identifier: Apache-2.0 */
/* duration.h — human durations: "90s", "30m", "1h30m", "2d", or plain seconds. */
#ifndef PORTHOLE_DURATION_H
#define PORTHOLE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define DURATION_MAX_SEC (UINT64_C(100) * 365 * 24 * 3600)

/* 0 on success; -EINVAL for anything that is not a duration (empty, negative,
 * unknown unit, repeated or out-of-order units); -ERANGE above 100 years. */
int duration_parse(const char *s, uint64_t *sec);

/* "1h30m", "45s", "0s".  Returns buf. */
char *duration_format(uint64_t sec, char *buf, size_t len);

#endif
