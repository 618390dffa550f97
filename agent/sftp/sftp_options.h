/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_options.h — how `porthole sftp-server` was asked to behave, from its
 * command line to every request handler.  Header only. */
#ifndef PORTHOLE_SFTP_OPTIONS_H
#define PORTHOLE_SFTP_OPTIONS_H

#include <stdbool.h>

struct sftp_options {
	bool read_only;  /* refuse every request that would change the filesystem */
	bool trace;      /* log each request (debug level) */
};

#endif
