/* SPDX-License-Identifier: Apache-2.0 */
/* records.h — the hosts of a job as their porthole identity records in
 * CloudWatch tell them (docs/hosts.md): the FilterLogEvents request that
 * finds the records, the parsing of its answers, and what each host's
 * latest record says.  No I/O here: hosts_read.c does the calls. */
#ifndef PORTHOLE_RECORDS_H
#define PORTHOLE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One host's latest identity record; strings are NULL when the record has none. */
struct host_rec {
	char *host;          /* "algo-2" */
	char *stream;        /* the log stream it came from */
	char *ts;            /* the record's own time */
	char *ip, *host_key, *fingerprint, *instance_type, *ssm_target, *state, *deadline;
	char *client_key;    /* cluster SSH's client key (PORTHOLE_CLUSTER_SSH) */
	char *ssm_region;    /* the SSM target's region, when the record tells it */
	unsigned port;       /* 0: no SSH endpoint */
	unsigned gpus;       /* NVIDIA GPUs; 0 when the record says none */
	int64_t ts_ms;       /* the event's timestamp, to pick the latest */
	int64_t hold_end_ms; /* the latest hold_end event, 0 if none */
	bool released;       /* that hold_end was a `porthole release` */
};

/* Hosts seen only through a hold_end have ts_ms 0: no record yet. */
struct hostset {
	struct host_rec *v;  /* sorted: algo-1, algo-2, ... algo-10, then by name */
	size_t n;
};

/* The FilterLogEvents request body for job's records in group; token is the
 * previous page's nextToken or NULL.  Caller frees; NULL if out of memory. */
char *records_filter_body(const char *group, const char *job, const char *token);

/* Merge one FilterLogEvents answer into set (later records of a host replace
 * earlier ones).  *next is set to the nextToken (caller frees) or NULL.
 * 0, or -1 if the body is not a FilterLogEvents answer. */
int records_merge_page(struct hostset *set, const char *job, const char *body, char **next);

/* algo-N hosts in numeric order, others after them by name (strcmp-like). */
int records_host_cmp(const char *a, const char *b);

/* Names and addresses end up in known_hosts and ssh_config lines, so a
 * record's are taken only if plain (letters, digits, "._-") and numeric. */
bool records_plain_name(const char *s);
bool records_address(const char *s);

const struct host_rec *records_find(const struct hostset *set, const char *host);
void records_free(struct hostset *set);

/* Whether the host's porthole has exited (its last record says so). */
bool records_gone(const struct host_rec *h);
/* "training", "holding until 2026-…Z", "released", "gone" ... for people. */
void records_state_text(const struct host_rec *h, char *buf, size_t len);

#endif
