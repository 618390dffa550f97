/* SPDX-License-Identifier: Apache-2.0 */
/* ssm.c — see ssm.h.  One step at a time, all from the loop: find the
 * agent, get an activation, register, tag, run and supervise the agent;
 * at exit stop it and deregister.  Every failure is said once, with what
 * to do about it, and ends only the SSM endpoint. */
#include "ssm.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssm_api.h"
#include "ssm_child.h"
#include "ssm_log.h"
#include "ssm_sessions.h"

#include "../aws/awsregion.h"
#include "../init/spawn.h"
#include "../lib/backoff.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/version.h"

#define AGENT_NAME "amazon-ssm-agent"
#define SEEN_LINES 64
/* Restart delays double from 1 s up to 60 s; a run this long resets them. */
#define RESTART_MIN_USEC (1 * USEC_PER_SEC)
#define RESTART_CAP_USEC (60 * USEC_PER_SEC)
#define STABLE_RUN_USEC (60 * USEC_PER_SEC)
/* In auto mode, SageMaker may start its agent after porthole: look again
 * this many seconds after start (a fixed, short list: no polling). */
static const unsigned detect_after_s[] = { 10, 60 };

enum ssm_state { ST_LOOKING, ST_REMOTE_DEBUG, ST_ACTIVATING, ST_REGISTERING, ST_ONLINE, ST_RESTARTING, ST_FAILED,
		 ST_STOPPED };
static const char *const state_names[] = { "looking", "remote-debug", "activating", "registering", "online",
					    "restarting", "failed", "stopped" };

struct ssm {
	struct ssm_params prm;
	char *job, *host;
	enum ssm_state state;
	bool auto_mode;
	char *agent, *region, *endpoint;
	char act_id[128], act_code[128];
	char instance[32];
	char target[512];
	char error[1024];

	struct aws *aws;              /* the daemon's, once registering needs it */
	struct aws_call *call;
	struct ssm_child *child;      /* the -register run, then the agent */
	char reg_out[4096];
	size_t reg_len;
	struct backoff restart;
	sd_event_source *timer;       /* restart backoff, or auto-mode detection */
	sd_event_source *begin;       /* defer: registering goes on from the loop */
	unsigned detect_round;
	struct ssm_follow *follow;
	struct ssm_sessions *sessions;
	uint32_t seen[SEEN_LINES];
	unsigned seen_next;
	bool tier_hinted;

	bool stopping;
	void (*stop_done)(void *ud);
	void *stop_ud;
	sd_event_source *stop_timer;
};

static void start_agent(struct ssm *s);

static void fail(struct ssm *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct ssm *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	s->state = ST_FAILED;
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "error", s->error);
	log_event(PLOG_ERROR, "ssm_error", f, "SSM: %s; the training goes on without Session Manager", s->error);
}

static void command_for(const struct ssm *s, char *buf, size_t len)
{
	if (s->region)
		snprintf(buf, len, "aws ssm start-session --target %s --region %s", s->target, s->region);
	else
		snprintf(buf, len, "aws ssm start-session --target %s", s->target);
}

/* ---- the agent's lines -------------------------------------------------- */

static uint32_t line_hash(const char *line)
{
	uint32_t h = 2166136261u;

	for (; *line; line++)
		h = (h ^ (unsigned char)*line) * 16777619u;
	return h;
}

/* The agent writes each error to its console and to errors.log: ship it once. */
static bool seen_before(struct ssm *s, const char *line)
{
	uint32_t h = line_hash(line);

	for (unsigned i = 0; i < SEEN_LINES; i++)
		if (s->seen[i] == h)
			return true;
	s->seen[s->seen_next++ % SEEN_LINES] = h;
	return false;
}

static void ship(struct ssm *s, const char *source, const char *line, bool errors_only)
{
	enum plog_level lvl = PLOG_ERROR;
	char word[16] = "ERROR";
	const char *msg = line;

	if (ssm_log_parse(line, &lvl, word, sizeof(word), &msg) < 0) {
		/* errors.log holds errors only: a line without a header
		 * continues one (a stack, a wrapped message). */
		if (!errors_only)
			return;
	} else if (lvl < PLOG_WARN) {
		return;
	}
	if (seen_before(s, line))
		return;
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "source", source);
	cJSON_AddStringToObject(f, "agent_level", word);
	cJSON_AddStringToObject(f, "line", line);
	if (s->instance[0])
		cJSON_AddStringToObject(f, "instance_id", s->instance);
	log_event(lvl, "ssm_agent", f, "amazon-ssm-agent %s: %s", word, msg);
	if (!s->tier_hinted && strcasestr(msg, "advanced") && strcasestr(msg, "tier")) {
		s->tier_hinted = true;
		log_error("SSM: Session Manager on hybrid (mi-) nodes needs the advanced-instances tier: `aws ssm "
			  "update-service-setting --setting-id arn:aws:ssm:%s:ACCOUNT:servicesetting/ssm/"
			  "managed-instance/activation-tier --setting-value advanced` (charged per node hour)",
			  s->region ? s->region : "REGION");
	}
}

static void on_log_line(void *ud, const char *file, const char *line)
{
	struct ssm *s = ud;

	if (strcmp(file, "errors.log") == 0)
		ship(s, "errors.log", line, true);
	else
		/* The agent logs each session it starts: time to look. */
		ssm_sessions_rescan(s->sessions);
}

static void on_agent_line(void *ud, const char *line)
{
	struct ssm *s = ud;

	ship(s, "console", line, false);
	ssm_sessions_rescan(s->sessions);
}

/* ---- supervision --------------------------------------------------------- */

static int on_restart(sd_event_source *src, uint64_t usec, void *ud)
{
	(void)src;
	(void)usec;
	start_agent(ud);
	return 0;
}

static void on_agent_exit(void *ud, int wstatus)
{
	struct ssm *s = ud;
	char how[128];
	uint64_t delay_s;

	ssm_child_free(s->child);
	s->child = NULL;
	if (s->stopping)
		return;
	delay_s = backoff_next(&s->restart, clock_mono_usec()) / USEC_PER_SEC;
	spawn_describe_status(wstatus, how, sizeof(how));
	s->state = ST_RESTARTING;
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "how", how);
	cJSON_AddNumberToObject(f, "restart_in_s", (double)delay_s);
	cJSON_AddNumberToObject(f, "restarts", s->restart.restarts);
	log_event(PLOG_WARN, "ssm_agent_exit", f, "amazon-ssm-agent %s; restarting it in %" PRIu64 " s", how, delay_s);
	sd_event_source_disable_unref(s->timer);
	s->timer = NULL;
	if (sd_event_add_time_relative(s->prm.loop, &s->timer, CLOCK_MONOTONIC, delay_s * USEC_PER_SEC, 0, on_restart,
				       s) < 0)
		fail(s, "cannot arm the restart timer for amazon-ssm-agent");
}

static void start_agent(struct ssm *s)
{
	char *argv[] = { s->agent, NULL };
	int rc;

	rc = ssm_child_start(s->prm.loop, s->prm.reaper, argv, on_agent_line, on_agent_exit, s, &s->child);
	if (rc < 0) {
		fail(s, "cannot start %s: %s", s->agent, strerror(-rc));
		return;
	}
	backoff_started(&s->restart, clock_mono_usec());
	s->state = ST_ONLINE;
	if (!s->sessions && ssm_sessions_new(s->prm.loop, &s->prm.hooks, &s->sessions) < 0)
		log_warn("SSM: cannot count Session Manager sessions; they do not keep the hold");
}

/* ---- registration -------------------------------------------------------- */

static void on_tagged(void *ud, const struct aws_result *r)
{
	struct ssm *s = ud;
	const char *advice;

	s->call = NULL;
	if (r->outcome == AWS_OK) {
		log_debug("SSM: tagged %s with job, host and porthole", s->instance);
		return;
	}
	advice = ssm_api_advice("AddTagsToResource", r->code);
	log_warn("SSM: cannot tag %s (AddTagsToResource: %s%s%s)%s%s", s->instance, r->code, *r->code ? " " : "",
		 r->message, *advice ? "; " : "", advice);
}

/* The agent's own words, on one line, for the error message. */
static void output_summary(const char *out, char *buf, size_t len)
{
	size_t o = 0;
	char *copy = strdup(out), *save = NULL;

	buf[0] = '\0';
	if (!copy)
		return;
	for (char *l = strtok_r(copy, "\n", &save); l && o + 1 < len; l = strtok_r(NULL, "\n", &save)) {
		int n = snprintf(buf + o, len - o, "%s%s", o ? " | " : "", l);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	free(copy);
}

static void collect_register_output(void *ud, const char *line)
{
	struct ssm *s = ud;
	int n = snprintf(s->reg_out + s->reg_len, sizeof(s->reg_out) - s->reg_len, "%s\n", line);

	if (n > 0 && s->reg_len + (size_t)n < sizeof(s->reg_out))
		s->reg_len += (size_t)n;
	log_debug("amazon-ssm-agent -register: %s", line);
}

static void on_registered(void *ud, int wstatus)
{
	struct ssm *s = ud;
	char how[128], said[1024], cmd[700];

	ssm_child_free(s->child);
	s->child = NULL;
	/* The code is single-use now; it need not stay in memory. */
	explicit_bzero(s->act_code, sizeof(s->act_code));
	if (s->stopping)
		return;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 ||
	    ssm_api_registered_id(s->reg_out, s->instance, sizeof(s->instance)) < 0) {
		spawn_describe_status(wstatus, how, sizeof(how));
		output_summary(s->reg_out, said, sizeof(said));
		s->instance[0] = '\0';
		fail(s, "registration failed: `%s -register` %s and said: %s", AGENT_NAME, how,
		     said[0] ? said : "nothing");
		return;
	}
	snprintf(s->target, sizeof(s->target), "%s", s->instance);
	command_for(s, cmd, sizeof(cmd));
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "instance_id", s->instance);
	cJSON_AddStringToObject(f, "target", s->target);
	cJSON_AddStringToObject(f, "command", cmd);
	cJSON_AddStringToObject(f, "activation_id", s->act_id);
	start_agent(s);
	log_event(PLOG_INFO, "ssm_registered", f, "SSM: registered as managed instance %s; connect with `%s`",
		  s->instance, cmd);
	if (s->state == ST_ONLINE && s->aws)
		s->call = ssm_api_call(s->aws, s->endpoint, s->region, "AddTagsToResource",
				       ssm_api_tags_body(s->instance, s->job, s->host, PORTHOLE_VERSION),
				       15000, on_tagged, s);
}

static void register_agent(struct ssm *s)
{
	char *argv[] = { s->agent, "-register", "-code", s->act_code, "-id", s->act_id, "-region", s->region, "-y",
			 NULL };
	int rc;

	s->state = ST_REGISTERING;
	s->reg_len = 0;
	s->reg_out[0] = '\0';
	rc = ssm_child_start(s->prm.loop, s->prm.reaper, argv, collect_register_output, on_registered, s, &s->child);
	if (rc < 0)
		fail(s, "cannot start `%s -register`: %s", s->agent, strerror(-rc));
}

static void on_activation(void *ud, const struct aws_result *r)
{
	struct ssm *s = ud;
	const char *advice;

	s->call = NULL;
	if (r->outcome != AWS_OK) {
		advice = ssm_api_advice("CreateActivation", r->code);
		fail(s, "CreateActivation for role %s failed: %s%s%s%s%s", s->prm.cfg->role, r->code,
		     *r->code ? ": " : "", r->message, *advice ? "; " : "", advice);
		return;
	}
	if (ssm_api_activation_parse(r->body, r->body_len, s->act_id, sizeof(s->act_id), s->act_code,
				     sizeof(s->act_code)) < 0) {
		fail(s, "CreateActivation answered without an activation id and code");
		return;
	}
	log_info("SSM: activation %s created for role %s (one registration, expires in an hour)", s->act_id,
		 s->prm.cfg->role);
	register_agent(s);
}

/* ---- start --------------------------------------------------------------- */

static char *find_agent(const char *configured)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (configured)
		return access(configured, X_OK) == 0 ? strdup(configured) : NULL;
	for (const char *d = path ? path : "/usr/bin:/bin"; *d;) {
		size_t n = strcspn(d, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? d : ".", AGENT_NAME);
		if (access(buf, X_OK) == 0)
			return strdup(buf);
		d += n + (d[n] == ':');
	}
	return NULL;
}

static void mkdirs(const char *dir)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static int on_begin(sd_event_source *src, void *ud);

static void begin_register(struct ssm *s)
{
	const struct ssm_settings *cfg = s->prm.cfg;
	const char *source = NULL;
	int custom = 0;

	s->agent = find_agent(cfg->agent);
	if (!s->agent) {
		if (cfg->agent)
			fail(s, "PORTHOLE_SSM_AGENT=%s is not an executable file", cfg->agent);
		else
			fail(s, "%s is not in the image (not on PATH; PORTHOLE_SSM_AGENT unset): install it in the "
				"Dockerfile, e.g. `RUN curl -fsSLo /tmp/ssm.deb https://s3.amazonaws.com/"
				"ec2-downloads-windows/SSMAgent/latest/debian_amd64/amazon-ssm-agent.deb && dpkg -i "
				"/tmp/ssm.deb && rm /tmp/ssm.deb` (RPM images: .../linux_amd64/amazon-ssm-agent.rpm "
				"with `rpm -i`)", AGENT_NAME);
		return;
	}
	if (!!cfg->activation_code != !!cfg->activation_id) {
		fail(s, "PORTHOLE_SSM_ACTIVATION_CODE and PORTHOLE_SSM_ACTIVATION_ID go together; only %s is set",
		     cfg->activation_code ? "the code" : "the id");
		return;
	}
	if (!cfg->activation_code && !cfg->role) {
		fail(s, "PORTHOLE_SSM=register needs an activation (PORTHOLE_SSM_ACTIVATION_CODE and "
			"PORTHOLE_SSM_ACTIVATION_ID) or a role to create one with (PORTHOLE_SSM_ROLE)");
		return;
	}
	s->region = awsregion_local(&source);
	if (!s->region) {
		fail(s, "no AWS region for Systems Manager: set AWS_REGION");
		return;
	}
	s->endpoint = awsregion_endpoint_url("SSM", "ssm", s->region, &custom);
	if (!s->endpoint) {
		fail(s, "no Systems Manager endpoint for region %s", s->region);
		return;
	}
	log_debug("SSM: agent %s, region %s (%s), endpoint %s", s->agent, s->region, source, s->endpoint);
	/* The rest makes the AWS client (libcurl takes milliseconds to load),
	 * so it goes on from the loop, once the training command has started. */
	s->state = cfg->activation_code ? ST_REGISTERING : ST_ACTIVATING;
	if (sd_event_add_defer(s->prm.loop, &s->begin, on_begin, s) < 0)
		fail(s, "out of memory");
}

static void go_on_registering(struct ssm *s)
{
	const struct ssm_settings *cfg = s->prm.cfg;
	static const char *const files[] = { "errors.log", AGENT_NAME ".log", NULL };
	int rc;

	if (!(s->aws = s->prm.aws(s->prm.aws_ud))) {
		fail(s, "no AWS client (see above)");
		return;
	}
	mkdirs(cfg->log_dir);
	rc = ssm_log_follow_new(s->prm.loop, cfg->log_dir, files, on_log_line, s, &s->follow);
	if (rc < 0)
		log_warn("SSM: cannot watch %s (PORTHOLE_SSM_LOG_DIR): %s; the agent's errors are taken from its "
			 "console only", cfg->log_dir, strerror(-rc));
	if (cfg->activation_code) {
		snprintf(s->act_id, sizeof(s->act_id), "%s", cfg->activation_id);
		snprintf(s->act_code, sizeof(s->act_code), "%s", cfg->activation_code);
		register_agent(s);
		return;
	}
	s->state = ST_ACTIVATING;
	s->call = ssm_api_call(s->aws, s->endpoint, s->region, "CreateActivation",
			       ssm_api_activation_body(cfg->role, s->job, s->host,
						       (int64_t)(clock_real_usec() / USEC_PER_SEC)),
			       15000, on_activation, s);
	if (!s->call)
		fail(s, "out of memory calling CreateActivation");
}

static int on_begin(sd_event_source *src, void *ud)
{
	struct ssm *s = ud;
	(void)src;

	s->begin = sd_event_source_disable_unref(s->begin);
	go_on_registering(s);
	return 0;
}

/* SageMaker remote debug starts its own amazon-ssm-agent in the container
 * (docs/ssm.md): one running that porthole did not start is the sign. */
static bool remote_debug_on(struct ssm *s)
{
	pid_t pids[4];
	char cmd[700];
	const char *source;

	if (ssm_sessions_proc_find(AGENT_NAME, pids, 4) == 0)
		return false;
	s->state = ST_REMOTE_DEBUG;
	free(s->region);
	s->region = awsregion_local(&source);
	snprintf(s->target, sizeof(s->target), "sagemaker-training-job:%s_%s", s->job, s->host);
	command_for(s, cmd, sizeof(cmd));
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "target", s->target);
	cJSON_AddStringToObject(f, "command", cmd);
	cJSON_AddNumberToObject(f, "agent_pid", pids[0]);
	log_event(PLOG_INFO, "ssm_remote_debug", f,
		  "SSM: SageMaker remote debug runs its agent (pid %d); connect with `%s` while the training runs",
		  (int)pids[0], cmd);
	return true;
}

static int on_detect(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ssm *s = ud;
	(void)src;
	(void)usec;

	if (remote_debug_on(s) || ++s->detect_round >= sizeof(detect_after_s) / sizeof(detect_after_s[0]))
		return 0;
	sd_event_source_set_time_relative(s->timer, (detect_after_s[s->detect_round] -
						     detect_after_s[s->detect_round - 1]) * USEC_PER_SEC);
	sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
	return 0;
}

int ssm_new(const struct ssm_params *prm, struct ssm **ret)
{
	const struct ssm_settings *cfg = prm->cfg;
	struct ssm *s;

	*ret = NULL;
	if (cfg->mode == SSM_OFF)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->job = strdup(prm->job ? prm->job : "")) || !(s->host = strdup(prm->host ? prm->host : ""))) {
		if (s)
			free(s->job);
		free(s);
		return -ENOMEM;
	}
	s->prm = *prm;
	backoff_init(&s->restart, RESTART_MIN_USEC, RESTART_CAP_USEC, STABLE_RUN_USEC);
	*ret = s;
	if (cfg->mode == SSM_AUTO) {
		s->auto_mode = true;
		if (remote_debug_on(s))
			return 0;
		if (!cfg->activation_code && !cfg->activation_id && !cfg->role) {
			s->state = ST_LOOKING;
			if (sd_event_add_time_relative(prm->loop, &s->timer, CLOCK_MONOTONIC,
						       detect_after_s[0] * USEC_PER_SEC, 0, on_detect, s) < 0) {
				*ret = NULL;
				ssm_free(s);
				return -ENOMEM;
			}
			log_debug("SSM auto: no remote debug agent yet and no activation or role: looking again "
				  "later");
			return 0;
		}
	}
	begin_register(s);
	return 0;
}

/* ---- stop ---------------------------------------------------------------- */

static void stop_finished(struct ssm *s)
{
	void (*done)(void *ud) = s->stop_done;

	sd_event_source_disable_unref(s->stop_timer);
	s->stop_timer = NULL;
	s->stop_done = NULL;
	if (done)
		done(s->stop_ud);
}

static void on_deregistered(void *ud, const struct aws_result *r)
{
	struct ssm *s = ud;

	s->call = NULL;
	if (r->outcome == AWS_OK) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "instance_id", s->instance);
		log_event(PLOG_INFO, "ssm_deregistered", f, "SSM: deregistered managed instance %s", s->instance);
	} else {
		const char *advice = ssm_api_advice("DeregisterManagedInstance", r->code);
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "instance_id", s->instance);
		cJSON_AddStringToObject(f, "error", r->message);
		log_event(PLOG_ERROR, "ssm_error", f, "SSM: cannot deregister %s (%s%s%s)%s%s", s->instance, r->code,
			  *r->code ? ": " : "", r->message, *advice ? "; " : "", advice);
	}
	s->instance[0] = '\0';
	s->state = ST_STOPPED;
	stop_finished(s);
}

static int on_stop_timeout(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ssm *s = ud;
	(void)src;
	(void)usec;

	log_error("SSM: DeregisterManagedInstance for %s did not finish in time; the instance stays registered "
		  "(remove it with `aws ssm deregister-managed-instance --instance-id %s`)", s->instance, s->instance);
	aws_call_cancel(s->call);
	s->call = NULL;
	stop_finished(s);
	return 0;
}

bool ssm_stop(struct ssm *s, uint64_t usec, void (*done)(void *ud), void *ud)
{
	if (!s || s->stopping)
		return false;
	s->stopping = true;
	sd_event_source_disable_unref(s->timer);
	s->timer = NULL;
	s->begin = sd_event_source_disable_unref(s->begin);
	aws_call_cancel(s->call);
	s->call = NULL;
	/* The agent and its session workers: the container is going away. */
	ssm_child_signal(s->child, SIGTERM);
	if (!s->instance[0] || !s->aws)
		return false;
	s->call = ssm_api_call(s->aws, s->endpoint, s->region, "DeregisterManagedInstance",
			       ssm_api_deregister_body(s->instance), (long)(usec / 1000), on_deregistered, s);
	if (!s->call)
		return false;
	s->stop_done = done;
	s->stop_ud = ud;
	if (sd_event_add_time_relative(s->prm.loop, &s->stop_timer, CLOCK_MONOTONIC, usec, 0, on_stop_timeout, s) < 0)
		s->stop_timer = NULL;
	return true;
}

void ssm_free(struct ssm *s)
{
	if (!s)
		return;
	aws_call_cancel(s->call);
	ssm_child_free(s->child);
	ssm_log_follow_free(s->follow);
	ssm_sessions_free(s->sessions);
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->begin);
	sd_event_source_disable_unref(s->stop_timer);
	explicit_bzero(s->act_code, sizeof(s->act_code));
	free(s->agent);
	free(s->region);
	free(s->endpoint);
	free(s->job);
	free(s->host);
	free(s);
}

void ssm_to_json(const struct ssm *s, cJSON *obj)
{
	char cmd[700];

	if (!s) {
		cJSON_AddNullToObject(obj, "ssm");
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(obj, "ssm");
	cJSON_AddStringToObject(o, "mode", s->state == ST_REMOTE_DEBUG ? "remote-debug" :
					   s->state == ST_LOOKING ? "auto" : "register");
	cJSON_AddStringToObject(o, "state", state_names[s->state]);
	if (s->target[0] && (s->state == ST_REMOTE_DEBUG || s->instance[0])) {
		command_for(s, cmd, sizeof(cmd));
		cJSON_AddStringToObject(o, "target", s->target);
		cJSON_AddStringToObject(o, "command", cmd);
		if (s->region)
			cJSON_AddStringToObject(o, "region", s->region); /* for `porthole ssh --via ssm` */
	} else {
		cJSON_AddNullToObject(o, "target");
		cJSON_AddNullToObject(o, "command");
	}
	if (s->error[0])
		cJSON_AddStringToObject(o, "error", s->error);
}
