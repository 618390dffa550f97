/* SPDX-License-Identifier: Apache-2.0 */
/* hosts_read.h — the user side's CloudWatch reader: a job's identity
 * records, fetched with FilterLogEvents through the same AWS client the
 * publisher uses (credentials, region and endpoint as the SDKs find them),
 * driven by a small sd-event loop of its own.  Calls block the caller. */
#ifndef PORTHOLE_HOSTS_READ_H
#define PORTHOLE_HOSTS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

#include "../aws/aws.h"

struct hosts_reader;

/* 0, or -1 with why in err (no region, libcurl missing). */
int hosts_reader_new(const char *group, const char *job, struct hosts_reader **out, char *err, size_t len);
void hosts_reader_free(struct hosts_reader *r);

/* Every record of the job, all pages: 0 with *set filled (possibly empty),
 * or -1 with a message for people in err. */
int hosts_reader_fetch(struct hosts_reader *r, struct hostset *set, char *err, size_t len);

/* Whether the last failed call was throttled (worth asking again later,
 * unlike a refusal). */
bool hosts_reader_throttled(const struct hosts_reader *r);

/* GetLogEvents on one stream of the group, one page: from its start (token
 * NULL) or from a nextForwardToken.  0 with *body the answer (caller frees),
 * 1 when the stream (or group) does not exist yet, -1 with why in err. */
int hosts_reader_get_events(struct hosts_reader *r, const char *stream, const char *token, char **body,
			    char *err, size_t len);

/* One event (message at ts_ms) into stream of the group, creating the
 * stream if needed: 0, or -1 with why in err (naming the call that failed). */
int hosts_reader_put_event(struct hosts_reader *r, const char *stream, const char *message, int64_t ts_ms,
			   char *err, size_t len);

/* From now on a throttled call fails at once (hosts_reader_throttled) for
 * the caller to retry at its own pace, instead of after the SDKs' backoff. */
void hosts_reader_paced(struct hosts_reader *r);

/* Whether the last failed call was refused by IAM (AccessDenied). */
bool hosts_reader_denied(const struct hosts_reader *r);

/* Whether the job has any log stream at all: 1, 0, or -1 when that cannot
 * be told (the error is then in err). */
int hosts_reader_job_exists(struct hosts_reader *r, char *err, size_t len);

/* A failed call as one sentence naming what to fix (the IAM action for
 * AccessDenied, the group for ResourceNotFound ...). */
void hosts_reader_explain(const struct aws_result *res, const char *action, const char *group, const char *region,
		   char *err, size_t len);

#endif
