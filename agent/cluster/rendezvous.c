/* SPDX-License-Identifier: Apache-2.0 */
/* rendezvous.c — see rendezvous.h. */
#include "rendezvous.h"

#include <stdio.h>
#include <string.h>

/* The record of host if it has everything cluster SSH needs. */
static const struct host_rec *complete(const struct hostset *set, const char *host)
{
	const struct host_rec *r = records_find(set, host);

	if (!r || !r->ip || !r->port || !cluster_files_key_valid(r->host_key) || !cluster_files_key_valid(r->client_key))
		return NULL;
	return r;
}

bool rendezvous_known(const struct rendezvous_job *rj, const struct hostset *set, const char *host,
		      struct cluster_peer *out)
{
	const struct cluster_peer *me = &rj->self;
	const struct host_rec *r;

	if (strcmp(host, me->host) == 0 && me->ip && me->ip[0] && cluster_files_key_valid(me->host_key) &&
	    me->client_key) {
		*out = *me;
		out->host = host;
		return true;
	}
	if (!set || !(r = complete(set, host)))
		return false;
	*out = (struct cluster_peer){ .host = host, .ip = r->ip, .host_key = r->host_key, .client_key = r->client_key,
				      .port = r->port, .gpus = r->gpus };
	return true;
}

size_t rendezvous_peers(const struct rendezvous_job *rj, const struct hostset *set, struct cluster_peer *out)
{
	size_t n = 0;

	for (size_t i = 0; i < rj->n_hosts; i++)
		n += rendezvous_known(rj, set, rj->hosts[i], &out[n]);
	return n;
}

const char *rendezvous_lacking(const struct hostset *set, const char *host)
{
	const struct host_rec *r = records_find(set, host);

	if (!r)
		return "no record";
	if (!r->ip || !r->port)
		return "no address or SSH port";
	if (!cluster_files_key_valid(r->host_key))
		return "no host key";
	if (!cluster_files_key_valid(r->client_key))
		return "no client key (PORTHOLE_CLUSTER_SSH off there?)";
	return NULL;
}

/* Each host not known, with what it lacks or not, as "a, b (why), …". */
static void list_unknown(const struct rendezvous_job *rj, const struct hostset *set, bool why, cJSON *arr,
			 char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rj->n_hosts; i++) {
		struct cluster_peer ignored;
		if (rendezvous_known(rj, set, rj->hosts[i], &ignored))
			continue;
		if (arr)
			cJSON_AddItemToArray(arr, cJSON_CreateString(rj->hosts[i]));
		if (off >= len)
			continue;
		if (why)
			off += (size_t)snprintf(buf + off, len - off, "%s%s (%s)", off ? ", " : "", rj->hosts[i],
						rendezvous_lacking(set, rj->hosts[i]));
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", rj->hosts[i]);
	}
}

void rendezvous_waiting(const struct rendezvous_job *rj, const struct hostset *set, char *buf, size_t len)
{
	list_unknown(rj, set, true, NULL, buf, len);
}

void rendezvous_missing(const struct rendezvous_job *rj, const struct hostset *set, cJSON *arr, char *buf,
			size_t len)
{
	list_unknown(rj, set, false, arr, buf, len);
}

enum rendezvous_role rendezvous_role(const struct rendezvous_job *rj)
{
	const char *leader = roster_leader(rj->hosts, rj->n_hosts);

	if (!leader)
		return RENDEZVOUS_ALONE;
	return strcmp(leader, rj->self.host) == 0 ? RENDEZVOUS_LEADER : RENDEZVOUS_FOLLOWER;
}

size_t rendezvous_roster_peers(const struct rendezvous_job *rj, const struct roster *ros, struct cluster_peer *out)
{
	size_t n = roster_peers(ros, rj->hosts, rj->n_hosts, out);

	for (size_t i = 0; i < n; i++)
		if (strcmp(out[i].host, rj->self.host) == 0)
			rendezvous_known(rj, NULL, out[i].host, &out[i]);
	return n;
}

void rendezvous_poll_init(struct rendezvous_poll *p, size_t n_hosts, bool roster_on, uint64_t now,
			  uint64_t deadline)
{
	*p = (struct rendezvous_poll){ .next_filter = now, .next_roster = now, .deadline = deadline,
				       .roster_on = roster_on };
	pace_init(&p->filter, n_hosts, roster_on ? PACE_FOLLOWER : PACE_LEADER);
	pace_init(&p->roster, n_hosts, PACE_ROSTER);
}

bool rendezvous_poll_roster_due(const struct rendezvous_poll *p, uint64_t now)
{
	return p->roster_on && now >= p->next_roster;
}

bool rendezvous_poll_filter_due(const struct rendezvous_poll *p, uint64_t now)
{
	return now >= p->next_filter;
}

uint64_t rendezvous_poll_wake(const struct rendezvous_poll *p)
{
	uint64_t wake = p->next_filter;

	if (p->roster_on && p->next_roster < wake)
		wake = p->next_roster;
	return p->deadline < wake ? p->deadline : wake;
}

void rendezvous_poll_roster_read(struct rendezvous_poll *p, enum rendezvous_read how, uint64_t now, uint32_t rnd)
{
	uint64_t delay;

	switch (how) {
	case RENDEZVOUS_READ_DENIED:
		p->roster_on = false;
		return;
	case RENDEZVOUS_READ_THROTTLED:
		delay = pace_throttled(&p->roster);
		break;
	default:
		/* The records' progress means the roster may be close. */
		delay = pace_after(&p->roster, p->best);
		break;
	}
	p->next_roster = now + pace_jitter(delay, rnd);
}

enum rendezvous_found rendezvous_poll_fetched(struct rendezvous_poll *p, size_t have, size_t n_hosts,
					      uint64_t now, uint32_t rnd)
{
	enum rendezvous_found found = RENDEZVOUS_FOUND_NO_MORE;

	p->failures = 0;
	if (have == n_hosts)
		return RENDEZVOUS_FOUND_ALL;
	if (have > p->best) {
		p->best = have;
		found = RENDEZVOUS_FOUND_MORE;
	}
	p->next_filter = now + pace_jitter(pace_after(&p->filter, have), rnd);
	return found;
}

bool rendezvous_poll_fetch_failed(struct rendezvous_poll *p, bool throttled, uint64_t now, uint32_t rnd)
{
	uint64_t delay;

	if (throttled)
		delay = pace_throttled(&p->filter);
	else if (++p->failures >= RENDEZVOUS_READ_FAILURES)
		return false;
	else
		delay = pace_after(&p->filter, p->best);
	p->next_filter = now + pace_jitter(delay, rnd);
	return true;
}

struct rendezvous_result rendezvous_result(enum rendezvous_end end, enum cluster_trust trust)
{
	switch (end) {
	case RENDEZVOUS_ALL_RECORDS:
		return (struct rendezvous_result){ .state = "ready", .via = "records", .write_files = true };
	case RENDEZVOUS_ROSTER:
		return (struct rendezvous_result){ .state = "ready", .via = "roster", .write_files = true };
	case RENDEZVOUS_DEADLINE:
		/* Those that did publish can still reach each other. */
		return (struct rendezvous_result){ .state = "failed", .reason = "timeout", .write_files = true };
	case RENDEZVOUS_UNREADABLE:
	default:
		if (trust == TRUST_NETWORK)
			return (struct rendezvous_result){ .network_trust = true };
		return (struct rendezvous_result){ .state = "failed", .reason = "cloudwatch" };
	}
}

bool rendezvous_writes_roster(const struct rendezvous_job *rj, enum rendezvous_end end)
{
	/* Only a job of more than one host has others waiting for it. */
	return end == RENDEZVOUS_ALL_RECORDS && rj->n_hosts > 1 && rendezvous_role(rj) == RENDEZVOUS_LEADER;
}
