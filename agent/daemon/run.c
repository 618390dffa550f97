/* SPDX-License-Identifier: Apache-2.0 */
/* run.c — `porthole run -- CMD` and `porthole serve`: PID 1 duties, the
 * command's life, and when porthole itself may end. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "publish.h"
#include "ready.h"
#include "requests.h"
#include "sdnotify.h"
#include "sockact.h"

#include "../aws/aws.h"
#include "../init/failure.h"
#include "../init/leftover.h"
#include "../init/sigfwd.h"
#include "../init/spawn.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../ssm/ssm.h"

/* A little over a connection's own grace after SIGHUP (session.c). */
#define SSH_DRAIN_USEC (3 * USEC_PER_SEC)

/* The SSH and SSM endpoints' logins are sessions like any other for the hold. */
static void on_ssh_login(void *ud)
{
	hold_session_opened(((struct porthole *)ud)->hold);
}

static void on_ssh_logout(void *ud)
{
	hold_session_closed(((struct porthole *)ud)->hold);
}

struct aws *run_aws(struct porthole *p)
{
	char err[256];

	if (p->aws || p->aws_failed)
		return p->aws;
	if (aws_new(p->loop, &p->aws, err, sizeof(err)) < 0) {
		p->aws_failed = true;
		log_error("cannot set up the AWS client: %s; nothing reaches AWS (CloudWatch, S3 keys, SSM)", err);
		return NULL;
	}
	const struct trust *t = aws_trust(p->aws);
	if (t->blob)
		log_info("TLS: using %s", t->what);
	else
		log_debug("TLS: trusting %s", t->what);
	return p->aws;
}

static struct aws *aws_for(void *ud)
{
	return run_aws(ud);
}

static void start_s3keys(struct porthole *p)
{
	const struct ssh_settings *ssh = &p->cfg.ssh;
	struct aws *aws;

	if (!ssh->authorized_keys_s3 || !ssh->s3_keys_file)
		return;
	if (!(aws = run_aws(p))) {
		log_error("ssh: cannot fetch authorized keys from %s: no AWS client", ssh->authorized_keys_s3);
		return;
	}
	if (s3keys_new(p->loop, aws, ssh->authorized_keys_s3, ssh->s3_keys_file, &p->s3keys) == -ENOMEM)
		log_error("ssh: out of memory fetching authorized keys from %s", ssh->authorized_keys_s3);
}

static void start_ssm(struct porthole *p)
{
	struct ssm_params prm = {
		.loop = p->loop, .reaper = p->reaper, .cfg = &p->cfg.ssm, .job = p->id.job, .host = p->id.host,
		.aws = aws_for, .aws_ud = p, .hooks = { on_ssh_login, on_ssh_logout, p },
	};

	/* Registration goes on in the background; the training never waits. */
	if (ssm_new(&prm, &p->ssm) < 0)
		log_error("SSM: out of memory; no Session Manager endpoint");
}

/* The exit waits for its parts: the drain → deregistration → flush chain,
 * and the leftovers of the command's process group when not PID 1. */
static void exit_part_done(struct porthole *p)
{
	if (p->exit_parts > 0 && --p->exit_parts == 0)
		sd_event_exit(p->loop, p->exit_code);
}

static void on_flushed(void *ud)
{
	exit_part_done(ud);
}

/* What is left of PORTHOLE_FLUSH_TIMEOUT for the next exit step. */
static uint64_t exit_time_left(const struct porthole *p)
{
	uint64_t now = clock_mono_usec();

	return p->exit_deadline > now ? p->exit_deadline - now : 0;
}

/* Then the events (the deregistration's among them) get what is left. */
static void on_ssm_stopped(void *ud)
{
	struct porthole *p = ud;

	if (!publish_flush(p, exit_time_left(p), on_flushed))
		exit_part_done(p);
}

/* Then deregistration, with half of what is left at most, so stale
 * instances are rare. */
static void on_ssh_drained(void *ud)
{
	struct porthole *p = ud;

	if (!ssm_stop(p->ssm, exit_time_left(p) / 2, on_ssm_stopped, p))
		on_ssm_stopped(p);
}

static void on_leftovers_gone(void *ud)
{
	exit_part_done(ud);
}

/* Not PID 1: what the command left running in its process group would
 * outlive porthole (as PID 1 the kernel ends it with the container).
 * SIGTERM now, SIGKILL at half the exit budget. */
static void end_leftovers(struct porthole *p, uint64_t budget)
{
	int rc;

	if (!p->ended || p->pgid <= 1 || getpid() == 1)
		return;
	rc = leftover_end(p->loop, p->reaper, p->pgid, budget / 2, budget, on_leftovers_gone, p, &p->leftover);
	if (rc < 0) {
		log_warn("cannot watch the training command's process group: %s; sending it SIGKILL", strerror(-rc));
		if (leftover_any(p->pgid))
			kill(-p->pgid, SIGKILL);
	} else if (p->leftover) {
		p->exit_parts++;
	}
}

void run_exit(struct porthole *p, int code)
{
	uint64_t budget = p->cfg.cw.flush_timeout * USEC_PER_SEC;

	if (p->phase == PHASE_EXITING)
		return;
	p->phase = PHASE_EXITING;
	p->exit_code = code;
	p->exit_parts = 1;
	hold_shutdown(p->hold);
	/* A rendezvous still going on ends here: no command will use it. */
	cluster_stop(p->cluster);
	/* Ending SSH sessions, deregistering the SSM instance and sending
	 * spooled events share PORTHOLE_FLUSH_TIMEOUT (10 s): well inside the
	 * 120 s SageMaker allows between SIGTERM and SIGKILL.  Sessions go
	 * first, given a few seconds to deliver their commands' exit statuses
	 * (the `porthole release` that may have begun this among them) before
	 * PID 1's exit takes them along; their logouts are then spooled. */
	p->exit_deadline = clock_mono_usec() + budget;
	end_leftovers(p, budget);
	if (!sshd_drain(p->sshd, budget / 3 < SSH_DRAIN_USEC ? budget / 3 : SSH_DRAIN_USEC, on_ssh_drained, p))
		on_ssh_drained(p);
}

static void record_failure(struct porthole *p, const char *reason)
{
	int rc = failure_write(p->cfg.ml_root, reason);
	if (rc < 0)
		log_error("cannot write %s/output/failure: %s", p->cfg.ml_root, strerror(-rc));
}

static void on_after_done(void *ud, struct hold_wait *w, enum wait_end why)
{
	struct porthole *p = ud;
	(void)w;

	p->after = NULL;
	if (why != END_SHUTDOWN)
		run_exit(p, p->exit_code);
}

static bool wants_hold(const struct porthole *p)
{
	if (p->stopping || hold_was_released(p->hold) || p->cfg.hold.window == 0)
		return false;
	return p->cfg.hold.policy == HOLD_ALWAYS || (p->cfg.hold.policy == HOLD_ON_FAILURE && p->exit_code != 0);
}

static void on_command_exit(void *ud, pid_t pid, int wstatus)
{
	struct porthole *p = ud;
	char how[128];
	(void)pid;

	p->child = 0;
	p->ended = true;
	p->wstatus = wstatus;
	p->exit_code = spawn_exit_code(wstatus);
	spawn_describe_status(wstatus, how, sizeof(how));

	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "exit_code", p->exit_code);
	cJSON_AddStringToObject(f, "how", how);
	log_event(p->exit_code ? PLOG_WARN : PLOG_INFO, "command_exit", f, "training command %s", how);
	if (p->exit_code != 0) {
		char reason[256];
		snprintf(reason, sizeof(reason), "training command %s", how);
		record_failure(p, reason);
	}
	if (!wants_hold(p)) {
		run_exit(p, p->exit_code);
		return;
	}
	p->phase = PHASE_AFTER;
	p->after = hold_wait_begin(p->hold, WAIT_AFTER, NULL, p->cfg.hold.window * USEC_PER_SEC, on_after_done, p);
	if (!p->after)
		run_exit(p, p->exit_code);
}

static void start_command(struct porthole *p)
{
	int exec_errno, rc;
	pid_t pid;

	rc = spawn_command(p->argv, &pid, &exec_errno);
	if (rc < 0) {
		char reason[512];
		log_error("cannot start training command \"%s\": %s", p->argv[0], strerror(-rc));
		snprintf(reason, sizeof(reason), "porthole could not start the training command \"%s\": %s",
			 p->argv[0], strerror(-rc));
		record_failure(p, reason);
		run_exit(p, 126);
		return;
	}
	if (exec_errno) {
		char reason[512];
		const char *path = getenv("PATH");
		if (spawn_exec_failure_code(exec_errno) == 127)
			snprintf(reason, sizeof(reason), "training command \"%s\" not found%s%s%s", p->argv[0],
				 strchr(p->argv[0], '/') ? "" : " on PATH (", strchr(p->argv[0], '/') ? "" : (path ? path : ""),
				 strchr(p->argv[0], '/') ? "" : ")");
		else
			snprintf(reason, sizeof(reason), "training command \"%s\" cannot be executed: %s", p->argv[0],
				 strerror(exec_errno));
		log_error("%s", reason);
		/* Written now: the exit status alone would say only 126/127. */
		record_failure(p, reason);
	}
	p->child = pid;
	p->pgid = pid;
	p->phase = PHASE_TRAINING;
	if (reaper_watch(p->reaper, pid, on_command_exit, p) < 0) {
		log_error("out of memory watching the training command");
		run_exit(p, 1);
		return;
	}
	if (!exec_errno)
		log_debug("training command started as pid %d", (int)pid);
}

/* The command waits for both the before-start hold and cluster SSH's
 * rendezvous, whichever ends last. */
static void maybe_start(struct porthole *p)
{
	if (p->phase == PHASE_BEFORE && !p->before && !cluster_pending(p->cluster))
		start_command(p);
}

static void on_before_done(void *ud, struct hold_wait *w, enum wait_end why)
{
	struct porthole *p = ud;
	(void)w;

	p->before = NULL;
	if (why != END_SHUTDOWN)
		maybe_start(p);
}

static void on_cluster_done(void *ud)
{
	maybe_start(ud);
}

/* Why the cluster helper cannot read the job's records, or NULL. */
static const char *cloudwatch_off(const struct porthole *p)
{
	if (p->cwpub)
		return NULL;
	if (p->cfg.cw.mode == CW_OFF)
		return "PORTHOLE_CLOUDWATCH=off: no host publishes its keys";
	if (p->cfg.cw.mode == CW_AUTO && !(getenv("TRAINING_JOB_ARN") && *getenv("TRAINING_JOB_ARN")))
		return "PORTHOLE_CLOUDWATCH=auto and no TRAINING_JOB_ARN: porthole does not publish outside a "
		       "training job";
	return "the CloudWatch publisher did not start (see above)";
}

static void on_signal(void *ud, const struct signalfd_siginfo *si)
{
	struct porthole *p = ud;
	int sig = (int)si->ssi_signo;
	bool stop = sig == SIGTERM || sig == SIGINT;

	/* SIGPIPE from porthole's own write to a closed pipe: not news. */
	if (sigfwd_own(si))
		return;
	switch (p->phase) {
	case PHASE_TRAINING:
		if (stop && !p->stopping) {
			p->stopping = true;
			log_info("received SIG%s: passing it to the training command; no hold will follow",
				 sigabbrev_np(sig));
		} else if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			log_info("received SIG%s: stopping the training command (SIGSTOP to its process group); "
				 "SIGCONT to porthole resumes it", sigabbrev_np(sig));
		} else if (sig == SIGCONT) {
			log_info("received SIGCONT: passing it to the training command");
		} else {
			log_debug("received SIG%s: passing it to the training command", sigabbrev_np(sig));
		}
		/* The whole group, so helpers the command started hear it too. */
		sigfwd_deliver(p->child, sig);
		break;
	case PHASE_BEFORE:
		if (stop) {
			log_info("received SIG%s before the training command started; exiting", sigabbrev_np(sig));
			run_exit(p, 128 + sig);
		}
		break;
	case PHASE_AFTER:
		if (stop) {
			log_info("received SIG%s: ending the hold", sigabbrev_np(sig));
			run_exit(p, p->exit_code);
		}
		break;
	case PHASE_SERVING:
		if (stop)
			run_exit(p, 0);
		break;
	case PHASE_EXITING:
		break;
	}
}

/* The identity record carries the address; when the host's addresses
 * change it is looked up again and, if different, announced as an event
 * (the publisher re-sends the identity after it). */
static void on_address_change(void *ud)
{
	struct porthole *p = ud;
	cJSON *f;

	if (!identity_refresh_address(&p->id))
		return;
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "ip", p->id.ipv4);
	cJSON_AddStringToObject(f, "ipv6", p->id.ipv6);
	log_event(PLOG_INFO, "address_change", f, "address changed: ip %s%s%s", p->id.ipv4[0] ? p->id.ipv4 : "none",
		  p->id.ipv6[0] ? ", ipv6 " : "", p->id.ipv6);
}

static int setup_loop(struct porthole *p)
{
	sigset_t mask;
	int rc;

	/* Every signal that could end or stop porthole is read from the loop
	 * instead (sigfwd.h); blocked also means the terminal never stops a
	 * background porthole for its output.  SIGCHLD is the reaper's. */
	sigemptyset(&mask);
	sigfwd_fill(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	rc = sd_event_new(&p->loop);
	if (rc < 0)
		return rc;
	rc = sigfwd_new(p->loop, on_signal, p, &p->sigfwd);
	if (rc < 0)
		return rc;
	rc = reaper_new(p->loop, p->argv != NULL, &p->reaper);
	if (rc < 0)
		return rc;
	return hold_new(p->loop, p->cfg.hold.idle_grace * USEC_PER_SEC, p->cfg.hold.max_hold * USEC_PER_SEC, &p->hold);
}

static void open_control(struct porthole *p)
{
	struct control_handler h;
	int rc;

	requests_handler(p, &h);
	rc = control_new(p->loop, p->cfg.control_socket, &h, &p->control);
	if (rc == -EADDRINUSE)
		log_error("another porthole answers on %s (PORTHOLE_CONTROL_SOCKET); this one runs without a control "
			  "socket", p->cfg.control_socket);
	else if (rc == -EEXIST)
		log_error("%s (PORTHOLE_CONTROL_SOCKET) exists and is not a socket; left alone, this porthole runs "
			  "without a control socket", p->cfg.control_socket);
	else if (rc < 0)
		log_error("cannot open control socket %s (PORTHOLE_CONTROL_SOCKET): %s; `porthole status` and friends "
			  "will not reach this porthole", p->cfg.control_socket, strerror(-rc));
}

int run_main(struct config *cfg, const struct run_options *opt, char **argv)
{
	struct porthole p = { .argv = argv, .started_usec = clock_mono_usec(), .ready_fd = opt->ready_fd };
	int rc;

	p.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	rc = setup_loop(&p);
	if (rc < 0) {
		/* Without a loop porthole can do nothing useful; the training
		 * must still run, so get out of its way. */
		log_error("cannot set up the event loop: %s; running the training command without porthole",
			  strerror(-rc));
		if (argv) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			execvp(argv[0], argv);
			log_error("cannot run \"%s\": %s", argv[0], strerror(errno));
			return spawn_exec_failure_code(errno);
		}
		return 1;
	}
	identity_load(&p.id, p.cfg.ml_root, p.cfg.job);
	rc = addrwatch_new(p.loop, on_address_change, &p, &p.addrwatch);
	if (rc < 0)
		log_debug("cannot watch for address changes (%s); the published address will not follow them",
			  strerror(-rc));
	/* Before the ready record, so the publisher's log sink sees it. */
	publish_start(&p);
	/* systemd (Type=notify), inert without NOTIFY_SOCKET: armed before the
	 * endpoints so the watchdog covers all of startup's loop. */
	if (sdnotify_new(&p, &p.sdnotify) < 0)
		log_warn("systemd: out of memory; not notifying the service manager");
	open_control(&p);
	/* Listening before the ready record, which names port and host key.
	 * Failures are said there; the training goes on without SSH. */
	sshd_new(p.loop, p.reaper, &p.cfg.ssh, &(struct session_hooks){ on_ssh_login, on_ssh_logout, &p }, sockact_ssh_fd(),
		 &p.sshd);
	start_ssm(&p);
	/* Before the ready record, which carries the client key.  A failure
	 * was logged; the training then starts without cluster SSH. */
	(void)cluster_new(p.loop, p.reaper,
			  &(struct cluster_params){ .cfg = &p.cfg.cluster, .log_group = p.cfg.cw.log_group, .id = &p.id,
						    .ssh_port = sshd_port(p.sshd),
						    .host_key = sshd_hostkey(p.sshd) ? sshd_hostkey(p.sshd)->pub : NULL,
						    .cw_off = cloudwatch_off(&p), .done = on_cluster_done, .ud = &p },
			  &p.cluster);

	if (!argv) {
		p.phase = PHASE_SERVING;
	} else if (p.cfg.hold.before || cluster_pending(p.cluster)) {
		p.phase = PHASE_BEFORE;
		if (p.cfg.hold.before)
			p.before = hold_wait_begin(p.hold, WAIT_BEFORE, NULL, p.cfg.hold.window * USEC_PER_SEC,
						   on_before_done, &p);
	} else {
		p.phase = PHASE_TRAINING;
	}
	ready_announce(&p);
	/* READY=1 with the ready record: control socket and SSH now answer. */
	sdnotify_ready(p.sdnotify);
	/* Started after the ready line, so it is never delayed by the command. */
	if (p.phase == PHASE_TRAINING)
		start_command(&p);
	else
		maybe_start(&p);
	/* After the command has started, since it makes the AWS client (libcurl
	 * and its TLS library take milliseconds to load); after the control
	 * socket too: the fetched keys live in its directory.  The publisher
	 * and SSM make the client on the loop, later still. */
	if (p.phase != PHASE_EXITING)
		start_s3keys(&p);

	/* Even when already exiting: the publisher may be flushing. */
	rc = sd_event_loop(p.loop);
	if (rc < 0) {
		log_error("event loop failed: %s", strerror(-rc));
		rc = p.ended ? p.exit_code : 1;
	}
	hold_shutdown(p.hold);
	leftover_free(p.leftover);
	cluster_free(p.cluster);
	sdnotify_free(p.sdnotify);
	control_free(p.control);
	sshd_free(p.sshd);
	s3keys_free(p.s3keys);
	addrwatch_free(p.addrwatch);
	ssm_free(p.ssm);
	publish_stop(&p);
	aws_free(p.aws);
	hold_free(p.hold);
	sigfwd_free(p.sigfwd);
	reaper_free(p.reaper);
	identity_free(&p.id);
	config_free(&p.cfg);
	sd_event_unref(p.loop);
	return rc;
}
