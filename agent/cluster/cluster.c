/* SPDX-License-Identifier: Apache-2.0 */
/* cluster.c — see cluster.h. */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_files.h"
#include "cluster_helper.h"

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/relay.h"
#include "../lib/report.h"

#define KEY_TIMEOUT_MS 10000
#define MAX_LINE (64u << 10)

enum cl_state { CL_RENDEZVOUS, CL_READY, CL_FAILED };

struct cluster {
	struct reaper *reaper;
	char pending[4300];     /* CLUSTER_PENDING_FILE while undecided, else "" */
	pid_t pid;              /* the helper while it runs, else 0 */
	int fd;
	sd_event_source *io;
	struct relay_lines lines;  /* from the helper's report pipe */
	char *client_key;
	enum cl_state state;
	char reason[16], trust[16];
	unsigned hosts, expected;
	void (*done)(void *ud);
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
	/* Not during cluster_start: its caller has not decided yet what waits. */
	if (c->io && c->done)
		c->done(c->ud);
}

static void take_line(void *ud, const char *line)
{
	struct cluster *c = ud;
	cJSON *o = relay_parse(line);
	const char *ev = o ? relay_event(o) : NULL;

	if (ev && strcmp(ev, CLUSTER_KEY_EVENT) == 0) {
		const char *pub = relay_field(o, "pub");
		if (pub && !c->client_key && cluster_files_key_valid(pub))
			c->client_key = strdup(pub);
	} else if (ev && strcmp(ev, CLUSTER_PROGRESS_EVENT) == 0) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fields"), "hosts");
		if (cJSON_IsNumber(n) && c->state == CL_RENDEZVOUS)
			c->hosts = (unsigned)n->valuedouble;
	} else if (ev && strcmp(ev, CLUSTER_RESULT_EVENT) == 0) {
		const char *state = relay_field(o, "state");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fields"), "hosts");
		finish(c, state && strcmp(state, "ready") == 0 ? CL_READY : CL_FAILED, relay_field(o, "reason"),
		       relay_field(o, "trust"), cJSON_IsNumber(n) ? (unsigned)n->valuedouble : 0);
	} else if (o) {
		relay_log(o);
	}
	cJSON_Delete(o);
}

/* Read what is there: 1 while the pipe is open, 0 at its end. */
static int feed(struct cluster *c)
{
	char chunk[4096];
	ssize_t n = read(c->fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	int rc = relay_lines_add(&c->lines, chunk, (size_t)n, MAX_LINE, take_line, c);
	if (rc == -E2BIG)
		/* No line of the helper's is this long: drop, do not grow. */
		relay_lines_clear(&c->lines);
	else if (rc < 0)
		return 0;
	return 1;
}

static void ended(struct cluster *c)
{
	c->io = sd_event_source_disable_unref(c->io);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	decided(c);
	if (c->state == CL_RENDEZVOUS) {
		log_error("cluster SSH: the helper process ended without a result; the training starts without "
			  "cluster SSH");
		/* Called directly: io is gone, so finish() would not. */
		c->state = CL_FAILED;
		snprintf(c->reason, sizeof(c->reason), "setup");
		if (c->done)
			c->done(c->ud);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct cluster *c = ud;
	(void)s;
	(void)fd;
	(void)revents;

	if (!feed(c))
		ended(c);
	return 0;
}

static void on_helper_exit(void *ud, pid_t pid, int wstatus)
{
	struct cluster *c = ud;
	(void)pid;
	(void)wstatus;

	c->pid = 0;
}

static void child(int fd, const struct cluster_params *prm, uint64_t started)
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

struct cluster *cluster_start(sd_event *loop, struct reaper *r, const struct cluster_params *prm)
{
	const struct cluster_settings *cfg = prm->cfg;
	uint64_t started = clock_mono_usec(), deadline = started + KEY_TIMEOUT_MS * UINT64_C(1000);
	char path[4300];
	struct cluster *c;
	int p[2];

	if (!cfg->enabled)
		return NULL;
	if (!prm->id->sagemaker) {
		log_warn("PORTHOLE_CLUSTER_SSH=1 outside a SageMaker training job (no %s/input/config/"
			 "resourceconfig.json names the job's hosts): cluster SSH is off",
			 cfg->ml_root);
		return NULL;
	}
	if (!prm->ssh_port) {
		log_error("cluster SSH needs porthole's SSH endpoint, which is off (PORTHOLE_SSH) or did not start; "
			  "the training starts without cluster SSH");
		return NULL;
	}
	/* What an earlier porthole in this container trusted is not this one's. */
	cluster_files_path(cfg->runtime_dir, CLUSTER_KEYS_FILE, path, sizeof(path));
	unlink(path);
	cluster_files_path(cfg->runtime_dir, CLUSTER_TRUST_FILE, path, sizeof(path));
	unlink(path);

	c = calloc(1, sizeof(*c));
	if (c) {
		int fd;
		cluster_files_path(cfg->runtime_dir, CLUSTER_PENDING_FILE, c->pending, sizeof(c->pending));
		fd = open(c->pending, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			c->pending[0] = '\0';
		else
			close(fd);
	}
	if (!c || pipe2(p, O_CLOEXEC) < 0 || (c->pid = fork()) < 0) {
		log_error("cluster SSH: cannot start its helper process: %s; the training starts without cluster SSH",
			  strerror(errno));
		if (c)
			decided(c);
		free(c);
		return NULL;
	}
	if (c->pid == 0) {
		close(p[0]);
		free(c);
		child(p[1], prm, started);
	}
	close(p[1]);
	c->fd = p[0];
	c->reaper = r;
	c->expected = (unsigned)prm->id->n_hosts;
	c->done = prm->done;
	c->ud = prm->ud;
	reaper_watch(r, c->pid, on_helper_exit, c);

	/* The key goes into the ready record, so wait for it here; blocking
	 * is fine: this runs once, before the loop, and takes milliseconds. */
	while (!c->client_key && c->state == CL_RENDEZVOUS) {
		uint64_t now = clock_mono_usec();
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000) + 1) == 0) {
			log_error("cluster SSH: no client key within %ds; the training starts without cluster SSH",
				  KEY_TIMEOUT_MS / 1000);
			break;
		}
		if (!feed(c))
			break;
	}
	if (!c->client_key) {
		/* The helper said why (its lines were logged), or it is stuck. */
		if (c->state == CL_RENDEZVOUS && c->pid > 0 && clock_mono_usec() < deadline)
			log_error("cluster SSH: the helper process ended without a client key; the training starts "
				  "without cluster SSH");
		finish(c, CL_FAILED, "setup", "keys", 0);
		if (c->pid > 0) {
			reaper_unwatch(r, c->pid);
			kill(c->pid, SIGKILL);
			c->pid = 0;
		}
	}
	/* Open until the helper ends: it may report after its result. */
	if (sd_event_add_io(loop, &c->io, c->fd, EPOLLIN, on_io, c) < 0) {
		log_error("cluster SSH: cannot follow its helper process; the training starts without cluster SSH");
		cluster_free(c);
		return NULL;
	}
	return c;
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
	if (c->pid > 0) {
		reaper_unwatch(c->reaper, c->pid);
		kill(c->pid, SIGKILL);
		c->pid = 0;
	}
	c->io = sd_event_source_disable_unref(c->io);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	/* No result is coming: a rendezvous cut short failed. */
	c->done = NULL;
	finish(c, CL_FAILED, "stopped", NULL, c->hosts);
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	cluster_stop(c);
	relay_lines_clear(&c->lines);
	free(c->client_key);
	free(c);
}
