/* SPDX-License-Identifier: Apache-2.0 */
/* hosts_read.c — FilterLogEvents and DescribeLogStreams for the user side,
 * one call at a time on a private loop. */
#include "hosts_reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "cwlogs.h"

#include "../aws/awsregion.h"
#include "../aws/retry.h"

#define GROUP_DEFAULT "/aws/sagemaker/TrainingJobs"
/* FilterLogEvents may answer with empty pages while it searches a long
 * training log; this bounds a runaway token chain, and is said when hit. */
#define MAX_PAGES 1000

struct hosts_reader {
	sd_event *loop;
	struct aws *aws;
	char *group, *job, *region, *endpoint;
	bool throttled;   /* the last failed call's error was throttling */
	bool denied;      /* the last failed call was refused by IAM */
	bool paced;       /* throttling is the caller's to retry */
};

struct pending {
	bool done;
	struct aws_result res; /* strings copied out of the call's result */
	char *code, *message, *body;
};

int hosts_reader_new(const char *group, const char *job, struct hosts_reader **out, char *err, size_t len)
{
	struct hosts_reader *r = calloc(1, sizeof(*r));
	const char *source = NULL;
	int custom, rc;

	*out = NULL;
	if (!r) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	r->region = awsregion_local(&source);
	if (!r->region) {
		snprintf(err, len, "no AWS region: set AWS_REGION, or region in your AWS config profile");
		goto fail;
	}
	if (!awsregion_valid(r->region)) {
		snprintf(err, len, "the region \"%s\" from %s is not a region name", r->region, source);
		goto fail;
	}
	r->group = strdup(group && *group ? group : GROUP_DEFAULT);
	r->job = strdup(job);
	r->endpoint = awsregion_endpoint_url("CLOUDWATCH_LOGS", "logs", r->region, &custom);
	if (!r->group || !r->job || !r->endpoint) {
		snprintf(err, len, "out of memory");
		goto fail;
	}
	rc = sd_event_new(&r->loop);
	if (rc < 0) {
		snprintf(err, len, "cannot make an event loop: %s", strerror(-rc));
		goto fail;
	}
	if (aws_new(r->loop, &r->aws, err, len) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	hosts_reader_free(r);
	return -1;
}

void hosts_reader_free(struct hosts_reader *r)
{
	if (!r)
		return;
	aws_free(r->aws);
	sd_event_unref(r->loop);
	free(r->group);
	free(r->job);
	free(r->region);
	free(r->endpoint);
	free(r);
}

static void on_done(void *ud, const struct aws_result *res)
{
	struct pending *p = ud;

	p->res = *res;
	p->code = strdup(res->code ? res->code : "");
	p->message = strdup(res->message ? res->message : "");
	p->body = res->body ? strndup(res->body, res->body_len) : strdup("");
	p->res.code = p->code ? p->code : "";
	p->res.message = p->message ? p->message : "";
	p->res.body = p->body;
	p->done = true;
}

static void pending_clear(struct pending *p)
{
	free(p->code);
	free(p->message);
	free(p->body);
	memset(p, 0, sizeof(*p));
}

static bool denied(const struct aws_result *res)
{
	const char *code = res->code ? res->code : "";

	return strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0 ||
	       (res->status == 403 && strstr(code, "Signature") == NULL && strstr(code, "Token") == NULL &&
		strcmp(code, "UnrecognizedClientException") != 0);
}

/* One call, waited for.  0 when it succeeded; p holds the result either way. */
static int call(struct hosts_reader *r, const char *op, const char *body, struct pending *p, char *err, size_t len)
{
	struct aws_call *c;
	int rc;

	memset(p, 0, sizeof(*p));
	c = cwlogs_call_paced(r->aws, r->endpoint, r->region, op, body, r->paced, on_done, p);
	if (!c) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	while (!p->done) {
		rc = sd_event_run(r->loop, UINT64_MAX);
		if (rc < 0) {
			aws_call_cancel(c);
			snprintf(err, len, "event loop failed: %s", strerror(-rc));
			return -1;
		}
	}
	if (p->res.outcome == AWS_OK && p->body)
		return 0;
	r->throttled = p->res.outcome == AWS_ERROR &&
		       retry_classify(false, p->res.status, p->res.code) == RETRY_THROTTLE;
	r->denied = p->res.outcome == AWS_ERROR && denied(&p->res);
	hosts_reader_explain(&p->res, op, r->group, r->region, err, len);
	return -1;
}

void hosts_reader_explain(const struct aws_result *res, const char *action, const char *group, const char *region,
		   char *err, size_t len)
{
	const char *code = res->code ? res->code : "";

	switch (res->outcome) {
	case AWS_NO_CREDS:
		snprintf(err, len, "no AWS credentials: %s", res->message);
		return;
	case AWS_TRANSPORT:
		snprintf(err, len, "cannot reach CloudWatch Logs in %s: %s", region, res->message);
		return;
	case AWS_OK:
		snprintf(err, len, "CloudWatch Logs sent an answer porthole cannot read");
		return;
	case AWS_ERROR:
		break;
	}
	if (denied(res))
		snprintf(err, len,
			 "CloudWatch %s denied: these credentials may not call logs:%s on the log group %s "
			 "(grant that IAM action): %s",
			 strncmp(action, "Put", 3) == 0 || strncmp(action, "Create", 6) == 0 ? "write" : "read",
			 action, group, res->message);
	else if (strcmp(code, "ResourceNotFoundException") == 0)
		snprintf(err, len,
			 "the log group %s does not exist in %s: no job has logged there (wrong region? "
			 "PORTHOLE_LOG_GROUP?)",
			 group, region);
	else
		snprintf(err, len, "CloudWatch Logs %s failed: %s%s%s (HTTP %ld)", action, code, *code ? ": " : "",
			 res->message, res->status);
}

int hosts_reader_fetch(struct hosts_reader *r, struct hostset *set, char *err, size_t len)
{
	char *token = NULL;
	struct pending p;
	int rc = 0;

	for (unsigned page = 0; page < MAX_PAGES; page++) {
		char *body = records_filter_body(r->group, r->job, token), *next = NULL;
		free(token);
		token = NULL;
		if (!body) {
			snprintf(err, len, "out of memory");
			return -1;
		}
		rc = call(r, "FilterLogEvents", body, &p, err, len);
		free(body);
		if (rc == 0 && records_merge_page(set, r->job, p.body, &next) < 0) {
			snprintf(err, len, "CloudWatch Logs sent a FilterLogEvents answer porthole cannot read");
			rc = -1;
		}
		pending_clear(&p);
		if (rc < 0 || !next)
			return rc;
		token = next;
	}
	free(token);
	snprintf(err, len, "FilterLogEvents still had more after %d pages; giving up on job %s", MAX_PAGES, r->job);
	return -1;
}

bool hosts_reader_throttled(const struct hosts_reader *r)
{
	return r->throttled;
}

void hosts_reader_paced(struct hosts_reader *r)
{
	r->paced = true;
}

bool hosts_reader_denied(const struct hosts_reader *r)
{
	return r->denied;
}

static bool is_code(const struct pending *p, const char *code)
{
	return p->res.outcome == AWS_ERROR && strcmp(p->res.code, code) == 0;
}

int hosts_reader_get_events(struct hosts_reader *r, const char *stream, const char *token, char **body,
			    char *err, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	struct pending p;
	char *req;
	int rc;

	*body = NULL;
	if (!o || !cJSON_AddStringToObject(o, "logGroupName", r->group) ||
	    !cJSON_AddStringToObject(o, "logStreamName", stream) ||
	    !(token ? cJSON_AddStringToObject(o, "nextToken", token) != NULL
		    : cJSON_AddBoolToObject(o, "startFromHead", 1) != NULL)) {
		cJSON_Delete(o);
		snprintf(err, len, "out of memory");
		return -1;
	}
	req = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!req) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	rc = call(r, "GetLogEvents", req, &p, err, len);
	free(req);
	if (rc < 0) {
		rc = is_code(&p, "ResourceNotFoundException") ? 1 : -1;
	} else {
		*body = p.body;
		p.body = NULL;
	}
	pending_clear(&p);
	return rc;
}

int hosts_reader_put_event(struct hosts_reader *r, const char *stream, const char *message, int64_t ts_ms,
			   char *err, size_t len)
{
	struct spool_rec rec = { .ts_ms = ts_ms, .msg = message, .len = strlen(message) };
	struct pending p;
	char *body = cwlogs_name_body(r->group, stream);
	bool paced = r->paced;
	int rc;

	if (!body) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	/* Written once: worth the SDKs' retries, whoever paces the reads. */
	r->paced = false;
	rc = call(r, "CreateLogStream", body, &p, err, len);
	free(body);
	if (rc < 0 && is_code(&p, "ResourceAlreadyExistsException"))
		rc = 0;
	pending_clear(&p);
	body = rc < 0 ? NULL : cwlogs_put_body(r->group, stream, &rec, 1);
	if (rc == 0 && !body) {
		snprintf(err, len, "out of memory");
		rc = -1;
	}
	if (body) {
		rc = call(r, "PutLogEvents", body, &p, err, len);
		free(body);
		if (rc == 0 && cwlogs_rejected(p.body, 1, &(struct cwlogs_rejected){ 0 }) > 0) {
			snprintf(err, len, "CloudWatch Logs rejected the event (its time is out of range)");
			rc = -1;
		}
		pending_clear(&p);
	}
	r->paced = paced;
	return rc;
}

int hosts_reader_job_exists(struct hosts_reader *r, char *err, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	size_t n = strlen(r->job);
	char prefix[n + 2], *body;
	struct pending p;
	int rc;

	memcpy(prefix, r->job, n);
	memcpy(prefix + n, "/", 2);
	cJSON_AddStringToObject(o, "logGroupName", r->group);
	cJSON_AddStringToObject(o, "logStreamNamePrefix", prefix);
	cJSON_AddNumberToObject(o, "limit", 1);
	body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!body) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	rc = call(r, "DescribeLogStreams", body, &p, err, len);
	free(body);
	if (rc == 0) {
		cJSON *root = cJSON_Parse(p.body);
		rc = cJSON_GetArraySize(cJSON_GetObjectItem(root, "logStreams")) > 0;
		cJSON_Delete(root);
	}
	pending_clear(&p);
	return rc;
}
