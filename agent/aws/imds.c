/* SPDX-License-Identifier: Apache-2.0 */
/* imds.c — see imds.h.  Short timeouts: off EC2 (or with the hop limit too
 * low for a container) nothing answers, and the SDKs give up after 1 s too. */
#include "imds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/clock.h"

#define TOKEN_TTL_SEC 21600
#define IMDS_TIMEOUT_MS 2000L
#define IMDS_CONNECT_MS 1000L

struct imds {
	struct http *http;
	char *token;
	uint64_t token_expiry; /* monotonic */
	struct imds_req *reqs;
};

struct imds_req {
	struct imds *m;
	char *path;
	struct http_call *call;
	bool getting_token, retried;
	imds_done_fn done;
	void *ud;
	struct imds_req *next;
};

bool imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");
	return v && strcasecmp(v, "true") == 0;
}

static const char *base_url(void)
{
	const char *v = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"), *mode;

	if (v && *v)
		return v;
	mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	return mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
}

int imds_new(struct http *http, struct imds **out)
{
	struct imds *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->http = http;
	*out = m;
	return 0;
}

static void req_free(struct imds_req *r)
{
	for (struct imds_req **pp = &r->m->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	http_cancel(r->call);
	free(r->path);
	free(r);
}

void imds_cancel(struct imds_req *r)
{
	if (r)
		req_free(r);
}

void imds_free(struct imds *m)
{
	if (!m)
		return;
	while (m->reqs)
		req_free(m->reqs);
	free(m->token);
	free(m);
}

static void finish(struct imds_req *r, const char *body, const char *why)
{
	imds_done_fn done = r->done;
	void *ud = r->ud;

	r->call = NULL;
	req_free(r);
	done(ud, body, why);
}

static void on_response(void *ud, const struct http_response *resp);

/* false if the call could not be started */
static bool send_request(struct imds_req *r)
{
	struct imds *m = r->m;
	char url[1024], hdr[1200];
	struct http_request hr = { .connect_timeout_ms = IMDS_CONNECT_MS, .timeout_ms = IMDS_TIMEOUT_MS,
				   .max_body = 64 * 1024 };
	struct curl_slist *h = NULL, *nh;

	if (!m->token || clock_mono_usec() + 60 * USEC_PER_SEC >= m->token_expiry) {
		r->getting_token = true;
		snprintf(url, sizeof(url), "%s/latest/api/token", base_url());
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token-ttl-seconds: %d", TOKEN_TTL_SEC);
		hr.method = "PUT";
	} else {
		r->getting_token = false;
		snprintf(url, sizeof(url), "%s%s", base_url(), r->path);
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", m->token);
		hr.method = "GET";
	}
	nh = curl_slist_append(h, hdr);
	hr.url = url;
	hr.headers = nh;
	r->call = nh ? http_start(m->http, &hr, on_response, r) : NULL;
	return r->call != NULL;
}

static void on_response(void *ud, const struct http_response *resp)
{
	struct imds_req *r = ud;
	struct imds *m = r->m;
	char why[512];

	r->call = NULL;
	if (resp->curl_code != CURLE_OK) {
		snprintf(why, sizeof(why), "instance metadata service %s: %s", base_url(), resp->error);
		finish(r, NULL, why);
		return;
	}
	if (r->getting_token) {
		if (resp->status != 200 || !resp->body_len) {
			snprintf(why, sizeof(why), "instance metadata service %s: token request answered HTTP %ld",
				 base_url(), resp->status);
			finish(r, NULL, why);
			return;
		}
		free(m->token);
		m->token = strndup(resp->body, strcspn(resp->body, "\r\n"));
		m->token_expiry = clock_mono_usec() + TOKEN_TTL_SEC * USEC_PER_SEC;
		if (!send_request(r))
			finish(r, NULL, "out of memory");
		return;
	}
	if (resp->status == 401 && !r->retried) {
		/* The token expired or IMDS restarted: one fresh token. */
		r->retried = true;
		free(m->token);
		m->token = NULL;
		if (!send_request(r))
			finish(r, NULL, "out of memory");
		return;
	}
	if (resp->status != 200) {
		snprintf(why, sizeof(why), "instance metadata service %s%s: HTTP %ld", base_url(), r->path,
			 resp->status);
		finish(r, NULL, why);
		return;
	}
	finish(r, resp->body, NULL);
}

struct imds_req *imds_get(struct imds *m, const char *path, imds_done_fn done, void *ud)
{
	struct imds_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->m = m;
	r->path = strdup(path);
	r->done = done;
	r->ud = ud;
	if (!r->path) {
		free(r);
		return NULL;
	}
	r->next = m->reqs;
	m->reqs = r;
	if (!send_request(r)) {
		req_free(r);
		return NULL;
	}
	return r;
}
