/* SPDX-License-Identifier: Apache-2.0 */
/* session.c — see session.h.
 *
 * The loop is libssh's ssh_event, blocking in poll() until something
 * happens.  libssh may call our callbacks from inside its own calls, so
 * callbacks only record (and reply to requests); between polls, sweep()
 * moves data, starts and ends things, and changes what is polled.  The
 * reaper of this process's children lives on a small sd-event loop whose
 * descriptor is one of those polled. */
#include "session.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "algos.h"
#include "authsig.h"
#include "chan.h"
#include "chan_table.h"
#include "connproc.h"
#include "forward.h"
#include "nettrust.h"
#include "penalty.h"
#include "session_ctx.h"

#include "../lib/clock.h"
#include "../lib/report.h"
#include "../lib/version.h"

#define MAX_ITEMS 256 /* channels and listeners per connection */
/* What follows "SSH-2.0-".  SFTP clients choose SSH_FXP_SYMLINK's argument
 * order from it: OpenSSH's sftp-server swapped the draft's order, and
 * porthole's sftp-server (like most) takes OpenSSH's, so clients must see
 * "OpenSSH" where they look for it.  asyncssh looks anywhere in the string,
 * WinSCP at its start; paramiko, Cyberduck and OpenSSH's own sftp always
 * send OpenSSH's order (docs/ssh.md). */
#define SESSION_BANNER "OpenSSH_9.0-compatible porthole_" PORTHOLE_VERSION
/* How long a stopping connection waits for its commands to end after
 * SIGHUP and for the client to take their exit statuses; PID 1 waits a
 * little longer (sshd_drain) before it exits and takes everything along. */
#define STOP_GRACE_USEC (2 * USEC_PER_SEC)
/* How long a login waits for PID 1 to send the environment (milliseconds
 * when PID 1 is well). */
#define LOGIN_ENV_USEC (10 * USEC_PER_SEC)

enum item_kind { IT_CHAN, IT_FWD, IT_LISTEN };

struct item {
	enum item_kind kind;
	union {
		struct chan *sc;
		struct forward *f;
		struct forward_listener *l;
	} u;
	bool cancelled;
	bool hung_up;             /* porthole is stopping and said so */
	struct item *next;
};

struct conn {
	const struct session_params *sp;
	struct session_ctx ctx;
	ssh_bind bind;
	struct ssh_server_callbacks_struct scb;
	sd_event *loop;
	bool loop_ready;
	struct authkeys keys;
	struct authkey net_key;   /* a login admitted by cluster network trust */
	struct authsig *sig;      /* security keys' flags; NULL when libssh cannot show them */
	bool keys_loaded, authed;
	unsigned tries;
	const char *drop;         /* why to end the connection now */
	uint64_t stop_by;         /* porthole is stopping: drop by then; or 0 */
	struct item *items;
	struct item *incoming;    /* added by callbacks, joined by sweep() */
	struct forward_listener *agent; /* ssh -A's socket (also an item), or NULL */
	bool agent_failed;        /* it could not be made, or is gone: no second try */
	unsigned n_items;
	uint64_t last_activity, next_keepalive;
	uint64_t penalised_until; /* monotonic usec; 0: the source is not penalised */
};

/* The login grace alarm: a signal handler can only reach statics. */
static struct {
	char line[512];
} grace;

static void on_grace(int sig)
{
	(void)sig;
	report_raw(grace.line);
	_exit(0);
}

static void arm_grace(const struct session_params *sp)
{
	cJSON *o = cJSON_CreateObject(), *f = cJSON_AddObjectToObject(o, "fields");
	char msg[256], *s;
	sigset_t alrm;

	snprintf(msg, sizeof(msg), "ssh %s:%u: dropped: not logged in within %llus (PORTHOLE_LOGIN_GRACE)", sp->peer,
		 sp->peer_port, (unsigned long long)sp->cfg->login_grace);
	cJSON_AddStringToObject(o, "level", "info");
	cJSON_AddStringToObject(o, "event", "ssh_login_grace");
	cJSON_AddStringToObject(o, "msg", msg);
	cJSON_AddStringToObject(f, "addr", sp->peer);
	cJSON_AddNumberToObject(f, "port", sp->peer_port);
	s = cJSON_PrintUnformatted(o);
	snprintf(grace.line, sizeof(grace.line), "%s\n", s ? s : "{}");
	free(s);
	cJSON_Delete(o);
	signal(SIGALRM, on_grace);
	/* PID 1 blocks every signal it forwards (init/sigfwd.h), and this
	 * process inherited that: the alarm must get through. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	if (sp->cfg->login_grace)
		alarm(sp->cfg->login_grace > 86400 ? 86400 : (unsigned)sp->cfg->login_grace);
}

static void add_item(struct conn *c, enum item_kind kind, void *p)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it)
		return; /* it is never ticked: the connection's end frees it */
	it->kind = kind;
	if (kind == IT_CHAN)
		it->u.sc = p;
	else if (kind == IT_FWD)
		it->u.f = p;
	else
		it->u.l = p;
	it->next = c->incoming;
	c->incoming = it;
	c->n_items++;
}

static void free_item(struct conn *c, struct item *it)
{
	if (it->kind == IT_CHAN)
		chan_free(it->u.sc);
	else if (it->kind == IT_FWD)
		forward_free(it->u.f);
	else
		forward_listener_free(it->u.l);
	if (it->kind == IT_LISTEN && it->u.l == c->agent) {
		/* Gone (porthole stops): no second socket for this connection. */
		c->agent = NULL;
		c->agent_failed = true;
	}
	c->n_items--;
	free(it);
}

/* ---- authentication ----------------------------------------------------------- */

static void fingerprint(ssh_key key, char *buf, size_t len)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;

	snprintf(buf, len, "?");
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0 &&
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)))
		snprintf(buf, len, "%s", fp);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
}

/* A penalised source's failures are answered late (penalty.h): guessing
 * slows down, and whoever holds an authorized key still logs in at once. */
static void tarpit(const struct conn *c)
{
	uint64_t now = clock_mono_usec(), d;

	if (now >= c->penalised_until)
		return;
	d = c->penalised_until - now;
	if (d > PENALTY_TARPIT_USEC)
		d = PENALTY_TARPIT_USEC;
	nanosleep(&(struct timespec){ .tv_sec = (time_t)(d / USEC_PER_SEC), .tv_nsec = (long)(d % USEC_PER_SEC) * 1000 },
		  NULL);
}

static int refuse(struct conn *c, const char *user, const char *method, const char *fp, const char *why)
{
	unsigned max = c->sp->cfg->max_auth_tries ? c->sp->cfg->max_auth_tries : 1;
	cJSON *f = cJSON_CreateObject();

	c->tries++;
	cJSON_AddStringToObject(f, "user", user);
	cJSON_AddStringToObject(f, "addr", c->ctx.peer);
	cJSON_AddNumberToObject(f, "port", c->ctx.peer_port);
	cJSON_AddStringToObject(f, "method", method);
	if (fp)
		cJSON_AddStringToObject(f, "key", fp);
	cJSON_AddStringToObject(f, "reason", why);
	cJSON_AddNumberToObject(f, "tries", c->tries);
	report_log(PLOG_INFO, "ssh_auth_failure", f, "ssh %s:%u: %s for %s refused: %s%s%s", c->ctx.peer, c->ctx.peer_port,
	       method, user, why, fp ? ", key " : "", fp ? fp : "");
	if (c->tries >= max)
		c->drop = "too many authentication failures (PORTHOLE_MAX_AUTH_TRIES)";
	tarpit(c);
	return SSH_AUTH_DENIED;
}

static void login(struct conn *c, const struct authkey *k, const char *fp, ssh_key key)
{
	cJSON *f = cJSON_CreateObject();

	alarm(0);
	c->authed = true;
	authsig_stop(c->sig); /* nothing of the session is captured */
	c->ctx.key = k;
	snprintf(c->ctx.fingerprint, sizeof(c->ctx.fingerprint), "%s", fp);
	c->last_activity = clock_mono_usec();
	c->next_keepalive = c->last_activity + c->sp->cfg->keepalive * USEC_PER_SEC;
	cJSON_AddStringToObject(f, "user", c->ctx.user.name);
	cJSON_AddStringToObject(f, "addr", c->ctx.peer);
	cJSON_AddNumberToObject(f, "port", c->ctx.peer_port);
	cJSON_AddStringToObject(f, "key", fp);
	cJSON_AddStringToObject(f, "key_type", ssh_key_type_to_char(ssh_key_type(key)));
	cJSON_AddStringToObject(f, "key_source", k->where);
	if (k->comment)
		cJSON_AddStringToObject(f, "key_comment", k->comment);
	report_log(PLOG_INFO, "ssh_login", f, "ssh: %s logged in from %s:%u with %s key %s (%s%s%s)", c->ctx.user.name,
	       c->ctx.peer, c->ctx.peer_port, ssh_key_type_to_char(ssh_key_type(key)), fp, k->where,
	       k->comment ? " " : "", k->comment ? k->comment : "");
	/* Only now the training environment, which sessions inherit. */
	if (c->sp->fresh && connproc_take_env(c->sp->report_fd, LOGIN_ENV_USEC) < 0)
		report_log(PLOG_WARN, NULL, NULL, "ssh %s:%u: porthole did not send the training environment; sessions "
			   "get a short one", c->ctx.peer, c->ctx.peer_port);
}

/* How long a login may wait for cluster SSH's rendezvous: well inside the
 * login grace, whose alarm ends the connection. */
#define CLUSTER_WAIT_USEC(cfg) \
	((cfg)->login_grace > 20 ? 10 * USEC_PER_SEC : (cfg)->login_grace * USEC_PER_SEC / 2)

static const struct authkey *cluster_key_wait(struct conn *c, ssh_key key, const char **why, int watch)
{
	const struct ssh_settings *cfg = c->sp->cfg;
	uint64_t until = clock_mono_usec() + CLUSTER_WAIT_USEC(cfg), now;
	const struct authkey *k = NULL;
	bool pending = nettrust_pending(cfg);

	for (;;) {
		/* PORTHOLE_CLUSTER_TRUST=network: any key from a host of this
		 * job (libssh still checks the signature). */
		if (nettrust_check(cfg, c->ctx.peer)) {
			c->net_key.where = (char *)"cluster network trust (PORTHOLE_CLUSTER_TRUST=network)";
			return &c->net_key;
		}
		now = clock_mono_usec();
		if (!pending || now >= until)
			return NULL;
		nettrust_wait(watch, until - now);
		/* The marker before the files: what the helper wrote before the
		 * rendezvous decided is read once more after it has. */
		pending = nettrust_pending(cfg);
		authkeys_free(&c->keys);
		authkeys_load_all(&c->keys, cfg, NULL, NULL);
		if ((k = authkeys_match(&c->keys, key, c->ctx.peer, time(NULL), why)) || *why)
			return k;
	}
}

/* The entry admitting a key no authorized keys source lists (yet): cluster
 * SSH's network trust, or, while its rendezvous is still deciding, the keys
 * it writes meanwhile (see nettrust.h). */
static const struct authkey *cluster_key(struct conn *c, ssh_key key, const char **why)
{
	/* Watching before the marker is first read: nothing the helper does
	 * after that read goes unnoticed. */
	int watch = nettrust_watch(c->sp->cfg);
	const struct authkey *k = cluster_key_wait(c, key, why, watch);

	if (watch >= 0)
		close(watch);
	return k;
}

/* OpenSSH's rules for a security key's signature (sk-*): the user touched
 * the key unless its line says no-touch-required, and proved who they are
 * to it when the line says verify-required.  NULL, or why not. */
static const char *security_key_refusal(struct conn *c, const char *user, const struct authkey *k, ssh_key key)
{
	enum ssh_keytypes_e t = ssh_key_type(key);
	bool presence = !k->o.no_touch_required, verified = k->o.verify_required;
	uint8_t flags = 0;

	if (t != SSH_KEYTYPE_SK_ED25519 && t != SSH_KEYTYPE_SK_ECDSA)
		return NULL;
	if (!presence && !verified)
		return NULL;
	if (authsig_sk_flags(c->sig, user, key, &flags) < 0)
		return "cannot read the security key's flags from the signature, so it cannot be checked";
	if (presence && !(flags & AUTHSIG_USER_PRESENT))
		return "the security key was not touched (no user presence); a key line with no-touch-required "
		       "allows that";
	if (verified && !(flags & AUTHSIG_USER_VERIFIED))
		return "the security key did not verify the user (the key's line says verify-required)";
	return NULL;
}

static int on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey, char state, void *ud)
{
	struct conn *c = ud;
	const struct authkey *k;
	const char *why;
	char fp[128];
	(void)s;

	fingerprint(pubkey, fp, sizeof(fp));
	if (c->authed)
		return SSH_AUTH_DENIED;
	if (strcmp(user, c->ctx.user.name) != 0)
		return refuse(c, user, "publickey", fp, "sessions run as porthole's own user; log in as that user");
	if (!algos_userkey_ok(ssh_key_type(pubkey)))
		return refuse(c, user, "publickey", fp, "keys of this type are not accepted (ssh-dss and certificates; "
			      "OpenSSH 9 refuses them too)");
	if (!c->keys_loaded) {
		/* Read at each connection, so keys added to the files while
		 * porthole runs work at once (mistakes were reported at start). */
		authkeys_load_all(&c->keys, c->sp->cfg, NULL, NULL);
		c->keys_loaded = true;
	}
	k = authkeys_match(&c->keys, pubkey, c->ctx.peer, time(NULL), &why);
	if (!k && !why)
		k = cluster_key(c, pubkey, &why);
	if (!k)
		return refuse(c, user, "publickey", fp, why ? why : "the key is not authorized");
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS; /* "this key would do": the client signs next */
	if (state != SSH_PUBLICKEY_STATE_VALID)
		return refuse(c, user, "publickey", fp, "bad signature");
	why = security_key_refusal(c, user, k, pubkey);
	if (why)
		return refuse(c, user, "publickey", fp, why);
	login(c, k, fp, pubkey);
	return SSH_AUTH_SUCCESS;
}

static int on_auth_password(ssh_session s, const char *user, const char *password, void *ud)
{
	(void)s;
	(void)password;
	return refuse(ud, user, "password", NULL, "only public keys are accepted");
}

static int on_auth_none(ssh_session s, const char *user, void *ud)
{
	(void)s;
	(void)user;
	(void)ud;
	return SSH_AUTH_DENIED; /* every client asks first; not a failure */
}

/* ---- channels and global requests --------------------------------------------- */

/* "session": libssh hands these to their own callback. */
static ssh_channel on_session_open(ssh_session s, void *ud)
{
	struct conn *c = ud;
	struct chan *sc;
	(void)s;

	if (!c->authed || c->n_items >= MAX_ITEMS || chan_new(&c->ctx, &sc) < 0)
		return NULL;
	c->last_activity = clock_mono_usec();
	add_item(c, IT_CHAN, sc);
	return chan_channel(sc);
}

/* The handlers below: 0 when handled (the reply is sent), 1 to refuse. */

static int open_direct(struct conn *c, ssh_message msg)
{
	struct forward *f = forward_direct(&c->ctx, msg);

	if (!f)
		return 1;
	add_item(c, IT_FWD, f);
	return 0;
}

static int open_listener(struct conn *c, ssh_message msg)
{
	struct forward_listener *l = forward_listen(&c->ctx, msg);

	if (!l)
		return 1;
	add_item(c, IT_LISTEN, l);
	return 0;
}

static int cancel_listener(struct conn *c, ssh_message msg)
{
	for (int pass = 0; pass < 2; pass++) {
		for (struct item *it = pass ? c->incoming : c->items; it; it = it->next) {
			if (it->kind == IT_LISTEN && !it->cancelled && forward_listener_is(it->u.l, msg)) {
				it->cancelled = true; /* freed between polls */
				ssh_message_global_request_reply_success(msg, 0);
				return 0;
			}
		}
	}
	return 1;
}

/* The channels and global requests a logged-in client may ask for
 * (dropbear's svr_chantypes[]): how libssh tells each, and its handler;
 * chan_table.c has their names and the key options that refuse them.
 * Anything else is refused. */
static const struct {
	int type, subtype;
	int (*handle)(struct conn *c, ssh_message msg);
} conn_requests[CHAN_KIND_N] = {
	/* libssh hands these to on_session_open instead. */
	[CHAN_SESSION] = { SSH_REQUEST_CHANNEL_OPEN, SSH_CHANNEL_SESSION, NULL },
	[CHAN_DIRECT_TCPIP] = { SSH_REQUEST_CHANNEL_OPEN, SSH_CHANNEL_DIRECT_TCPIP, open_direct },
	[CHAN_TCPIP_FORWARD] = { SSH_REQUEST_GLOBAL, SSH_GLOBAL_REQUEST_TCPIP_FORWARD, open_listener },
	[CHAN_CANCEL_TCPIP_FORWARD] = { SSH_REQUEST_GLOBAL, SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD, cancel_listener },
};

/* Requests the server callbacks do not cover.  1 means "refuse". */
static int on_message(ssh_session s, ssh_message msg, void *ud)
{
	struct conn *c = ud;
	int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
	(void)s;

	if (!c->authed || c->n_items >= MAX_ITEMS)
		return 1;
	c->last_activity = clock_mono_usec();
	for (size_t k = 0; k < CHAN_KIND_N; k++)
		if (conn_requests[k].handle && conn_requests[k].type == type && conn_requests[k].subtype == sub)
			return conn_requests[k].handle(c, msg);
	/* libssh names no other kind; the likeliest is ssh -L to a unix
	 * socket (direct-streamlocal@openssh.com), which it cannot parse. */
	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_UNKNOWN)
		report_log(PLOG_INFO, NULL, NULL, "ssh %s:%u: a channel of a kind the embedded server does not serve "
			   "refused (unix-socket forwards need PORTHOLE_SSH=openssh)", c->ctx.peer, c->ctx.peer_port);
	return 1;
}

/* ssh -A: one socket per connection, made at the first request, as OpenSSH
 * does; every session that asks gets it as SSH_AUTH_SOCK.  The audit event
 * says who forwarded an agent into the container, and where it is. */
static const char *agent_socket(void *ud)
{
	struct conn *c = ud;
	struct forward_listener *l;
	cJSON *f;
	int rc;

	if (c->agent)
		return forward_listener_path(c->agent);
	if (c->agent_failed || c->n_items >= MAX_ITEMS)
		return NULL;
	f = session_ctx_event(&c->ctx, chan_table_req_name(CHAN_REQ_AUTH_AGENT));
	rc = forward_agent_listen(&c->ctx, &l);
	if (rc < 0) {
		c->agent_failed = true;
		cJSON_AddStringToObject(f, "error", strerror(-rc));
		report_log(PLOG_WARN, "ssh_request", f, "ssh: %s from %s:%u: cannot forward the agent: %s",
			   c->ctx.user.name, c->ctx.peer, c->ctx.peer_port, strerror(-rc));
		return NULL;
	}
	c->agent = l;
	add_item(c, IT_LISTEN, l);
	cJSON_AddStringToObject(f, "socket", forward_listener_path(l));
	report_log(PLOG_INFO, "ssh_request", f, "ssh: %s from %s:%u: agent forwarding (SSH_AUTH_SOCK=%s)",
		   c->ctx.user.name, c->ctx.peer, c->ctx.peer_port, forward_listener_path(l));
	return forward_listener_path(l);
}

/* ---- the loop ----------------------------------------------------------------- */

static int on_loop_fd(socket_t fd, int revents, void *ud)
{
	(void)fd;
	(void)revents;
	((struct conn *)ud)->loop_ready = true;
	return 0;
}

static int on_term(sd_event_source *src, const struct signalfd_siginfo *si, void *ud)
{
	(void)src;
	(void)si;
	struct conn *c = ud;

	if (!c->stop_by)
		c->stop_by = clock_mono_usec() + STOP_GRACE_USEC;
	return 0;
}

/* porthole is stopping.  Dropping the connection at once would cut off
 * exit statuses on their way, among them that of the `porthole release`
 * that began the stop; so commands get SIGHUP, and the connection ends
 * once the client has closed every session channel (it has its exit
 * status by then), or at the grace's end.  Forwards just end. */
static void stop_sweep(struct conn *c, uint64_t now)
{
	bool chans = false;

	for (struct item *it = c->items; it; it = it->next) {
		if (it->kind != IT_CHAN) {
			it->cancelled = true;
		} else if (!it->cancelled) {
			if (!it->hung_up)
				chan_hangup(it->u.sc);
			it->hung_up = true;
			chans = true;
		}
	}
	if (!chans || now >= c->stop_by)
		c->drop = "porthole is stopping";
}

static void sweep(struct conn *c)
{
	uint64_t now;

	if (c->loop_ready) {
		c->loop_ready = false;
		while (sd_event_run(c->loop, 0) > 0)
			;
	}
	/* Join what callbacks added, then tick everything. */
	while (c->incoming) {
		struct item *it = c->incoming;
		c->incoming = it->next;
		it->next = c->items;
		c->items = it;
	}
	for (struct item **pp = &c->items; *pp;) {
		struct item *it = *pp;
		bool done = it->cancelled;
		if (!done) {
			switch (it->kind) {
			case IT_CHAN:
				done = chan_tick(it->u.sc, &c->last_activity);
				break;
			case IT_FWD:
				done = forward_tick(it->u.f, &c->last_activity);
				break;
			case IT_LISTEN: {
				struct forward *f = forward_listener_tick(it->u.l);
				if (f)
					add_item(c, IT_FWD, f);
				break;
			}
			}
		}
		if (done) {
			*pp = it->next;
			free_item(c, it);
		} else {
			pp = &it->next;
		}
	}
	now = clock_mono_usec();
	if (c->stop_by) {
		stop_sweep(c, now);
		return;
	}
	if (!c->authed)
		return;
	if (c->sp->cfg->keepalive && now >= c->next_keepalive) {
		ssh_send_keepalive(c->ctx.s);
		c->next_keepalive = now + c->sp->cfg->keepalive * USEC_PER_SEC;
	}
	if (c->sp->cfg->idle_timeout && now >= c->last_activity + c->sp->cfg->idle_timeout * USEC_PER_SEC)
		c->drop = "no traffic for PORTHOLE_SSH_IDLE_TIMEOUT";
}

/* Milliseconds until the next timed duty, or -1. */
static int next_timeout(const struct conn *c)
{
	uint64_t now = clock_mono_usec(), next = UINT64_MAX;

	if (c->incoming)
		return 0; /* a listener may have more to accept */
	if (c->stop_by)
		return c->stop_by <= now ? 0 : (int)((c->stop_by - now) / 1000 + 1);
	if (!c->authed)
		return -1; /* the grace alarm ends a connection that never logs in */
	if (c->sp->cfg->keepalive)
		next = c->next_keepalive;
	if (c->sp->cfg->idle_timeout && c->last_activity + c->sp->cfg->idle_timeout * USEC_PER_SEC < next)
		next = c->last_activity + c->sp->cfg->idle_timeout * USEC_PER_SEC;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now) / 1000 + 1);
}

static void tune_socket(int fd, const struct ssh_settings *cfg)
{
	int one = 1;

	/* Interactive keystrokes and request/reply latency matter more than
	 * the few bytes Nagle would save. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cfg->keepalive) {
		/* A client that vanished (laptop closed, tunnel dropped) must not
		 * count as a session forever and keep the container alive. */
		int idle = (int)(cfg->keepalive < 7200 ? cfg->keepalive : 7200), cnt = 3;
		unsigned timeout = (unsigned)idle * 4 * 1000;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));
	}
}

static int setup(struct conn *c, int fd)
{
	const struct session_params *sp = c->sp;
	bool no = false;
	ssh_key key = NULL;
	int rc;

	rc = sd_event_new(&c->loop);
	if (rc >= 0)
		rc = reaper_new(c->loop, 0, &c->ctx.reaper);
	if (rc >= 0)
		rc = sd_event_add_signal(c->loop, NULL, SIGTERM, on_term, c);
	if (rc < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot set up: %s", sp->peer, sp->peer_port, strerror(-rc));
		return -1;
	}
	c->bind = ssh_bind_new();
	c->ctx.s = ssh_new();
	if (!c->bind || !c->ctx.s ||
	    ssh_pki_import_privkey_base64(sp->host_key, NULL, NULL, NULL, &key) != SSH_OK) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot set up libssh", sp->peer, sp->peer_port);
		return -1;
	}
	/* No /etc/ssh/libssh_server_config: porthole's settings are the
	 * whole story.  The bind owns the key from here on. */
	ssh_bind_options_set(c->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	ssh_bind_options_set(c->bind, SSH_BIND_OPTIONS_BANNER, SESSION_BANNER);
	if (algos_apply(c->bind) < 0) {
		ssh_key_free(key);
		report_log(PLOG_ERROR, NULL, NULL, "ssh: cannot set the algorithm lists: %s", ssh_get_error(c->bind));
		return -1;
	}
	if (ssh_bind_options_set(c->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		ssh_key_free(key);
		report_log(PLOG_ERROR, NULL, NULL, "ssh: cannot use the host key: %s", ssh_get_error(c->bind));
		return -1;
	}
	if (ssh_bind_accept_fd(c->bind, c->ctx.s, fd) != SSH_OK) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: %s", sp->peer, sp->peer_port, ssh_get_error(c->bind));
		return -1;
	}
	/* Before the key exchange, so that the capture sees every packet. */
	if ((rc = authsig_new(c->ctx.s, &c->sig)) < 0)
		report_log(PLOG_DEBUG, NULL, NULL, "ssh %s:%u: no packet capture for security keys' flags: %s",
			   sp->peer, sp->peer_port, strerror(-rc));
	c->scb.userdata = c;
	c->scb.auth_pubkey_function = on_auth_pubkey;
	c->scb.auth_password_function = on_auth_password;
	c->scb.auth_none_function = on_auth_none;
	c->scb.channel_open_request_session_function = on_session_open;
	ssh_callbacks_init(&c->scb);
	ssh_set_server_callbacks(c->ctx.s, &c->scb);
	ssh_set_message_callback(c->ctx.s, on_message, c);
	ssh_set_auth_methods(c->ctx.s, SSH_AUTH_METHOD_PUBLICKEY);

	if (ssh_handle_key_exchange(c->ctx.s) != SSH_OK) {
		/* Port scanners, health checks, clients refusing our host key. */
		report_log(PLOG_DEBUG, NULL, NULL, "ssh %s:%u: key exchange failed: %s", sp->peer, sp->peer_port,
		       ssh_get_error(c->ctx.s));
		return -1;
	}
	ssh_set_blocking(c->ctx.s, 0);
	c->ctx.ev = ssh_event_new();
	if (!c->ctx.ev || ssh_event_add_session(c->ctx.ev, c->ctx.s) != SSH_OK ||
	    ssh_event_add_fd(c->ctx.ev, sd_event_get_fd(c->loop), POLLIN, on_loop_fd, c) != SSH_OK) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh %s:%u: cannot set up the event loop", sp->peer, sp->peer_port);
		return -1;
	}
	return 0;
}

static void teardown(struct conn *c)
{
	for (int pass = 0; pass < 2; pass++) {
		struct item **head = pass ? &c->incoming : &c->items;
		while (*head) {
			struct item *it = *head;
			*head = it->next;
			free_item(c, it);
		}
	}
	if (c->ctx.ev && c->loop)
		ssh_event_remove_fd(c->ctx.ev, sd_event_get_fd(c->loop));
	if (c->ctx.ev)
		ssh_event_free(c->ctx.ev);
	if (c->ctx.s) {
		ssh_disconnect(c->ctx.s);
		ssh_free(c->ctx.s);
	}
	authsig_free(c->sig); /* the session used it until ssh_free */
	if (c->bind)
		ssh_bind_free(c->bind);
	authkeys_free(&c->keys);
	reaper_free(c->ctx.reaper);
	sd_event_unref(c->loop);
}

int session_main(int fd, const struct session_params *sp)
{
	struct conn c = { .sp = sp };
	char err[256];

	report_init(sp->report_fd);
	arm_grace(sp);
	if (sshlib_load(err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: %s", err);
		close(fd);
		return 1;
	}
	c.ctx.cfg = sp->cfg;
	if (sp->penalty_usec)
		c.penalised_until = clock_mono_usec() + sp->penalty_usec;
	snprintf(c.ctx.peer, sizeof(c.ctx.peer), "%s", sp->peer);
	snprintf(c.ctx.local, sizeof(c.ctx.local), "%s", sp->local);
	c.ctx.peer_port = sp->peer_port;
	c.ctx.local_port = sp->local_port;
	c.ctx.agent_socket = agent_socket;
	c.ctx.conn = &c;
	session_env_user(&c.ctx.user);
	tune_socket(fd, sp->cfg);

	if (setup(&c, fd) == 0) {
		while (!c.drop) {
			sweep(&c);
			if (c.drop)
				break;
			int st = ssh_get_status(c.ctx.s);
			if (st & (SSH_CLOSED | SSH_CLOSED_ERROR))
				break;
			if (ssh_event_dopoll(c.ctx.ev, next_timeout(&c)) == SSH_ERROR) {
				st = ssh_get_status(c.ctx.s);
				if ((st & (SSH_CLOSED | SSH_CLOSED_ERROR)) || !ssh_is_connected(c.ctx.s))
					break;
			}
		}
		if (c.drop)
			report_log(PLOG_INFO, NULL, NULL, "ssh %s:%u: disconnecting: %s", sp->peer, sp->peer_port, c.drop);
	}
	teardown(&c);
	return 0;
}
