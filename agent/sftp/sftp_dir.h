/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_dir.h — listing directories: OPENDIR, and READDIR, which answers
 * with batches of entries, each with its attributes and an `ls -l` line. */
#ifndef PORTHOLE_SFTP_DIR_H
#define PORTHOLE_SFTP_DIR_H

#include "sftp_conn.h"

sftp_request_fn sftp_dir_opendir;
sftp_request_fn sftp_dir_readdir;

#endif
