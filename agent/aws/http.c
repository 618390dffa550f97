/* SPDX-License-Identifier: Apache-2.0 */
/* http.c — see http.h.  libcurl tells us which sockets to watch and when to
 * wake it (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION); each becomes
 * an sd-event source, and curl_multi_socket_action is called only from the
 * loop, so curl never blocks it. */
#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#define DEFAULT_CONNECT_MS 5000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_BODY (4u << 20)

struct buf {
	char *data;
	size_t len, cap, max;
};

struct http_call {
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct buf resp, hdrs;
	char errbuf[CURL_ERROR_SIZE];
	http_done_fn done;
	void *ud;
	struct http_call *prev, *next;
};

struct http {
	sd_event *loop;
	CURLM *multi;
	sd_event_source *timer;
	struct http_call *calls;
	struct trust trust;     /* TLS trust for every call (borrowed strings) */
	unsigned pending;
	unsigned long started;
};

static bool buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n > b->max)
		n = b->max > b->len ? b->max - b->len : 0;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *nd = realloc(b->data, cap);
		if (!nd)
			return false;
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http_call *c = ud;

	/* Past max_body the rest is dropped, not failed: a huge error page
	 * should still end as an HTTP status, not as a transport error. */
	return buf_add(&c->resp, p, size * n) ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_call *c = ud;

	/* Keep only the last response's headers (after a 100 Continue). */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		c->hdrs.len = 0;
	return buf_add(&c->hdrs, p, size * n) ? size * n : 0;
}

bool http_header(const struct http_response *r, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);

	for (const char *line = r->headers; line && *line;) {
		const char *end = strstr(line, "\r\n");
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1;
			while (v < line + ll && (*v == ' ' || *v == '\t'))
				v++;
			size_t vl = (size_t)(line + ll - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return true;
		}
		if (!end)
			break;
		line = end + 2;
	}
	return false;
}

static void call_unlink(struct http_call *c)
{
	struct http *h = c->h;

	if (c->prev)
		c->prev->next = c->next;
	else
		h->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->pending--;
}

static void call_free(struct http_call *c)
{
	if (c->easy) {
		curl_multi_remove_handle(c->h->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->headers);
	free(c->body);
	free(c->resp.data);
	free(c->hdrs.data);
	free(c);
}

static void check_done(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct http_call *c = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (!c)
			continue;
		struct http_response r = { .curl_code = msg->data.result, .body = c->resp.data ? c->resp.data : "",
					   .body_len = c->resp.len, .headers = c->hdrs.data ? c->hdrs.data : "" };
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r.status);
		if (r.curl_code != CURLE_OK)
			r.error = c->errbuf[0] ? c->errbuf : curl_easy_strerror(r.curl_code);
		call_unlink(c);
		if (c->done)
			c->done(c->ud, &r);
		call_free(c);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct http *h = ud;
	int flags = 0, running;
	(void)s;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	check_done(h);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	struct http *h = ud;
	int running;
	(void)s;
	(void)usec;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
	return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	sd_event_source *src = socketp;
	uint32_t events = 0;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		if (src) {
			curl_multi_assign(h->multi, fd, NULL);
			sd_event_source_disable_unref(src);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (src)
		return sd_event_source_set_io_events(src, events) < 0 ? -1 : 0;
	if (sd_event_add_io(h->loop, &src, fd, events, on_io, h) < 0)
		return -1;
	curl_multi_assign(h->multi, fd, src);
	return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	uint64_t usec = timeout_ms > 0 ? (uint64_t)timeout_ms * 1000 : 0;
	(void)multi;

	if (timeout_ms < 0)
		return h->timer ? (sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0) : 0;
	if (!h->timer)
		return sd_event_add_time_relative(h->loop, &h->timer, CLOCK_MONOTONIC, usec, 1000, on_timeout, h) < 0
			       ? -1
			       : 0;
	if (sd_event_source_set_time_relative(h->timer, usec) < 0)
		return -1;
	return sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

int http_new(sd_event *loop, const struct trust *trust, struct http **out)
{
	struct http *h;

	/* Counted by libcurl: each http_new pairs with the cleanup in
	 * http_free.  Not thread-safe by curl's rules; porthole has one thread. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	h = calloc(1, sizeof(*h));
	if (!h) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	h->loop = sd_event_ref(loop);
	if (trust)
		h->trust = *trust;
	h->multi = curl_multi_init();
	if (!h->multi) {
		sd_event_unref(h->loop);
		free(h);
		curl_global_cleanup();
		return -ENOMEM;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	*out = h;
	return 0;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->calls) {
		struct http_call *c = h->calls;
		call_unlink(c);
		call_free(c);
	}
	curl_multi_cleanup(h->multi);
	sd_event_source_disable_unref(h->timer);
	sd_event_unref(h->loop);
	free(h);
	curl_global_cleanup();
}

void http_cancel(struct http_call *c)
{
	if (!c)
		return;
	call_unlink(c);
	call_free(c);
}

unsigned http_pending(const struct http *h)
{
	return h->pending;
}

unsigned long http_started_total(const struct http *h)
{
	return h->started;
}

struct http_call *http_start(struct http *h, const struct http_request *req, http_done_fn done, void *ud)
{
	struct http_call *c = calloc(1, sizeof(*c));
	CURL *e;

	if (!c) {
		curl_slist_free_all(req->headers);
		return NULL;
	}
	c->h = h;
	c->headers = req->headers;
	c->done = done;
	c->ud = ud;
	c->resp.max = c->hdrs.max = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	c->easy = e = curl_easy_init();
	if (!e)
		goto fail;
	if (req->body) {
		c->body = malloc(req->body_len + 1);
		if (!c->body)
			goto fail;
		memcpy(c->body, req->body, req->body_len);
		c->body[req->body_len] = '\0';
	}
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (h->trust.file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, h->trust.file);
	} else if (h->trust.blob) {
		struct curl_blob blob = { (void *)h->trust.blob, h->trust.blob_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
	if (c->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	if (req->sigv4) {
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, req->sigv4);
		curl_easy_setopt(e, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, req->password);
	}
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		/* POSTFIELDS, not an upload callback: libcurl's SigV4 hashes only
		 * a POSTFIELDS body. */
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(c->body ? req->body_len : 0));
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	c->next = h->calls;
	if (h->calls)
		h->calls->prev = c;
	h->calls = c;
	h->pending++;
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		call_unlink(c);
		curl_easy_cleanup(e);
		c->easy = NULL;
		goto fail;
	}
	h->started++;
	return c;
fail:
	if (c->easy)
		curl_easy_cleanup(c->easy);
	c->easy = NULL;
	call_free(c);
	return NULL;
}
