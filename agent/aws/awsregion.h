/* SPDX-License-Identifier: Apache-2.0 */
/* awsregion.h — which AWS region, and which endpoint URL for a service. */
#ifndef PORTHOLE_AWSREGION_H
#define PORTHOLE_AWSREGION_H

/* The region from AWS_REGION, AWS_DEFAULT_REGION, the region in
 * TRAINING_JOB_ARN, then the config file's profile; NULL when none says
 * (then IMDS's placement/region is the last resort).  *source names where it
 * came from.  Caller frees. */
char *awsregion_local(const char **source);

/* A region name as AWS spells them ("us-east-1", "cn-north-1", ...). */
int awsregion_valid(const char *region);

/* The endpoint URL of a service, without a trailing slash:
 * AWS_ENDPOINT_URL_<env_suffix> (e.g. CLOUDWATCH_LOGS, S3), else
 * AWS_ENDPOINT_URL (both ignored if AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is
 * true), else https://<prefix>.<region>.amazonaws.com (.com.cn in the cn-
 * regions).  *custom tells whether it came from the environment.  Caller
 * frees; NULL without a region and without a configured URL. */
char *awsregion_endpoint_url(const char *env_suffix, const char *prefix, const char *region, int *custom);

#endif
