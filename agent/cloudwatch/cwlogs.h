/* SPDX-License-Identifier: Apache-2.0 */
/* cwlogs.h — the CloudWatch Logs JSON 1.1 protocol, as far as porthole
 * speaks it: CreateLogGroup, CreateLogStream and PutLogEvents bodies, the
 * rejectedLogEventsInfo of a PutLogEvents answer, and the signed call. */
#ifndef PORTHOLE_CWLOGS_H
#define PORTHOLE_CWLOGS_H

#include <stdbool.h>
#include <stddef.h>

#include "spool.h"

#include "../aws/aws.h"

/* PutLogEvents for records (those with msg NULL are left out); NULL if out
 * of memory. */
char *cwlogs_put_body(const char *group, const char *stream, const struct spool_rec *recs, size_t n);
/* {"logGroupName":…} or {"logGroupName":…,"logStreamName":…} */
char *cwlogs_name_body(const char *group, const char *stream);

struct cwlogs_rejected {
	long too_new_start;   /* first index too far in the future, or -1 */
	long too_old_end;     /* indexes before this are too old, or -1 */
	long expired_end;     /* indexes before this are past retention, or -1 */
};

/* From a PutLogEvents response body; returns how many of n events were
 * rejected (0 when the answer has no rejectedLogEventsInfo). */
size_t cwlogs_rejected(const char *body, size_t n, struct cwlogs_rejected *out);

/* Whether a name is a valid log group / stream name. */
int cwlogs_valid_group(const char *name);
int cwlogs_valid_stream(const char *name);

/* POST op ("PutLogEvents") with body to the endpoint. */
struct aws_call *cwlogs_call(struct aws *aws, const char *endpoint, const char *region, const char *op,
			     const char *body, aws_done_fn done, void *ud);
/* The same; paced: throttling is the caller's to retry (aws_call_spec). */
struct aws_call *cwlogs_call_paced(struct aws *aws, const char *endpoint, const char *region, const char *op,
				   const char *body, bool paced, aws_done_fn done, void *ud);

#endif
