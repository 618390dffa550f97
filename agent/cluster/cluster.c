/* SPDX-License-Identifier: Apache-2.0 */
/* cluster.c — see cluster.h. */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_files.h"
#include "cluster_helper.h"

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/relay.h"
#include "../lib/relay_reader.h"
#include "../lib/report.h"

#define KEY_TIMEOUT_MS 10000
#define MAX_LINE (64u << 10)

enum cl_state { CL_RENDEZVOUS, CL_READY, CL_FAILED };

struct cluster {
	struct reaper *reaper;
	char pending[4300];     /* CLUSTER_PENDING_FILE while undecided, else "" */
	pid_t pid;              /* the helper while it runs, else 0 */
	struct relay_reader *reader; /* its report pipe, until it ends */
	char *client_key;
	enum cl_state state;
	char reason[16], trust[16];
	unsigned hosts, expected;
	void (*done)(void *ud);  /* NULL until cluster_new returns */
	void *ud;
};

/* The rendezvous has decided: logins stop waiting for it (nettrust.h). */
static void decided(struct cluster *c)
{
	if (c->pending[0])
		unlink(c->pending);
	c->pending[0] = '\0';
}

static void finish(struct cluster *c, enum cl_state st, const char *reason, const char *trust, unsigned hosts)
{
	if (c->state != CL_RENDEZVOUS)
		return;
	decided(c);
	c->state = st;
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "");
	snprintf(c->trust, sizeof(c->trust), "%s", trust ? trust : "keys");
	c->hosts = hosts;
	/* Not during cluster_new: its caller has not decided yet what waits. */
	if (c->done)
		c->done(c->ud);
}

/* The three reports that are for PID 1 itself; the reader logs the others. */
static bool take_report(void *ud, const cJSON *o)
{
	struct cluster *c = ud;
	const char *ev = relay_event(o);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fields"), "hosts");

	if (!ev)
		return false;
	if (strcmp(ev, CLUSTER_KEY_EVENT) == 0) {
		const char *pub = relay_field(o, "pub");
		if (pub && !c->client_key && cluster_files_key_valid(pub))
			c->client_key = strdup(pub);
	} else if (strcmp(ev, CLUSTER_PROGRESS_EVENT) == 0) {
		if (cJSON_IsNumber(n) && c->state == CL_RENDEZVOUS)
			c->hosts = (unsigned)n->valuedouble;
	} else if (strcmp(ev, CLUSTER_RESULT_EVENT) == 0) {
		const char *state = relay_field(o, "state");
		finish(c, state && strcmp(state, "ready") == 0 ? CL_READY : CL_FAILED, relay_field(o, "reason"),
		       relay_field(o, "trust"), cJSON_IsNumber(n) ? (unsigned)n->valuedouble : 0);
	} else {
		return false;
	}
	return true;
}

/* The helper's pipe ended: without a result, the rendezvous failed. */
static void ended(void *ud)
{
	struct cluster *c = ud;

	decided(c);
	if (c->state != CL_RENDEZVOUS)
		return;
	if (c->client_key)
		log_error("cluster SSH: the helper process ended without a result; the training starts without "
			  "cluster SSH");
	else
		log_error("cluster SSH: the helper process ended without a client key; the training starts "
			  "without cluster SSH");
	finish(c, CL_FAILED, "setup", NULL, c->hosts);
}

static void on_helper_exit(void *ud, pid_t pid, int wstatus)
{
	struct cluster *c = ud;
	(void)pid;
	(void)wstatus;

	c->pid = 0;
}

static void stop_helper(struct cluster *c)
{
	if (c->pid > 0) {
		reaper_unwatch(c->reaper, c->pid);
		kill(c->pid, SIGKILL);
		c->pid = 0;
	}
}

__attribute__((noreturn)) static void child(int fd, const struct cluster_params *prm, uint64_t started)
{
	const struct identity *id = prm->id;
	struct cluster_job j = {
		.cfg = prm->cfg, .log_group = prm->log_group, .job = id->job, .host = id->host, .hosts = id->hosts, .n_hosts = id->n_hosts,
		.ip = id->ipv4, .host_key = prm->host_key ? prm->host_key : "", .port = prm->ssh_port,
		.gpus = id->gpus, .cw_off = prm->cw_off, .started_usec = started,
	};
	sigset_t none;

	/* Nothing of PID 1's (listening sockets, the control socket) stays
	 * open here; signals are PID 1's business, not blocked here. */
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	close_range(4, ~0u, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	report_init(3);
	_exit(cluster_helper_main(&j));
}

/* Whether cluster SSH is asked for and can run here; if not, says why. */
static bool can_run(const struct cluster_params *prm)
{
	if (!prm->cfg->enabled)
		return false;
	if (!prm->id->sagemaker) {
		log_warn("PORTHOLE_CLUSTER_SSH=1 outside a SageMaker training job (no %s/input/config/"
			 "resourceconfig.json names the job's hosts): cluster SSH is off",
			 prm->cfg->ml_root);
		return false;
	}
	if (!prm->ssh_port) {
		log_error("cluster SSH needs porthole's SSH endpoint, which is off (PORTHOLE_SSH) or did not start; "
			  "the training starts without cluster SSH");
		return false;
	}
	return true;
}

/* What an earlier porthole in this container trusted is not this one's. */
static void forget_earlier(const char *runtime_dir)
{
	char path[4300];

	cluster_files_path(runtime_dir, CLUSTER_KEYS_FILE, path, sizeof(path));
	unlink(path);
	cluster_files_path(runtime_dir, CLUSTER_TRUST_FILE, path, sizeof(path));
	unlink(path);
}

/* Logins that come before the rendezvous has decided wait for it. */
static void mark_pending(struct cluster *c, const char *runtime_dir)
{
	int fd;

	cluster_files_path(runtime_dir, CLUSTER_PENDING_FILE, c->pending, sizeof(c->pending));
	fd = open(c->pending, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		c->pending[0] = '\0';
	else
		close(fd);
}

/* Fork the helper and follow its report pipe on loop: 0, or -errno after
 * saying why. */
static int start_helper(struct cluster *c, sd_event *loop, const struct cluster_params *prm, uint64_t started)
{
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) < 0 || (c->pid = fork()) < 0) {
		rc = -errno;
		if (c->pid < 0) {
			close(p[0]);
			close(p[1]);
			c->pid = 0;
		}
		log_error("cluster SSH: cannot start its helper process: %s; the training starts without cluster SSH",
			  strerror(-rc));
		return rc;
	}
	if (c->pid == 0) {
		close(p[0]);
		child(p[1], prm, started);
	}
	close(p[1]);
	reaper_watch(c->reaper, c->pid, on_helper_exit, c);
	/* Open until the helper ends: it may report after its result. */
	rc = relay_reader_new(loop, p[0], MAX_LINE, take_report, ended, c, &c->reader);
	if (rc < 0)
		log_error("cluster SSH: cannot follow its helper process; the training starts without cluster SSH");
	return rc;
}

static bool key_or_decided(void *ud)
{
	const struct cluster *c = ud;

	return c->client_key || c->state != CL_RENDEZVOUS;
}

/* The key goes into the ready record, so wait for it here; blocking is
 * fine: this runs once, before the loop, and takes milliseconds. */
static void wait_for_key(struct cluster *c, uint64_t deadline)
{
	if (relay_reader_wait(c->reader, deadline, key_or_decided) == -ETIME)
		log_error("cluster SSH: no client key within %ds; the training starts without cluster SSH",
			  KEY_TIMEOUT_MS / 1000);
	if (c->client_key)
		return;
	/* The helper said why (its lines were logged), or it is stuck. */
	finish(c, CL_FAILED, "setup", "keys", 0);
	stop_helper(c);
}

int cluster_new(sd_event *loop, struct reaper *r, const struct cluster_params *prm, struct cluster **ret)
{
	uint64_t started = clock_mono_usec();
	struct cluster *c;
	int rc;

	*ret = NULL;
	if (!can_run(prm))
		return 0;
	forget_earlier(prm->cfg->runtime_dir);
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("cluster SSH: cannot start its helper process: %s; the training starts without cluster SSH",
			  strerror(ENOMEM));
		return -ENOMEM;
	}
	c->reaper = r;
	c->expected = (unsigned)prm->id->n_hosts;
	mark_pending(c, prm->cfg->runtime_dir);
	rc = start_helper(c, loop, prm, started);
	if (rc < 0) {
		cluster_free(c);
		return rc;
	}
	wait_for_key(c, started + KEY_TIMEOUT_MS * UINT64_C(1000));
	c->done = prm->done;
	c->ud = prm->ud;
	*ret = c;
	return 0;
}

bool cluster_pending(const struct cluster *c)
{
	return c && c->state == CL_RENDEZVOUS;
}

const char *cluster_client_key(const struct cluster *c)
{
	return c ? c->client_key : NULL;
}

void cluster_to_json(const struct cluster *c, cJSON *obj)
{
	static const char *const names[] = { "rendezvous", "ready", "failed" };
	cJSON *o = cJSON_AddObjectToObject(obj, "cluster");

	cJSON_AddStringToObject(o, "state", c ? names[c->state] : "off");
	if (!c)
		return;
	cJSON_AddNumberToObject(o, "hosts", c->hosts);
	cJSON_AddNumberToObject(o, "of", c->expected);
	if (c->state != CL_RENDEZVOUS)
		cJSON_AddStringToObject(o, "trust", c->trust);
	if (c->reason[0])
		cJSON_AddStringToObject(o, "reason", c->reason);
}

void cluster_stop(struct cluster *c)
{
	if (!c)
		return;
	decided(c);
	stop_helper(c);
	relay_reader_free(c->reader);
	c->reader = NULL;
	/* No result is coming: a rendezvous cut short failed. */
	c->done = NULL;
	finish(c, CL_FAILED, "stopped", NULL, c->hosts);
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	cluster_stop(c);
	free(c->client_key);
	free(c);
}
