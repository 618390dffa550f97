/* SPDX-License-Identifier: Apache-2.0 */
/* roster.c — see roster.h. */
#include "roster.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "../cloudwatch/records.h"
#include "../lib/jsonutil.h"

/* A roster is "porthole":"roster" at the top, so records.c, which reads
 * "porthole":"ready", never takes one for a host's record. */
#define ROSTER_KIND "roster"
#define ROSTER_VERSION 1

int roster_stream(const char *job, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s" ROSTER_STREAM_SUFFIX, job);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *roster_leader(char *const *hosts, size_t n)
{
	const char *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (!best || records_host_cmp(hosts[i], best) < 0)
			best = hosts[i];
	return best;
}

char *roster_build(const char *job, const char *leader, const struct roster_host *v, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char *out = NULL;

	if (!o || !cJSON_AddStringToObject(o, "porthole", ROSTER_KIND) ||
	    !cJSON_AddNumberToObject(o, "version", ROSTER_VERSION) || !cJSON_AddStringToObject(o, "job", job) ||
	    !cJSON_AddStringToObject(o, "leader", leader) || !(arr = cJSON_AddArrayToObject(o, "hosts")))
		goto out;
	for (size_t i = 0; i < n; i++) {
		cJSON *h = cJSON_CreateObject();
		if (!h || !cJSON_AddItemToArray(arr, h))
			goto out;
		if (!cJSON_AddStringToObject(h, "host", v[i].host) || !cJSON_AddStringToObject(h, "ip", v[i].ip) ||
		    !cJSON_AddNumberToObject(h, "port", v[i].port) ||
		    !cJSON_AddStringToObject(h, "host_key", v[i].host_key) ||
		    !cJSON_AddStringToObject(h, "client_key", v[i].client_key) ||
		    !cJSON_AddNumberToObject(h, "gpus", v[i].gpus) ||
		    !cJSON_AddNumberToObject(h, "record_ms", (double)v[i].ts_ms) ||
		    !(v[i].ts ? cJSON_AddStringToObject(h, "ts", v[i].ts) : cJSON_AddNullToObject(h, "ts")))
			goto out;
	}
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}

static bool number_in(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

static void host_clear(struct roster_host *h)
{
	free(h->host);
	free(h->ip);
	free(h->host_key);
	free(h->client_key);
	free(h->ts);
}

void roster_free(struct roster *r)
{
	for (size_t i = 0; i < r->n; i++)
		host_clear(&r->v[i]);
	free(r->v);
	free(r->leader);
	memset(r, 0, sizeof(*r));
}

/* One member of "hosts": 0, or -1 with why. */
static int take_host(const cJSON *e, struct roster_host *h, char *why, size_t len)
{
	const char *host = jsonutil_str(e, "host"), *ip = jsonutil_str(e, "ip"), *hk = jsonutil_str(e, "host_key"), *ck = jsonutil_str(e, "client_key");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(e, "port"), *gpus = cJSON_GetObjectItemCaseSensitive(e, "gpus");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "record_ms");

	if (!records_plain_name(host)) {
		snprintf(why, len, "a host entry has no plain host name");
		return -1;
	}
	if (!records_address(ip)) {
		snprintf(why, len, "%s has no numeric address", host);
		return -1;
	}
	if (!number_in(port, 1, 65535)) {
		snprintf(why, len, "%s has no SSH port", host);
		return -1;
	}
	if (!cluster_files_key_valid(hk) || !cluster_files_key_valid(ck)) {
		snprintf(why, len, "%s has no valid host key and client key", host);
		return -1;
	}
	if (gpus && !cJSON_IsNull(gpus) && !number_in(gpus, 0, 4095)) {
		snprintf(why, len, "%s has a bad GPU count", host);
		return -1;
	}
	h->host = strdup(host);
	h->ip = strdup(ip);
	h->host_key = strdup(hk);
	h->client_key = strdup(ck);
	h->ts = jsonutil_str(e, "ts") ? strdup(jsonutil_str(e, "ts")) : NULL;
	h->port = (unsigned)port->valuedouble;
	h->gpus = cJSON_IsNumber(gpus) ? (unsigned)gpus->valuedouble : 0;
	h->ts_ms = number_in(ms, 0, 9.0e15) ? (int64_t)ms->valuedouble : 0;
	if (!h->host || !h->ip || !h->host_key || !h->client_key || (jsonutil_str(e, "ts") && !h->ts)) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	return 0;
}

static const struct roster_host *find(const struct roster *r, const char *host)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].host, host) == 0)
			return &r->v[i];
	return NULL;
}

int roster_parse(const char *msg, const char *job, char *const *hosts, size_t n_hosts, struct roster *out,
		 char *why, size_t len)
{
	cJSON *m = cJSON_Parse(msg);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, "hosts"), *e;
	const char *kind = jsonutil_str(m, "porthole"), *leader = jsonutil_str(m, "leader");
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(m) || !kind || strcmp(kind, ROSTER_KIND) != 0) {
		snprintf(why, len, "not a porthole roster");
		goto out;
	}
	if (!number_in(cJSON_GetObjectItemCaseSensitive(m, "version"), ROSTER_VERSION, ROSTER_VERSION)) {
		snprintf(why, len, "a roster of another version");
		goto out;
	}
	if (!jsonutil_str(m, "job") || strcmp(jsonutil_str(m, "job"), job) != 0) {
		snprintf(why, len, "a roster of another job");
		goto out;
	}
	if (!records_plain_name(leader) || !cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		snprintf(why, len, "a roster without its leader or hosts");
		goto out;
	}
	out->v = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*out->v));
	out->leader = strdup(leader);
	if (!out->v || !out->leader) {
		snprintf(why, len, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(e, arr) {
		struct roster_host h = { 0 };
		if (take_host(e, &h, why, len) < 0) {
			host_clear(&h);
			goto out;
		}
		if (find(out, h.host)) {
			snprintf(why, len, "%s is in the roster twice", h.host);
			host_clear(&h);
			goto out;
		}
		out->v[out->n++] = h;
	}
	for (size_t i = 0; i < n_hosts; i++)
		if (!find(out, hosts[i])) {
			snprintf(why, len, "the roster lacks %s", hosts[i]);
			goto out;
		}
	rc = 0;
out:
	if (rc < 0)
		roster_free(out);
	cJSON_Delete(m);
	return rc;
}

/* Whether two "TYPE BASE64 [comment]" keys are the same key. */
static bool same_key(const char *a, const char *b)
{
	size_t la, lb;

	if (!a || !b)
		return false;
	la = strcspn(a, " ");
	lb = strcspn(b, " ");
	if (la != lb || strncmp(a, b, la) != 0 || !a[la] || !b[lb])
		return false;
	a += la + 1;
	b += lb + 1;
	la = strcspn(a, " ");
	lb = strcspn(b, " ");
	return la == lb && la > 0 && strncmp(a, b, la) == 0;
}

int roster_holds(const struct roster *r, const struct roster_self *self, char *why, size_t len)
{
	const struct roster_host *me = find(r, self->host);

	if (!me) {
		snprintf(why, len, "the roster lacks this host (%s)", self->host);
		return -1;
	}
	if (!same_key(me->host_key, self->host_key) || !same_key(me->client_key, self->client_key)) {
		snprintf(why, len, "the roster has other keys for this host (%s): an earlier run's, or written before "
				   "this host published",
			 self->host);
		return -1;
	}
	return 0;
}

int roster_merge_page(const char *body, const struct roster_self *self, struct roster *best, char **next,
		      char *why, size_t len)
{
	cJSON *root = cJSON_Parse(body);
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events"), *e;
	const char *token = jsonutil_str(root, "nextForwardToken");
	int rejected = 0;

	*next = NULL;
	if (!cJSON_IsArray(events)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(e, events) {
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "timestamp");
		const char *msg = jsonutil_str(e, "message");
		struct roster r;
		if (!msg || !cJSON_IsNumber(ts)) {
			snprintf(why, len, "an event without message or timestamp");
			rejected++;
			continue;
		}
		if (roster_parse(msg, self->job, self->hosts, self->n_hosts, &r, why, len) < 0) {
			rejected++;
			continue;
		}
		if (roster_holds(&r, self, why, len) < 0) {
			roster_free(&r);
			rejected++;
			continue;
		}
		r.event_ms = jsonutil_int(ts, INT64_MIN, INT64_MAX, 0);
		/* Events come oldest first: on a tie the later one wins. */
		if (!best->n || r.event_ms >= best->event_ms) {
			roster_free(best);
			*best = r;
		} else {
			roster_free(&r);
		}
	}
	if (token && *token)
		*next = strdup(token);
	cJSON_Delete(root);
	return rejected;
}

size_t roster_peers(const struct roster *r, char *const *hosts, size_t n_hosts, struct cluster_peer *out)
{
	size_t n = 0;

	for (size_t i = 0; i < n_hosts; i++) {
		const struct roster_host *h = find(r, hosts[i]);
		if (h)
			out[n++] = (struct cluster_peer){ .host = hosts[i], .ip = h->ip, .host_key = h->host_key,
							  .client_key = h->client_key, .port = h->port, .gpus = h->gpus };
	}
	return n;
}
