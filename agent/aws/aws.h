/* SPDX-License-Identifier: Apache-2.0 */
/* aws.h — the AWS client: one HTTP client, the credential chain and IMDS,
 * and signed calls with the SDKs' standard retries.
 *
 * A call is signed by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:SERVICE");
 * every header given is signed, and X-Amz-Security-Token is added for
 * temporary credentials.  Throttling, 5xx and transport errors are retried
 * with full-jitter backoff up to max_attempts; expired credentials are
 * fetched again once; anything else ends the call at once. */
#ifndef PORTHOLE_AWS_H
#define PORTHOLE_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "awscreds.h"
#include "http.h"
#include "imds.h"
#include "retry.h"
#include "trust.h"

struct aws;
struct aws_call;

struct aws_call_spec {
	const char *service;          /* signing name: "logs", "s3" */
	const char *region;
	const char *method;
	const char *url;
	const char *const *headers;   /* "Name: value" lines, NULL-terminated */
	const char *body;
	size_t body_len;
	unsigned max_attempts;        /* 0: RETRY_MAX_ATTEMPTS */
	long timeout_ms;              /* per attempt; 0: 30 s */
	size_t max_body;              /* response bytes kept; 0: 4 MiB */
	bool throttle_ends;           /* throttling ends the call at once, for a caller that paces
				       * its own calls and would rather retry at its pace than
				       * after the SDKs' backoff (1 s on average at first) */
};

enum aws_outcome {
	AWS_OK,          /* 2xx */
	AWS_ERROR,       /* the service answered with an error */
	AWS_TRANSPORT,   /* no answer: connection, TLS, timeout */
	AWS_NO_CREDS,    /* no credentials could be found */
};

struct aws_result {
	enum aws_outcome outcome;
	long status;
	const char *code;             /* AWS error code, "" if none */
	const char *message;          /* the service's message, the transport error or why no credentials */
	const char *body;
	size_t body_len;
	enum retry_class retry;       /* of the last failure */
	unsigned attempts;
};

typedef void (*aws_done_fn)(void *ud, const struct aws_result *r);

/* Loads libcurl on first use (curl_lib.h); on failure, -errno with why in err. */
int aws_new(sd_event *loop, struct aws **out, char *err, size_t errlen);
void aws_free(struct aws *a);
/* Where TLS trust comes from (trust.h), to say once at start. */
const struct trust *aws_trust(const struct aws *a);
struct http *aws_http(struct aws *a);
struct imds *aws_imds(struct aws *a);
struct awscreds *aws_creds(struct aws *a);

/* done runs once, from the loop.  NULL if out of memory. */
struct aws_call *aws_call_start(struct aws *a, const struct aws_call_spec *spec, aws_done_fn done, void *ud);
void aws_call_cancel(struct aws_call *c);

#endif
