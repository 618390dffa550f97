/* SPDX-License-Identifier: Apache-2.0 */
/* s3keys.h — authorized keys from s3://bucket/key (PORTHOLE_AUTHORIZED_KEYS_S3).
 *
 * PID 1 fetches the object at start through the shared AWS client, retrying
 * with backoff until it has it, and keeps it in a cache file next to the
 * control socket.  The SSH endpoint reads that file like any other
 * authorized_keys source, at every login. */
#ifndef PORTHOLE_S3KEYS_H
#define PORTHOLE_S3KEYS_H

#include <stddef.h>
#include <systemd/sd-event.h>

#include "aws.h"
#include "../daemon/config.h"

struct s3keys;

/* Where the fetched keys are kept; "" (and 0) when the setting is unset. */
int s3keys_cache_path(const struct config *cfg, char *buf, size_t len);

/* Start fetching (creating *aws if it is NULL).  NULL when the setting is
 * unset or unusable; the reason has been logged. */
struct s3keys *s3keys_start(sd_event *loop, struct aws **aws, const struct config *cfg);
void s3keys_free(struct s3keys *k);

#endif
