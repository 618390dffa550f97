/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_file.h — the requests on files and their handles: OPEN, CLOSE, READ,
 * WRITE, FSTAT, FSETSTAT (CLOSE, FSTAT and FSETSTAT take a directory handle
 * too), and the positioned I/O they use, which copy-data shares. */
#ifndef PORTHOLE_SFTP_FILE_H
#define PORTHOLE_SFTP_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sftp_conn.h"
#include "sftp_handles.h"

sftp_request_fn sftp_file_open;
sftp_request_fn sftp_file_close;
sftp_request_fn sftp_file_read;
sftp_request_fn sftp_file_write;
sftp_request_fn sftp_file_fstat;
sftp_request_fn sftp_file_fsetstat;

/* Up to len bytes of h at off: the count (0 at end of file) or -errno.  A
 * handle that turns out not to be seekable (a FIFO, a device) is read in
 * sequence from then on, whatever off says. */
ssize_t sftp_file_pread(struct sftp_handle *h, void *buf, size_t len, uint64_t off);
/* All of buf to h at off (in sequence if h is not seekable): 0 or -errno. */
int sftp_file_pwrite(struct sftp_handle *h, const uint8_t *buf, size_t len, uint64_t off);

#endif
