/* SPDX-License-Identifier: Apache-2.0 */
/* chanio.h — a channel's plumbing in a session process: bytes between a
 * libssh channel and local file descriptors, both ways, with flow control
 * both ways and EOF passed through.
 *
 *   channel data  ──► wfd      (the command's stdin, a socket, a pty)
 *   rfd[0]        ──► channel data
 *   rfd[1]        ──► channel extended data (stderr)
 *
 * libssh runs our callbacks from inside its own calls (a write flushes, and
 * flushing polls every descriptor of the event), so nothing here changes what
 * the event polls from a callback: callbacks only move bytes and set flags,
 * and chanio_pump(), called between polls, does everything else.
 *
 * Towards the client we read no more than the client's window allows, so
 * nothing piles up in libssh.  From the client, data that wfd cannot take yet
 * stays in a bounded buffer, then in libssh, whose window then stops growing,
 * so a slow reader slows the client instead of filling memory. */
#ifndef PORTHOLE_CHANIO_H
#define PORTHOLE_CHANIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sshlib.h"

struct chanio_buf {
	char *p;
	size_t off, len, cap;
};

struct chanio {
	ssh_channel ch;
	int wfd;               /* -1 when none or closed */
	int rfd[2];            /* -1 when none or at EOF */
	bool wfd_shutdown;     /* wfd is also rfd[0]: shutdown(SHUT_WR) at EOF, close later */
	bool eof_on_again;     /* a would-block read means EOF (a pty whose command has exited) */

	struct chanio_buf in;     /* for wfd */
	bool in_backlog;       /* libssh holds more data for wfd */
	bool remote_eof;       /* the client sent EOF */
	struct chanio_buf out[2]; /* read from rfd, not yet accepted by the channel */
	bool readable[2];      /* poll said rfd may have data */

	/* What the event polls now, per distinct descriptor. */
	struct { int fd; short events; } reg[3];
	uint64_t bytes_in, bytes_out;
	bool moved;            /* bytes moved since the caller last cleared it */
};

void chanio_init(struct chanio *io, ssh_channel ch);

/* The channel's data callback: takes what it can, returns the count taken. */
int chanio_on_data(struct chanio *io, const void *data, uint32_t len, int is_stderr);
void chanio_on_eof(struct chanio *io);

/* Move what the fds and windows allow, and set what the event polls.
 * Call between polls only. */
void chanio_pump(struct chanio *io, ssh_event ev);

/* Everything read from the rfds has reached the channel, and they are at EOF. */
bool chanio_read_done(const struct chanio *io);
/* The client's EOF has reached wfd (or wfd is gone). */
bool chanio_write_done(const struct chanio *io);

/* Stop polling and close every fd; buffered data is dropped. */
void chanio_close(struct chanio *io, ssh_event ev);

#endif
