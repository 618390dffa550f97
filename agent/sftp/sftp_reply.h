/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_reply.h — the replies most requests end with, appended whole to the
 * reply queue: a STATUS (from a code, an errno or a result), a one-entry
 * NAME, the ATTRS of a stat, a HANDLE. */
#ifndef PORTHOLE_SFTP_REPLY_H
#define PORTHOLE_SFTP_REPLY_H

#include <stdint.h>
#include <sys/stat.h>

#include "sftp_handles.h"
#include "sftp_wire.h"

void sftp_reply_status(struct sftp_buf *out, uint32_t id, uint32_t code);
/* The status OpenSSH's server gives for err (an errno value). */
void sftp_reply_errno(struct sftp_buf *out, uint32_t id, int err);
/* rc 0: OK; rc < 0 (-errno): the status for that error. */
void sftp_reply_result(struct sftp_buf *out, uint32_t id, int rc);
/* A NAME with one entry and no attributes (REALPATH, READLINK ...); FAILURE
 * instead if it does not fit. */
void sftp_reply_name(struct sftp_buf *out, uint32_t id, const char *name);
void sftp_reply_attrs(struct sftp_buf *out, uint32_t id, const struct stat *st);
void sftp_reply_handle(struct sftp_buf *out, uint32_t id, const struct sftp_handles *hs,
		       const struct sftp_handle *h);

#endif
