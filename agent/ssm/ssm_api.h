/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_api.h — the Systems Manager calls porthole makes (JSON 1.1,
 * X-Amz-Target AmazonSSM.<Op>), their request bodies, and what to tell
 * people when one is refused. */
#ifndef PORTHOLE_SSM_API_H
#define PORTHOLE_SSM_API_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../aws/aws.h"

/* body is consumed.  timeout_ms bounds each attempt. */
struct aws_call *ssm_api_call(struct aws *aws, const char *endpoint, const char *region, const char *op,
			      cJSON *body, long timeout_ms, aws_done_fn done, void *ud);

/* CreateActivation for one registration, expiring an hour after now_s
 * (epoch seconds), tagged (and the node named) with job and host. */
cJSON *ssm_api_activation_body(const char *role, const char *job, const char *host, int64_t now_s);
/* 0 with ActivationId and ActivationCode copied out of the answer. */
int ssm_api_activation_parse(const char *body, size_t len, char *id, size_t idlen, char *code, size_t codelen);

/* AddTagsToResource for a managed instance: job, host, porthole=version. */
cJSON *ssm_api_tags_body(const char *instance, const char *job, const char *host, const char *version);
cJSON *ssm_api_deregister_body(const char *instance);

/* What to do about a refused call, "" when there is nothing to add. */
const char *ssm_api_advice(const char *op, const char *code);

/* The managed instance id in amazon-ssm-agent's registration output
 * ("... Managed instance-id: mi-..."); 0 when found. */
int ssm_api_registered_id(const char *output, char *id, size_t len);

#endif
