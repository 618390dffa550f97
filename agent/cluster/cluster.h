/* SPDX-License-Identifier: Apache-2.0 */
/* cluster.h — PORTHOLE_CLUSTER_SSH as PID 1 sees it (docs/cluster.md): a
 * helper process (cluster_helper.h) makes this host's client key before the
 * ready record is printed, then waits for the job's other hosts and writes
 * the SSH files, while PID 1's loop relays what it reports.  The training
 * command waits for its result, never for longer than
 * PORTHOLE_RENDEZVOUS_TIMEOUT, and starts whatever the result. */
#ifndef PORTHOLE_CLUSTER_H
#define PORTHOLE_CLUSTER_H

#include <stdbool.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "cluster_settings.h"

#include "../init/reaper.h"
#include "../platform/identity.h"

struct cluster;

struct cluster_params {
	const struct cluster_settings *cfg; /* must outlive the cluster */
	const char *log_group;          /* PORTHOLE_LOG_GROUP, or NULL */
	const struct identity *id;
	unsigned ssh_port;              /* 0: no SSH endpoint */
	const char *host_key;           /* the endpoint's public key, "ssh-ed25519 AAAA…" */
	const char *cw_off;             /* why CloudWatch is not in use, or NULL */
	void (*done)(void *ud);         /* the rendezvous ended (not called from cluster_new) */
	void *ud;
};

/* Fork the helper and wait until it has made the client key (milliseconds).
 * 0 with *ret the cluster, also when the helper failed (its state says so:
 * nothing waits for it then); 0 with *ret NULL when cluster SSH is off or
 * cannot run here (after saying why); -errno with *ret NULL when the helper
 * could not be started (after saying why).  Without a cluster nothing
 * waits for it. */
int cluster_new(sd_event *loop, struct reaper *r, const struct cluster_params *prm, struct cluster **ret);

/* Still waiting: the training command must wait too. */
bool cluster_pending(const struct cluster *c);

/* "ssh-ed25519 AAAA… porthole-cluster@algo-1" for the ready record, or NULL. */
const char *cluster_client_key(const struct cluster *c);

/* "cluster": {"state": "off"|"rendezvous"|"ready"|"failed", "hosts": N (keys
 * known so far, or set up), "of": the job's hosts, ...}. */
void cluster_to_json(const struct cluster *c, cJSON *obj);

/* End the helper if it still runs (porthole is exiting).  What was decided
 * stays: the last identity record still carries the client key, so a peer
 * still waiting does not lose this host. */
void cluster_stop(struct cluster *c);

void cluster_free(struct cluster *c);

#endif
