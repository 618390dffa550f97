/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_settings.h — what cluster SSH is told (PORTHOLE_CLUSTER_SSH and
 * friends; docs/cluster.md).  Header only: the daemon's config fills it. */
#ifndef PORTHOLE_CLUSTER_SETTINGS_H
#define PORTHOLE_CLUSTER_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

/* How cluster logins are trusted: the peers' published client keys, or
 * (explicit opt-in, when CloudWatch cannot be read) their addresses. */
enum cluster_trust { TRUST_KEYS, TRUST_NETWORK };

struct cluster_settings {
	bool enabled;
	uint64_t rendezvous_timeout; /* seconds */
	char *hostfile;              /* NULL: <ML_ROOT>/hostfile */
	enum cluster_trust trust;
	/* Filled in by config_load. */
	char *ml_root;               /* where the default hostfile goes */
	char *runtime_dir;           /* where the helper writes keys, trust and marker files */
};

#endif
