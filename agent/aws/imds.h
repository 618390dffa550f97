/* SPDX-License-Identifier: Apache-2.0 */
/* imds.h — the EC2 instance metadata service, IMDSv2 only: a session token
 * (PUT /latest/api/token with a TTL) is fetched, cached and sent with each
 * GET.  AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address,
 * AWS_EC2_METADATA_DISABLED=true turns it off. */
#ifndef PORTHOLE_IMDS_H
#define PORTHOLE_IMDS_H

#include <stdbool.h>

#include "http.h"

struct imds;
struct imds_req;

/* body is the 200 response; NULL with why set otherwise. */
typedef void (*imds_done_fn)(void *ud, const char *body, const char *why);

int imds_new(struct http *http, struct imds **out);
void imds_free(struct imds *m);
bool imds_disabled(void);

/* GET path (e.g. "/latest/meta-data/placement/region"); done runs from the
 * loop.  NULL if out of memory. */
struct imds_req *imds_get(struct imds *m, const char *path, imds_done_fn done, void *ud);
void imds_cancel(struct imds_req *r);

#endif
