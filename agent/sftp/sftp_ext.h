/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_ext.h — the extensions porthole's server offers, OpenSSH's set:
 * posix-rename, statvfs, fstatvfs, hardlink, fsync, lsetstat, limits,
 * expand-path (all @openssh.com), copy-data, home-directory and
 * users-groups-by-id@openssh.com.  Each is named in the VERSION reply and
 * reached through an EXTENDED request. */
#ifndef PORTHOLE_SFTP_EXT_H
#define PORTHOLE_SFTP_EXT_H

#include "sftp_conn.h"
#include "sftp_wire.h"

/* SSH_FXP_EXTENDED: the extension named first in the request, or
 * OP_UNSUPPORTED for one we do not have. */
sftp_request_fn sftp_ext_request;

/* Append the (name, version) string pairs of every extension, as the
 * VERSION reply lists them. */
void sftp_ext_put_list(struct sftp_buf *b);

#endif
