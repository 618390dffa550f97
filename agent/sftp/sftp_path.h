/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_path.h — the requests that name files by path: STAT, LSTAT, SETSTAT,
 * REMOVE, MKDIR, RMDIR, REALPATH, RENAME, READLINK, SYMLINK; and two shapes
 * the path extensions share with them. */
#ifndef PORTHOLE_SFTP_PATH_H
#define PORTHOLE_SFTP_PATH_H

#include <stdint.h>

#include "sftp_conn.h"
#include "sftp_wire.h"

sftp_request_fn sftp_path_stat;
sftp_request_fn sftp_path_lstat;
sftp_request_fn sftp_path_setstat;
/* SETSTAT without following a last symlink (lsetstat@openssh.com). */
sftp_request_fn sftp_path_lsetstat;
sftp_request_fn sftp_path_remove;
sftp_request_fn sftp_path_mkdir;
sftp_request_fn sftp_path_rmdir;
sftp_request_fn sftp_path_realpath;
sftp_request_fn sftp_path_rename;
sftp_request_fn sftp_path_readlink;
sftp_request_fn sftp_path_symlink;

/* A request of two paths that changes the filesystem and answers with a
 * status: op(first, second), which returns 0 or -1 with errno as rename(2)
 * and link(2) do; `what` names it in traces. */
void sftp_path_two_paths(struct sftp_conn *c, uint32_t id, struct sftp_reader *r, const char *what,
			 int (*op)(const char *, const char *));

#endif
