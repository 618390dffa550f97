/* SPDX-License-Identifier: Apache-2.0 */
/* What AWS answers, one input read by every parser of an answer:
 * PutLogEvents' rejected events, CreateActivation, the agent's registration
 * output, credential documents (container endpoint, IMDS), their times,
 * container credential URIs, and error codes. */
#include "../fuzz.h"

#include "aws/awscreds.h"
#include "aws/retry.h"
#include "cloudwatch/cwlogs.h"
#include "lib/log.h"
#include "ssm/ssm_api.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(PLOG_NONE);
	log_discard_early();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), id[128], code[128], why[256], err[128];
	struct cwlogs_rejected rej;
	struct aws_creds creds = { 0 };
	uint64_t usec;

	if (!s)
		return 0;
	cwlogs_rejected(s, 100, &rej);
	ssm_api_activation_parse(s, size, id, sizeof(id), code, sizeof(code));
	ssm_api_registered_id(s, id, sizeof(id));
	if (awscreds_parse_json(s, UINT64_C(1700000000000000), &creds, why, sizeof(why)) == 0)
		awscreds_clear(&creds);
	awscreds_time_parse(s, &usec);
	awscreds_container_uri_allowed(s, why, sizeof(why));
	retry_error_code(s, err, sizeof(err));
	free(s);
	return 0;
}
