/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_server.h — porthole's SFTP server: `porthole sftp-server` speaks SFTP
 * v3 (with OpenSSH's extensions) on stdin/stdout, exactly like OpenSSH's
 * sftp-server, so the SSH session runs it for the "sftp" subsystem.
 *
 * Requests are handled in the order they arrive, without waiting for the
 * client between them: a client with many READs or WRITEs in flight gets its
 * replies as fast as the disk allows.  Relative paths resolve against the
 * working directory it was started in.
 *
 * This module is the process: its command line, its descriptors and the
 * loop that moves requests in and replies out.  What a request does is
 * sftp_dispatch's business. */
#ifndef PORTHOLE_SFTP_SERVER_H
#define PORTHOLE_SFTP_SERVER_H

#include "sftp_options.h"

/* Serve one client on in_fd/out_fd (pipes, or one socket for both) until it
 * closes in_fd.  Returns the exit status: 0 after a clean end of input, 1
 * after a protocol error (the client sent something that is not SFTP) or
 * when out_fd went away.  The descriptors' flags are restored on return.  A
 * caller with out_fd a pipe should ignore SIGPIPE (sftp_server_main does).
 * opt may be NULL (all options off). */
int sftp_server_serve(int in_fd, int out_fd, const struct sftp_options *opt);

/* `porthole sftp-server [-R] [-d DIR] [-u UMASK] [-l LEVEL] [-e]`: argv[0]
 * is "sftp-server".  OpenSSH's -e and -f FACILITY are accepted and ignored so
 * a command line written for its sftp-server works here too. */
int sftp_server_main(int argc, char **argv);

#endif
