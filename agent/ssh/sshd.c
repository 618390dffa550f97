/* SPDX-License-Identifier: Apache-2.0 */
/* sshd.c — see sshd.h. */
#include "sshd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authkeys.h"
#include "sshlib.h"
#include "connproc.h"
#include "opensshd.h"
#include "penalty.h"
#include "persource.h"
#include "session.h"
#include "sshd_setup.h"

#include "../init/spawn.h"
#include "../lib/clock.h"
#include "../lib/duration.h"
#include "../lib/log.h"
#include "../lib/relay.h"
#include "../lib/vis.h"

#define MAX_LISTENERS 8
#define MAX_REPORT_LINE (64 * 1024)
#define REFUSAL_WARN_USEC (60 * USEC_PER_SEC)

struct conn {
	struct sshd *d;
	pid_t pid;
	int fd;                 /* the report pipe; -1 once at EOF */
	sd_event_source *io;
	char addr[64];
	char block[72];         /* its source for the per-source limits (persource.h) */
	unsigned port;
	char user[256];
	bool logged_in, failed, grace;
	uint64_t start, login_at;
	struct relay_lines lines; /* from its report pipe */
	struct conn *next;
};

struct sshd {
	sd_event *loop;
	struct reaper *reaper;
	const struct ssh_settings *cfg;
	struct session_hooks hooks;
	int lfd[MAX_LISTENERS];
	sd_event_source *lsrc[MAX_LISTENERS];
	size_t n_listen;
	unsigned port;
	struct hostkey hk;
	struct conn *conns;
	unsigned n_unauth;
	struct penalty *penalty;   /* NULL (out of memory): nobody is penalised */
	const char *exempt;        /* sources never penalised (persource.h) */
	uint64_t rng;
	uint64_t refusals_warned;  /* when we last warned about refusals */
	unsigned refusals;         /* since then */
	struct opensshd *openssh;
	struct sshd_setup_check *check; /* reading the authorized keys alongside, or NULL */
	sd_event_source *check_later;   /* timer: start that */
	/* sshd_drain: */
	sd_event_source *drain_timer;
	void (*drained)(void *ud);
	void *drained_ud;
};

/* ---- addresses ----------------------------------------------------------------- */

/* Text form; IPv4 clients of a dual-stack socket as plain IPv4. */
static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len, unsigned *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		*port = ntohs(a->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], buf, (socklen_t)len);
		else
			inet_ntop(AF_INET6, &a->sin6_addr, buf, (socklen_t)len);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		*port = ntohs(a->sin_port);
		inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)len);
	} else {
		snprintf(buf, len, "?");
		*port = 0;
	}
}

/* ---- connections ----------------------------------------------------------------- */

static void conn_line(void *ud, const char *line)
{
	struct conn *c = ud;
	cJSON *o = relay_parse(line);
	const char *ev;

	if (!o) {
		log_debug("ssh %s:%u: unreadable report from its process", c->addr, c->port);
		return;
	}
	ev = relay_event(o);
	if (ev && strcmp(ev, "ssh_login") == 0 && !c->logged_in) {
		const char *u = relay_field(o, "user");
		c->logged_in = true;
		c->login_at = clock_mono_usec();
		c->d->n_unauth--;
		/* Escaped like every client string that reaches the log (vis.h). */
		vis_str(c->user, sizeof(c->user), u ? u : "?");
		if (c->fd >= 0 && connproc_send_env(c->fd) < 0)
			log_warn("ssh %s:%u: cannot send the training environment to the connection's process", c->addr,
				 c->port);
		c->d->hooks.opened(c->d->hooks.ud);
	} else if (ev && strcmp(ev, "ssh_auth_failure") == 0) {
		c->failed = true;
	} else if (ev && strcmp(ev, "ssh_login_grace") == 0) {
		c->grace = true;
	}
	relay_log(o);
	cJSON_Delete(o);
}

static void conn_stop_reading(struct conn *c)
{
	c->io = sd_event_source_disable_unref(c->io);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Read what the pipe has; false at EOF or error. */
static bool conn_read(struct conn *c)
{
	char chunk[8192];

	for (;;) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		int rc = relay_lines_add(&c->lines, chunk, (size_t)n, MAX_REPORT_LINE, conn_line, c);
		if (rc == -E2BIG)
			log_warn("ssh %s:%u: its process sent a line over %d bytes; ignoring its reports", c->addr,
				 c->port, MAX_REPORT_LINE);
		if (rc < 0)
			return false;
	}
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct conn *c = ud;
	(void)s;
	(void)fd;
	(void)revents;

	if (!conn_read(c))
		conn_stop_reading(c);
	return 0;
}

static void conn_free(struct conn *c)
{
	struct sshd *d = c->d;

	for (struct conn **pp = &d->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (!c->logged_in)
		d->n_unauth--;
	conn_stop_reading(c);
	relay_lines_clear(&c->lines);
	free(c);
}

static void drain_done(struct sshd *d)
{
	void (*cb)(void *) = d->drained;

	d->drain_timer = sd_event_source_disable_unref(d->drain_timer);
	d->drained = NULL;
	if (cb)
		cb(d->drained_ud);
}

/* What the connection did adds to its source's penalty, unless the source
 * is exempt (PORTHOLE_PER_SOURCE_PENALTY_EXEMPT). */
static void penalise(struct sshd *d, const struct conn *c, enum penalty_kind kind)
{
	static const char *const what[] = { [PENALTY_AUTHFAIL] = "failed to log in", [PENALTY_GRACE] =
						    "did not log in within PORTHOLE_LOGIN_GRACE",
					    [PENALTY_CRASH] = "crashed its connection's process" };
	uint64_t now = clock_mono_usec(), before;

	if (persource_exempt(d->exempt, d->cfg, c->addr))
		return;
	before = penalty_wait(d->penalty, c->block, now);
	penalty_add(d->penalty, c->block, kind, now);
	if (!before && penalty_wait(d->penalty, c->block, now))
		log_info("ssh: source %s penalised (it %s, among others): its failed logins are answered late for "
			 "%llus (PORTHOLE_PER_SOURCE_PENALTY_EXEMPT exempts sources)", c->block, what[kind],
			 (unsigned long long)(penalty_wait(d->penalty, c->block, now) / USEC_PER_SEC));
}

static void on_conn_exit(void *ud, pid_t pid, int wstatus)
{
	struct conn *c = ud;
	struct sshd *d = c->d;
	char how[128];

	/* Its last words first: they may be the login or the reason it ended. */
	if (c->fd >= 0)
		conn_read(c);
	spawn_describe_status(wstatus, how, sizeof(how));
	if (c->logged_in) {
		char dur[32];
		uint64_t secs = (clock_mono_usec() - c->login_at) / USEC_PER_SEC;
		bool crashed = WIFSIGNALED(wstatus);
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "user", c->user);
		cJSON_AddStringToObject(f, "addr", c->addr);
		cJSON_AddNumberToObject(f, "port", c->port);
		cJSON_AddNumberToObject(f, "duration_s", (double)secs);
		cJSON_AddNumberToObject(f, "pid", pid);
		if (crashed)
			cJSON_AddStringToObject(f, "how", how);
		log_event(crashed ? PLOG_WARN : PLOG_INFO, "ssh_logout", f, "ssh: %s from %s:%u logged out after %s%s%s",
			  c->user, c->addr, c->port, duration_format(secs, dur, sizeof(dur)),
			  crashed ? "; its connection process was " : "", crashed ? how : "");
		d->hooks.closed(d->hooks.ud);
	} else {
		/* Only SIGTERM is porthole's own (sshd_drain): any other signal
		 * before a login is a crash the client may have caused. */
		bool crashed = WIFSIGNALED(wstatus) && WTERMSIG(wstatus) != SIGTERM;
		if (crashed)
			log_warn("ssh %s:%u: the connection's process %d %s", c->addr, c->port, (int)pid, how);
		if (crashed || c->grace || c->failed)
			penalise(d, c, crashed ? PENALTY_CRASH : c->grace ? PENALTY_GRACE : PENALTY_AUTHFAIL);
	}
	conn_free(c);
	if (d->drained && !d->conns)
		drain_done(d);
}

/* ---- accepting ---------------------------------------------------------------------- */

static uint64_t next_random(struct sshd *d)
{
	/* xorshift64: spreading refusals needs no more. */
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

/* OpenSSH's MaxStartups start:rate:full random early drop. */
static bool too_many_startups(struct sshd *d)
{
	const struct ssh_startups *st = &d->cfg->max_startups;
	unsigned p;

	if (d->n_unauth < st->start)
		return false;
	if (d->n_unauth >= st->full)
		return true;
	p = st->rate + (100 - st->rate) * (d->n_unauth - st->start) / (st->full - st->start);
	return next_random(d) % 100 < p;
}

static unsigned unauth_from(const struct sshd *d, const char *block)
{
	unsigned n = 0;

	for (const struct conn *c = d->conns; c; c = c->next)
		if (!c->logged_in && strcmp(c->block, block) == 0)
			n++;
	return n;
}

static void refuse(struct sshd *d, int fd, const char *addr, unsigned port, const char *why)
{
	uint64_t now = clock_mono_usec();

	close(fd);
	d->refusals++;
	log_debug("ssh %s:%u: refused: %s", addr, port, why);
	if (now >= d->refusals_warned + REFUSAL_WARN_USEC) {
		log_warn("ssh: refusing connections (%u in the last minute), the last from %s: %s", d->refusals, addr,
			 why);
		d->refusals_warned = now;
		d->refusals = 0;
	}
}

static void admit(struct sshd *d, int fd, const struct sockaddr_storage *peer)
{
	struct session_params sp = { .cfg = d->cfg, .host_key = d->hk.priv };
	struct sockaddr_storage local;
	socklen_t ll = sizeof(local);
	char block[72];
	struct conn *c;
	int p[2], rc;
	pid_t pid;

	addr_text(peer, sp.peer, sizeof(sp.peer), &sp.peer_port);
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
		addr_text(&local, sp.local, sizeof(sp.local), &sp.local_port);
	if (persource_block(sp.peer, &d->cfg->per_source_netblock, block, sizeof(block)) < 0)
		snprintf(block, sizeof(block), "%s", sp.peer);
	/* One source cannot fill MaxStartups for everyone (OpenSSH's
	 * PerSourceMaxStartups). */
	if (d->cfg->per_source_max_startups && unauth_from(d, block) >= d->cfg->per_source_max_startups) {
		refuse(d, fd, sp.peer, sp.peer_port,
		       "too many connections not logged in yet from its address (PORTHOLE_PER_SOURCE_MAX_STARTUPS)");
		return;
	}
	/* Penalised, not refused: the real user may share the source. */
	sp.penalty_usec = penalty_wait(d->penalty, block, clock_mono_usec());
	if (too_many_startups(d)) {
		refuse(d, fd, sp.peer, sp.peer_port, "too many connections not logged in yet (PORTHOLE_MAX_STARTUPS)");
		return;
	}
	c = calloc(1, sizeof(*c));
	/* A socket rather than a pipe: PID 1 hands the environment over it
	 * after the login (connproc.h). */
	if (!c || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) {
		free(c);
		refuse(d, fd, sp.peer, sp.peer_port, "out of resources");
		return;
	}
	sp.report_fd = -1;
	rc = connproc_start(&sp, fd, p[1], &pid);
	if (rc < 0) {
		close(p[0]);
		free(c);
		d->refusals++;
		log_warn("ssh %s:%u: cannot start the connection's process: %s", sp.peer, sp.peer_port, strerror(-rc));
		return;
	}
	c->d = d;
	c->pid = pid;
	c->fd = p[0];
	c->port = sp.peer_port;
	c->start = clock_mono_usec();
	snprintf(c->addr, sizeof(c->addr), "%s", sp.peer);
	snprintf(c->block, sizeof(c->block), "%s", block);
	c->next = d->conns;
	d->conns = c;
	d->n_unauth++;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (sd_event_add_io(d->loop, &c->io, c->fd, EPOLLIN, on_conn_io, c) < 0)
		conn_stop_reading(c); /* it still ends through the reaper */
	if (reaper_watch(d->reaper, pid, on_conn_exit, c) < 0) {
		kill(pid, SIGKILL);
		conn_free(c);
		return;
	}
	log_debug("ssh %s:%u: connection, process %d", c->addr, c->port, (int)pid);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct sshd *d = ud;
	(void)s;
	(void)revents;

	/* A bounded batch, so a flood cannot starve the rest of the loop. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		/* Blocking, as the connection's process wants it. */
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				log_warn("ssh: cannot accept a connection: %s", strerror(errno));
			break;
		}
		admit(d, cfd, &ss);
	}
	return 0;
}

/* ---- listening ----------------------------------------------------------------------- */

static int listen_one(struct sshd *d, int family, const void *addr, unsigned port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1, zero = 0;

	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		memcpy(&a->sin6_addr, addr, sizeof(a->sin6_addr));
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		memcpy(&a->sin_addr, addr, sizeof(a->sin_addr));
		len = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!d->port) {
		struct sockaddr_storage got;
		socklen_t gl = sizeof(got);
		unsigned p = 0;
		char ignored[64];
		if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
			addr_text(&got, ignored, sizeof(ignored), &p);
		d->port = p;
	}
	return fd;
}

static int adopt_listener(struct sshd *d, int fd);
static void stop_listening(struct sshd *d);

static int add_listener(struct sshd *d, const char *text)
{
	unsigned char bin[16];
	int fd;

	if (d->n_listen == MAX_LISTENERS)
		return -ENOSPC;
	if (strcmp(text, "all") == 0) {
		/* One dual-stack socket; IPv4 only where IPv6 is off. */
		fd = listen_one(d, AF_INET6, &in6addr_any, d->port ? d->port : d->cfg->port);
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) {
			struct in_addr any = { .s_addr = htonl(INADDR_ANY) };
			fd = listen_one(d, AF_INET, &any, d->port ? d->port : d->cfg->port);
		}
	} else if (strcmp(text, "localhost") == 0) {
		struct in_addr lo = { .s_addr = htonl(INADDR_LOOPBACK) };
		fd = listen_one(d, AF_INET, &lo, d->port ? d->port : d->cfg->port);
	} else if (inet_pton(AF_INET, text, bin) == 1) {
		fd = listen_one(d, AF_INET, bin, d->port ? d->port : d->cfg->port);
	} else if (inet_pton(AF_INET6, text, bin) == 1) {
		fd = listen_one(d, AF_INET6, bin, d->port ? d->port : d->cfg->port);
	} else {
		return -EINVAL;
	}
	return fd < 0 ? fd : adopt_listener(d, fd);
}

/* fd is taken over, even on failure. */
static int adopt_listener(struct sshd *d, int fd)
{
	if (sd_event_add_io(d->loop, &d->lsrc[d->n_listen], fd, EPOLLIN, on_accept, d) < 0) {
		close(fd);
		return -ENOMEM;
	}
	d->lfd[d->n_listen++] = fd;
	return 0;
}

static int listen_all(struct sshd *d)
{
	char list[1024], *save = NULL;

	snprintf(list, sizeof(list), "%s", d->cfg->listen ? d->cfg->listen : "all");
	for (char *a = strtok_r(list, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save)) {
		int rc = add_listener(d, a);
		if (rc < 0) {
			log_error("ssh: cannot listen on %s port %u (PORTHOLE_SSH_LISTEN, PORTHOLE_SSH_PORT): %s%s; "
				  "no SSH endpoint",
				  a, d->port ? d->port : d->cfg->port, strerror(-rc),
				  rc == -EADDRINUSE ? " (another sshd?)" : rc == -EACCES ? " (ports below 1024 need root)" : "");
			return rc;
		}
	}
	return 0;
}

/* ---- the endpoint ------------------------------------------------------------------------ */

static void say_keys(const struct ssh_settings *cfg, unsigned n_keys)
{
	char user_file[4096];

	if (n_keys)
		return;
	if (cfg->authorized_keys_s3) {
		log_info("ssh: no authorized keys yet; logins work once the keys from %s are fetched",
			 cfg->authorized_keys_s3);
		return;
	}
	if (cfg->cluster_keys_file) {
		log_info("ssh: no authorized keys yet; the job's hosts can log in once cluster SSH has their keys");
		return;
	}
	authkeys_user_file(user_file, sizeof(user_file));
	log_warn("ssh: no authorized keys, so nobody can log in yet. Add a public key with "
		 "PORTHOLE_AUTHORIZED_KEYS=\"ssh-ed25519 AAAA... you@laptop\" or the hyperparameter "
		 "porthole_authorized_keys, or append it to %s or %s (read at each login)",
		 user_file, AUTHKEYS_SYSTEM_FILE);
}

/* systemd's socket, in place of PORTHOLE_SSH_LISTEN/PORT. */
static int listen_passed(struct sshd *d, int fd)
{
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	char ignored[64];

	if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
		addr_text(&got, ignored, sizeof(ignored), &d->port);
	int rc = adopt_listener(d, fd);
	if (rc < 0)
		log_error("ssh: cannot serve the socket systemd passed: %s; no SSH endpoint", strerror(-rc));
	return rc;
}

/* The authorized keys' first reading, done alongside (a generated key). */
static void on_keys_checked(void *ud, int n_keys)
{
	struct sshd *d = ud;

	if (n_keys < 0) {
		/* What it said is logged: a connection could not do better. */
		log_error("ssh: the authorized keys could not be read (see above); no SSH endpoint");
		stop_listening(d);
		return;
	}
	say_keys(d->cfg, (unsigned)n_keys);
}

/* Where a new host key is made.  The static binary has libssh (and
 * OpenSSL) linked in: making the key in PID 1 costs a few milliseconds and
 * no process.  The dynamic one loads libssh only in processes it forks, so
 * that PID 1 never maps OpenSSL: a helper makes the key there. */
#ifdef PORTHOLE_STATIC
#define HOSTKEY_IN_PID1 1
#else
#define HOSTKEY_IN_PID1 0
#endif

/* A second after porthole is up, so that the training command has its own
 * start to itself: the check's process loads libssh and OpenSSL, some
 * 20 ms of CPU.  A command over by then never pays for it, and nobody
 * logs in that fast. */
#define CHECK_AFTER_USEC USEC_PER_SEC

static int on_check_later(sd_event_source *s, uint64_t usec, void *ud)
{
	struct sshd *d = ud;
	int rc;
	(void)s;
	(void)usec;

	d->check_later = sd_event_source_disable_unref(d->check_later);
	rc = sshd_setup_check_start(d->loop, d->reaper, d->cfg, on_keys_checked, d, &d->check);
	if (rc < 0) {
		log_error("ssh: cannot start the setup process: %s; no SSH endpoint", strerror(-rc));
		stop_listening(d);
	}
	return 0;
}

/* porthole's own server: d is freed on failure. */
static int embedded(struct sshd *d, int listen_fd)
{
	unsigned n_keys = 0;
	char err[256];
	int rc;

	rc = listen_fd >= 0 ? listen_passed(d, listen_fd) : listen_all(d);
	if (rc == 0 && (d->cfg->host_key || !HOSTKEY_IN_PID1)) {
		/* The forked helper loads libssh, makes or reads the key and
		 * checks the authorized keys: PID 1 never maps OpenSSL. */
		rc = sshd_setup(d->reaper, d->cfg, NULL, NULL, &d->hk, &n_keys);
	} else if (rc == 0) {
		/* libssh is linked in: the key is made here, and the authorized
		 * keys are read a second later by a process of their own. */
		if (sshlib_load(err, sizeof(err)) < 0 || hostkey_make(NULL, &d->hk, err, sizeof(err)) < 0) {
			log_error("ssh: cannot make a host key: %s; no SSH endpoint", err);
			rc = -EIO;
		} else if ((rc = sd_event_add_time_relative(d->loop, &d->check_later, CLOCK_MONOTONIC,
							    CHECK_AFTER_USEC, USEC_PER_SEC / 10, on_check_later, d)) < 0) {
			log_error("ssh: out of memory; no SSH endpoint");
		}
	}
	if (rc < 0) {
		sshd_free(d);
		return rc;
	}
	penalty_new(&d->penalty);
	d->exempt = d->cfg->per_source_penalty_exempt;
	if (d->exempt && !persource_exempt_valid(d->exempt)) {
		log_error("ssh: PORTHOLE_PER_SOURCE_PENALTY_EXEMPT: expected addresses, CIDR blocks, loopback, cluster "
			  "or none, separated by commas; using loopback,cluster");
		d->exempt = "loopback,cluster";
	}
	log_info("ssh: listening on port %u; host key %s", d->port, d->hk.fingerprint);
	if (!d->check_later)
		say_keys(d->cfg, n_keys);
	return 0;
}

int sshd_new(sd_event *loop, struct reaper *reaper, const struct ssh_settings *cfg, const struct session_hooks *hooks,
	     int listen_fd, struct sshd **ret)
{
	struct sshd *d;
	int rc;

	*ret = NULL;
	if (cfg->mode == SSH_OFF) {
		if (listen_fd >= 0) {
			log_warn("ssh: PORTHOLE_SSH=off; closing the socket systemd passed");
			close(listen_fd);
		}
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		log_error("ssh: out of memory; no SSH endpoint");
		if (listen_fd >= 0)
			close(listen_fd);
		return -ENOMEM;
	}
	d->loop = loop;
	d->reaper = reaper;
	d->cfg = cfg;
	d->hooks = *hooks;
	d->rng = clock_mono_usec() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15u;
	/* The image's sshd binds its own port; a passed socket is ours to serve. */
	if (cfg->mode == SSH_OPENSSH && listen_fd >= 0)
		log_info("ssh: socket activated; serving the passed socket embedded, not with the image's sshd");
	if (cfg->mode == SSH_OPENSSH && listen_fd < 0) {
		unsigned n_keys = 0;
		rc = opensshd_new(loop, reaper, cfg, hooks, &d->hk, &n_keys, &d->port, &d->openssh);
		if (rc == 0) {
			say_keys(d->cfg, n_keys);
			*ret = d;
			return 0;
		}
		if (rc != -ENOENT) {
			free(d);
			return rc;
		}
		/* No sshd in the image: said so; serve ourselves. */
	}
	rc = embedded(d, listen_fd);
	if (rc == 0)
		*ret = d;
	return rc;
}

static int on_drain_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct sshd *d = ud;
	unsigned n = 0;
	(void)s;
	(void)usec;

	for (struct conn *c = d->conns; c; c = c->next)
		n++;
	log_debug("ssh: %u connection(s) still ending; not waiting longer", n);
	drain_done(d);
	return 0;
}

static void stop_listening(struct sshd *d)
{
	for (size_t i = 0; i < d->n_listen; i++) {
		d->lsrc[i] = sd_event_source_disable_unref(d->lsrc[i]);
		close(d->lfd[i]);
	}
	d->n_listen = 0;
}

bool sshd_drain(struct sshd *d, uint64_t usec, void (*done)(void *ud), void *ud)
{
	if (!d || d->drained)
		return false;
	stop_listening(d);
	if (!d->conns || !usec)
		return false;
	for (struct conn *c = d->conns; c; c = c->next)
		kill(c->pid, SIGTERM);
	if (sd_event_add_time_relative(d->loop, &d->drain_timer, CLOCK_MONOTONIC, usec, 10000, on_drain_timer, d) < 0)
		return false;
	d->drained = done;
	d->drained_ud = ud;
	return true;
}

void sshd_free(struct sshd *d)
{
	if (!d)
		return;
	d->drain_timer = sd_event_source_disable_unref(d->drain_timer);
	while (d->conns) {
		struct conn *c = d->conns;
		kill(c->pid, SIGTERM);
		reaper_unwatch(d->reaper, c->pid);
		conn_free(c);
	}
	stop_listening(d);
	sd_event_source_disable_unref(d->check_later);
	sshd_setup_check_free(d->check);
	opensshd_free(d->openssh);
	penalty_free(d->penalty);
	hostkey_free(&d->hk);
	free(d);
}

int sshd_check_keys_main(int argc, char **argv)
{
	return sshd_setup_check_main(argc, argv);
}

unsigned sshd_port(const struct sshd *d)
{
	return d ? d->port : 0;
}

const struct hostkey *sshd_hostkey(const struct sshd *d)
{
	return d && d->hk.pub ? &d->hk : NULL;
}
