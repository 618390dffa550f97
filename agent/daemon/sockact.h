/* SPDX-License-Identifier: Apache-2.0 */
/* sockact.h — socket activation: the listening TCP socket systemd may hand
 * porthole (LISTEN_FDS, LISTEN_PID; packaging/systemd/porthole.socket), for
 * the SSH endpoint to use instead of binding its own port. */
#ifndef PORTHOLE_SOCKACT_H
#define PORTHOLE_SOCKACT_H

/* The passed socket (non-blocking, close-on-exec), or -1 when none was
 * passed or it is unusable (after saying why).  Clears LISTEN_* either way,
 * so the commands and shells porthole starts never see them. */
int sockact_ssh_fd(void);

#endif
