/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_helper.h — the process PID 1 forks for PORTHOLE_CLUSTER_SSH
 * (docs/cluster.md).  It loads libssh (PID 1 never does) to make this host's
 * client key, reports the public half, then waits for the job's other hosts
 * to publish theirs in CloudWatch (FilterLogEvents through hosts_reader.c,
 * which blocks: that is why this is a process of its own), writes the files
 * that make `ssh algo-2` work, and reports the result.
 *
 * It speaks to PID 1 only through report.h lines; three of them are for
 * PID 1 itself (cluster.c), every other one is logged there
 * (relay_reader.h).  What it decides, apart from its calls: rendezvous.h. */
#ifndef PORTHOLE_CLUSTER_HELPER_H
#define PORTHOLE_CLUSTER_HELPER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_settings.h"

/* {"pub": "ssh-ed25519 AAAA… porthole-cluster@algo-1"} */
#define CLUSTER_KEY_EVENT "cluster_key"
/* {"hosts": N}: the rendezvous knows N hosts' keys so far (for status). */
#define CLUSTER_PROGRESS_EVENT "cluster_progress"
/* {"state": "ready"|"failed", "reason": null|"timeout"|"cloudwatch"|"setup",
 *  "trust": "keys"|"network", "hosts": N}; after it the training may start. */
#define CLUSTER_RESULT_EVENT "cluster_result"

struct cluster_job {
	const struct cluster_settings *cfg;
	const char *log_group;   /* PORTHOLE_LOG_GROUP, or NULL: the training jobs' */
	const char *job, *host;
	char *const *hosts;      /* resourceconfig.json's, in its order */
	size_t n_hosts;
	/* This host as its record will say: it need not wait for its own. */
	const char *ip;          /* "" when unknown: then the record's */
	const char *host_key;    /* "ssh-ed25519 AAAA…" */
	unsigned port;           /* SSH port */
	unsigned gpus;
	const char *cw_off;      /* why CloudWatch cannot be read at all, or NULL */
	uint64_t started_usec;   /* monotonic; PORTHOLE_RENDEZVOUS_TIMEOUT counts from here */
};

/* The helper's whole life; returns its exit status. */
int cluster_helper_main(const struct cluster_job *j);

#endif
