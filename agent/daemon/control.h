/* SPDX-License-Identifier: Apache-2.0 */
/* control.h — the control socket: line-delimited JSON over a UNIX socket.
 *
 * Transport only.  Each request line is parsed and handed to the handler;
 * the handler answers with control_reply() now or later (a breakpoint is
 * answered when it is continued).  When a client goes away the handler's
 * on_close is told, so it can drop whatever it kept for that client. */
#ifndef PORTHOLE_CONTROL_H
#define PORTHOLE_CONTROL_H

#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

struct control;
struct control_conn;

struct control_handler {
	/* req is borrowed; reply with control_reply(). */
	void (*request)(void *ud, struct control_conn *c, const cJSON *req);
	void (*on_close)(void *ud, struct control_conn *c);
	void *ud;
};

/* Bind path (creating its directory 0700 if missing).  Fails with -EADDRINUSE
 * if another porthole answers there, -EEXIST if a non-socket file is there. */
int control_new(sd_event *loop, const char *path, const struct control_handler *h, struct control **out);
void control_free(struct control *ctl);

/* Send one JSON line (reply is consumed).  A client that does not read its
 * replies is dropped rather than allowed to block porthole. */
void control_reply(struct control_conn *c, cJSON *reply);
void control_reply_error(struct control_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void control_conn_set_data(struct control_conn *c, void *data);
void *control_conn_get_data(const struct control_conn *c);

/* ---- client side, for the CLI ---- */

/* Connect to path; -errno on failure. */
int control_connect(const char *path);
/* Send req (consumed) and read one reply line; NULL with *err set if the
 * connection failed or the reply is not JSON. */
cJSON *control_call(int fd, cJSON *req, int *err);

#endif
