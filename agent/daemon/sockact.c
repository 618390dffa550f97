/* SPDX-License-Identifier: Apache-2.0 */
/* sockact.c — see sockact.h.  libsystemd checks LISTEN_PID against us and
 * sets close-on-exec; we check the socket is one sshd can accept on. */
#include "sockact.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "../lib/log.h"

int sockact_ssh_fd(void)
{
	int n = sd_listen_fds(1), fd = SD_LISTEN_FDS_START;

	if (n == 0)
		return -1;
	if (n < 0) {
		log_error("systemd: cannot take the sockets passed (LISTEN_FDS): %s; ssh listens on its own",
			  strerror(-n));
		return -1;
	}
	/* One endpoint, one socket: the rest would only leak into children. */
	for (int i = 1; i < n; i++)
		close(SD_LISTEN_FDS_START + i);
	if (n > 1)
		log_warn("systemd: %d sockets passed; ssh uses the first, closed the others", n);
	if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0) {
		log_error("systemd: the socket passed is not a listening TCP socket; ssh listens on its own");
		close(fd);
		return -1;
	}
	/* accept4 runs on readiness only; a connection gone before it must
	 * not block the loop. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_error("systemd: cannot make the passed socket non-blocking; ssh listens on its own");
		close(fd);
		return -1;
	}
	return fd;
}
