/* SPDX-License-Identifier: Apache-2.0 */
/* fake_aws.c — see fake_aws.h. */
#include "fake_aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_AWS_MAX 256

static struct {
	struct fake_aws_call v[FAKE_AWS_MAX];
	size_t n;
} the_fake;

void fake_aws_reset(void)
{
	for (size_t i = 0; i < the_fake.n; i++)
		free(the_fake.v[i].body);
	memset(&the_fake, 0, sizeof(the_fake));
}

size_t fake_aws_count(void)
{
	return the_fake.n;
}

struct fake_aws_call *fake_aws_call(size_t i)
{
	return i < the_fake.n ? &the_fake.v[i] : NULL;
}

struct fake_aws_call *fake_aws_pending(void)
{
	for (size_t i = 0; i < the_fake.n; i++)
		if (!the_fake.v[i].answered && !the_fake.v[i].cancelled)
			return &the_fake.v[i];
	return NULL;
}

static void answer(struct fake_aws_call *c, const struct aws_result *r)
{
	if (!c || c->answered || c->cancelled)
		abort(); /* a test answering what is not waiting is wrong */
	c->answered = true;
	c->done(c->ud, r);
}

void fake_aws_ok(struct fake_aws_call *c, const char *body)
{
	struct aws_result r = { .outcome = AWS_OK, .status = 200, .code = "", .message = "", .body = body ? body : "",
				.body_len = body ? strlen(body) : 0, .attempts = 1 };

	answer(c, &r);
}

void fake_aws_error(struct fake_aws_call *c, const char *code, long status, enum retry_class retry,
		    unsigned attempts)
{
	struct aws_result r = { .outcome = AWS_ERROR, .status = status, .code = code, .message = "said the fake",
				.body = "", .retry = retry, .attempts = attempts };

	answer(c, &r);
}

/* ---- aws.h ---------------------------------------------------------------- */

struct aws_call *aws_call_start(struct aws *a, const struct aws_call_spec *spec, aws_done_fn done, void *ud)
{
	struct fake_aws_call *c;
	(void)a;

	if (the_fake.n == FAKE_AWS_MAX)
		return NULL;
	c = &the_fake.v[the_fake.n++];
	*c = (struct fake_aws_call){ .done = done, .ud = ud };
	for (const char *const *h = spec->headers; h && *h; h++) {
		const char *dot = strncmp(*h, "X-Amz-Target:", 13) == 0 ? strrchr(*h, '.') : NULL;
		if (dot)
			snprintf(c->op, sizeof(c->op), "%s", dot + 1);
	}
	c->body = strndup(spec->body ? spec->body : "", spec->body_len);
	return (struct aws_call *)c;
}

void aws_call_cancel(struct aws_call *call)
{
	struct fake_aws_call *c = (struct fake_aws_call *)call;

	if (c)
		c->cancelled = true;
}

struct imds *aws_imds(struct aws *a)
{
	(void)a;
	return NULL;
}

/* ---- imds.h ----------------------------------------------------------------- */

bool imds_disabled(void)
{
	return true;
}

struct imds_req *imds_get(struct imds *m, const char *path, imds_done_fn done, void *ud)
{
	(void)m;
	(void)path;
	(void)done;
	(void)ud;
	return NULL;
}

void imds_cancel(struct imds_req *r)
{
	(void)r;
}
