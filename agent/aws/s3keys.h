/* SPDX-License-Identifier: Apache-2.0 */
/* s3keys.h — authorized keys from s3://bucket/key (PORTHOLE_AUTHORIZED_KEYS_S3).
 *
 * PID 1 fetches the object at start through the shared AWS client, retrying
 * with backoff until it has it, and keeps it in a cache file in porthole's
 * runtime directory (S3KEYS_CACHE_NAME).  The SSH endpoint reads that file like any other
 * authorized_keys source, at every login. */
#ifndef PORTHOLE_S3KEYS_H
#define PORTHOLE_S3KEYS_H

#include <stddef.h>
#include <systemd/sd-event.h>

#include "aws.h"

/* The cache file's name in porthole's runtime directory. */
#define S3KEYS_CACHE_NAME "authorized_keys.s3"

struct s3keys;

/* Start fetching url (s3://bucket/key) into cache_path through aws, which
 * must outlive the fetch.  0; -EINVAL when url is not s3://bucket/key
 * (said, naming the setting); -ENOMEM. */
int s3keys_new(sd_event *loop, struct aws *aws, const char *url, const char *cache_path, struct s3keys **ret);
void s3keys_free(struct s3keys *k);

#endif
