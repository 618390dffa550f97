/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_dispatch.h — one SFTP request to its handler.
 *
 * The first request must be INIT, answered with VERSION and the list of
 * extensions; every later one is looked up by its type in a table of
 * handlers (sftp_file, sftp_dir, sftp_path, sftp_ext) and gets exactly one
 * reply: OP_UNSUPPORTED for a type with no handler. */
#ifndef PORTHOLE_SFTP_DISPATCH_H
#define PORTHOLE_SFTP_DISPATCH_H

#include <stdint.h>

#include "sftp_conn.h"
#include "sftp_wire.h"

/* Free room at the tail of the reply queue that the largest reply (a full
 * DATA packet, or a READDIR batch) fits in. */
#define SFTP_REPLY_ROOM (SFTP_MAX_PACKET + 8192)

/* Handle one whole request: p holds its len bytes after the length field
 * (type, id, fields), len >= 5.  The caller leaves SFTP_REPLY_ROOM bytes free
 * at the tail of c->out before each call.  0, or -EPROTO when the client
 * broke the protocol (a request before INIT, a second INIT): nothing it
 * sends can be trusted any more, and the session should end. */
int sftp_dispatch_packet(struct sftp_conn *c, const uint8_t *p, uint32_t len);

#endif
