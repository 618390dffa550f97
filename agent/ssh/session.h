/* SPDX-License-Identifier: Apache-2.0 */
/* session.h — one SSH connection, served by the process sshd.c started for
 * it (a fresh image, connproc.h): key exchange, public-key login against the authorized keys (within
 * PORTHOLE_LOGIN_GRACE and PORTHOLE_MAX_AUTH_TRIES), then its channels
 * (chan.c, forward.c; which ones a client may ask for is chan_table.h's),
 * keepalives and the idle timeout.  What happens is reported to porthole
 * (lib/report.h); "ssh_login" tells it that a session now counts for the
 * hold. */
#ifndef PORTHOLE_SESSION_H
#define PORTHOLE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "ssh_settings.h"

struct session_params {
	const struct ssh_settings *cfg;
	const char *host_key;  /* private key text */
	int report_fd;
	char peer[64];
	unsigned peer_port;
	char local[64];
	unsigned local_port;
	uint64_t penalty_usec;  /* the source's penalty left (penalty.h): failures are answered late */
	bool fresh;             /* a fresh image (connproc.h): the environment comes at login */
};

/* Serve the connection on fd until it ends; the process's exit code. */
int session_main(int fd, const struct session_params *sp);

#endif
