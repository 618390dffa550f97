/* SPDX-License-Identifier: Apache-2.0 */
/* fake_aws.h — aws.h's signed calls and imds.h, faked for unit tests that
 * drive a module through its real call layer's seam: every call started is
 * kept, with its operation and body, until the test answers it (as the
 * real client would, once, after its own retries).  IMDS is off. */
#ifndef PORTHOLE_FAKE_AWS_H
#define PORTHOLE_FAKE_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/aws.h"

struct fake_aws_call {
	char op[64];        /* from X-Amz-Target: "PutLogEvents", "CreateLogStream" … */
	char *body;         /* the request body */
	aws_done_fn done;
	void *ud;
	bool answered, cancelled;
};

/* Forget every call (between tests). */
void fake_aws_reset(void);
/* How many calls were started so far; call i of them. */
size_t fake_aws_count(void);
struct fake_aws_call *fake_aws_call(size_t i);
/* The call waiting for an answer (neither answered nor cancelled), or NULL. */
struct fake_aws_call *fake_aws_pending(void);

/* Answer call c: 2xx with body (may be NULL). */
void fake_aws_ok(struct fake_aws_call *c, const char *body);
/* Answer call c with an AWS error as the client reports it after its
 * retries: code ("ThrottlingException"), HTTP status, the retry class and
 * how many attempts were made. */
void fake_aws_error(struct fake_aws_call *c, const char *code, long status, enum retry_class retry,
		    unsigned attempts);

#endif
