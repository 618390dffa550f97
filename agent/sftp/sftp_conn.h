/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_conn.h — one client's protocol state, handed to every request
 * handler: the options, the open handles, the id-name cache and the queue
 * the replies go to.  Also what every handler may do besides replying:
 * refuse a change in read-only mode, and trace the request.
 *
 * A handler (sftp_request_fn) parses its request after the id, does the
 * work and appends exactly one reply to c->out.  A request it cannot parse
 * gets BAD_MESSAGE; a handle that is not open (or of the wrong kind)
 * FAILURE. */
#ifndef PORTHOLE_SFTP_CONN_H
#define PORTHOLE_SFTP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "sftp_handles.h"
#include "sftp_names.h"
#include "sftp_options.h"
#include "sftp_wire.h"

#include "../lib/log.h"

struct sftp_conn {
	struct sftp_options opt;
	struct sftp_buf *out;          /* replies are appended here (the caller's queue) */
	struct sftp_handles *handles;
	struct sftp_names *names;
	bool inited;                   /* INIT answered */
};

typedef void sftp_request_fn(struct sftp_conn *c, uint32_t id, struct sftp_reader *r);

/* State for a client whose replies go to out; opt NULL: all options off.
 * 0 or -ENOMEM. */
int sftp_conn_new(const struct sftp_options *opt, struct sftp_buf *out, struct sftp_conn **ret);
/* Closes every handle the client left open.  NULL-safe. */
void sftp_conn_free(struct sftp_conn *c);

/* In read-only mode: answer PERMISSION_DENIED and return true. */
bool sftp_conn_denied(struct sftp_conn *c, uint32_t id);

/* Log a request at debug level when tracing (-l DEBUG). */
#define SFTP_TRACE(c, ...) do { if ((c)->opt.trace) log_debug("sftp: " __VA_ARGS__); } while (0)

#endif
