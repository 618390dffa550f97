/* SPDX-License-Identifier: Apache-2.0 */
/* rendezvous.h — the decisions of the cluster rendezvous (docs/cluster.md),
 * apart from its calls and sleeps (cluster_helper.c), so that they can be
 * tested without a process or the network: what is known of each host,
 * what a host still lacks, who writes and who reads the roster, when each
 * poll is due and when CloudWatch counts as unreadable, and what the
 * rendezvous reports at its end.  Pure functions: the time and the random
 * numbers for the jitter are given. */
#ifndef PORTHOLE_RENDEZVOUS_H
#define PORTHOLE_RENDEZVOUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "cluster_files.h"
#include "cluster_settings.h"
#include "pace.h"
#include "roster.h"

#include "../cloudwatch/records.h"

/* FilterLogEvents failing this many times in a row (each call already
 * retried by the AWS client), throttling aside: the records are unreadable. */
#define RENDEZVOUS_READ_FAILURES 3

/* The job as this host sees it. */
struct rendezvous_job {
	char *const *hosts;      /* resourceconfig.json's, in its order */
	size_t n_hosts;
	/* This host as its record says (it need not wait for its own record):
	 * ip "" and client_key NULL while unknown. */
	struct cluster_peer self;
};

/* ---- what is known ---------------------------------------------------- */

/* Whether the rendezvous knows what it needs of host (address, SSH port,
 * host key and client key): this host from rj->self, the others from
 * their records in set (which may be NULL).  If so, *out is that peer
 * (strings borrowed from rj or set). */
bool rendezvous_known(const struct rendezvous_job *rj, const struct hostset *set, const char *host,
		      struct cluster_peer *out);

/* Every known host into out (room for n_hosts), in the job's order: how
 * many.  All n_hosts of them: the rendezvous is done. */
size_t rendezvous_peers(const struct rendezvous_job *rj, const struct hostset *set, struct cluster_peer *out);

/* What host's record lacks, for people ("no record", "no client key …"),
 * or NULL if nothing. */
const char *rendezvous_lacking(const struct hostset *set, const char *host);

/* The hosts not known yet with what each lacks, "algo-3 (no record), …",
 * for the debug log ("" when none). */
void rendezvous_waiting(const struct rendezvous_job *rj, const struct hostset *set, char *buf, size_t len);

/* The hosts not known, "algo-3, algo-4" in buf, and each appended to arr
 * (which may be NULL). */
void rendezvous_missing(const struct rendezvous_job *rj, const struct hostset *set, cJSON *arr, char *buf,
			size_t len);

/* ---- the roster -------------------------------------------------------- */

enum rendezvous_role {
	RENDEZVOUS_LEADER,   /* searches the records, then writes the roster */
	RENDEZVOUS_FOLLOWER, /* reads the roster, and searches the records slowly */
	RENDEZVOUS_ALONE,    /* no leader (no hosts): searches the records only */
};

/* This host's part: the leader is roster_leader() of the job's hosts. */
enum rendezvous_role rendezvous_role(const struct rendezvous_job *rj);

/* The peers of an acceptable roster (roster.h: it names every host and
 * holds this host's current keys) into out, this host as it knows itself:
 * how many. */
size_t rendezvous_roster_peers(const struct rendezvous_job *rj, const struct roster *ros, struct cluster_peer *out);

/* ---- polling ------------------------------------------------------------ */

/* When each call is next due.  The leader searches the records at its
 * pace; a follower reads the roster at the roster's pace and searches the
 * records at the follower's, slower, in case the roster never comes. */
struct rendezvous_poll {
	struct pace filter, roster;  /* FilterLogEvents', GetLogEvents' */
	uint64_t next_filter, next_roster, deadline; /* monotonic, usec */
	unsigned failures;           /* FilterLogEvents refused in a row */
	size_t best;                 /* the most hosts known after a search */
	bool roster_on;              /* reading the roster (and may) */
};

/* roster_on: this host reads the roster (a follower that has its stream's
 * name).  Both calls are due at once. */
void rendezvous_poll_init(struct rendezvous_poll *p, size_t n_hosts, bool roster_on, uint64_t now,
			  uint64_t deadline);

bool rendezvous_poll_roster_due(const struct rendezvous_poll *p, uint64_t now);
bool rendezvous_poll_filter_due(const struct rendezvous_poll *p, uint64_t now);
/* When to wake up next: the first call due, or the deadline. */
uint64_t rendezvous_poll_wake(const struct rendezvous_poll *p);

/* A GetLogEvents of the roster's stream that gave no acceptable roster. */
enum rendezvous_read {
	RENDEZVOUS_READ_NONE,      /* read, or the stream is not there (yet) */
	RENDEZVOUS_READ_THROTTLED,
	RENDEZVOUS_READ_DENIED,    /* IAM refuses GetLogEvents: the records alone, from now on */
	RENDEZVOUS_READ_FAILED,    /* anything else: again at the pace */
};
void rendezvous_poll_roster_read(struct rendezvous_poll *p, enum rendezvous_read how, uint64_t now, uint32_t rnd);

/* After a FilterLogEvents that found have of n_hosts hosts known. */
enum rendezvous_found {
	RENDEZVOUS_FOUND_ALL,      /* done */
	RENDEZVOUS_FOUND_MORE,     /* more than ever before: write what is known, and tell */
	RENDEZVOUS_FOUND_NO_MORE,
};
enum rendezvous_found rendezvous_poll_fetched(struct rendezvous_poll *p, size_t have, size_t n_hosts,
					      uint64_t now, uint32_t rnd);

/* After a FilterLogEvents that failed: false when the records count as
 * unreadable (RENDEZVOUS_READ_FAILURES refusals in a row).  Throttling is
 * no refusal: the quota is shared, so it only slows the searches down. */
bool rendezvous_poll_fetch_failed(struct rendezvous_poll *p, bool throttled, uint64_t now, uint32_t rnd);

/* ---- the end ------------------------------------------------------------ */

enum rendezvous_end {
	RENDEZVOUS_ALL_RECORDS,   /* every host's record was found */
	RENDEZVOUS_ROSTER,        /* an acceptable roster was read */
	RENDEZVOUS_DEADLINE,      /* PORTHOLE_RENDEZVOUS_TIMEOUT passed first */
	RENDEZVOUS_UNREADABLE,    /* the records cannot be read */
};

/* What the helper reports (cluster_helper.h's result line) and does. */
struct rendezvous_result {
	const char *state;        /* "ready", "failed" */
	const char *reason;       /* NULL, "timeout", "cloudwatch" */
	const char *via;          /* "records", "roster"; NULL when not ready */
	bool write_files;         /* for the hosts known */
	bool network_trust;       /* instead of all this: trust the hosts' addresses */
};
struct rendezvous_result rendezvous_result(enum rendezvous_end end, enum cluster_trust trust);

/* Whether this host, at the end, writes the roster for the others. */
bool rendezvous_writes_roster(const struct rendezvous_job *rj, enum rendezvous_end end);

#endif
