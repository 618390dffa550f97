/* SPDX-License-Identifier: Apache-2.0 */
/* awscreds.h — AWS credentials, found the way the AWS SDKs find them:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (at
 *      169.254.170.2), else AWS_CONTAINER_CREDENTIALS_FULL_URI (plain http
 *      only to loopback and the ECS/EKS addresses), with the Authorization
 *      token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN;
 *   3. static keys of the profile in the shared credentials/config files;
 *   4. IMDSv2 role credentials.
 * The first source that is configured is used.  Credentials are cached and
 * fetched again ahead of their expiration, or when the service says they
 * expired.  Secrets never appear in any message. */
#ifndef PORTHOLE_AWSCREDS_H
#define PORTHOLE_AWSCREDS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "imds.h"

struct aws_creds {
	char *access_key;
	char *secret_key;
	char *token;          /* NULL for long-term keys */
	uint64_t expires;     /* wall clock, usec; 0: does not expire */
	const char *source;   /* "environment", "container", "profile NAME", "imds" */
};

void awscreds_clear(struct aws_creds *c);

/* A credentials document as the container endpoint and IMDS serve it.
 * 0; -EINVAL if malformed or incomplete, -ESTALE if already expired at now
 * (wall clock usec); why says what is wrong (never a secret). */
int awscreds_parse_json(const char *text, uint64_t now, struct aws_creds *out, char *why, size_t whylen);
/* "2016-02-25T06:03:31Z" (fractions and +00:00 accepted) -> usec. */
int awscreds_time_parse(const char *s, uint64_t *usec);
/* Whether FULL_URI may be used (https anywhere; http only to the allowed hosts). */
int awscreds_container_uri_allowed(const char *uri, char *why, size_t whylen);

struct awscreds;
typedef void (*awscreds_done_fn)(void *ud, const struct aws_creds *creds, const char *why);

/* Someone waiting for credentials; embed it, keep it alive while waiting. */
struct awscreds_wait {
	awscreds_done_fn done;
	void *ud;
	struct awscreds_wait *next, **pprev;
};

int awscreds_new(sd_event *loop, struct http *http, struct imds *imds, struct awscreds **out);
void awscreds_free(struct awscreds *c);

/* Cached credentials good for a while yet, or NULL: then ask awscreds_get. */
const struct aws_creds *awscreds_peek(struct awscreds *c);
/* Fetch credentials; w->done runs from the loop with them, or with NULL and
 * the reason none could be found. */
void awscreds_get(struct awscreds *c, struct awscreds_wait *w, awscreds_done_fn done, void *ud);
void awscreds_wait_cancel(struct awscreds_wait *w);
/* The service said these expired: fetch new ones next time. */
void awscreds_invalidate(struct awscreds *c);

#endif
