/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_helper.c — see cluster_helper.h.  What it decides: rendezvous.h;
 * how often it polls: pace.h. */
#include "cluster_helper.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cluster_files.h"
#include "pace.h"
#include "rendezvous.h"
#include "roster.h"

#include "../cloudwatch/hosts_reader.h"
#include "../lib/clock.h"
#include "../lib/passwd.h"
#include "../lib/report.h"
#include "../ssh/hostkey.h"
#include "../ssh/sshlib.h"

#define MSEC (UINT64_C(1000))
#define RESOLVE_FIRST (250 * MSEC)
#define RESOLVE_MAX (5 * USEC_PER_SEC)
#define NAMES_GRACE (2 * 60 * USEC_PER_SEC) /* after the result, for the warning only */

struct helper {
	const struct cluster_job *j;
	struct rendezvous_job rj;   /* the job's hosts and this one, for the decisions */
	char *client_key;           /* this host's, as published */
	char ssh_dir[4096];
	uint64_t deadline;
	struct cluster_peer *peers; /* one per host, in resourceconfig order */
	char (*addr)[INET6_ADDRSTRLEN]; /* resolved names, "" until then */
};

static uint32_t rnd(void)
{
	return (uint32_t)random() ^ ((uint32_t)random() << 16);
}

static uint64_t jitter(uint64_t usec)
{
	return pace_jitter(usec, rnd());
}

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { .tv_sec = (time_t)(usec / USEC_PER_SEC), .tv_nsec = (long)(usec % USEC_PER_SEC) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* ---- this host's client key ----------------------------------------------------- */

#define WITHOUT "; the training starts without cluster SSH"

static int make_key(struct helper *h, char **pub)
{
	const struct cluster_job *j = h->j;
	struct passwd_entry pw;
	bool have_pw = passwd_by_uid(getuid(), &pw) == 0;
	char err[512], path[4200], pubpath[4300];
	struct hostkey hk;
	struct stat st;
	int rc;

	/* OpenSSH's ssh finds ~ in passwd too, not in $HOME. */
	if (!have_pw || !pw.dir[0]) {
		report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: user %u has no home directory in passwd" WITHOUT, getuid());
		return -1;
	}
	snprintf(h->ssh_dir, sizeof(h->ssh_dir), "%s/.ssh", pw.dir);
	if (mkdir(h->ssh_dir, 0700) < 0 && errno != EEXIST) {
		report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: cannot create %s: %s" WITHOUT, h->ssh_dir, strerror(errno));
		return -1;
	}
	if (stat(h->ssh_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: %s is not a directory" WITHOUT, h->ssh_dir);
		return -1;
	}
	if (sshlib_load(err, sizeof(err)) < 0 || hostkey_make(NULL, &hk, err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: cannot make a client key: %s" WITHOUT, err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" CLUSTER_KEY_NAME, h->ssh_dir);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	rc = asprintf(pub, "%s porthole-cluster@%s", hk.pub, j->host);
	if (rc < 0) {
		*pub = NULL;
		hostkey_free(&hk);
		return -1;
	}
	if (hostkey_write(&hk, path, err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: %s" WITHOUT, err);
		rc = -1;
	} else {
		char *line = NULL;
		rc = asprintf(&line, "%s\n", *pub) < 0 ? -ENOMEM : cluster_files_write(pubpath, line, 0644);
		free(line);
		if (rc < 0)
			report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: cannot write %s: %s" WITHOUT, pubpath, strerror(-rc));
	}
	hostkey_free(&hk);
	return rc < 0 ? -1 : 0;
}

/* ---- writing what is known ------------------------------------------------------ */

static void write_one(const char *path, char *text, mode_t mode, bool *ok)
{
	int rc = text ? cluster_files_write(path, text, mode) : -ENOMEM;

	if (rc < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "cluster SSH: cannot write %s: %s", path, strerror(-rc));
		*ok = false;
	}
	free(text);
}

static bool write_keys(struct helper *h, const struct cluster_peer *peers, size_t n)
{
	char path[4300];
	bool ok = true;

	cluster_files_path(h->j->cfg->runtime_dir, CLUSTER_KEYS_FILE, path, sizeof(path));
	write_one(path, cluster_files_authorized_keys(peers, n), 0600, &ok);
	return ok;
}

/* peers[0..n) into the four files; false after reporting a failure. */
static bool write_files(struct helper *h, const struct cluster_peer *peers, size_t n, bool strict)
{
	const struct cluster_job *j = h->j;
	char path[4300], *old = NULL, *block;
	size_t cap = 0;
	bool ok = true;
	FILE *f;

	if (strict)
		ok = write_keys(h, peers, n);
	snprintf(path, sizeof(path), "%s/" CLUSTER_KNOWN_HOSTS, h->ssh_dir);
	write_one(path, cluster_files_known_hosts(peers, n), 0600, &ok);

	snprintf(path, sizeof(path), "%s/config", h->ssh_dir);
	/* A config kept elsewhere (dotfiles) stays a link: its target is rewritten. */
	char *real = realpath(path, NULL);
	if (real) {
		snprintf(path, sizeof(path), "%s", real);
		free(real);
	}
	if ((f = fopen(path, "re"))) {
		ssize_t got = getdelim(&old, &cap, '\0', f);
		if (got < 0) {
			free(old);
			old = NULL;
		}
		fclose(f);
	}
	block = cluster_files_ssh_block(peers, n, strict, j->port);
	write_one(path, block ? cluster_files_config_merge(old, block) : NULL, 0600, &ok);
	free(block);
	free(old);

	if (j->cfg->hostfile)
		snprintf(path, sizeof(path), "%s", j->cfg->hostfile);
	else
		snprintf(path, sizeof(path), "%s/hostfile", j->cfg->ml_root);
	write_one(path, cluster_files_hostfile(peers, n), 0644, &ok);
	return ok;
}

static void result(const char *state, const char *reason, const char *trust, size_t hosts)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "state", state);
	if (reason)
		cJSON_AddStringToObject(f, "reason", reason);
	else
		cJSON_AddNullToObject(f, "reason");
	cJSON_AddStringToObject(f, "trust", trust);
	cJSON_AddNumberToObject(f, "hosts", (double)hosts);
	report_log(PLOG_DEBUG, CLUSTER_RESULT_EVENT, f, "cluster %s", state);
}

/* ---- names ---------------------------------------------------------------------- */

/* Look up the names not resolved yet, once each: how many are now. */
static size_t resolve_round(struct helper *h)
{
	const struct cluster_job *j = h->j;
	size_t n = 0;

	for (size_t i = 0; i < j->n_hosts; i++) {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
		if (!h->addr[i][0] && getaddrinfo(j->hosts[i], NULL, &hints, &ai) == 0 && ai) {
			/* IPv4 first: that is the address peers connect from. */
			const struct addrinfo *pick = ai;
			for (const struct addrinfo *a = ai; a; a = a->ai_next)
				if (a->ai_family == AF_INET) {
					pick = a;
					break;
				}
			if (getnameinfo(pick->ai_addr, pick->ai_addrlen, h->addr[i], sizeof(h->addr[i]), NULL, 0,
					NI_NUMERICHOST) != 0)
				h->addr[i][0] = '\0';
		}
		if (ai)
			freeaddrinfo(ai);
		n += h->addr[i][0] != '\0';
	}
	return n;
}

/* Retry until every name resolves or until `until`; how many did. */
static size_t resolve_all(struct helper *h, uint64_t until, void (*progress)(struct helper *h))
{
	uint64_t delay = RESOLVE_FIRST;
	size_t n = 0, last = 0;

	for (;;) {
		n = resolve_round(h);
		if (n != last && progress)
			progress(h);
		last = n;
		uint64_t now = clock_mono_usec();
		if (n == h->j->n_hosts || now >= until)
			return n;
		uint64_t nap = jitter(delay);
		sleep_usec(nap < until - now ? nap : until - now);
		delay = delay * 2 > RESOLVE_MAX ? RESOLVE_MAX : delay * 2;
	}
}

static void unresolved_list(struct helper *h, cJSON *arr, char *text, size_t len)
{
	size_t off = 0;

	text[0] = '\0';
	for (size_t i = 0; i < h->j->n_hosts; i++) {
		if (h->addr[i][0])
			continue;
		cJSON_AddItemToArray(arr, cJSON_CreateString(h->j->hosts[i]));
		if (off < len)
			off += (size_t)snprintf(text + off, len - off, "%s%s", off ? ", " : "", h->j->hosts[i]);
	}
}

/* After the training has started: tell about names that do not resolve. */
static void check_names(struct helper *h)
{
	char missing[1024];
	cJSON *f;

	uint64_t until = clock_mono_usec() + NAMES_GRACE;

	if (resolve_all(h, until < h->deadline ? until : h->deadline, NULL) == h->j->n_hosts)
		return;
	f = cJSON_CreateObject();
	unresolved_list(h, cJSON_AddArrayToObject(f, "unresolved"), missing, sizeof(missing));
	report_log(PLOG_WARN, "cluster_unresolved", f,
	       "cluster SSH: %s did not resolve; `ssh` still reaches the hosts through ~/.ssh/config (HostName), "
	       "tools that resolve the names themselves may not",
	       missing);
}

/* ---- network trust -------------------------------------------------------------- */

static void write_trust(struct helper *h)
{
	char path[4300], *text = NULL;
	size_t len = 0;
	bool ok = true;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	fprintf(f, "# porthole cluster SSH, PORTHOLE_CLUSTER_TRUST=network: the job's hosts' addresses\n");
	for (size_t i = 0; i < h->j->n_hosts; i++)
		if (h->addr[i][0])
			fprintf(f, "%s\n", h->addr[i]);
	if (fclose(f) != 0) {
		free(text);
		return;
	}
	cluster_files_path(h->j->cfg->runtime_dir, CLUSTER_TRUST_FILE, path, sizeof(path));
	write_one(path, text, 0600, &ok);
}

static int network_trust(struct helper *h, const char *why)
{
	const struct cluster_job *j = h->j;
	char missing[1024];
	size_t n;
	cJSON *f = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(f, "error", why);
	report_log(PLOG_WARN, "cluster_network_trust", f,
	       "cluster SSH: the job's records cannot be read (%s); PORTHOLE_CLUSTER_TRUST=network: logins with any "
	       "key are accepted from the addresses of the job's hosts, and their host keys are not verified "
	       "(StrictHostKeyChecking accept-new)",
	       why);
	n = resolve_all(h, h->deadline, write_trust);
	struct cluster_peer *peers = calloc(j->n_hosts, sizeof(*peers));
	if (!peers)
		return 1;
	for (size_t i = 0; i < j->n_hosts; i++)
		peers[i] = (struct cluster_peer){ .host = j->hosts[i], .ip = h->addr[i][0] ? h->addr[i] : NULL,
						  .port = j->port, .gpus = j->gpus };
	write_files(h, peers, j->n_hosts, false);
	free(peers);
	if (n < j->n_hosts) {
		f = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(f, "unresolved");
		unresolved_list(h, arr, missing, sizeof(missing));
		report_log(PLOG_ERROR, "cluster_unresolved", f,
		       "cluster SSH: %s did not resolve within PORTHOLE_RENDEZVOUS_TIMEOUT; logins from %s are not "
		       "trusted",
		       missing, n + 1 < j->n_hosts ? "them" : "it");
	}
	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "hosts", (double)n);
	cJSON_AddStringToObject(f, "trust", "network");
	cJSON_AddNumberToObject(f, "seconds", (double)(clock_mono_usec() - j->started_usec) / 1e6);
	report_log(PLOG_INFO, "cluster_ready", f, "cluster SSH: %zu of %zu hosts trusted by address", n, j->n_hosts);
	result("ready", NULL, "network", n);
	return 0;
}

/* ---- the records cannot be read -------------------------------------------------- */

/* Network trust if asked for, else no cluster SSH: what says why is named
 * by what (the setting, or the call that failed). */
static int unreadable(struct helper *h, const char *what, const char *why)
{
	struct rendezvous_result res = rendezvous_result(RENDEZVOUS_UNREADABLE, h->j->cfg->trust);
	cJSON *f;

	if (res.network_trust)
		return network_trust(h, why);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "error", why);
	report_log(PLOG_ERROR, "rendezvous_failed", f,
	       "cluster SSH: %s: %s; the training starts without cluster SSH (PORTHOLE_CLUSTER_TRUST=network would "
	       "trust the job's hosts by address)",
	       what, why);
	result(res.state, res.reason, "keys", 0);
	return 0;
}

/* ---- keys: what is known so far ------------------------------------------------- */

/* Say at debug level what is still missing, when that changes. */
static void say_waiting(struct helper *h, const struct hostset *set, char *last, size_t len)
{
	char now[1024];

	rendezvous_waiting(&h->rj, set, now, sizeof(now));
	if (strcmp(now, last) == 0)
		return;
	snprintf(last, len, "%s", now);
	report_log(PLOG_DEBUG, NULL, NULL, "cluster SSH: waiting for %s", now);
}

static void progress(size_t have)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "hosts", (double)have);
	report_log(PLOG_DEBUG, CLUSTER_PROGRESS_EVENT, f, "cluster SSH: %zu hosts known", have);
}

/* After a search of the records: true once every host is known (in
 * h->peers).  waiting: what say_waiting said last. */
static bool searched(struct helper *h, const struct hostset *set, struct rendezvous_poll *p, char *waiting,
		     size_t len)
{
	size_t have = rendezvous_peers(&h->rj, set, h->peers);
	enum rendezvous_found found = rendezvous_poll_fetched(p, have, h->j->n_hosts, clock_mono_usec(), rnd());

	if (found == RENDEZVOUS_FOUND_ALL)
		return true;
	say_waiting(h, set, waiting, len);
	if (found == RENDEZVOUS_FOUND_MORE) {
		/* Peers that are done may log in before this host is. */
		write_keys(h, h->peers, have);
		progress(have);
	}
	return false;
}

/* ---- the roster ------------------------------------------------------------------ */

/* A follower's reading of the leader's roster (roster.h). */
struct roster_read {
	char stream[1024];
	char *token;              /* where the next read continues; NULL: from the start */
	struct roster_self self;
	struct roster got;        /* the newest acceptable one; n 0 until then */
	char said[256];           /* the last rejection said, to say it once */
};

/* One GetLogEvents page of the roster's stream: true once an acceptable
 * roster is in rr->got; until then p says when to read again. */
static bool read_roster(struct hosts_reader *r, struct roster_read *rr, struct rendezvous_poll *p)
{
	char err[1024], why[256] = "", *body = NULL, *next = NULL;
	int rc = hosts_reader_get_events(r, rr->stream, rr->token, &body, err, sizeof(err));
	enum rendezvous_read how = RENDEZVOUS_READ_NONE;

	if (rc == 0) {
		int rejected = roster_merge_page(body, &rr->self, &rr->got, &next, why, sizeof(why));
		free(body);
		if (next) {
			free(rr->token);
			rr->token = next;
		}
		if (rejected > 0 && strcmp(why, rr->said) != 0) {
			snprintf(rr->said, sizeof(rr->said), "%s", why);
			report_log(PLOG_DEBUG, NULL, NULL, "cluster SSH: a roster in %s was ignored: %s", rr->stream, why);
		}
		if (rr->got.n)
			return true;
	} else if (rc == 1) {
		/* Not written yet (or deleted since: start again). */
		free(rr->token);
		rr->token = NULL;
	} else if (hosts_reader_throttled(r)) {
		how = RENDEZVOUS_READ_THROTTLED;
	} else if (hosts_reader_denied(r)) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "error", err);
		report_log(PLOG_WARN, "cluster_roster_unreadable", f,
		       "cluster SSH: cannot read the roster (%s); this host waits through FilterLogEvents alone, more "
		       "slowly (grant the job's role logs:GetLogEvents on the log group)",
		       err);
		how = RENDEZVOUS_READ_DENIED;
	} else {
		report_log(PLOG_DEBUG, NULL, NULL, "cluster SSH: reading the roster: %s", err);
		how = RENDEZVOUS_READ_FAILED;
	}
	rendezvous_poll_roster_read(p, how, clock_mono_usec(), rnd());
	return false;
}

/* The leader, having every host's record: hand them to the other hosts in
 * one event.  Failing only slows them down (they keep searching the
 * records themselves), so it is a warning. */
static void write_roster(struct helper *h, struct hosts_reader *r, const struct hostset *set)
{
	const struct cluster_job *j = h->j;
	struct roster_host *v = calloc(j->n_hosts, sizeof(*v));
	char stream[1024], err[1024] = "", *msg = NULL;
	struct timespec now;
	int rc = -1;

	if (!v || roster_stream(j->job, stream, sizeof(stream)) < 0) {
		snprintf(err, sizeof(err), "out of memory, or a job name too long");
		goto out;
	}
	for (size_t i = 0; i < j->n_hosts; i++) {
		const struct cluster_peer *p = &h->peers[i];
		const struct host_rec *rec = records_find(set, p->host);
		v[i] = (struct roster_host){ .host = (char *)p->host, .ip = (char *)p->ip,
					     .host_key = (char *)p->host_key, .client_key = (char *)p->client_key,
					     .port = p->port, .gpus = p->gpus, .ts = rec ? rec->ts : NULL,
					     .ts_ms = rec ? rec->ts_ms : 0 };
	}
	msg = roster_build(j->job, j->host, v, j->n_hosts);
	if (!msg) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	/* PutLogEvents takes events of 256 KiB at most, and the readers keep
	 * answers of 256 KiB, escaping included: about 600 hosts. */
	if (strlen(msg) > 200000) {
		snprintf(err, sizeof(err), "the roster of %zu hosts is larger than one log event may be", j->n_hosts);
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	rc = hosts_reader_put_event(r, stream, msg, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, err,
				    sizeof(err));
out:
	if (rc == 0) {
		report_log(PLOG_DEBUG, NULL, NULL, "cluster SSH: wrote the roster of %zu hosts to %s", j->n_hosts, stream);
	} else {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "error", err);
		report_log(PLOG_WARN, "cluster_roster_failed", f,
		       "cluster SSH: cannot write the roster for the other hosts (%s); they finish through "
		       "FilterLogEvents, more slowly (grant the job's role logs:CreateLogStream and logs:PutLogEvents "
		       "on the log group)",
		       err);
	}
	free(msg);
	free(v);
}

/* ---- polling ------------------------------------------------------------------- */

/* Poll until every host has published, an acceptable roster, the
 * deadline, or the records turning out unreadable (err then says why).
 * When each call is due: rendezvous.h. */
static enum rendezvous_end poll_records(struct helper *h, struct hosts_reader *r, struct hostset *set,
					struct roster_read *rr, struct rendezvous_poll *p, char *err, size_t len)
{
	char waiting[1024] = "";

	for (;;) {
		uint64_t now = clock_mono_usec(), wake;
		if (rendezvous_poll_roster_due(p, now) && read_roster(r, rr, p))
			return RENDEZVOUS_ROSTER;
		if (rendezvous_poll_filter_due(p, now)) {
			if (hosts_reader_fetch(r, set, err, len) < 0) {
				if (!rendezvous_poll_fetch_failed(p, hosts_reader_throttled(r), clock_mono_usec(), rnd()))
					return RENDEZVOUS_UNREADABLE;
			} else if (searched(h, set, p, waiting, sizeof(waiting))) {
				return RENDEZVOUS_ALL_RECORDS;
			}
		}
		now = clock_mono_usec();
		if (now >= p->deadline)
			return RENDEZVOUS_DEADLINE;
		wake = rendezvous_poll_wake(p);
		if (wake > now)
			sleep_usec(wake - now);
	}
}

/* ---- the end --------------------------------------------------------------------- */

static void report_timeout(struct helper *h, const struct hostset *set, size_t have)
{
	const struct cluster_job *j = h->j;
	char missing[1024], tmo[32];
	cJSON *f = cJSON_CreateObject();

	rendezvous_missing(&h->rj, set, cJSON_AddArrayToObject(f, "missing"), missing, sizeof(missing));
	cJSON_AddNumberToObject(f, "hosts", (double)have);
	cJSON_AddStringToObject(f, "setting", "PORTHOLE_RENDEZVOUS_TIMEOUT");
	cJSON_AddNumberToObject(f, "timeout_s", (double)j->cfg->rendezvous_timeout);
	snprintf(tmo, sizeof(tmo), "%llus", (unsigned long long)j->cfg->rendezvous_timeout);
	report_log(PLOG_ERROR, "rendezvous_timeout", f,
	       "cluster SSH: %s published no SSH keys within %s (PORTHOLE_RENDEZVOUS_TIMEOUT); SSH is set up "
	       "for the %zu host%s that did, and the training starts now",
	       missing, tmo, have, have == 1 ? "" : "s");
}

static void report_ready(struct helper *h, size_t have, const char *via)
{
	double waited = (double)(clock_mono_usec() - h->j->started_usec) / 1e6;
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "hosts", (double)have);
	cJSON_AddStringToObject(f, "trust", "keys");
	cJSON_AddNumberToObject(f, "seconds", waited);
	cJSON_AddStringToObject(f, "via", via);
	report_log(PLOG_INFO, "cluster_ready", f, "cluster SSH: all %zu hosts published their keys after %.1fs", have,
		   waited);
}

/* Write the files for the hosts known at the end, and report the result. */
static void conclude(struct helper *h, enum rendezvous_end end, const struct hostset *set, const struct roster *ros)
{
	struct rendezvous_result res = rendezvous_result(end, h->j->cfg->trust);
	size_t have;

	if (end == RENDEZVOUS_ROSTER) {
		have = rendezvous_roster_peers(&h->rj, ros, h->peers);
		report_log(PLOG_DEBUG, NULL, NULL, "cluster SSH: %s's roster names all %zu hosts", ros->leader, have);
	} else {
		have = rendezvous_peers(&h->rj, set, h->peers);
	}
	if (res.write_files)
		write_files(h, h->peers, have, true);
	if (end == RENDEZVOUS_DEADLINE)
		report_timeout(h, set, have);
	else
		report_ready(h, have, res.via);
	result(res.state, res.reason, "keys", have);
}

/* Wait for every host's keys, then write the files.  A peer that finishes
 * first may log in here before this host has its key: that login waits for
 * the result (nettrust.h), so no second round of polls is needed. */
static int rendezvous(struct helper *h)
{
	const struct cluster_job *j = h->j;
	struct hosts_reader *r = NULL;
	struct hostset set = { 0 };
	struct rendezvous_poll poll;
	enum rendezvous_end end = RENDEZVOUS_UNREADABLE;
	struct roster_read rr = {
		.self = { .job = j->job, .host = j->host, .host_key = j->host_key, .client_key = h->client_key,
			  .hosts = j->hosts, .n_hosts = j->n_hosts },
	};
	char err[1024] = "";
	bool follow = rendezvous_role(&h->rj) == RENDEZVOUS_FOLLOWER &&
		      roster_stream(j->job, rr.stream, sizeof(rr.stream)) == 0;

	rendezvous_poll_init(&poll, j->n_hosts, follow, clock_mono_usec(), h->deadline);
	if (hosts_reader_new(j->log_group, j->job, &r, err, sizeof(err)) == 0) {
		hosts_reader_paced(r);
		end = poll_records(h, r, &set, &rr, &poll, err, sizeof(err));
		/* First: the other hosts are waiting for it. */
		if (rendezvous_writes_roster(&h->rj, end))
			write_roster(h, r, &set);
	}
	hosts_reader_free(r);
	free(rr.token);
	if (end != RENDEZVOUS_UNREADABLE)
		conclude(h, end, &set, &rr.got);
	roster_free(&rr.got);
	records_free(&set);
	if (end == RENDEZVOUS_UNREADABLE)
		return unreadable(h, "cannot read the job's records from CloudWatch", err);
	check_names(h);
	return 0;
}

int cluster_helper_main(const struct cluster_job *j)
{
	struct helper h = { .j = j, .deadline = j->started_usec + j->cfg->rendezvous_timeout * USEC_PER_SEC };
	char *pub = NULL;
	int rc;

	srandom((unsigned)getpid() ^ (unsigned)clock_mono_usec());
	if (make_key(&h, &pub) < 0) {
		free(pub);
		result("failed", "setup", "keys", 0);
		return 1;
	}
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "pub", pub);
	report_log(PLOG_DEBUG, CLUSTER_KEY_EVENT, f, "client key made");
	h.client_key = pub;
	h.rj = (struct rendezvous_job){
		.hosts = j->hosts, .n_hosts = j->n_hosts,
		.self = { .host = j->host, .ip = j->ip, .host_key = j->host_key, .client_key = pub, .port = j->port,
			  .gpus = j->gpus },
	};

	h.peers = calloc(j->n_hosts, sizeof(*h.peers));
	h.addr = calloc(j->n_hosts, sizeof(*h.addr));
	if (!h.peers || !h.addr) {
		rc = 1;
		result("failed", "setup", "keys", 0);
	} else if (j->cw_off) {
		rc = unreadable(&h, "the job's records cannot be read", j->cw_off);
	} else {
		rc = rendezvous(&h);
	}
	free(h.peers);
	free(h.addr);
	free(h.client_key);
	return rc;
}
