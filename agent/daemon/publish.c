/* SPDX-License-Identifier: Apache-2.0 */
/* publish.c — see publish.h. */
#include "publish.h"

#include <stdlib.h>
#include <string.h>

#include "ready.h"
#include "run.h"

#include "../aws/arn.h"
#include "../aws/aws.h"
#include "../cloudwatch/cwpub.h"
#include "../lib/clock.h"
#include "../lib/log.h"

static cJSON *identity_now(void *ud)
{
	return ready_json(ud);
}

static struct aws *aws_for(void *ud)
{
	return run_aws(ud);
}

void publish_start(struct porthole *p)
{
	const char *arn = getenv("TRAINING_JOB_ARN");
	int rc;

	/* auto: only inside a SageMaker training job or on a HyperPod node,
	 * where the stream sits next to SageMaker's own logs; elsewhere
	 * CloudWatch is asked for.  Decided before the AWS client exists:
	 * libcurl and its TLS library cost megabytes of RSS that an idle
	 * wrapper should not carry, and milliseconds to load that the
	 * training command's start should not wait for. */
	bool hyperpod = strcmp(p->id.platform, "hyperpod") == 0;
	if (p->cfg.cw.mode == CW_OFF || (p->cfg.cw.mode == CW_AUTO && !(arn && *arn) && !hyperpod)) {
		log_debug("CloudWatch publishing is off (PORTHOLE_CLOUDWATCH=%s)",
			  p->cfg.cw.mode == CW_OFF ? "off" : "auto, outside a training job or HyperPod node");
		log_discard_early();
		return;
	}
	const char *group = p->cfg.cw.log_group ? p->cfg.cw.log_group : p->id.log_group;
	if (!group && hyperpod) {
		/* Not the training jobs' group: a node's events belong to its cluster. */
		log_error("no CloudWatch log group for cluster %s (its ClusterArn is unknown); set PORTHOLE_LOG_GROUP; "
			  "nothing is sent to CloudWatch", p->id.job);
		log_discard_early();
		return;
	}
	char *group_region = hyperpod ? arn_region(p->id.cluster_arn) : NULL;
	struct cwpub_config c = {
		.group = group,
		.stream = p->cfg.cw.log_stream ? p->cfg.cw.log_stream : p->id.log_stream,
		.create_group = p->cfg.cw.create_log_group,
		.group_region = group_region,
		.spool_dir = p->cfg.cw.spool_dir,
		.spool_max = (uint64_t)p->cfg.cw.spool_max_mb << 20,
		.job = p->id.job,
		.host = p->id.host,
		.identity = identity_now,
		.identity_ud = p,
		/* Made when the first event goes out, from the loop: the training
		 * command has started by then. */
		.aws = aws_for,
		.aws_ud = p,
	};
	rc = cwpub_new(p->loop, &c, &p->cwpub);
	free(group_region);
	/* Failures are logged inside; porthole goes on without publishing. */
	if (rc < 0) {
		p->cwpub = NULL;
		log_discard_early();
	}
}

bool publish_flush(struct porthole *p, uint64_t usec, void (*done)(void *ud))
{
	return cwpub_flush(p->cwpub, usec, done, p);
}

void publish_stop(struct porthole *p)
{
	cwpub_free(p->cwpub);
	p->cwpub = NULL;
}
