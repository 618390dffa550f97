/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_api.c — see ssm_api.h. */
#include "ssm_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough to register right away, short enough that a leaked code is
 * soon worth nothing (RegistrationLimit 1 makes it single-use anyway). */
#define ACTIVATION_LIFETIME_S 3600

struct aws_call *ssm_api_call(struct aws *aws, const char *endpoint, const char *region, const char *op,
			      cJSON *body, long timeout_ms, aws_done_fn done, void *ud)
{
	char target[96], url[2048];
	const char *headers[] = { "Content-Type: application/x-amz-json-1.1", target, NULL };
	char *text = cJSON_PrintUnformatted(body);
	struct aws_call *c = NULL;

	cJSON_Delete(body);
	if (!text)
		return NULL;
	snprintf(target, sizeof(target), "X-Amz-Target: AmazonSSM.%s", op);
	snprintf(url, sizeof(url), "%s/", endpoint);
	struct aws_call_spec spec = { .service = "ssm", .region = region, .method = "POST", .url = url,
				      .headers = headers, .body = text, .body_len = strlen(text),
				      .timeout_ms = timeout_ms, .max_body = 64 * 1024 };
	c = aws_call_start(aws, &spec, done, ud);
	free(text);
	return c;
}

static void add_tag(cJSON *tags, const char *key, const char *value)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "Key", key);
	cJSON_AddStringToObject(t, "Value", value);
	cJSON_AddItemToArray(tags, t);
}

cJSON *ssm_api_activation_body(const char *role, const char *job, const char *host, int64_t now_s)
{
	cJSON *b = cJSON_CreateObject();
	char name[256];

	snprintf(name, sizeof(name), "%s/%s", job, host);
	cJSON_AddStringToObject(b, "IamRole", role);
	cJSON_AddNumberToObject(b, "RegistrationLimit", 1);
	cJSON_AddNumberToObject(b, "ExpirationDate", (double)(now_s + ACTIVATION_LIFETIME_S));
	cJSON_AddStringToObject(b, "DefaultInstanceName", name);
	cJSON_AddStringToObject(b, "Description", "porthole: Session Manager access to a training container");
	/* Copied to the node that registers: tagged before porthole's own
	 * AddTagsToResource, and even if that is not allowed. */
	cJSON *tags = cJSON_AddArrayToObject(b, "Tags");
	add_tag(tags, "job", job);
	add_tag(tags, "host", host);
	return b;
}

int ssm_api_activation_parse(const char *body, size_t len, char *id, size_t idlen, char *code, size_t codelen)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	const cJSON *i = cJSON_GetObjectItemCaseSensitive(o, "ActivationId");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "ActivationCode");
	int rc = -1;

	if (cJSON_IsString(i) && cJSON_IsString(c) && *i->valuestring && *c->valuestring) {
		snprintf(id, idlen, "%s", i->valuestring);
		snprintf(code, codelen, "%s", c->valuestring);
		rc = 0;
	}
	cJSON_Delete(o);
	return rc;
}

cJSON *ssm_api_tags_body(const char *instance, const char *job, const char *host, const char *version)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "ResourceType", "ManagedInstance");
	cJSON_AddStringToObject(b, "ResourceId", instance);
	cJSON *tags = cJSON_AddArrayToObject(b, "Tags");
	add_tag(tags, "job", job);
	add_tag(tags, "host", host);
	add_tag(tags, "porthole", version);
	return b;
}

cJSON *ssm_api_deregister_body(const char *instance)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "InstanceId", instance);
	return b;
}

const char *ssm_api_advice(const char *op, const char *code)
{
	bool denied = strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0;

	if (denied && strcmp(op, "CreateActivation") == 0)
		return "the job's role needs ssm:CreateActivation, and iam:PassRole on PORTHOLE_SSM_ROLE with the "
		       "condition iam:PassedToService = ssm.amazonaws.com (that role must trust ssm.amazonaws.com); "
		       "or give PORTHOLE_SSM_ACTIVATION_CODE and PORTHOLE_SSM_ACTIVATION_ID";
	if (denied && strcmp(op, "AddTagsToResource") == 0)
		return "the job's role needs ssm:AddTagsToResource; the activation's tags (job, host) still apply";
	if (denied && strcmp(op, "DeregisterManagedInstance") == 0)
		return "the job's role needs ssm:DeregisterManagedInstance; remove the instance by hand with "
		       "`aws ssm deregister-managed-instance`";
	if (strcmp(code, "InvalidParameters") == 0 && strcmp(op, "CreateActivation") == 0)
		return "PORTHOLE_SSM_ROLE must name an IAM role (name, not ARN) that trusts ssm.amazonaws.com";
	return "";
}

int ssm_api_registered_id(const char *output, char *id, size_t len)
{
	static const char marker[] = "Managed instance-id: ";
	const char *p = strstr(output, marker);
	size_t n;

	if (!p)
		return -1;
	p += sizeof(marker) - 1;
	n = strspn(p, "mi-0123456789abcdef");
	if (n < 4 || strncmp(p, "mi-", 3) != 0 || n >= len)
		return -1;
	memcpy(id, p, n);
	id[n] = '\0';
	return 0;
}
