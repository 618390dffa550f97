/* SPDX-License-Identifier: Apache-2.0 */
/* forward.c — see forward.h. */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "chan_table.h"
#include "chanio.h"
#include "chanopen.h"
#include "resolve.h"

#include "../lib/clock.h"
#include "../lib/report.h"

/* How long a direct-tcpip open may wait for its connect where the answer
 * cannot wait (chanopen.h: another libssh than 0.10), holding up the whole
 * connection meanwhile.  Otherwise the kernel's own timeout applies, as
 * with OpenSSH, and nothing else waits. */
#define CONNECT_TIMEOUT_MS 5000

struct forward {
	const struct session_ctx *ctx;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	struct chanio io;
	enum {
		OPEN_DONE,
		OPEN_FORWARDED_TCPIP, /* ssh -R: waiting for the client to accept */
		OPEN_AUTH_AGENT,      /* ssh -A: the same, for an agent connection */
	} opening;
	char src[64];          /* -R: the connecting peer */
	unsigned src_port;
	char bind_addr[256];   /* -R: the listener, as the client named it */
	unsigned bind_port;
	bool remote_closed, eof_sent, close_sent;

	/* direct-tcpip until its answer: ch is NULL, the request waits in
	 * pending while host resolves and each address is tried in turn. */
	struct chanopen *pending;
	struct resolve *lookup;
	bool resolved;
	const struct addrinfo *next_ai; /* the next address to try (lookup's) */
	int cfd;                        /* connecting, or -1 */
	int watch_fd;                   /* what the loop watches for us, or -1 */
	int err;                        /* the last connect's error */
	char host[256];
	unsigned port;
};

struct forward_listener {
	const struct session_ctx *ctx;
	int fd;
	char addr[256];        /* as the client asked: it matches on it */
	unsigned port;         /* as bound */
	bool registered, readable;
	bool agent;            /* ssh -A's socket, at path in dir */
	char dir[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- channel callbacks --------------------------------------------------- */

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud)
{
	(void)s;
	(void)ch;
	return chanio_on_data(&((struct forward *)ud)->io, data, len, is_stderr);
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	chanio_on_eof(&((struct forward *)ud)->io);
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
	(void)s;
	(void)ch;
	((struct forward *)ud)->remote_closed = true;
}

/* Join the channel and the socket: data both ways through chanio. */
static void attach(struct forward *f, ssh_channel ch, int fd)
{
	f->ch = ch;
	chanio_init(&f->io, ch);
	f->io.wfd = f->io.rfd[0] = fd;
	f->io.wfd_shutdown = true;
	f->cb.userdata = f;
	f->cb.channel_data_function = on_data;
	f->cb.channel_eof_function = on_eof;
	f->cb.channel_close_function = on_close;
	ssh_callbacks_init(&f->cb);
	ssh_set_channel_callbacks(ch, &f->cb);
}

static struct forward *forward_alloc(const struct session_ctx *ctx, ssh_channel ch, int fd)
{
	struct forward *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->ctx = ctx;
	f->cfd = f->watch_fd = -1;
	attach(f, ch, fd);
	return f;
}

/* ---- ssh -L / -D ------------------------------------------------------------ */

static void tune(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The audit event of a direct-tcpip request, once decided: refused_by (a
 * key option) or error (OpenSSH's words for why the connect failed), or
 * neither when the forward is open. */
static void audit_direct(const struct session_ctx *ctx, const char *host, unsigned port, const char *refused_by,
			 const char *error)
{
	cJSON *fl = session_ctx_event(ctx, chan_table_kind_name(CHAN_DIRECT_TCPIP));

	cJSON_AddStringToObject(fl, "host", host);
	cJSON_AddNumberToObject(fl, "port", port);
	if (refused_by) {
		cJSON_AddStringToObject(fl, "refused", refused_by);
		report_log(PLOG_INFO, "ssh_request", fl, "ssh: %s from %s:%u: forward to %s:%u refused by the key's %s",
			   ctx->user.name, ctx->peer, ctx->peer_port, host, port, refused_by);
	} else if (error) {
		cJSON_AddStringToObject(fl, "error", error);
		report_log(PLOG_INFO, "ssh_request", fl, "ssh: %s from %s:%u: forward to %s:%u: %s", ctx->user.name,
			   ctx->peer, ctx->peer_port, host, port, error);
	} else {
		report_log(PLOG_INFO, "ssh_request", fl, "ssh: %s from %s:%u: forward to %s:%u", ctx->user.name, ctx->peer,
			   ctx->peer_port, host, port);
	}
}

/* Connect to host:port, waiting at most CONNECT_TIMEOUT_MS: the socket
 * (nonblocking) or -errno, with OpenSSH's words for why in why.  Only when
 * this libssh's requests cannot be answered later (chanopen.h). */
static int connect_blocking(const char *host, unsigned port, char *why, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	int rc, err = ECONNREFUSED;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(why, len, "unknown host (%s)", gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			freeaddrinfo(res);
			tune(fd);
			return fd;
		}
		if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t l = sizeof(err);
			if (poll(&p, 1, CONNECT_TIMEOUT_MS) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 &&
			    err == 0) {
				freeaddrinfo(res);
				tune(fd);
				return fd;
			}
			if (err == 0)
				err = ETIMEDOUT;
		} else {
			err = errno;
		}
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(why, len, "connect failed: %s", strerror(err));
	return -err;
}

/* The old way: connect, then answer, while the connection waits. */
static struct forward *direct_blocking(const struct session_ctx *ctx, ssh_message msg, const char *host,
				       unsigned port)
{
	char why[300];
	struct forward *f;
	ssh_channel ch;
	int fd = connect_blocking(host, port, why, sizeof(why));

	audit_direct(ctx, host, port, NULL, fd < 0 ? why : NULL);
	if (fd < 0)
		return NULL;
	ch = ssh_message_channel_request_open_reply_accept(msg);
	if (!ch) {
		close(fd);
		return NULL;
	}
	f = forward_alloc(ctx, ch, fd);
	if (!f) {
		close(fd);
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return f;
}

struct forward *forward_direct(const struct session_ctx *ctx, ssh_message msg)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);
	const char *refused_by;
	struct chanopen *o;
	struct forward *f;
	int rc;

	if (!host || port < 0 || port > 65535)
		return NULL;
	if ((refused_by = chan_table_refused_by(CHAN_DIRECT_TCPIP, &ctx->key->o, host, (unsigned)port))) {
		audit_direct(ctx, host, (unsigned)port, refused_by, NULL);
		return NULL;
	}
	rc = chanopen_new(ctx->s, msg, &o);
	if (rc == -ENOTSUP)
		return direct_blocking(ctx, msg, host, (unsigned)port);
	if (rc < 0)
		return NULL;
	/* Answered when the connect is done (forward_tick); the loop goes on. */
	f = calloc(1, sizeof(*f));
	if (!f || resolve_new(host, (unsigned)port, &f->lookup) < 0) {
		free(f);
		chanopen_free(o);
		return NULL;
	}
	f->ctx = ctx;
	f->pending = o;
	f->cfd = f->watch_fd = -1;
	chanio_init(&f->io, NULL);
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->port = (unsigned)port;
	return f;
}

/* ---- a direct-tcpip forward before its answer -------------------------------- */

static int on_wake(socket_t fd, int revents, void *ud)
{
	(void)fd;
	(void)revents;
	(void)ud;
	return 0; /* the next tick looks */
}

/* Have the loop wake when fd is ready for events (one at a time). */
static void watch(struct forward *f, int fd, short events)
{
	if (f->watch_fd == fd)
		return;
	if (f->watch_fd >= 0)
		ssh_event_remove_fd(f->ctx->ev, f->watch_fd);
	f->watch_fd = ssh_event_add_fd(f->ctx->ev, fd, events, on_wake, f) == SSH_OK ? fd : -1;
}

static void unwatch(struct forward *f)
{
	if (f->watch_fd >= 0)
		ssh_event_remove_fd(f->ctx->ev, f->watch_fd);
	f->watch_fd = -1;
}

/* The client gets the failure; the log says why, in OpenSSH's words. */
static bool open_failed(struct forward *f, const char *why)
{
	unwatch(f);
	chanopen_refuse(f->pending);
	audit_direct(f->ctx, f->host, f->port, NULL, why);
	return true;
}

static bool open_done(struct forward *f)
{
	ssh_channel ch;
	int fd = f->cfd;

	unwatch(f);
	f->cfd = -1;
	ch = chanopen_accept(f->pending);
	chanopen_free(f->pending);
	f->pending = NULL;
	resolve_free(f->lookup);
	f->lookup = NULL;
	if (!ch) {
		close(fd);
		return true;
	}
	tune(fd);
	attach(f, ch, fd);
	audit_direct(f->ctx, f->host, f->port, NULL, NULL);
	return false;
}

/* Resolve, then try each address in turn, as OpenSSH does; true when the
 * forward is over (refused). */
static bool pending_tick(struct forward *f, uint64_t *last_activity)
{
	char why[300];

	if (!f->resolved) {
		const struct addrinfo *res;
		int gai;
		if (!resolve_done(f->lookup, &res, &gai)) {
			watch(f, resolve_fd(f->lookup), POLLIN);
			return false;
		}
		unwatch(f);
		if (gai) {
			snprintf(why, sizeof(why), "unknown host (%s)", gai_strerror(gai));
			return open_failed(f, why);
		}
		f->resolved = true;
		f->next_ai = res;
	}
	if (f->cfd >= 0) {
		struct pollfd p = { .fd = f->cfd, .events = POLLOUT };
		int err = 0;
		socklen_t l = sizeof(err);
		if (poll(&p, 1, 0) == 0)
			return false; /* still connecting: the watch wakes us */
		if (getsockopt(f->cfd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err == 0) {
			*last_activity = clock_mono_usec();
			return open_done(f);
		}
		unwatch(f);
		close(f->cfd);
		f->cfd = -1;
		f->err = err;
	}
	while (f->next_ai) {
		const struct addrinfo *ai = f->next_ai;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		f->next_ai = ai->ai_next;
		if (fd < 0) {
			f->err = errno;
			continue;
		}
		f->cfd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			return open_done(f);
		if (errno == EINPROGRESS) {
			watch(f, fd, POLLOUT);
			return false;
		}
		f->err = errno;
		close(fd);
		f->cfd = -1;
	}
	snprintf(why, sizeof(why), "connect failed: %s", strerror(f->err ? f->err : ECONNREFUSED));
	return open_failed(f, why);
}

/* ---- ssh -R ------------------------------------------------------------------ */

/* Where to listen for a request for addr: loopback unless gateway ports. */
static int bind_for(const char *addr, unsigned port, bool gateway, const char **why)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, zero = 0;

	if (gateway && (!*addr || strcmp(addr, "*") == 0 || strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0)) {
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = in6addr_any;
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof(*v6);
	} else if (gateway && inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof(*v6);
	} else if (gateway && strcmp(addr, "localhost") != 0) {
		if (inet_pton(AF_INET, addr, &v4->sin_addr) != 1) {
			*why = "not an IP address";
			return -EINVAL;
		}
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	} else {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	*why = strerror(errno);
	if (fd >= 0)
		close(fd);
	return -errno;
}

struct forward_listener *forward_listen(const struct session_ctx *ctx, ssh_message msg)
{
	const char *addr = ssh_message_global_request_address(msg);
	int port = ssh_message_global_request_port(msg);
	const char *why = NULL, *refused_by;
	struct forward_listener *l;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd;

	if (!addr)
		addr = "";
	if (port < 0 || port > 65535)
		return NULL;
	cJSON *fl = session_ctx_event(ctx, chan_table_kind_name(CHAN_TCPIP_FORWARD));
	cJSON_AddStringToObject(fl, "listen_host", addr);
	cJSON_AddNumberToObject(fl, "listen_port", port);
	if ((refused_by = chan_table_refused_by(CHAN_TCPIP_FORWARD, &ctx->key->o, *addr ? addr : "localhost",
						(unsigned)port))) {
		cJSON_AddStringToObject(fl, "refused", refused_by);
		report_log(PLOG_INFO, "ssh_request", fl, "ssh: %s from %s:%u: listen on %s:%d refused by the key's options",
		       ctx->user.name, ctx->peer, ctx->peer_port, addr, port);
		return NULL;
	}
	fd = bind_for(addr, (unsigned)port, ctx->cfg->gateway_ports, &why);
	if (fd < 0) {
		cJSON_AddStringToObject(fl, "error", why);
		report_log(PLOG_INFO, "ssh_request", fl, "ssh: %s from %s:%u: cannot listen on %s:%d: %s", ctx->user.name,
		       ctx->peer, ctx->peer_port, addr, port, why);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		free(l);
		close(fd);
		cJSON_Delete(fl);
		return NULL;
	}
	l->ctx = ctx;
	l->fd = fd;
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						  ((struct sockaddr_in *)&ss)->sin_port);
	cJSON_AddNumberToObject(fl, "bound_port", l->port);
	report_log(PLOG_INFO, "ssh_request", fl, "ssh: %s from %s:%u: listening on port %u for the client", ctx->user.name,
	       ctx->peer, ctx->peer_port, l->port);
	ssh_message_global_request_reply_success(msg, (uint16_t)l->port);
	return l;
}

/* ---- ssh -A ------------------------------------------------------------------ */

int forward_agent_listen(const struct session_ctx *ctx, struct forward_listener **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct forward_listener *l = calloc(1, sizeof(*l));
	mode_t old;
	int rc;

	*ret = NULL;
	if (!l)
		return -ENOMEM;
	l->ctx = ctx;
	l->agent = true;
	l->fd = -1;
	/* Where OpenSSH puts it (/tmp/ssh-XXXXXXXXXX/agent.<pid>), so tools
	 * that look there find it: a directory only the user may enter
	 * (mkdtemp makes it 0700), the socket 0600. */
	snprintf(l->dir, sizeof(l->dir), "/tmp/ssh-XXXXXXXXXX");
	if (!mkdtemp(l->dir)) {
		rc = -errno;
		free(l);
		return rc;
	}
	snprintf(l->path, sizeof(l->path), "%s/agent.%ld", l->dir, (long)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0177);
	rc = l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l->fd, 64) < 0 ? -errno : 0;
	umask(old);
	if (rc < 0) {
		forward_listener_free(l);
		return rc;
	}
	*ret = l;
	return 0;
}

const char *forward_listener_path(const struct forward_listener *l)
{
	return l->agent ? l->path : NULL;
}

bool forward_listener_is(const struct forward_listener *l, ssh_message msg)
{
	const char *addr = ssh_message_global_request_address(msg);

	return !l->agent && (unsigned)ssh_message_global_request_port(msg) == l->port &&
	       strcmp(addr ? addr : "", l->addr) == 0;
}

static int on_listen(socket_t fd, int revents, void *ud)
{
	(void)fd;
	(void)revents;
	((struct forward_listener *)ud)->readable = true;
	return 0;
}

struct forward *forward_listener_tick(struct forward_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64] = "";
	unsigned port = 0;
	struct forward *f;
	ssh_channel ch;
	int fd;

	if (!l->registered)
		l->registered = ssh_event_add_fd(l->ctx->ev, l->fd, POLLIN, on_listen, l) == SSH_OK;
	if (!l->readable)
		return NULL;
	fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN)
			l->readable = false; /* the poll says when there is more */
		return NULL;
	}
	if (ss.ss_family != AF_UNIX)
		tune(fd);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	}
	ch = ssh_channel_new(l->ctx->s);
	f = ch ? forward_alloc(l->ctx, ch, fd) : NULL;
	if (!f) {
		if (ch)
			ssh_channel_free(ch);
		close(fd);
		return NULL;
	}
	snprintf(f->src, sizeof(f->src), "%s", host);
	f->src_port = port;
	snprintf(f->bind_addr, sizeof(f->bind_addr), "%s", l->addr);
	f->bind_port = l->port;
	f->opening = l->agent ? OPEN_AUTH_AGENT : OPEN_FORWARDED_TCPIP;
	if (l->agent)
		report_log(PLOG_DEBUG, NULL, NULL, "ssh %s:%u: a session uses the forwarded agent", l->ctx->peer,
			   l->ctx->peer_port);
	return f;
}

void forward_listener_free(struct forward_listener *l)
{
	if (!l)
		return;
	if (l->registered)
		ssh_event_remove_fd(l->ctx->ev, l->fd);
	if (l->fd >= 0)
		close(l->fd);
	if (l->agent) {
		unlink(l->path);
		rmdir(l->dir);
	}
	free(l);
}

/* ---- both --------------------------------------------------------------------- */

bool forward_tick(struct forward *f, uint64_t *last_activity)
{
	if (f->pending)
		return pending_tick(f, last_activity);
	if (f->opening != OPEN_DONE) {
		/* Nonblocking: SSH_AGAIN until the client answers. */
		int rc = f->opening == OPEN_AUTH_AGENT ? ssh_channel_open_auth_agent(f->ch) :
			 ssh_channel_open_reverse_forward(f->ch, f->bind_addr, (int)f->bind_port, f->src,
							  (int)f->src_port);
		if (rc == SSH_AGAIN)
			return false;
		if (rc != SSH_OK)
			return true;
		f->opening = OPEN_DONE;
	}
	if (f->remote_closed)
		return true;
	chanio_pump(&f->io, f->ctx->ev);
	if (f->io.moved) {
		f->io.moved = false;
		*last_activity = clock_mono_usec();
	}
	if (!f->eof_sent && chanio_read_done(&f->io)) {
		ssh_channel_send_eof(f->ch);
		f->eof_sent = true;
	}
	if (f->eof_sent && chanio_write_done(&f->io) && !f->close_sent) {
		ssh_channel_close(f->ch);
		f->close_sent = true;
	}
	return false;
}

void forward_free(struct forward *f)
{
	if (!f)
		return;
	if (f->pending) {
		unwatch(f);
		if (f->cfd >= 0)
			close(f->cfd);
		chanopen_free(f->pending);
		resolve_free(f->lookup);
		chanio_close(&f->io, f->ctx->ev);
		free(f);
		return;
	}
	chanio_close(&f->io, f->ctx->ev);
	if (f->ch) {
		ssh_remove_channel_callbacks(f->ch, &f->cb);
		ssh_channel_free(f->ch);
	}
	free(f);
}
