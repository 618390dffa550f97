/* SPDX-License-Identifier: Apache-2.0 */
/* retry.c — see retry.h.  The code lists are the SDKs' (botocore
 * retries/standard.py, the Rust SDK's retry classifiers). */
#include "retry.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char *const throttling_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
	"PriorRequestNotComplete", "EC2ThrottledException", NULL,
};

static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
	"ServiceUnavailableException", NULL,
};

static const char *const expired_codes[] = {
	"ExpiredToken", "ExpiredTokenException", "RequestExpired", NULL,
};

static bool listed(const char *const *list, const char *code)
{
	for (; *list; list++)
		if (strcmp(*list, code) == 0)
			return true;
	return false;
}

enum retry_class retry_classify(bool transport_failed, long status, const char *code)
{
	if (transport_failed || status == 0)
		return RETRY_TRANSIENT;
	if (code && *code) {
		if (listed(expired_codes, code))
			return RETRY_CREDS;
		if (listed(throttling_codes, code))
			return RETRY_THROTTLE;
		if (listed(transient_codes, code))
			return RETRY_TRANSIENT;
	}
	if (status == 429)
		return RETRY_THROTTLE;
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return RETRY_TRANSIENT;
	return RETRY_NEVER;
}

uint64_t retry_backoff_usec(unsigned retry, uint64_t base_usec, uint64_t cap_usec, uint32_t rnd)
{
	uint64_t ceiling = base_usec;

	if (retry == 0)
		return 0;
	for (unsigned i = 1; i < retry && ceiling < cap_usec; i++)
		ceiling *= 2;
	if (ceiling > cap_usec)
		ceiling = cap_usec;
	/* 128-bit product: ceiling can be large and rnd is 32 bits. */
	return (uint64_t)(((unsigned __int128)ceiling * rnd) >> 32);
}

void retry_error_code(const char *raw, char *out, size_t len)
{
	const char *start = raw ? raw : "", *hash = strchr(start, '#'), *end;
	size_t n;

	if (hash)
		start = hash + 1;
	end = strchr(start, ':');
	n = end ? (size_t)(end - start) : strlen(start);
	while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(out, start, n);
	out[n] = '\0';
}

uint32_t retry_random(void)
{
	uint32_t v;
	struct timespec ts;

	/* Jitter only spreads retries apart; when the entropy pool is not
	 * ready yet (early boot) the clock's nanoseconds do that well enough. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec * 2654435761u;
}
