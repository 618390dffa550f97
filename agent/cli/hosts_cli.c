/* SPDX-License-Identifier: Apache-2.0 */
/* hosts_cli.c — find a job's hosts from their CloudWatch identity records,
 * list them, and connect to them with OpenSSH verifying the published key.
 *
 * CloudWatch has no push API, so waiting (--watch, a job that just started)
 * means asking again every POLL_SEC: modest next to FilterLogEvents' quota
 * of several calls per second per account. */
#include "hosts_cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "userssh.h"

#include "../cloudwatch/hosts_reader.h"
#include "../daemon/config.h"
#include "../lib/clock.h"
#include "../lib/duration.h"
#include "../lib/log.h"

#define POLL_SEC 5
#define SSH_WAIT_DEFAULT (5 * 60)
/* --via auto: how long the IP may take to answer before Session Manager is
 * tried instead.  A job without VpcConfig runs in SageMaker's own network,
 * whose addresses answer nobody: their connects time out rather than fail. */
#define PROBE_MS 1500

/* How to reach a host: its IP, a Session Manager tunnel, or whichever works. */
enum via { VIA_IP, VIA_SSM, VIA_AUTO };

struct opts {
	const char *cmd, *job, *host;
	enum via via;
	bool json, watch;
	uint64_t wait;      /* seconds to wait for records */
	int n_args;         /* ssh: what follows "--" */
	char **args;
};

static int usage_error(const char *cmd, const char *why)
{
	fprintf(stderr, "porthole %s: %s\n", cmd, why);
	fprintf(stderr,
		"usage: porthole hosts JOB [--json] [--watch]\n"
		"       porthole ssh JOB [algo-N] [--via auto|ip|ssm] [--wait D] [-- SSH-ARGS...]\n"
		"       porthole ssh-config JOB [--via ip|ssm|auto]\n");
	return 2;
}

static bool job_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* algo-N, or a hostname outside SageMaker. */
static bool host_name_valid(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static int parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cmd = argv[0];
	o->wait = SSH_WAIT_DEFAULT;
	/* porthole ssh tries what works; ssh-config writes what it is told. */
	o->via = strcmp(o->cmd, "ssh") == 0 ? VIA_AUTO : VIA_IP;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0 && strcmp(o->cmd, "ssh") == 0) {
			o->args = argv + i + 1;
			o->n_args = argc - i - 1;
			break;
		} else if (strcmp(a, "--json") == 0 && strcmp(o->cmd, "hosts") == 0) {
			o->json = true;
		} else if (strcmp(a, "--watch") == 0 && strcmp(o->cmd, "hosts") == 0) {
			o->watch = true;
		} else if (strcmp(a, "--via") == 0 && strcmp(o->cmd, "hosts") != 0) {
			const char *v = i + 1 < argc ? argv[++i] : "";
			if (strcmp(v, "ip") == 0)
				o->via = VIA_IP;
			else if (strcmp(v, "ssm") == 0)
				o->via = VIA_SSM;
			else if (strcmp(v, "auto") == 0)
				o->via = VIA_AUTO;
			else
				return usage_error(o->cmd, "--via takes ip, ssm or auto");
		} else if (strcmp(a, "--wait") == 0 && strcmp(o->cmd, "ssh") == 0) {
			if (i + 1 >= argc || duration_parse(argv[i + 1], &o->wait) < 0)
				return usage_error(o->cmd, "--wait needs a duration (90s, 5m)");
			i++;
		} else if (a[0] == '-') {
			fprintf(stderr, "porthole %s: unknown option %s\n", o->cmd, a);
			return usage_error(o->cmd, "see the usage");
		} else if (!o->job) {
			o->job = a;
		} else if (!o->host && strcmp(o->cmd, "ssh") == 0) {
			o->host = a;
		} else {
			return usage_error(o->cmd, "too many arguments");
		}
	}
	if (!o->job)
		return usage_error(o->cmd, "no job named");
	/* The job name becomes a stream prefix and a known_hosts name:
	 * SageMaker's alphabet only, so no known_hosts pattern characters. */
	if (!job_name_valid(o->job))
		return usage_error(o->cmd, "not a training job name (letters, digits and '-', at most 63)");
	if (!o->host)
		o->host = "algo-1";
	else if (!host_name_valid(o->host))
		return usage_error(o->cmd, "not a host name (algo-N)");
	return 0;
}

static bool listed(const struct host_rec *h)
{
	return h->ts_ms != 0;
}

static size_t count_listed(const struct hostset *set)
{
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++)
		n += listed(&set->v[i]);
	return n;
}

/* Why there are no records: no such job, or no porthole in it. */
static void explain_empty(struct hosts_reader *r, const char *job, const char *group, char *err, size_t len)
{
	char why[512];
	int exists = hosts_reader_job_exists(r, why, sizeof(why));

	if (exists == 0)
		snprintf(err, len, "no such job %s: no log stream %s/… in %s (check the name, the region and the "
			 "account)", job, job, group);
	else if (exists > 0)
		snprintf(err, len, "job %s has logs but no porthole records in %s: porthole is not the image's "
			 "ENTRYPOINT, PORTHOLE_CLOUDWATCH is off, or the job's role may not call logs:PutLogEvents",
			 job, group);
	else
		snprintf(err, len, "no porthole records of job %s in %s (no such job, porthole not in the image, or "
			 "no permission to publish); could not tell which: %s", job, group, why);
}

static char *table_text(const struct hostset *set)
{
	char *text = NULL, state[160];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "%-8s %-15s %-5s %-36s %-16s %-52s %s\n", "HOST", "IP", "PORT", "STATE", "INSTANCE",
		"HOST KEY", "SSM TARGET");
	for (size_t i = 0; i < set->n; i++) {
		const struct host_rec *h = &set->v[i];
		char port[16] = "-";
		if (!listed(h))
			continue;
		if (h->port)
			snprintf(port, sizeof(port), "%u", h->port);
		records_state_text(h, state, sizeof(state));
		fprintf(f, "%-8s %-15s %-5s %-36s %-16s %-52s %s\n", h->host, h->ip ? h->ip : "-", port, state,
			h->instance_type ? h->instance_type : "-", h->fingerprint ? h->fingerprint : "-",
			h->ssm_target ? h->ssm_target : "-");
	}
	fclose(f);
	return text;
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static char *json_text(const char *job, const char *group, const struct hostset *set)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "hosts");
	char state[160], *text;

	cJSON_AddStringToObject(o, "job", job);
	cJSON_AddStringToObject(o, "log_group", group);
	for (size_t i = 0; i < set->n; i++) {
		const struct host_rec *h = &set->v[i];
		cJSON *e = cJSON_CreateObject();
		if (!listed(h)) {
			cJSON_Delete(e);
			continue;
		}
		records_state_text(h, state, sizeof(state));
		cJSON_AddStringToObject(e, "host", h->host);
		add_str(e, "ip", h->ip);
		if (h->port)
			cJSON_AddNumberToObject(e, "port", h->port);
		else
			cJSON_AddNullToObject(e, "port");
		cJSON_AddStringToObject(e, "status", state);
		add_str(e, "state", h->state);
		add_str(e, "deadline", h->deadline);
		cJSON_AddBoolToObject(e, "gone", records_gone(h));
		add_str(e, "instance_type", h->instance_type);
		add_str(e, "host_key", h->host_key);
		add_str(e, "fingerprint", h->fingerprint);
		add_str(e, "ssm_target", h->ssm_target);
		add_str(e, "log_stream", h->stream);
		add_str(e, "ts", h->ts);
		cJSON_AddItemToArray(arr, e);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static bool all_gone(const struct hostset *set)
{
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++) {
		if (!listed(&set->v[i]))
			continue;
		if (!records_gone(&set->v[i]))
			return false;
		n++;
	}
	return n > 0;
}

static int cmd_hosts(struct hosts_reader *r, const struct opts *o, const char *group)
{
	char err[1024], *last = NULL;
	int rc = 0;

	if (o->watch)
		fprintf(stderr, "porthole hosts: watching job %s (CloudWatch is read every %d s; Ctrl-C ends)\n",
			o->job, POLL_SEC);
	for (;;) {
		struct hostset set = { 0 };
		if (hosts_reader_fetch(r, &set, err, sizeof(err)) < 0) {
			fprintf(stderr, "porthole hosts: error: %s\n", err);
			rc = 1;
			break;
		}
		if (!o->watch && count_listed(&set) == 0) {
			explain_empty(r, o->job, group, err, sizeof(err));
			fprintf(stderr, "porthole hosts: error: %s\n", err);
			records_free(&set);
			rc = 1;
			break;
		}
		char *text = o->json ? json_text(o->job, group, &set) : table_text(&set);
		if (!text) {
			records_free(&set);
			rc = 1;
			break;
		}
		/* Watching prints only changes, each a whole listing. */
		if (count_listed(&set) && (!last || strcmp(last, text) != 0)) {
			if (o->watch && !o->json) {
				char ts[32];
				clock_real_iso(clock_real_usec(), ts, sizeof(ts));
				printf("%s%s\n", last ? "\n" : "", ts);
			}
			fputs(text, stdout);
			if (o->json)
				fputc('\n', stdout);
			fflush(stdout);
		}
		free(last);
		last = text;
		bool done = !o->watch || all_gone(&set);
		records_free(&set);
		if (done)
			break;
		sleep(POLL_SEC);
	}
	free(last);
	return rc;
}

/* Records until pred says they are enough, or the wait is over.  Returns
 * 0, or -1 after reporting a read error. */
static int fetch_until(struct hosts_reader *r, const struct opts *o, struct hostset *set,
		       bool (*enough)(const struct hostset *, const struct opts *))
{
	uint64_t deadline = clock_mono_usec() + o->wait * USEC_PER_SEC;
	char err[1024];
	bool said = false;

	for (;;) {
		records_free(set);
		if (hosts_reader_fetch(r, set, err, sizeof(err)) < 0) {
			fprintf(stderr, "porthole %s: error: %s\n", o->cmd, err);
			return -1;
		}
		if (enough(set, o) || clock_mono_usec() + POLL_SEC * USEC_PER_SEC > deadline)
			return 0;
		if (!said) {
			char d[32];
			fprintf(stderr, "porthole %s: waiting up to %s for %s of job %s to publish its record\n", o->cmd,
				duration_format(o->wait, d, sizeof(d)), o->host, o->job);
			said = true;
		}
		sleep(POLL_SEC);
	}
}

/* ---- routes: the IP, or Session Manager ------------------------------------ */

/* Does ip:port accept a TCP connection within ms? */
static bool answers(const char *ip, unsigned port, int ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	char service[16];
	bool ok = false;
	int fd;

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(ip, service, &hints, &ai) != 0)
		return false;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			ok = true;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int err = 0;
			socklen_t l = sizeof(err);
			ok = poll(&p, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return ok;
}

static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", name);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Everything SSH over Session Manager needs on this side, and the
 * ProxyCommand in proxy.  0, or -1 after saying what is missing. */
static int ssm_route(const struct opts *o, const struct host_rec *h, char *proxy, size_t len)
{
	if (!h->ssm_target) {
		fprintf(stderr, "porthole %s: error: host %s of job %s has no Session Manager target: turn on "
			"SageMaker remote debug for the job (EnableRemoteDebug), or run it with PORTHOLE_SSM=register "
			"and an activation or role (docs/ssm.md)\n", o->cmd, h->host, o->job);
		return -1;
	}
	if (userssh_ssm_proxy(h, proxy, len) < 0) {
		fprintf(stderr, "porthole %s: error: host %s of job %s published an unusable Session Manager target "
			"or region\n", o->cmd, h->host, o->job);
		return -1;
	}
	if (!on_path("aws")) {
		fprintf(stderr, "porthole %s: error: SSH over Session Manager needs the AWS CLI: `aws` is not on PATH "
			"(install AWS CLI v2 and the Session Manager plugin)\n", o->cmd);
		return -1;
	}
	if (!on_path("session-manager-plugin")) {
		fprintf(stderr, "porthole %s: error: SSH over Session Manager needs AWS's Session Manager plugin: "
			"`session-manager-plugin` is not on PATH (see \"Install the Session Manager plugin for the AWS "
			"CLI\" in AWS's documentation)\n", o->cmd);
		return -1;
	}
	return 0;
}

/* Which way to h: *proxy set (a ProxyCommand) for Session Manager, else
 * the IP.  0, or -1 after saying why neither. */
static int choose_route(const struct opts *o, const struct host_rec *h, char *proxy, size_t len, bool *use_ssm)
{
	*use_ssm = false;
	if (o->via == VIA_SSM || (o->via == VIA_AUTO && !h->ip && h->ssm_target)) {
		*use_ssm = true;
		return ssm_route(o, h, proxy, len);
	}
	if (!h->ip) {
		fprintf(stderr, "porthole %s: error: host %s of job %s published no usable IP address%s\n", o->cmd,
			h->host, o->job, o->via == VIA_IP ? "" : " and no Session Manager target");
		return -1;
	}
	if (o->via == VIA_IP || answers(h->ip, h->port, PROBE_MS))
		return 0;
	if (!h->ssm_target) {
		fprintf(stderr, "porthole %s: %s port %u does not answer, and host %s has no Session Manager target "
			"to go through instead (SageMaker remote debug, or PORTHOLE_SSM=register; docs/ssm.md); "
			"trying the IP anyway\n", o->cmd, h->ip, h->port, h->host);
		return 0;
	}
	fprintf(stderr, "porthole %s: %s port %u does not answer; going through Session Manager (%s)\n", o->cmd,
		h->ip, h->port, h->ssm_target);
	*use_ssm = true;
	return ssm_route(o, h, proxy, len);
}

/* After a failed tunnel: what aws said, and what it means. */
static void explain_tunnel(const struct opts *o, const struct host_rec *h, const char *log_path)
{
	FILE *f = fopen(log_path, "re");
	char line[1024];
	bool denied = false, plugin = false, offline = false, any = false;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!any)
			fprintf(stderr, "porthole %s: the Session Manager tunnel (aws ssm start-session) said:\n", o->cmd);
		any = true;
		fprintf(stderr, "  %s%s", line, strchr(line, '\n') ? "" : "\n");
		denied |= strstr(line, "AccessDenied") || strstr(line, "not authorized");
		plugin |= strstr(line, "SessionManagerPlugin is not found") != NULL;
		offline |= strstr(line, "TargetNotConnected") != NULL;
	}
	fclose(f);
	if (denied)
		fprintf(stderr, "porthole %s: error: Session Manager refused the session: your IAM identity needs "
			"ssm:StartSession on the target %s and on the document AWS-StartSSHSession (docs/iam.md)\n",
			o->cmd, h->ssm_target);
	else if (plugin)
		fprintf(stderr, "porthole %s: error: install AWS's Session Manager plugin for the AWS CLI\n", o->cmd);
	else if (offline)
		fprintf(stderr, "porthole %s: error: target %s is not connected to Session Manager (the job ended, or "
			"its agent is down: `porthole hosts %s` shows its state)\n", o->cmd, h->ssm_target, o->job);
}

/* ssh through the tunnel: aws's messages go to a file (ssh would show them
 * mixed with its own), read back to explain a failure.  Returns ssh's
 * exit status. */
static int run_tunneled(const struct opts *o, const struct host_rec *h, struct userssh_cmd *cmd)
{
	const char *tmp = getenv("TMPDIR");
	char log_path[256];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int fd, status = 0;
	pid_t pid;

	snprintf(log_path, sizeof(log_path), "%s/porthole-ssm-XXXXXX", tmp && tmp[0] == '/' && strlen(tmp) < 200 &&
		 !strpbrk(tmp, "'\\") ? tmp : "/tmp");
	fd = mkostemp(log_path, O_CLOEXEC);
	if (fd < 0) {
		fflush(NULL);
		execvp(cmd->argv[0], cmd->argv);
		return 255;
	}
	close(fd);
	/* ssh runs it with the shell; the path has no quote in it. */
	size_t n = strlen(cmd->proxy);
	snprintf(cmd->proxy + n, sizeof(cmd->proxy) - n, " 2>>'%s'", log_path);
	/* Like system(): ^C and ^\ are ssh's, not ours. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(cmd->argv[0], cmd->argv);
		fprintf(stderr, "porthole ssh: error: cannot run ssh: %s (install the OpenSSH client)\n", strerror(errno));
		_exit(255);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	status = pid < 0 ? 255 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (status == 255)
		explain_tunnel(o, h, log_path);
	unlink(log_path);
	return status;
}

static bool host_published(const struct hostset *set, const struct opts *o)
{
	return records_find(set, o->host) != NULL;
}

static int cmd_ssh(struct hosts_reader *r, const struct opts *o, const char *group)
{
	struct hostset set = { 0 };
	const struct host_rec *h;
	struct userssh_cmd cmd = { 0 };
	char err[1024], alias[512], proxy[1024], *kh;
	bool use_ssm;
	int rc;

	if (fetch_until(r, o, &set, host_published) < 0)
		return 1;
	h = records_find(&set, o->host);
	if (!h) {
		if (count_listed(&set) == 0)
			explain_empty(r, o->job, group, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "host %s of job %s has published no record (the job has %zu "
				 "host%s with records; `porthole hosts %s` lists them)", o->host, o->job,
				 count_listed(&set), count_listed(&set) == 1 ? "" : "s", o->job);
		fprintf(stderr, "porthole ssh: error: %s\n", err);
		records_free(&set);
		return 1;
	}
	if (records_gone(h)) {
		char state[160];
		records_state_text(h, state, sizeof(state));
		fprintf(stderr, "porthole ssh: error: host %s of job %s is gone (%s: its porthole exited at %s)\n",
			o->host, o->job, state, h->ts ? h->ts : "an unknown time");
		records_free(&set);
		return 1;
	}
	if (!h->host_key || !h->port) {
		fprintf(stderr, "porthole ssh: error: host %s of job %s runs no SSH endpoint (PORTHOLE_SSH=off, or "
			"it failed to start: see its log)\n", o->host, o->job);
		records_free(&set);
		return 1;
	}
	if (choose_route(o, h, proxy, sizeof(proxy), &use_ssm) < 0) {
		records_free(&set);
		return 1;
	}
	kh = userssh_known_hosts_path();
	if (!kh) {
		fprintf(stderr, "porthole ssh: error: no place for known_hosts: set HOME or XDG_CACHE_HOME\n");
		records_free(&set);
		return 1;
	}
	userssh_alias(o->job, h->host, alias, sizeof(alias));
	rc = userssh_trust(kh, alias, h->host_key);
	if (rc < 0) {
		fprintf(stderr, "porthole ssh: error: cannot write %s: %s\n", kh, strerror(-rc));
	} else if (userssh_argv(&cmd, o->job, h, kh, use_ssm ? proxy : NULL, o->n_args, o->args) < 0) {
		fprintf(stderr, "porthole ssh: error: out of memory\n");
	} else if (use_ssm) {
		rc = run_tunneled(o, h, &cmd);
		userssh_cmd_free(&cmd);
		free(kh);
		records_free(&set);
		return rc;
	} else {
		fflush(NULL);
		execvp(cmd.argv[0], cmd.argv);
		fprintf(stderr, "porthole ssh: error: cannot run ssh: %s (install the OpenSSH client)\n",
			strerror(errno));
		userssh_cmd_free(&cmd);
	}
	free(kh);
	records_free(&set);
	return 1;
}

static int cmd_ssh_config(struct hosts_reader *r, const struct opts *o, const char *group)
{
	struct hostset set = { 0 };
	char err[1024], alias[512], *kh = userssh_known_hosts_path();
	int rc = 0;

	if (!kh) {
		fprintf(stderr, "porthole ssh-config: error: no place for known_hosts: set HOME or XDG_CACHE_HOME\n");
		return 1;
	}
	if (hosts_reader_fetch(r, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "porthole ssh-config: error: %s\n", err);
		rc = 1;
	} else if (count_listed(&set) == 0) {
		explain_empty(r, o->job, group, err, sizeof(err));
		fprintf(stderr, "porthole ssh-config: error: %s\n", err);
		rc = 1;
	}
	for (size_t i = 0; rc == 0 && i < set.n; i++) {
		const struct host_rec *h = &set.v[i];
		if (!listed(h))
			continue;
		if (records_gone(h) || !h->host_key || !h->port) {
			printf("# %s-%s: %s\n\n", o->job, h->host, records_gone(h) ? "gone" : "no SSH endpoint");
			continue;
		}
		char proxy[1024];
		bool use_ssm;
		if (choose_route(o, h, proxy, sizeof(proxy), &use_ssm) < 0) {
			printf("# %s-%s: %s\n\n", o->job, h->host,
			       use_ssm ? "not reachable through Session Manager (see above)" : "no IP address");
			continue;
		}
		/* The blocks are only as good as the keys they point at. */
		userssh_alias(o->job, h->host, alias, sizeof(alias));
		int e = userssh_trust(kh, alias, h->host_key);
		if (e < 0) {
			fprintf(stderr, "porthole ssh-config: error: cannot write %s: %s\n", kh, strerror(-e));
			rc = 1;
			break;
		}
		userssh_config_block(stdout, o->job, h, kh, use_ssm ? proxy : NULL);
		printf("\n");
	}
	records_free(&set);
	free(kh);
	return rc;
}

int hosts_cli_main(int argc, char **argv)
{
	struct config_flags flags = { 0 };
	struct config cfg;
	struct hosts_reader *r;
	struct opts o;
	char err[512];
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc;
	/* Only the log group matters here (PORTHOLE_LOG_GROUP, the conf file). */
	log_set_level(PLOG_NONE);
	config_load(&cfg, &flags);
	log_discard_early();
	log_set_level(PLOG_WARN);
	if (hosts_reader_new(cfg.cw.log_group, o.job, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "porthole %s: error: %s\n", o.cmd, err);
		config_free(&cfg);
		return 1;
	}
	const char *group = cfg.cw.log_group ? cfg.cw.log_group : "/aws/sagemaker/TrainingJobs";
	if (strcmp(o.cmd, "hosts") == 0)
		rc = cmd_hosts(r, &o, group);
	else if (strcmp(o.cmd, "ssh") == 0)
		rc = cmd_ssh(r, &o, group);
	else
		rc = cmd_ssh_config(r, &o, group);
	hosts_reader_free(r);
	config_free(&cfg);
	return rc;
}
