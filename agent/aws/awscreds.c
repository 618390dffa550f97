/* SPDX-License-Identifier: Apache-2.0 */
/* awscreds.c — see awscreds.h. */
#include "awscreds.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <strings.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "awsprofile.h"

#include "../lib/clock.h"

#define ECS_HOST "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000L
#define CONTAINER_CONNECT_MS 1000L
/* Fetch again this long before expiry (or at half the lifetime if that is
 * shorter), like the SDKs' advisory refresh. */
#define REFRESH_AHEAD_USEC (10 * 60 * USEC_PER_SEC)
/* Past this close to expiry, old credentials are not used any more. */
#define MANDATORY_USEC (30 * USEC_PER_SEC)

struct awscreds {
	sd_event *loop;
	struct http *http;
	struct imds *imds;
	struct aws_creds cur;
	uint64_t fetched;       /* wall clock of the fetch */
	bool have, stale;
	sd_event_source *start; /* runs the chain from the loop */
	bool fetching;
	struct http_call *call;
	struct imds_req *ireq;
	char profile_source[160];
	struct awscreds_wait *waiters;
};

void awscreds_clear(struct aws_creds *c)
{
	/* Secrets are wiped, not only freed. */
	if (c->secret_key)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->access_key);
	free(c->secret_key);
	free(c->token);
	memset(c, 0, sizeof(*c));
}

int awscreds_time_parse(const char *s, uint64_t *usec)
{
	struct tm tm = { 0 };
	int n = 0;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			 &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -EINVAL;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0 && strcmp(s, "UTC") != 0)
		return -EINVAL;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*usec = (uint64_t)t * USEC_PER_SEC;
	return 0;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int awscreds_parse_json(const char *text, uint64_t now, struct aws_creds *out, char *why, size_t whylen)
{
	cJSON *root = cJSON_Parse(text);
	const char *ak, *sk, *tok, *exp, *code;
	uint64_t expires = 0;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root)) {
		snprintf(why, whylen, "the credentials document is not a JSON object");
		goto out;
	}
	code = jstr(root, "Code");
	if (code && strcmp(code, "Success") != 0) {
		const char *msg = jstr(root, "Message");
		snprintf(why, whylen, "the credentials document says %s%s%s", code, msg ? ": " : "", msg ? msg : "");
		goto out;
	}
	ak = jstr(root, "AccessKeyId");
	sk = jstr(root, "SecretAccessKey");
	tok = jstr(root, "Token");
	exp = jstr(root, "Expiration");
	if (!ak || !sk || !exp) {
		snprintf(why, whylen, "the credentials document lacks %s", !ak ? "AccessKeyId" : !sk ? "SecretAccessKey"
											: "Expiration");
		goto out;
	}
	if (awscreds_time_parse(exp, &expires) < 0) {
		snprintf(why, whylen, "the credentials document has an unreadable Expiration \"%.40s\"", exp);
		goto out;
	}
	if (expires <= now) {
		snprintf(why, whylen, "the credentials served for %s expired at %s", ak, exp);
		rc = -ESTALE;
		goto out;
	}
	out->access_key = strdup(ak);
	out->secret_key = strdup(sk);
	out->token = tok ? strdup(tok) : NULL;
	out->expires = expires;
	if (!out->access_key || !out->secret_key || (tok && !out->token)) {
		awscreds_clear(out);
		snprintf(why, whylen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	if (root) {
		/* The parsed tree held the secret too. */
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "SecretAccessKey");
		if (cJSON_IsString(s))
			explicit_bzero(s->valuestring, strlen(s->valuestring));
	}
	cJSON_Delete(root);
	return rc;
}

int awscreds_container_uri_allowed(const char *uri, char *why, size_t whylen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = -EINVAL;

	/* Public and usable without an AWS client (test_aws.c calls it on
	 * its own), so it cannot rely on aws_new having loaded libcurl. */
	if (curllib_load(why, whylen) < 0)
		return -ELIBACC;
	u = curl_url();
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, whylen, "AWS_CONTAINER_CREDENTIALS_FULL_URI \"%s\" is not a URL", uri);
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0) {
		rc = 0;
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0) {
		snprintf(why, whylen, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be http or https, not %s", scheme);
		goto out;
	}
	/* Plain http only where no one else can listen: loopback and the
	 * ECS/EKS link-local agents. */
	struct in_addr a4;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0 || strcasecmp(host, "[fd00:ec2::23]") == 0 ||
	    strcmp(host, "[::1]") == 0 || (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)) {
		rc = 0;
		goto out;
	}
	snprintf(why, whylen,
		 "AWS_CONTAINER_CREDENTIALS_FULL_URI uses plain http to %s; only loopback, 169.254.170.2, "
		 "169.254.170.23 and [fd00:ec2::23] are allowed without https", host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* ---- the cache ---------------------------------------------------------- */

static bool fresh(const struct awscreds *c, uint64_t margin_cap)
{
	uint64_t now = clock_real_usec(), margin;

	if (!c->have || c->stale)
		return false;
	if (!c->cur.expires)
		return true;
	margin = c->cur.expires > c->fetched ? (c->cur.expires - c->fetched) / 2 : 0;
	if (margin > margin_cap)
		margin = margin_cap;
	return now + margin < c->cur.expires;
}

const struct aws_creds *awscreds_peek(struct awscreds *c)
{
	return fresh(c, REFRESH_AHEAD_USEC) ? &c->cur : NULL;
}

void awscreds_invalidate(struct awscreds *c)
{
	c->stale = true;
}

static void finish(struct awscreds *c, struct aws_creds *got, const char *why)
{
	struct awscreds_wait *list = c->waiters;
	const struct aws_creds *give = NULL;

	c->fetching = false;
	c->call = NULL;
	c->ireq = NULL;
	if (got) {
		awscreds_clear(&c->cur);
		c->cur = *got;
		c->have = true;
		c->stale = false;
		c->fetched = clock_real_usec();
		give = &c->cur;
	} else if (fresh(c, MANDATORY_USEC)) {
		/* The refresh failed but the old set is still good for a bit. */
		give = &c->cur;
	}
	/* Detach first: a waiter may ask again from its callback. */
	c->waiters = NULL;
	for (struct awscreds_wait *w = list; w; w = list) {
		list = w->next;
		w->next = NULL;
		w->pprev = NULL;
		w->done(w->ud, give, give ? NULL : why);
	}
}

static void fail(struct awscreds *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct awscreds *c, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	finish(c, NULL, why);
}

/* ---- sources ------------------------------------------------------------ */

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static void on_container(void *ud, const struct http_response *r)
{
	struct awscreds *c = ud;
	struct aws_creds got;
	char why[512];

	c->call = NULL;
	if (r->curl_code != CURLE_OK) {
		fail(c, "container credentials endpoint: %s", r->error);
		return;
	}
	if (r->status != 200) {
		cJSON *e = cJSON_Parse(r->body);
		const char *code = jstr(e, "code"), *msg = jstr(e, "message");
		fail(c, "container credentials endpoint answered HTTP %ld%s%s%s%s", r->status, code ? ": " : "",
		     code ? code : "", msg ? ": " : "", msg ? msg : "");
		cJSON_Delete(e);
		return;
	}
	if (awscreds_parse_json(r->body, clock_real_usec(), &got, why, sizeof(why)) < 0) {
		fail(c, "container credentials endpoint: %s", why);
		return;
	}
	got.source = "container";
	finish(c, &got, NULL);
}

static void from_container(struct awscreds *c, const char *rel, const char *full)
{
	char url[2048], why[512], *token = NULL;
	struct curl_slist *h = NULL;
	const char *tfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");

	if (rel) {
		snprintf(url, sizeof(url), ECS_HOST "%s%s", rel[0] == '/' ? "" : "/", rel);
	} else {
		if (awscreds_container_uri_allowed(full, why, sizeof(why)) < 0) {
			fail(c, "%s", why);
			return;
		}
		snprintf(url, sizeof(url), "%s", full);
	}
	/* The file wins: EKS Pod Identity rotates the token in it. */
	if (tfile) {
		FILE *f = fopen(tfile, "re");
		char buf[8192];
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (!f) {
			fail(c, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", tfile, strerror(errno));
			return;
		}
		fclose(f);
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		token = strdup(buf);
		explicit_bzero(buf, sizeof(buf));
	} else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
		token = strdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	}
	if (token) {
		char *line = NULL;
		if (strpbrk(token, "\r\n") || asprintf(&line, "Authorization: %s", token) < 0) {
			free(token);
			fail(c, "the container authorization token is unusable");
			return;
		}
		h = curl_slist_append(NULL, line);
		explicit_bzero(line, strlen(line));
		explicit_bzero(token, strlen(token));
		free(line);
		free(token);
	}
	struct http_request req = { .method = "GET", .url = url, .headers = h, .timeout_ms = CONTAINER_TIMEOUT_MS,
				    .connect_timeout_ms = CONTAINER_CONNECT_MS, .max_body = 64 * 1024 };
	c->call = http_start(c->http, &req, on_container, c);
	if (!c->call)
		fail(c, "out of memory");
}

static void on_imds_creds(void *ud, const char *body, const char *why)
{
	struct awscreds *c = ud;
	struct aws_creds got;
	char err[512];

	c->ireq = NULL;
	if (!body) {
		fail(c, "no credentials in the environment, the container variables or the shared files; %s", why);
		return;
	}
	if (awscreds_parse_json(body, clock_real_usec(), &got, err, sizeof(err)) < 0) {
		fail(c, "instance metadata service: %s", err);
		return;
	}
	got.source = "imds";
	finish(c, &got, NULL);
}

static void on_imds_role(void *ud, const char *body, const char *why)
{
	struct awscreds *c = ud;
	char path[512];
	size_t n;

	c->ireq = NULL;
	if (!body) {
		fail(c, "no credentials in the environment, the container variables or the shared files; %s", why);
		return;
	}
	n = strcspn(body, "\r\n");
	if (!n || n > 200) {
		fail(c, "instance metadata service: no IAM role attached to the instance");
		return;
	}
	snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%.*s", (int)n, body);
	c->ireq = imds_get(c->imds, path, on_imds_creds, c);
	if (!c->ireq)
		fail(c, "out of memory");
}

static bool from_profile(struct awscreds *c)
{
	struct aws_creds got = { 0 };

	for (int file = 1; file >= 0; file--) {
		got.access_key = awsprofile_get(file, "aws_access_key_id");
		got.secret_key = awsprofile_get(file, "aws_secret_access_key");
		if (got.access_key && got.secret_key) {
			got.token = awsprofile_get(file, "aws_session_token");
			snprintf(c->profile_source, sizeof(c->profile_source), "profile %s", awsprofile_name());
			got.source = c->profile_source;
			finish(c, &got, NULL);
			return true;
		}
		awscreds_clear(&got);
	}
	return false;
}

static int run_chain(sd_event_source *s, void *ud)
{
	struct awscreds *c = ud;
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	(void)s;

	if (ak || sk) {
		struct aws_creds got = { 0 };
		if (!ak || !sk) {
			fail(c, "%s is set but %s is not", ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			     ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			return 0;
		}
		got.access_key = strdup(ak);
		got.secret_key = strdup(sk);
		got.token = env("AWS_SESSION_TOKEN") ? strdup(env("AWS_SESSION_TOKEN")) : NULL;
		got.source = "environment";
		finish(c, &got, NULL);
		return 0;
	}
	if (rel || full) {
		from_container(c, rel, full);
		return 0;
	}
	if (from_profile(c))
		return 0;
	if (imds_disabled()) {
		fail(c, "no credentials: none in the environment (AWS_ACCESS_KEY_ID), no container credentials "
			"(AWS_CONTAINER_CREDENTIALS_*), none for profile %s in the shared files, and "
			"AWS_EC2_METADATA_DISABLED is set", awsprofile_name());
		return 0;
	}
	c->ireq = imds_get(c->imds, "/latest/meta-data/iam/security-credentials/", on_imds_role, c);
	if (!c->ireq)
		fail(c, "out of memory");
	return 0;
}

void awscreds_get(struct awscreds *c, struct awscreds_wait *w, awscreds_done_fn done, void *ud)
{
	w->done = done;
	w->ud = ud;
	w->next = c->waiters;
	if (c->waiters)
		c->waiters->pprev = &w->next;
	w->pprev = &c->waiters;
	c->waiters = w;
	if (!c->fetching) {
		c->fetching = true;
		sd_event_source_set_enabled(c->start, SD_EVENT_ONESHOT);
	}
}

void awscreds_wait_cancel(struct awscreds_wait *w)
{
	if (!w->pprev)
		return;
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
}

int awscreds_new(sd_event *loop, struct http *http, struct imds *imds, struct awscreds **out)
{
	struct awscreds *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->http = http;
	c->imds = imds;
	rc = sd_event_add_defer(loop, &c->start, run_chain, c);
	if (rc < 0) {
		free(c);
		return rc;
	}
	sd_event_source_set_enabled(c->start, SD_EVENT_OFF);
	*out = c;
	return 0;
}

void awscreds_free(struct awscreds *c)
{
	if (!c)
		return;
	while (c->waiters)
		awscreds_wait_cancel(c->waiters);
	http_cancel(c->call);
	imds_cancel(c->ireq);
	sd_event_source_disable_unref(c->start);
	awscreds_clear(&c->cur);
	free(c);
}
