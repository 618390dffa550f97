/* SPDX-License-Identifier: Apache-2.0 */
/* ready.c — the ready record: one human line and one JSON line on stdout,
 * which SageMaker ships to CloudWatch with the training log.  The JSON
 * schema is documented in docs/ready-record.md; bump READY_SCHEMA on any
 * incompatible change. */
#include "ready.h"

#include <stdio.h>
#include <stdlib.h>
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

void ready_announce(const struct porthole *p)
{
	cJSON *o = ready_json(p);
	char *line = cJSON_PrintUnformatted(o);
	char win[32], ssh[160] = "; no SSH";
	const struct identity *id = &p->id;
	const struct hostkey *hk = sshd_hostkey(p->sshd);

	duration_format(p->cfg.hold.window, win, sizeof(win));
	if (sshd_port(p->sshd) && hk)
		snprintf(ssh, sizeof(ssh), "; ssh port %u, host key %s", sshd_port(p->sshd), hk->fingerprint);
	printf("porthole %s ready: job %s, host %s (%zu host%s), ip %s%s; hold %s, window %s%s; "
	       "`porthole status` shows the state\n",
	       PORTHOLE_VERSION, id->job, id->host, id->n_hosts, id->n_hosts == 1 ? "" : "s",
	       id->ipv4[0] ? id->ipv4 : "unknown", ssh, config_hold_policy_name(p->cfg.hold.policy), win,
	       p->before ? "; waiting for `porthole continue` before starting the command"
	       : cluster_pending(p->cluster) ? "; waiting for the job's hosts (PORTHOLE_CLUSTER_SSH) before starting "
					       "the command"
					     : "");
	if (line)
		printf("%s\n", line);
	fflush(stdout);
	/* The same record goes to the log sinks (CloudWatch) as an event. */
	log_event(PLOG_DEBUG, "ready", o, "ready");
	free(line);
}
