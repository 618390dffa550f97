/* SPDX-License-Identifier: Apache-2.0 */
/* s3get.h — fetch one S3 object asynchronously (GetObject, SigV4 through the
 * shared AWS client, with its credentials and retries).  For the SSH
 * endpoint's s3://bucket/key authorized-keys source and the like.
 *
 * Region: AWS_REGION, AWS_DEFAULT_REGION, TRAINING_JOB_ARN, the config file,
 * else us-east-1; a bucket elsewhere is retried once in the region S3 names.
 * Endpoint: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (path-style), else the
 * bucket's virtual-hosted name (path-style for names with dots). */
#ifndef PORTHOLE_S3GET_H
#define PORTHOLE_S3GET_H

#include <stddef.h>

#include "aws.h"

struct s3get;

/* body (NUL-terminated, len bytes) on success; NULL and why otherwise, such
 * as "s3://b/k: NoSuchKey: The specified key does not exist. (HTTP 404)". */
typedef void (*s3_done_fn)(void *ud, const char *body, size_t len, const char *why);

/* "s3://bucket/key" -> bucket, key (caller frees); -EINVAL if not one. */
int s3get_parse_url(const char *url, char **bucket, char **key);

/* Start fetching url, keeping at most max_bytes (an object larger than that
 * fails).  done runs once, from the loop.  NULL with why set if the fetch
 * cannot even start (bad URL, out of memory). */
struct s3get *s3get_start(struct aws *aws, const char *url, size_t max_bytes, s3_done_fn done, void *ud,
			    char *why, size_t whylen);
void s3get_cancel(struct s3get *g);

#endif
