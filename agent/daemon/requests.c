/* SPDX-License-Identifier: Apache-2.0 */
/* requests.c — what the control socket's commands do to a running porthole. */
#include "requests.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#include "../init/spawn.h"
#include "../lib/clock.h"
#include "../lib/duration.h"
#include "../lib/log.h"
#include "../lib/version.h"

/* What a client connection holds on to. */
struct client {
	struct porthole *p;
	struct control_conn *conn;
	struct hold_wait *wait; /* breakpoint or hold it is blocked on */
	bool attached;          /* counted as a session */
};

static struct client *client_of(struct porthole *p, struct control_conn *c)
{
	struct client *cl = control_conn_get_data(c);

	if (!cl) {
		cl = calloc(1, sizeof(*cl));
		if (!cl)
			return NULL;
		cl->p = p;
		cl->conn = c;
		control_conn_set_data(c, cl);
	}
	return cl;
}

static cJSON *ok(void)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 1);
	return r;
}

cJSON *requests_status_json(const struct porthole *p)
{
	cJSON *r = ok(), *cmd;

	cJSON_AddStringToObject(r, "version", PORTHOLE_VERSION);
	cJSON_AddNumberToObject(r, "pid", getpid());
	cJSON_AddStringToObject(r, "state", phase_name(p->phase));
	cJSON_AddStringToObject(r, "job", p->id.job);
	cJSON_AddStringToObject(r, "host", p->id.host);
	if (p->id.ipv4[0])
		cJSON_AddStringToObject(r, "ip", p->id.ipv4);
	else
		cJSON_AddNullToObject(r, "ip");
	cmd = cJSON_AddArrayToObject(r, "command");
	for (char **a = p->argv; a && *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	if (p->child)
		cJSON_AddNumberToObject(r, "command_pid", p->child);
	if (p->ended) {
		char how[128];
		spawn_describe_status(p->wstatus, how, sizeof(how));
		cJSON_AddNumberToObject(r, "exit_code", p->exit_code);
		cJSON_AddStringToObject(r, "exit", how);
	}
	cJSON_AddStringToObject(r, "hold", config_hold_policy_name(p->cfg.hold.policy));
	cJSON_AddNumberToObject(r, "window_s", (double)p->cfg.hold.window);
	cJSON_AddNumberToObject(r, "idle_grace_s", (double)p->cfg.hold.idle_grace);
	cJSON_AddNumberToObject(r, "max_hold_s", (double)p->cfg.hold.max_hold);
	cJSON_AddNumberToObject(r, "uptime_s", (double)((clock_mono_usec() - p->started_usec) / USEC_PER_SEC));
	hold_status(p->hold, r);
	cluster_to_json(p->cluster, r);
	return r;
}

static void on_wait_done(void *ud, struct hold_wait *w, enum wait_end why)
{
	struct client *cl = ud;
	cJSON *r = ok();
	(void)w;

	cl->wait = NULL;
	cJSON_AddStringToObject(r, "ended", hold_end_name(why));
	control_reply(cl->conn, r);
}

/* Seconds from a "timeout"/"window"/"duration" member: a number of seconds
 * or a duration string, at most DURATION_MAX_SEC (100 years), so that the
 * conversion to int64_t and to microseconds never overflows.  Absent:
 * dflt.  -1 if present but invalid, -2 if too large. */
static int64_t seconds_member(const cJSON *req, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	uint64_t sec;
	int rc;

	if (!v || cJSON_IsNull(v))
		return dflt;
	if (cJSON_IsNumber(v)) {
		/* Comparisons first: NaN fails both, and a double past INT64_MAX
		 * must never reach the cast. */
		if (!(v->valuedouble >= 0))
			return -1;
		if (!(v->valuedouble <= (double)DURATION_MAX_SEC))
			return -2;
		return (int64_t)v->valuedouble;
	}
	if (!cJSON_IsString(v))
		return -1;
	rc = duration_parse(v->valuestring, &sec);
	if (rc == -ERANGE)
		return -2;
	return rc == 0 ? (int64_t)sec : -1;
}

#define TOO_LONG "at most 100 years (36500d)"

static void do_wait(struct porthole *p, struct control_conn *c, const cJSON *req, enum wait_kind kind)
{
	struct client *cl = client_of(p, c);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "name");
	int64_t sec = seconds_member(req, kind == WAIT_BREAKPOINT ? "timeout" : "window", (int64_t)p->cfg.hold.window);

	if (!cl) {
		control_reply_error(c, "out of memory");
		return;
	}
	if (sec < 0) {
		control_reply_error(c, "%s: expected a duration such as 90s, 30m or 1h30m%s",
				    kind == WAIT_BREAKPOINT ? "timeout" : "window", sec == -2 ? ", " TOO_LONG : "");
		return;
	}
	if (cl->wait) {
		control_reply_error(c, "this connection is already waiting");
		return;
	}
	/* After `porthole release` nothing holds any more. */
	if (hold_was_released(p->hold) || p->phase == PHASE_EXITING) {
		cJSON *r = ok();
		cJSON_AddStringToObject(r, "ended", "release");
		control_reply(c, r);
		return;
	}
	cl->wait = hold_wait_begin(p->hold, kind, cJSON_IsString(name) ? name->valuestring : NULL,
				   (uint64_t)sec * USEC_PER_SEC, on_wait_done, cl);
	if (!cl->wait)
		control_reply_error(c, "out of memory");
}

static void do_release(struct porthole *p, struct control_conn *c)
{
	int n = hold_release(p->hold);
	cJSON *r = ok();

	cJSON_AddNumberToObject(r, "ended", n);
	if (p->phase == PHASE_TRAINING)
		cJSON_AddStringToObject(r, "note", "the training command is running; no hold will follow it");
	control_reply(c, r);
}

static void do_extend(struct porthole *p, struct control_conn *c, const cJSON *req)
{
	int64_t sec = seconds_member(req, "duration", -1);
	int n;

	if (sec <= 0) {
		control_reply_error(c, "extend: expected a positive duration such as 15m or 1h%s",
				    sec == -2 ? ", " TOO_LONG : "");
		return;
	}
	if (!hold_active(p->hold, WAIT_BEFORE) && !hold_active(p->hold, WAIT_BREAKPOINT) &&
	    !hold_active(p->hold, WAIT_AFTER)) {
		control_reply_error(c, "nothing is holding (state: %s); extend applies to an active hold or breakpoint",
				    phase_name(p->phase));
		return;
	}
	n = hold_extend(p->hold, (uint64_t)sec * USEC_PER_SEC);
	cJSON *r = requests_status_json(p);
	cJSON_AddNumberToObject(r, "extended", n);
	control_reply(c, r);
}

static void do_continue(struct porthole *p, struct control_conn *c, const cJSON *req)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "name");
	const char *n = cJSON_IsString(name) && *name->valuestring ? name->valuestring : NULL;
	int ended = hold_continue(p->hold, n);

	if (!ended) {
		control_reply_error(c, "nothing to continue: no before-start hold or breakpoint%s%s is waiting (state: %s)",
				    n ? " named " : "", n ? n : "", phase_name(p->phase));
		return;
	}
	cJSON *r = ok();
	cJSON_AddNumberToObject(r, "ended", ended);
	control_reply(c, r);
}

static void do_attach(struct porthole *p, struct control_conn *c)
{
	struct client *cl = client_of(p, c);

	if (!cl) {
		control_reply_error(c, "out of memory");
		return;
	}
	if (!cl->attached) {
		cl->attached = true;
		hold_session_opened(p->hold);
	}
	cJSON *r = ok();
	cJSON_AddNumberToObject(r, "sessions", hold_sessions(p->hold));
	control_reply(c, r);
}

/* Hidden, for tests and benchmarks (no CLI command): log `count` warnings
 * (or errors) "MSG N", as porthole's own would be, through every log sink. */
static void do_log(struct control_conn *c, const cJSON *req)
{
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(req, "msg");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(req, "count");
	const cJSON *level = cJSON_GetObjectItemCaseSensitive(req, "level");
	enum plog_level lvl = PLOG_WARN;
	double n = cJSON_IsNumber(count) ? count->valuedouble : 1;

	if (!cJSON_IsString(msg) || n < 1 || n > 1000000 ||
	    (level && (!cJSON_IsString(level) || log_level_parse(level->valuestring, &lvl) < 0))) {
		control_reply_error(c, "log: expected {\"msg\": TEXT, \"count\": 1..1000000, \"level\": LEVEL}");
		return;
	}
	for (int i = 1; i <= (int)n; i++)
		log_msg(lvl, "%s %d", msg->valuestring, i);
	control_reply(c, ok());
}

static void on_request(void *ud, struct control_conn *c, const cJSON *req)
{
	struct porthole *p = ud;
	const char *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd")->valuestring;

	if (strcmp(cmd, "status") == 0)
		control_reply(c, requests_status_json(p));
	else if (strcmp(cmd, "release") == 0)
		do_release(p, c);
	else if (strcmp(cmd, "extend") == 0)
		do_extend(p, c, req);
	else if (strcmp(cmd, "continue") == 0)
		do_continue(p, c, req);
	else if (strcmp(cmd, "breakpoint") == 0)
		do_wait(p, c, req, WAIT_BREAKPOINT);
	else if (strcmp(cmd, "hold") == 0)
		do_wait(p, c, req, WAIT_AFTER);
	else if (strcmp(cmd, "attach") == 0)
		do_attach(p, c);
	else if (strcmp(cmd, "log") == 0)
		do_log(c, req);
	else
		control_reply_error(c, "unknown command \"%s\"", cmd);
}

static void on_close(void *ud, struct control_conn *c)
{
	struct porthole *p = ud;
	struct client *cl = control_conn_get_data(c);

	if (!cl)
		return;
	if (cl->wait)
		hold_wait_cancel(cl->wait);
	if (cl->attached)
		hold_session_closed(p->hold);
	free(cl);
}

void requests_handler(struct porthole *p, struct control_handler *out)
{
	out->request = on_request;
	out->on_close = on_close;
	out->ud = p;
}
