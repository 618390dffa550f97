/* SPDX-License-Identifier: Apache-2.0 */
/* s3get.c — see s3get.h. */
#include "s3get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsregion.h"

/* SHA-256 of the empty body: S3 wants the payload hash in
 * x-amz-content-sha256, and a GET has no payload. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3get {
	struct aws *aws;
	struct aws_call *call;
	char *url, *bucket, *key, *region;
	size_t max;
	bool region_retried;
	s3_done_fn done;
	void *ud;
};

int s3get_parse_url(const char *url, char **bucket, char **key)
{
	const char *b, *slash;

	*bucket = *key = NULL;
	if (!url || strncmp(url, "s3://", 5) != 0)
		return -EINVAL;
	b = url + 5;
	slash = strchr(b, '/');
	if (!slash || slash == b || !slash[1] || (size_t)(slash - b) > 63)
		return -EINVAL;
	for (const char *p = b; p < slash; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return -EINVAL;
	*bucket = strndup(b, (size_t)(slash - b));
	*key = strdup(slash + 1);
	if (!*bucket || !*key) {
		free(*bucket);
		free(*key);
		*bucket = *key = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The key percent-encoded for the path, '/' kept. */
static char *encode_key(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(key) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
		if ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
		    strchr("-_.~/", *k)) {
			*o++ = (char)*k;
		} else {
			*o++ = '%';
			*o++ = hex[*k >> 4];
			*o++ = hex[*k & 15];
		}
	}
	*o = '\0';
	return out;
}

static char *object_url(const struct s3get *g)
{
	int custom;
	char *ep = awsregion_endpoint_url("S3", "s3", g->region, &custom), *key = encode_key(g->key), *url = NULL;

	if (ep && key) {
		if (custom || strchr(g->bucket, '.')) {
			if (asprintf(&url, "%s/%s/%s", ep, g->bucket, key) < 0)
				url = NULL;
		} else if (asprintf(&url, "https://%s.s3.%s.amazonaws.com%s/%s", g->bucket, g->region,
				    strncmp(g->region, "cn-", 3) == 0 ? ".cn" : "", key) < 0) {
			url = NULL;
		}
	}
	free(ep);
	free(key);
	return url;
}

static void on_done(void *ud, const struct aws_result *r);

static bool send_get(struct s3get *g)
{
	static const char *const headers[] = { "x-amz-content-sha256: " EMPTY_SHA256, NULL };
	char *url = object_url(g);
	struct aws_call_spec spec = { .service = "s3", .region = g->region, .method = "GET", .url = url,
				      .headers = headers, .timeout_ms = 30000, .max_body = g->max + 1 };

	g->call = url ? aws_call_start(g->aws, &spec, on_done, g) : NULL;
	free(url);
	return g->call != NULL;
}

static void finish(struct s3get *g, const char *body, size_t len, const char *why)
{
	s3_done_fn done = g->done;
	void *ud = g->ud;

	g->call = NULL;
	s3get_cancel(g);
	done(ud, body, len, why);
}

static void on_done(void *ud, const struct aws_result *r)
{
	struct s3get *g = ud;
	char why[1024];

	g->call = NULL;
	if (r->outcome == AWS_OK) {
		if (r->body_len > g->max) {
			snprintf(why, sizeof(why), "%s: the object is larger than %zu bytes", g->url, g->max);
			finish(g, NULL, 0, why);
			return;
		}
		finish(g, r->body, r->body_len, NULL);
		return;
	}
	if (r->outcome == AWS_ERROR && !g->region_retried &&
	    (strcmp(r->code, "AuthorizationHeaderMalformed") == 0 || strcmp(r->code, "PermanentRedirect") == 0)) {
		/* S3 names the bucket's region in the error: ask there once. */
		const char *s = strstr(r->body, "<Region>"), *e = s ? strstr(s, "</Region>") : NULL;
		if (!s)
			s = strstr(r->body, "<ExpectedRegion>"), e = s ? strstr(s, "</ExpectedRegion>") : NULL;
		if (s && e) {
			s = strchr(s, '>') + 1;
			char *region = strndup(s, (size_t)(e - s));
			if (region && awsregion_valid(region)) {
				free(g->region);
				g->region = region;
				g->region_retried = true;
				if (send_get(g))
					return;
			} else {
				free(region);
			}
		}
	}
	if (r->outcome == AWS_ERROR)
		snprintf(why, sizeof(why), "%s: %s%s%s (HTTP %ld)", g->url, r->code, *r->code ? ": " : "", r->message,
			 r->status);
	else if (r->outcome == AWS_NO_CREDS)
		snprintf(why, sizeof(why), "%s: no AWS credentials (%s)", g->url, r->message);
	else
		snprintf(why, sizeof(why), "%s: %s", g->url, r->message);
	finish(g, NULL, 0, why);
}

struct s3get *s3get_start(struct aws *aws, const char *url, size_t max_bytes, s3_done_fn done, void *ud,
			    char *why, size_t whylen)
{
	struct s3get *g = calloc(1, sizeof(*g));
	const char *source;

	if (!g) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	g->aws = aws;
	g->max = max_bytes;
	g->done = done;
	g->ud = ud;
	g->url = strdup(url);
	if (!g->url || s3get_parse_url(url, &g->bucket, &g->key) < 0) {
		snprintf(why, whylen, "\"%s\" is not an s3://bucket/key URL", url);
		s3get_cancel(g);
		return NULL;
	}
	g->region = awsregion_local(&source);
	if (!g->region)
		g->region = strdup("us-east-1");
	if (!g->region || !send_get(g)) {
		snprintf(why, whylen, "out of memory");
		s3get_cancel(g);
		return NULL;
	}
	return g;
}

void s3get_cancel(struct s3get *g)
{
	if (!g)
		return;
	aws_call_cancel(g->call);
	free(g->url);
	free(g->bucket);
	free(g->key);
	free(g->region);
	free(g);
}
