/* SPDX-License-Identifier: Apache-2.0 */
/* retry.h — when and how long to retry an AWS call: the AWS SDKs' "standard"
 * retry mode.  Pure functions, so the schedule can be tested on its own. */
#ifndef PORTHOLE_RETRY_H
#define PORTHOLE_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum retry_class {
	RETRY_NEVER,     /* validation, access, not found ...: the same call fails again */
	RETRY_THROTTLE,  /* throttling codes and 429 */
	RETRY_TRANSIENT, /* transport errors, 5xx, request timeouts */
	RETRY_CREDS,     /* expired credentials: refresh them, then retry */
};

/* status 0 means no HTTP response (transport_failed); code may be "" */
enum retry_class retry_classify(bool transport_failed, long status, const char *code);

/* Full-jitter exponential backoff: the wait before retry number `retry`
 * (1 = first retry) is rnd01 * min(cap, base * 2^(retry-1)), with rnd01 a
 * uniform number in [0,1) given as rnd / 2^32. */
uint64_t retry_backoff_usec(unsigned retry, uint64_t base_usec, uint64_t cap_usec, uint32_t rnd);

/* A random number for the jitter (getrandom(2): no arc4random before glibc 2.36). */
uint32_t retry_random(void);

/* The SDK defaults: 3 attempts, base 1 s, cap 20 s. */
#define RETRY_MAX_ATTEMPTS 3
#define RETRY_BASE_USEC UINT64_C(1000000)
#define RETRY_CAP_USEC UINT64_C(20000000)

/* AWS error code as the SDKs read it from "__type" or X-Amzn-ErrorType:
 * everything before '#' and after ':' stripped.  Writes "" if none. */
void retry_error_code(const char *raw, char *out, size_t len);

#endif
