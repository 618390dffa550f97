/* SPDX-License-Identifier: Apache-2.0 */
/* cabundle.h — the CA certificates built into the static binary: Debian's
 * ca-certificates bundle (the version pinned in packaging/static/deps.mk),
 * gzip'd at build time and inflated only when an image has no bundle of
 * its own (trust.h).  The dynamic build has none. */
#ifndef PORTHOLE_CABUNDLE_H
#define PORTHOLE_CABUNDLE_H

#include <stddef.h>

/* The bundle as PEM, malloc'd into *data: 0, -ENOENT (none built in),
 * -ENOMEM or -EIO (it does not inflate). */
int cabundle_load(void **data, size_t *len);

#endif
