/* SPDX-License-Identifier: Apache-2.0 */
/* http.h — asynchronous HTTP: libcurl's multi interface driven by the
 * process's one sd-event loop.  No call ever blocks: sockets and curl's
 * timeout become sd-event sources, and nothing is armed while no transfer
 * is in progress.
 *
 * A call ends exactly once, through its done callback, which runs from the
 * loop (never from inside http_start); http_cancel and http_free end calls
 * without calling back. */
#ifndef PORTHOLE_HTTP_H
#define PORTHOLE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "curllib.h"
#include "trust.h"

struct http;
struct http_call;

struct http_request {
	const char *method;              /* "GET", "PUT", "POST", "HEAD" */
	const char *url;
	struct curl_slist *headers;      /* consumed (freed with the call) */
	const char *body;                /* copied; may be NULL */
	size_t body_len;
	const char *sigv4;               /* "aws:amz:REGION:SERVICE" to sign, or NULL */
	const char *user, *password;     /* access key and secret when signing */
	long connect_timeout_ms;         /* 0: 5 s */
	long timeout_ms;                 /* whole transfer; 0: 30 s */
	size_t max_body;                 /* response bytes kept; 0: 4 MiB */
};

struct http_response {
	CURLcode curl_code;              /* CURLE_OK unless the transfer failed */
	const char *error;               /* words for a transport failure */
	long status;                     /* HTTP status, 0 without a response */
	const char *body;                /* NUL-terminated; "" if none */
	size_t body_len;
	const char *headers;             /* raw "Name: value\r\n" lines of the last response */
};

/* Value of a response header (case-insensitive name) into buf; false if absent. */
bool http_header(const struct http_response *r, const char *name, char *buf, size_t len);

typedef void (*http_done_fn)(void *ud, const struct http_response *r);

int http_new(sd_event *loop, const struct trust *trust, struct http **out);
/* Ends pending calls without callbacks. */
void http_free(struct http *h);

/* Start a call; NULL (headers freed) if it could not be set up. */
struct http_call *http_start(struct http *h, const struct http_request *req, http_done_fn done, void *ud);
void http_cancel(struct http_call *c);

/* Calls started and not yet ended (for tests and the benchmark). */
unsigned http_pending(const struct http *h);
unsigned long http_started_total(const struct http *h);

#endif
