/* SPDX-License-Identifier: Apache-2.0 */
/* cwpub.h — the CloudWatch publisher: every warning, error and event porthole
 * logs (it is a log sink), plus the identity record, goes to a CloudWatch
 * Logs stream as one JSON object per event (docs/cloudwatch-events.md).
 *
 * Events are appended to the on-disk spool first and sent from there, so
 * nothing is lost while CloudWatch is unreachable, credentials are missing
 * or porthole is killed; a restarted porthole sends the backlog first.  A
 * failure is reported once and retried slowly; the training never waits
 * for any of it.  With nothing to send, no timer is armed. */
#ifndef PORTHOLE_CWPUB_H
#define PORTHOLE_CWPUB_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "../aws/aws.h"

#define CW_DEFAULT_GROUP "/aws/sagemaker/TrainingJobs"

struct cwpub_config {
	const char *group;           /* NULL: CW_DEFAULT_GROUP */
	const char *stream;          /* NULL: <job>/<host>-<epoch>/ssm */
	bool create_group;           /* create the group if it is missing */
	const char *group_region;    /* the region the group is known to be in (a
	                              * HyperPod cluster's ARN), or NULL; AWS_REGION
	                              * and AWS_DEFAULT_REGION still win */
	const char *spool_dir;
	uint64_t spool_max;          /* bytes */
	const char *job, *host;
	/* A fresh identity record (consumed), asked for after state changes;
	 * re-sent when its state or address differ from the last one sent. */
	cJSON *(*identity)(void *ud);
	void *identity_ud;
	/* The AWS client, asked for when the first event is sent (from the
	 * loop), so that making it never delays porthole's start; NULL if it
	 * cannot be made (said where it was made), and nothing is sent. */
	struct aws *(*aws)(void *ud);
	void *aws_ud;
};

struct cwpub;

/* Opens the spool and registers as a log sink.  -errno (after logging why)
 * if the spool cannot be used; porthole then runs without publishing. */
int cwpub_new(sd_event *loop, const struct cwpub_config *cfg, struct cwpub **out);
void cwpub_free(struct cwpub *pub);

/* Send what is spooled before exiting, for at most usec.  false if there is
 * nothing to wait for; otherwise done runs (from the loop) once everything
 * is sent, sending failed, or the time is up. */
bool cwpub_flush(struct cwpub *pub, uint64_t usec, void (*done)(void *ud), void *ud);

/* The log group and stream events go to; NULL without a publisher. */
const char *cwpub_group(const struct cwpub *pub);
const char *cwpub_stream(const struct cwpub *pub);

/* Events waiting in the spool. */
uint64_t cwpub_pending(const struct cwpub *pub);

#endif
