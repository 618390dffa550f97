/* SPDX-License-Identifier: Apache-2.0 */
/* opensshd.c — see opensshd.h. */
#include "opensshd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authkeys.h"
#include "sshd_setup.h"

#include "../init/spawn.h"
#include "../lib/backoff.h"
#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/report.h"

/* Restart delays double from 1 s up to 60 s; a run of 60 s resets them. */
#define RESTART_MIN_USEC (1 * USEC_PER_SEC)
#define RESTART_MAX_USEC (60 * USEC_PER_SEC)
#define STABLE_RUN_USEC (60 * USEC_PER_SEC)
#define MAX_LOGINS 256
/* sshd does not log a client that vanished while its command runs: while
 * logins are open, check this often that their TCP connections still are. */
#define CHECK_USEC (5 * USEC_PER_SEC)

/* One sshd's stderr: read until EOF, even after a restart, since the
 * connections it forked keep logging to it. */
struct relay {
	struct opensshd *o;
	int fd;
	sd_event_source *io;
	char buf[8192];
	size_t len;
	struct relay *next;
};

struct opensshd {
	sd_event *loop;
	struct reaper *reaper;
	const struct ssh_settings *cfg;
	struct session_hooks hooks;
	char sshd[4096];
	char dir[4096];
	char config[4200];
	unsigned port;
	pid_t pid;                 /* 0 while not running */
	struct backoff backoff;
	sd_event_source *restart;
	sd_event_source *check;
	struct relay *relays;
	char logins[MAX_LOGINS][80]; /* "addr port" of connections logged in */
	unsigned n_logins;
};

/* ---- files (written by the setup helper) ----------------------------------------- */

struct files {
	const char *sshd, *dir, *sshd_config_path;
	unsigned port;
};

/* `sshd -t -f config`: 0 when sshd accepts it, else its first error line in
 * msg.  Runs in the setup helper, never in PID 1. */
static int sshd_test(const char *sshd, const char *config, char *msg, size_t len)
{
	int fds[2], wstatus;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	msg[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		execl(sshd, sshd, "-t", "-f", config, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], msg + got, len - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(fds[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	msg[strcspn(msg, "\r\n")] = '\0'; /* sshd ends lines with \r\n on stderr */
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 ? 0 : -1;
}

/* Images that install openssh-server without ever starting it (the usual
 * BYOC Dockerfile) lack sshd's privilege separation directory, which the
 * package's service would create: /run/sshd on Debian, elsewhere on other
 * distributions.  sshd names it, so take the path from its complaint. */
static int check_sshd_config(const char *sshd, const char *config)
{
	static const char missing[] = "Missing privilege separation directory: ";
	char msg[1024];
	const char *dir;

	if (sshd_test(sshd, config, msg, sizeof(msg)) == 0)
		return 0;
	dir = strstr(msg, missing);
	if (dir && dir[sizeof(missing) - 1] == '/') {
		dir += sizeof(missing) - 1;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			report_log(PLOG_ERROR, NULL, NULL, "ssh: cannot create sshd's privilege separation directory %s: %s; "
			       "no SSH endpoint", dir, strerror(errno));
			return -1;
		}
		report_log(PLOG_INFO, NULL, NULL, "ssh: created sshd's privilege separation directory %s", dir);
		if (sshd_test(sshd, config, msg, sizeof(msg)) == 0)
			return 0;
	}
	report_log(PLOG_ERROR, NULL, NULL, "ssh: %s -t rejects the configuration porthole wrote (%s): %s; no SSH endpoint",
	       sshd, config, msg[0] ? msg : "no message");
	return -1;
}

static bool env_name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* What sshd sets per session itself, or must not come from porthole. */
static bool env_skipped(const char *s, size_t n)
{
	static const char *const skip[] = { "HOME", "USER", "LOGNAME", "SHELL", "MAIL", "PWD", "OLDPWD", "SHLVL",
					    "_", "TERM", "NOTIFY_SOCKET", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID" };
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strlen(skip[i]) == n && strncmp(s, skip[i], n) == 0)
			return true;
	return n >= 4 && strncmp(s, "SSH_", 4) == 0;
}

/* The training environment as one SetEnv line: sshd honours only the first
 * SetEnv line, and "NAME=value" with \" and \\ inside double quotes. */
static void write_setenv(FILE *f)
{
	extern char **environ;
	bool any = false;

	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '='), *v;
		bool printable = true;
		if (!eq || !env_name_ok(*e, (size_t)(eq - *e)) || env_skipped(*e, (size_t)(eq - *e)))
			continue;
		for (v = eq + 1; *v; v++)
			printable &= (unsigned char)*v >= 0x20 && *v != 0x7f;
		if (!printable)
			continue; /* a newline cannot be said in sshd_config */
		fputs(any ? " \"" : "SetEnv \"", f);
		for (const char *c = *e; *c; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', f);
			fputc(*c, f);
		}
		fputc('"', f);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

static int write_files(const struct ssh_settings *cfg, const struct hostkey *hk, void *ud)
{
	const struct files *fl = ud;
	char key[4200], keys[4200], self[4096], err[512], user_file[4096];
	ssize_t n;
	FILE *f;

	snprintf(key, sizeof(key), "%s/ssh_host_key", fl->dir);
	snprintf(keys, sizeof(keys), "%s/authorized_keys", fl->dir);
	if (hostkey_write(hk, key, err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: %s; no SSH endpoint", err);
		return -1;
	}
	f = fopen(keys, "we");
	if (!f || fprintf(f, "%s\n", cfg->authorized_keys ? cfg->authorized_keys : "") < 0 || fclose(f) != 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: cannot write %s: %s; no SSH endpoint", keys, strerror(errno));
		return -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	authkeys_user_file(user_file, sizeof(user_file));

	f = fopen(fl->sshd_config_path, "we");
	if (!f) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: cannot write %s: %s; no SSH endpoint", fl->sshd_config_path,
		       strerror(errno));
		return -1;
	}
	fprintf(f, "# Written by porthole (PORTHOLE_SSH=openssh) at each start; edits are lost.\n");
	fprintf(f, "Port %u\n", fl->port);
	if (cfg->listen && strcmp(cfg->listen, "all") != 0) {
		char list[1024], *save = NULL;
		snprintf(list, sizeof(list), "%s", cfg->listen);
		for (char *a = strtok_r(list, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save))
			fprintf(f, "ListenAddress %s\n", strcmp(a, "localhost") == 0 ? "127.0.0.1" : a);
	}
	fprintf(f, "HostKey %s\nPidFile none\nUsePAM no\n", key);
	fprintf(f, "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n");
	fprintf(f, "PubkeyAuthentication yes\n");
	/* porthole wrote or chose these files; the checks StrictModes makes
	 * would refuse keys under world-writable parents such as /tmp. */
	fprintf(f, "StrictModes no\n");
	/* Cluster SSH's keys; network trust has no sshd equivalent (docs/cluster.md). */
	const char *s3file = cfg->s3_keys_file ? cfg->s3_keys_file : "";
	const char *cluster_file = cfg->cluster_keys_file ? cfg->cluster_keys_file : "";
	fprintf(f, "AuthorizedKeysFile %s%s%s%s%s%s%s %s %s\n", keys, cfg->authorized_keys_file ? " " : "",
		cfg->authorized_keys_file ? cfg->authorized_keys_file : "", s3file[0] ? " " : "", s3file,
		cluster_file[0] ? " " : "", cluster_file, AUTHKEYS_SYSTEM_FILE, user_file);
	fprintf(f, "LoginGraceTime %llu\nMaxAuthTries %u\nMaxStartups %u:%u:%u\n",
		(unsigned long long)cfg->login_grace, cfg->max_auth_tries ? cfg->max_auth_tries : 1,
		cfg->max_startups.start, cfg->max_startups.rate, cfg->max_startups.full);
	if (cfg->keepalive)
		fprintf(f, "ClientAliveInterval %llu\nClientAliveCountMax 3\n", (unsigned long long)cfg->keepalive);
	fprintf(f, "AllowTcpForwarding yes\nGatewayPorts %s\nAllowAgentForwarding %s\nX11Forwarding no\nPrintMotd no\n",
		cfg->gateway_ports ? "clientspecified" : "no", cfg->agent_forwarding ? "yes" : "no");
	fprintf(f, "AcceptEnv LANG LC_* COLORTERM NO_COLOR\n");
	if (cfg->sftp_server)
		fprintf(f, "Subsystem sftp %s\n", cfg->sftp_server);
	else
		fprintf(f, "Subsystem sftp %s sftp-server\n", self);
	fprintf(f, "LogLevel INFO\n");
	write_setenv(f);
	if (fclose(f) != 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: cannot write %s: %s; no SSH endpoint", fl->sshd_config_path,
		       strerror(errno));
		return -1;
	}
	return check_sshd_config(fl->sshd, fl->sshd_config_path);
}

/* ---- sessions, from sshd's log ---------------------------------------------------- */

/* "… from ADDR port PORT …" → "ADDR PORT". */
static bool conn_key(const char *line, const char *after, char *key, size_t len)
{
	char addr[64];
	unsigned port;
	const char *p = strstr(line, after);

	if (!p || sscanf(p + strlen(after), "%63s port %u", addr, &port) != 2)
		return false;
	snprintf(key, len, "%s %u", addr, port);
	return true;
}

static void logout(struct opensshd *o, unsigned i, const char *user, const char *why)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "user", user);
	cJSON_AddStringToObject(f, "addr", o->logins[i]);
	cJSON_AddStringToObject(f, "server", "openssh");
	log_event(PLOG_INFO, "ssh_logout", f, "ssh: %s from %s logged out (sshd%s)", user, o->logins[i], why);
	memcpy(o->logins[i], o->logins[--o->n_logins], sizeof(o->logins[0]));
	if (!o->n_logins)
		sd_event_source_set_enabled(o->check, SD_EVENT_OFF);
	o->hooks.closed(o->hooks.ud);
}

/* Is there an established TCP connection from "addr port" to our port? */
static bool connected(const struct opensshd *o, const char *key)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char addr[64], line[512];
	unsigned port;
	unsigned char want[16] = { 0 };
	bool v4;

	if (sscanf(key, "%63s %u", addr, &port) != 2)
		return false;
	v4 = inet_pton(AF_INET, addr, want + 12) == 1;
	if (v4) {
		want[10] = want[11] = 0xff;
	} else if (inet_pton(AF_INET6, addr, want) != 1) {
		return true; /* cannot tell: keep it */
	}
	for (int t = 0; t < 2; t++) {
		FILE *f = fopen(tables[t], "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char local[64], remote[64];
			unsigned lport, rport, st, w[4];
			unsigned char got[16] = { 0 };
			if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x", local, &lport, remote, &rport, &st) != 5)
				continue;
			if (st != 1 || lport != o->port || rport != port) /* 1: ESTABLISHED */
				continue;
			/* The kernel prints each 32-bit word in host order. */
			if (strlen(remote) == 8 && sscanf(remote, "%8x", &w[0]) == 1) {
				got[10] = got[11] = 0xff;
				memcpy(got + 12, &w[0], 4);
			} else if (strlen(remote) == 32 &&
				   sscanf(remote, "%8x%8x%8x%8x", &w[0], &w[1], &w[2], &w[3]) == 4) {
				memcpy(got, w, 16);
			}
			if (memcmp(got, want, 16) == 0) {
				fclose(f);
				return true;
			}
		}
		fclose(f);
	}
	return false;
}

static int on_check(sd_event_source *s, uint64_t usec, void *ud)
{
	struct opensshd *o = ud;
	(void)usec;

	for (unsigned i = 0; i < o->n_logins;) {
		if (!connected(o, o->logins[i]))
			logout(o, i, "?", ": its connection is gone");
		else
			i++;
	}
	if (o->n_logins) {
		sd_event_source_set_time_relative(s, CHECK_USEC);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

static void track(struct opensshd *o, const char *line)
{
	char key[80], user[256] = "?";

	/* "Accepted publickey for root from 127.0.0.1 port 55344 ssh2: ED25519 SHA256:…" */
	if (strncmp(line, "Accepted ", 9) == 0 && conn_key(line, " from ", key, sizeof(key))) {
		const char *fp = strstr(line, "SHA256:");
		sscanf(line, "Accepted %*s for %255s", user);
		if (o->n_logins == MAX_LOGINS)
			return;
		snprintf(o->logins[o->n_logins++], sizeof(o->logins[0]), "%s", key);
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "user", user);
		cJSON_AddStringToObject(f, "addr", key);
		if (fp)
			cJSON_AddStringToObject(f, "key", fp);
		cJSON_AddStringToObject(f, "server", "openssh");
		log_event(PLOG_INFO, "ssh_login", f, "ssh: %s logged in from %s (sshd)", user, key);
		o->hooks.opened(o->hooks.ud);
		if (o->n_logins == 1) {
			sd_event_source_set_time_relative(o->check, CHECK_USEC);
			sd_event_source_set_enabled(o->check, SD_EVENT_ONESHOT);
		}
		return;
	}
	/* "Disconnected from user root 127.0.0.1 port 55344" */
	if (strncmp(line, "Disconnected from user ", 23) == 0) {
		char addr[64];
		unsigned port;
		if (sscanf(line + 23, "%255s %63s port %u", user, addr, &port) != 3)
			return;
		snprintf(key, sizeof(key), "%s %u", addr, port);
		for (unsigned i = 0; i < o->n_logins; i++) {
			if (strcmp(o->logins[i], key) == 0) {
				logout(o, i, user, "");
				return;
			}
		}
	}
}

static void relay_free(struct relay *r)
{
	for (struct relay **pp = &r->o->relays; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	sd_event_source_disable_unref(r->io);
	close(r->fd);
	free(r);
}

static int on_stderr(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct relay *r = ud;
	ssize_t n;
	char *nl;
	(void)s;
	(void)revents;

	n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		relay_free(r);
		return 0;
	}
	r->len += (size_t)n;
	r->buf[r->len] = '\0';
	while ((nl = strchr(r->buf, '\n')) || r->len == sizeof(r->buf) - 1) {
		if (nl)
			*nl = '\0';
		char *line = r->buf;
		size_t used = nl ? (size_t)(nl - r->buf) + 1 : r->len;
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*line) {
			bool bad = strstr(line, "fatal") || strstr(line, "error:") || strstr(line, "Bind to port");
			log_msg(bad ? PLOG_WARN : PLOG_INFO, "sshd: %s", line);
			track(r->o, line);
		}
		memmove(r->buf, r->buf + used, r->len - used + 1);
		r->len -= used;
	}
	return 0;
}

/* ---- running sshd ----------------------------------------------------------------- */

static void start_sshd(struct opensshd *o);

static int on_restart(sd_event_source *s, uint64_t usec, void *ud)
{
	struct opensshd *o = ud;
	(void)s;
	(void)usec;

	start_sshd(o);
	return 0;
}

static void on_sshd_exit(void *ud, pid_t pid, int wstatus)
{
	struct opensshd *o = ud;
	char how[128];
	uint64_t delay;
	(void)pid;

	o->pid = 0;
	spawn_describe_status(wstatus, how, sizeof(how));
	delay = backoff_next(&o->backoff, clock_mono_usec());
	log_warn("ssh: sshd %s; starting it again in %llus", how, (unsigned long long)(delay / USEC_PER_SEC));
	sd_event_source_set_time_relative(o->restart, delay);
	sd_event_source_set_enabled(o->restart, SD_EVENT_ONESHOT);
}

static void start_sshd(struct opensshd *o)
{
	char *argv[] = { o->sshd, "-D", "-e", "-f", o->config, NULL };
	int p[2], dn;
	pid_t pid;
	struct relay *r;

	r = calloc(1, sizeof(*r));
	if (!r || pipe2(p, O_CLOEXEC) < 0) {
		free(r);
		log_error("ssh: cannot start sshd: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		dn = open("/dev/null", O_RDWR);
		dup2(dn, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		free(r);
		log_error("ssh: cannot start sshd: %s", strerror(errno));
		return;
	}
	o->pid = pid;
	backoff_started(&o->backoff, clock_mono_usec());
	reaper_watch(o->reaper, pid, on_sshd_exit, o);
	r->o = o;
	r->fd = p[0];
	fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
	if (sd_event_add_io(o->loop, &r->io, r->fd, EPOLLIN, on_stderr, r) < 0) {
		close(r->fd);
		free(r);
		return;
	}
	r->next = o->relays;
	o->relays = r;
}

static bool find_sshd(char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096], *save = NULL;

	snprintf(buf, sizeof(buf), "%s:/usr/sbin:/usr/local/sbin:/sbin", path ? path : "");
	for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/sshd", *d ? d : ".");
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* sshd cannot report a port the kernel chose: choose one for it. */
static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	unsigned port = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int opensshd_new(sd_event *loop, struct reaper *reaper, const struct ssh_settings *cfg, const struct session_hooks *hooks,
		 struct hostkey *hk, unsigned *n_keys, unsigned *port, struct opensshd **ret)
{
	struct opensshd *o = calloc(1, sizeof(*o));
	char sock[4096];
	struct files fl;
	int rc;

	*ret = NULL;
	if (!o)
		return -ENOMEM;
	if (!find_sshd(o->sshd, sizeof(o->sshd))) {
		log_error("ssh: PORTHOLE_SSH=openssh, but the image has no sshd (Debian/Ubuntu: apt-get install "
			  "openssh-server); using porthole's own SSH server");
		free(o);
		return -ENOENT;
	}
	o->loop = loop;
	o->reaper = reaper;
	o->cfg = cfg;
	o->hooks = *hooks;
	backoff_init(&o->backoff, RESTART_MIN_USEC, RESTART_MAX_USEC, STABLE_RUN_USEC);
	/* In porthole's runtime directory: /run/porthole/sshd by default. */
	snprintf(o->dir, sizeof(o->dir), "%s/sshd", cfg->runtime_dir ? cfg->runtime_dir : "/run/porthole");
	snprintf(o->config, sizeof(o->config), "%s/sshd_config", o->dir);
	snprintf(sock, sizeof(sock), "%s", o->dir);
	mkdir(dirname(sock), 0755);
	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
		log_error("ssh: cannot create %s for sshd: %s; no SSH endpoint", o->dir, strerror(errno));
		free(o);
		return -errno;
	}
	o->port = cfg->port ? cfg->port : free_port();
	fl = (struct files){ .sshd = o->sshd, .dir = o->dir, .sshd_config_path = o->config, .port = o->port };
	rc = sshd_setup(reaper, cfg, write_files, &fl, hk, n_keys);
	if (rc < 0 || sd_event_add_time(loop, &o->restart, CLOCK_MONOTONIC, UINT64_MAX, 0, on_restart, o) < 0 ||
	    sd_event_add_time(loop, &o->check, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_SEC, on_check, o) < 0) {
		sd_event_source_disable_unref(o->restart);
		free(o);
		return -EIO;
	}
	sd_event_source_set_enabled(o->restart, SD_EVENT_OFF);
	sd_event_source_set_enabled(o->check, SD_EVENT_OFF);
	start_sshd(o);
	*port = o->port;
	*ret = o;
	log_info("ssh: running %s -D -e -f %s on port %u; host key %s", o->sshd, o->config, o->port, hk->fingerprint);
	return 0;
}

void opensshd_free(struct opensshd *o)
{
	if (!o)
		return;
	if (o->pid) {
		reaper_unwatch(o->reaper, o->pid);
		kill(o->pid, SIGTERM);
	}
	while (o->relays)
		relay_free(o->relays);
	sd_event_source_disable_unref(o->restart);
	sd_event_source_disable_unref(o->check);
	free(o);
}
