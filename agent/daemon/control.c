/* SPDX-License-Identifier: Apache-2.0 */
/* control.c — see control.h. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../lib/log.h"

#define MAX_LINE (64 * 1024)
#define MAX_CONNS 64

struct control_conn {
	struct control *ctl;
	int fd;
	sd_event_source *io;
	char *buf;
	size_t len;
	void *data;
	struct control_conn *next;
};

struct control {
	sd_event *loop;
	int fd;
	char *path;
	sd_event_source *io;
	struct control_handler h;
	struct control_conn *conns;
	unsigned n_conns;
};

static void conn_close(struct control_conn *c)
{
	struct control *ctl = c->ctl;

	for (struct control_conn **pp = &ctl->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl->n_conns--;
	if (ctl->h.on_close)
		ctl->h.on_close(ctl->h.ud, c);
	sd_event_source_disable_unref(c->io);
	close(c->fd);
	free(c->buf);
	free(c);
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct control_conn *c = ud;
	char chunk[4096];
	ssize_t n;
	(void)s;
	(void)revents;

	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	if (c->len + (size_t)n > MAX_LINE) {
		log_warn("control: dropping a client that sent a line over %d bytes", MAX_LINE);
		conn_close(c);
		return 0;
	}
	char *nb = realloc(c->buf, c->len + (size_t)n + 1);
	if (!nb) {
		conn_close(c);
		return 0;
	}
	c->buf = nb;
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';

	/* Handle each complete line.  The handler may close nothing but its
	 * own reply path, so c stays valid across the call. */
	char *nl;
	while (c->buf && (nl = memchr(c->buf, '\n', c->len))) {
		*nl = '\0';
		/* Require the whole line to be one JSON value: cJSON_Parse would
		 * ignore whatever follows the first object. */
		cJSON *req = cJSON_ParseWithOpts(c->buf, NULL, 1);
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->len - used + 1);
		c->len -= used;
		if (!cJSON_IsObject(req) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(req, "cmd")))
			control_reply_error(c, "expected one JSON object per line with a \"cmd\" string");
		else
			c->ctl->h.request(c->ctl->h.ud, c, req);
		cJSON_Delete(req);
	}
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct control *ctl = ud;
	struct control_conn *c;
	int cfd;
	(void)s;
	(void)revents;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	if (ctl->n_conns >= MAX_CONNS) {
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->ctl = ctl;
	c->fd = cfd;
	if (sd_event_add_io(ctl->loop, &c->io, cfd, EPOLLIN, on_conn_io, c) < 0) {
		close(cfd);
		free(c);
		return 0;
	}
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->n_conns++;
	return 0;
}

static int make_parent_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int rc = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		/* Only a directory we create gets 0700: an existing one (a test's
		 * temporary directory, say) is the user's business. */
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = -errno;
	}
	free(dir);
	return rc;
}

int control_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int control_new(sd_event *loop, const char *path, const struct control_handler *h, struct control **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *ctl;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	rc = make_parent_dir(path);
	if (rc < 0)
		return rc;
	/* A socket file left by a porthole that died is removed; one that
	 * answers belongs to a live porthole and is left alone. */
	fd = control_connect(path);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	/* ECONNREFUSED also comes from a plain file: only a socket is ours to
	 * remove, anything else at that path is someone's data. */
	if (fd == -ECONNREFUSED) {
		struct stat st;
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0077);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	ctl->loop = loop;
	ctl->fd = fd;
	ctl->path = strdup(path);
	ctl->h = *h;
	rc = sd_event_add_io(loop, &ctl->io, fd, EPOLLIN, on_accept, ctl);
	if (rc < 0) {
		control_free(ctl);
		return rc;
	}
	*out = ctl;
	return 0;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	while (ctl->conns)
		conn_close(ctl->conns);
	sd_event_source_disable_unref(ctl->io);
	close(ctl->fd);
	if (ctl->path)
		unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

void control_reply(struct control_conn *c, cJSON *reply)
{
	char *s = cJSON_PrintUnformatted(reply);
	cJSON_Delete(reply);
	if (!s)
		return;
	size_t len = strlen(s);
	s[len] = '\n';
	/* Replies are small; the socket buffer takes them whole or the
	 * client is not reading and is not worth waiting for. */
	ssize_t n = send(c->fd, s, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(s);
	if (n != (ssize_t)(len + 1))
		shutdown(c->fd, SHUT_RDWR); /* seen as EOF by on_conn_io */
}

void control_reply_error(struct control_conn *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	cJSON *r = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddBoolToObject(r, "ok", 0);
	cJSON_AddStringToObject(r, "error", msg);
	control_reply(c, r);
}

void control_conn_set_data(struct control_conn *c, void *data)
{
	c->data = data;
}

void *control_conn_get_data(const struct control_conn *c)
{
	return c->data;
}

cJSON *control_call(int fd, cJSON *req, int *err)
{
	char *s = cJSON_PrintUnformatted(req), *buf = NULL;
	size_t len = 0, cap = 0;
	cJSON *reply = NULL;

	cJSON_Delete(req);
	*err = 0;
	if (!s) {
		*err = ENOMEM;
		return NULL;
	}
	size_t sl = strlen(s);
	s[sl] = '\n';
	for (size_t off = 0; off < sl + 1;) {
		ssize_t n = send(fd, s + off, sl + 1 - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			free(s);
			return NULL;
		}
		off += (size_t)n;
	}
	free(s);
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 8192);
			if (!nb) {
				*err = ENOMEM;
				break;
			}
			buf = nb;
			cap += 8192;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR) {
			*err = EINTR; /* let the caller's signal handling decide */
			break;
		}
		if (n <= 0) {
			*err = n == 0 ? ECONNRESET : errno;
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			reply = cJSON_Parse(buf);
			if (!reply)
				*err = EPROTO;
			break;
		}
		if (len > MAX_LINE) {
			*err = EPROTO;
			break;
		}
	}
	free(buf);
	return reply;
}
