/* SPDX-License-Identifier: Apache-2.0 */
/* roster.h — the cluster rendezvous's roster (docs/cluster.md): one log
 * event in which the job's leader, once it has read every host's identity
 * record, hands the whole set to the other hosts, so that they read one
 * small stream with GetLogEvents (25 calls a second per account) instead of
 * each searching the job's logs with FilterLogEvents (5 a second).
 *
 * A host takes a roster only if it holds this host's own current keys: a
 * roster left by an earlier attempt of a job with the same name, or written
 * before this host published, lacks them.  Of the rosters that hold them,
 * the newest wins.  No I/O here: cluster_helper.c makes the calls. */
#ifndef PORTHOLE_ROSTER_H
#define PORTHOLE_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_files.h"

/* The stream the leader writes in the job's log group: "<job>/porthole-roster". */
#define ROSTER_STREAM_SUFFIX "/porthole-roster"
int roster_stream(const char *job, char *buf, size_t len); /* 0, or -1 if it does not fit */

/* One host as the leader saw it: what the files need, and the time of the
 * record it came from (its log event's timestamp, and the record's "ts"). */
struct roster_host {
	char *host, *ip, *host_key, *client_key, *ts;
	unsigned port, gpus;
	int64_t ts_ms;
};

struct roster {
	char *leader;
	struct roster_host *v;
	size_t n;
	int64_t event_ms;   /* the log event's timestamp (newest wins) */
};

/* The leader: the first of the job's hosts in records.h's order (algo-N by
 * number), which every host computes alike from resourceconfig.json. */
const char *roster_leader(char *const *hosts, size_t n);

/* The roster message for job, written by leader: every v[i] (strings
 * borrowed).  NULL when out of memory. */
char *roster_build(const char *job, const char *leader, const struct roster_host *v, size_t n);

/* Parse one message: 0 with *out filled (caller frees with roster_free), or
 * -1 with the reason in why.  A roster of another job, with a host name,
 * address or key porthole would not accept in a record, or missing one of
 * hosts[0..n_hosts) is rejected. */
int roster_parse(const char *msg, const char *job, char *const *hosts, size_t n_hosts, struct roster *out,
		 char *why, size_t len);

/* This host's current record, which an acceptable roster must hold. */
struct roster_self {
	const char *job, *host, *host_key, *client_key;
	char *const *hosts; /* resourceconfig.json's */
	size_t n_hosts;
};

/* Whether r holds self's host with self's host key and client key (the
 * keys compared without their comments).  -1 with why when not. */
int roster_holds(const struct roster *r, const struct roster_self *self, char *why, size_t len);

/* Go through one GetLogEvents answer: each event that is an acceptable
 * roster for self and at least as new as *best replaces it.  *next is the
 * nextForwardToken (caller frees; NULL if none).  Returns how many events
 * were rejected (last reason in why), or -1 if body is no GetLogEvents
 * answer. */
int roster_merge_page(const char *body, const struct roster_self *self, struct roster *best, char **next,
		      char *why, size_t len);

/* r->v as cluster_peers (strings borrowed from r), in hosts' order; how many
 * of hosts were found (all of them, for a parsed roster). */
size_t roster_peers(const struct roster *r, char *const *hosts, size_t n_hosts, struct cluster_peer *out);

void roster_free(struct roster *r);

#endif
