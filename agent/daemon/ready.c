/* SPDX-License-Identifier: Apache-2.0 */
/* ready.c — the ready record: one human line and one JSON line on stderr,
 * which SageMaker and Docker put in the training log with stdout; stdout is
 * the command's alone.  With --ready-fd the JSON line goes to that fd too.
 * The JSON schema is documented in docs/ready-record.md; bump READY_SCHEMA
 * on any incompatible change. */
#include "ready.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cloudwatch/cwpub.h"
#include "../lib/clock.h"
#include "../lib/duration.h"
#include "../lib/log.h"
#include "../lib/version.h"
#include "../ssm/ssm.h"

cJSON *ready_json(const struct porthole *p)
{
	cJSON *o = cJSON_CreateObject();
	char ts[32];

	clock_real_iso(clock_real_usec(), ts, sizeof(ts));
	cJSON_AddStringToObject(o, "porthole", "ready");
	cJSON_AddNumberToObject(o, "schema", READY_SCHEMA);
	cJSON_AddStringToObject(o, "version", PORTHOLE_VERSION);
	cJSON_AddStringToObject(o, "ts", ts);
	identity_to_json(&p->id, o);
	/* port, host_key and fingerprint stay null while no SSH endpoint listens. */
	const struct hostkey *hk = sshd_hostkey(p->sshd);
	if (sshd_port(p->sshd))
		cJSON_AddNumberToObject(o, "port", sshd_port(p->sshd));
	else
		cJSON_AddNullToObject(o, "port");
	if (hk) {
		cJSON_AddStringToObject(o, "host_key", hk->pub);
		cJSON_AddStringToObject(o, "fingerprint", hk->fingerprint);
	} else {
		cJSON_AddNullToObject(o, "host_key");
		cJSON_AddNullToObject(o, "fingerprint");
	}
	/* Cluster SSH's client key: the job's other hosts authorize it. */
	if (cluster_client_key(p->cluster))
		cJSON_AddStringToObject(o, "client_key", cluster_client_key(p->cluster));
	else
		cJSON_AddNullToObject(o, "client_key");
	/* Peers wait until every host says it accepts their keys. */
	cluster_to_json(p->cluster, o);
	cJSON_AddStringToObject(o, "state", phase_name(p->phase));
	cJSON_AddStringToObject(o, "hold", config_hold_policy_name(p->cfg.hold.policy));
	cJSON_AddNumberToObject(o, "window_s", (double)p->cfg.hold.window);
	cJSON *st = cJSON_CreateObject();
	hold_status(p->hold, st);
	const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "waits"), 0);
	const cJSON *d = w ? cJSON_GetObjectItem(w, "deadline") : NULL;
	if (cJSON_IsString(d))
		cJSON_AddStringToObject(o, "deadline", d->valuestring);
	else
		cJSON_AddNullToObject(o, "deadline");
	cJSON_Delete(st);
	ssm_to_json(p->ssm, o);
	/* Where porthole's own events go; null when it does not publish. */
	if (cwpub_group(p->cwpub)) {
		cJSON_AddStringToObject(o, "log_group", cwpub_group(p->cwpub));
		cJSON_AddStringToObject(o, "log_stream", cwpub_stream(p->cwpub));
	} else {
		cJSON_AddNullToObject(o, "log_group");
		cJSON_AddNullToObject(o, "log_stream");
	}
	cJSON_AddNumberToObject(o, "pid", getpid());
	return o;
}

/* All of text, or -errno. */
static int write_all(int fd, const char *text)
{
	size_t len = strlen(text);

	while (len) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

void ready_announce(struct porthole *p)
{
	cJSON *o = ready_json(p);
	char *line = cJSON_PrintUnformatted(o), *text = NULL;
	char win[32], ssh[160] = "; no SSH";
	const struct identity *id = &p->id;
	const struct hostkey *hk = sshd_hostkey(p->sshd);

	duration_format(p->cfg.hold.window, win, sizeof(win));
	if (sshd_port(p->sshd) && hk)
		snprintf(ssh, sizeof(ssh), "; ssh port %u, host key %s", sshd_port(p->sshd), hk->fingerprint);
	/* Both lines in one write, so nothing comes between them. */
	if (asprintf(&text,
		     "porthole %s ready: job %s, host %s (%zu host%s), ip %s%s; hold %s, window %s%s; "
		     "`porthole status` shows the state\n%s%s",
		     PORTHOLE_VERSION, id->job, id->host, id->n_hosts, id->n_hosts == 1 ? "" : "s",
		     id->ipv4[0] ? id->ipv4 : "unknown", ssh, config_hold_policy_name(p->cfg.hold.policy), win,
		     p->before ? "; waiting for `porthole continue` before starting the command"
		     : cluster_pending(p->cluster) ? "; waiting for the job's hosts (PORTHOLE_CLUSTER_SSH) before "
						     "starting the command"
						   : "",
		     line ? line : "", line ? "\n" : "") < 0)
		text = NULL;
	if (text)
		write_all(STDERR_FILENO, text);
	if (p->ready_fd >= 0) {
		char *json = NULL;
		int rc = line && asprintf(&json, "%s\n", line) >= 0 ? write_all(p->ready_fd, json) : -ENOMEM;
		if (rc < 0)
			log_warn("cannot write the ready record to --ready-fd %d: %s", p->ready_fd, strerror(-rc));
		free(json);
		/* Closed, so a reader sees the end of it; 1 and 2 stay the log. */
		if (p->ready_fd > 2)
			close(p->ready_fd);
		p->ready_fd = -1;
	}
	/* The same record goes to the log sinks (CloudWatch) as an event. */
	log_event(PLOG_DEBUG, "ready", o, "ready");
	free(text);
	free(line);
}
