/* SPDX-License-Identifier: Apache-2.0 */
/* awsregion.c — see awsregion.h. */
#include "awsregion.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arn.h"
#include "awsprofile.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int awsregion_valid(const char *r)
{
	size_t n = r ? strlen(r) : 0;

	if (n < 4 || n > 32 || !islower((unsigned char)r[0]) || r[n - 1] == '-')
		return 0;
	for (; *r; r++)
		if (!islower((unsigned char)*r) && !isdigit((unsigned char)*r) && *r != '-')
			return 0;
	return 1;
}

char *awsregion_local(const char **source)
{
	const char *v;
	char *r;

	if ((v = env("AWS_REGION"))) {
		*source = "AWS_REGION";
		return strdup(v);
	}
	if ((v = env("AWS_DEFAULT_REGION"))) {
		*source = "AWS_DEFAULT_REGION";
		return strdup(v);
	}
	if ((r = arn_region(env("TRAINING_JOB_ARN")))) {
		*source = "TRAINING_JOB_ARN";
		return r;
	}
	if ((r = awsprofile_get(0, "region"))) {
		*source = "the AWS config file";
		return r;
	}
	*source = NULL;
	return NULL;
}

char *awsregion_endpoint_url(const char *env_suffix, const char *prefix, const char *region, int *custom)
{
	const char *ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), *v = NULL;
	char name[128], *url = NULL;

	*custom = 0;
	if (!ignore || strcasecmp(ignore, "true") != 0) {
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", env_suffix);
		v = env(name);
		if (!v)
			v = env("AWS_ENDPOINT_URL");
	}
	if (v) {
		size_t n = strlen(v);
		while (n && v[n - 1] == '/')
			n--;
		*custom = 1;
		return strndup(v, n);
	}
	if (!region || !*region)
		return NULL;
	if (asprintf(&url, "https://%s.%s.amazonaws.com%s", prefix, region,
		     strncmp(region, "cn-", 3) == 0 ? ".cn" : "") < 0)
		return NULL;
	return url;
}
