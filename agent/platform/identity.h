/* SPDX-License-Identifier: Apache-2.0 */
/* identity.h — who this container or node is: job, host, peers and address.
 *
 * Read from a SageMaker training job's resourceconfig.json and environment,
 * else from a HyperPod node's resource_config.json (hyperpod.h: the job is
 * the cluster, the host the node's instance name); elsewhere the host is the
 * hostname and the job PORTHOLE_JOB or "local".
 * Loading never fails: bad or missing input is reported and a fallback used. */
#ifndef PORTHOLE_IDENTITY_H
#define PORTHOLE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

struct identity {
	bool sagemaker;        /* a valid resourceconfig.json was read */
	char *job;
	char *job_arn;         /* NULL outside SageMaker */
	char *region;          /* NULL when unknown */
	char *host;
	char **hosts;
	size_t n_hosts;
	char *instance_type;   /* NULL when unknown */
	char *group_name;
	char *iface;           /* interface the address came from, or NULL */
	cJSON *instance_groups; /* as in resourceconfig.json, or NULL */
	char ipv4[64];         /* "" when none */
	char ipv6[64];
	const char *addr_source; /* how the address was found */
	const char *platform;  /* "training", "hyperpod" or "none" */
	char *cluster_arn;     /* HyperPod: ClusterConfig.ClusterArn, else NULL */
	char *log_group;       /* the platform's CloudWatch log group, NULL: cwpub's default */
	char *log_stream;      /* the platform's log stream, NULL: cwpub's default */
	unsigned gpus;         /* NVIDIA GPUs (gpus.h) */
};

void identity_load(struct identity *id, const char *ml_root, const char *job);
void identity_free(struct identity *id);

/* Look up the address again (after a change on the host); true if ip or
 * ipv6 differ from before. */
bool identity_refresh_address(struct identity *id);

/* Add job, host, hosts, instance_type, ip, platform ... members to obj. */
void identity_to_json(const struct identity *id, cJSON *obj);

#endif
