/* SPDX-License-Identifier: Apache-2.0 */
/* chanio.c — see chanio.h. */
#include "chanio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Data for wfd held here before libssh must keep it (and stop the window). */
#define IN_CAP (1u << 20)
/* One read towards the client; the window bounds it too. */
#define READ_CHUNK (256u << 10)

void chanio_init(struct chanio *io, ssh_channel ch)
{
	memset(io, 0, sizeof(*io));
	io->ch = ch;
	io->wfd = io->rfd[0] = io->rfd[1] = -1;
	for (int i = 0; i < 3; i++)
		io->reg[i].fd = -1;
}

static bool buf_reserve(struct chanio_buf *b, size_t want)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= want)
		return true;
	if (b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= want)
			return true;
	}
	size_t cap = b->len + want;
	char *p = realloc(b->p, cap);
	if (!p)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

static size_t buf_used(const struct chanio_buf *b)
{
	return b->len - b->off;
}

static void buf_free(struct chanio_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- client → wfd ------------------------------------------------------- */

/* Write what wfd takes now; false if wfd is broken (reader gone). */
static bool write_some(struct chanio *io, const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = write(io->wfd, p + *done, n - *done);
		if (w > 0) {
			*done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return true;
		return false;
	}
	return true;
}

static void in_broken(struct chanio *io)
{
	/* The reader went away (EPIPE): what the client sends from now on is
	 * dropped, as sshd does; the command's exit status tells the story. */
	io->in.off = io->in.len = 0;
	io->in_backlog = false;
	io->remote_eof = true;
}

int chanio_on_data(struct chanio *io, const void *data, uint32_t len, int is_stderr)
{
	size_t done = 0, room;

	if (is_stderr || io->wfd < 0 || io->remote_eof) {
		io->bytes_in += len;
		return (int)len; /* nowhere to go: drop */
	}
	if (buf_used(&io->in) == 0) {
		if (!write_some(io, data, len, &done)) {
			in_broken(io);
			return (int)len;
		}
	}
	room = buf_used(&io->in) < IN_CAP ? IN_CAP - buf_used(&io->in) : 0;
	if (room > len - done)
		room = len - done;
	if (room && buf_reserve(&io->in, room)) {
		memcpy(io->in.p + io->in.len, (const char *)data + done, room);
		io->in.len += room;
		done += room;
	}
	io->in_backlog = done < len;
	io->bytes_in += done;
	io->moved |= done > 0;
	return (int)done;
}

void chanio_on_eof(struct chanio *io)
{
	io->remote_eof = true;
}

static void pump_in(struct chanio *io)
{
	char tmp[64 << 10];

	while (io->wfd >= 0) {
		size_t n = buf_used(&io->in), done;
		if (n) {
			if (!write_some(io, io->in.p + io->in.off, n, &done)) {
				in_broken(io);
				break;
			}
			io->in.off += done;
			if (done < n)
				return; /* wait for POLLOUT */
			continue;
		}
		if (!io->in_backlog)
			break;
		/* Take what libssh kept back; this also reopens its window. */
		int r = ssh_channel_read_nonblocking(io->ch, tmp, sizeof(tmp), 0);
		if (r <= 0) {
			io->in_backlog = false;
			break;
		}
		if (!buf_reserve(&io->in, (size_t)r))
			break;
		memcpy(io->in.p + io->in.len, tmp, (size_t)r);
		io->in.len += (size_t)r;
		io->bytes_in += (uint64_t)r;
		io->moved = true;
	}
}

/* ---- rfd → client ------------------------------------------------------- */

static bool chan_open(const struct chanio *io)
{
	return io->ch && ssh_channel_is_open(io->ch);
}

static void read_eof(struct chanio *io, int k)
{
	io->rfd[k] = -1;
	io->readable[k] = false;
}

static void pump_out(struct chanio *io, int k)
{
	struct chanio_buf *b = &io->out[k];

	while (io->rfd[k] >= 0 || buf_used(b)) {
		size_t n = buf_used(b);
		if (n) {
			if (!chan_open(io)) {
				b->off = b->len = 0;
				continue;
			}
			int w = k ? ssh_channel_write_stderr(io->ch, b->p + b->off, (uint32_t)n)
				  : ssh_channel_write(io->ch, b->p + b->off, (uint32_t)n);
			if (w < 0) {
				/* The client closed the channel: nobody wants the rest. */
				b->off = b->len = 0;
				if (io->rfd[k] >= 0)
					read_eof(io, k);
				return;
			}
			b->off += (size_t)w;
			io->bytes_out += (uint64_t)w;
			io->moved |= w > 0;
			if ((size_t)w < n)
				return; /* window or rekey: again after the next poll */
			continue;
		}
		uint32_t win = ssh_channel_window_size(io->ch);
		if (!io->readable[k] || win == 0)
			return;
		size_t want = win < READ_CHUNK ? win : READ_CHUNK;
		if (!buf_reserve(b, want))
			return;
		ssize_t r = read(io->rfd[k], b->p + b->len, want);
		if (r > 0) {
			b->len += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && !io->eof_on_again) {
			io->readable[k] = false;
			return;
		}
		read_eof(io, k); /* 0, EIO from a pty whose last writer closed, or an error */
	}
}

/* ---- descriptors ---------------------------------------------------------- */

static int on_fd(socket_t fd, int revents, void *ud)
{
	struct chanio *io = ud;

	/* Readiness only: the pump does the work after this poll. */
	for (int k = 0; k < 2; k++)
		if (io->rfd[k] == fd && (revents & (POLLIN | POLLHUP | POLLERR)))
			io->readable[k] = true;
	return 0;
}

static bool in_use(const struct chanio *io, int fd)
{
	return fd >= 0 && (fd == io->wfd || fd == io->rfd[0] || fd == io->rfd[1]);
}

static void sync_polls(struct chanio *io, ssh_event ev, const int *was, size_t n_was)
{
	struct { int fd; short events; } want[3];
	size_t n = 0;
	const int fds[3] = { io->wfd, io->rfd[0], io->rfd[1] };

	for (int i = 0; i < 3; i++) {
		int fd = fds[i];
		short e = 0;
		bool dup = false;
		if (fd < 0)
			continue;
		for (size_t j = 0; j < n; j++)
			dup |= want[j].fd == fd;
		if (dup)
			continue;
		for (int k = 0; k < 2; k++)
			if (io->rfd[k] == fd && !io->readable[k] && !buf_used(&io->out[k]) &&
			    ssh_channel_window_size(io->ch) > 0)
				e |= POLLIN;
		if (io->wfd == fd && buf_used(&io->in))
			e |= POLLOUT;
		want[n].fd = fd;
		want[n].events = e;
		n++;
	}
	/* Drop registrations that changed or are no longer wanted. */
	for (int i = 0; i < 3; i++) {
		bool keep = false;
		if (io->reg[i].fd < 0)
			continue;
		for (size_t j = 0; j < n; j++)
			if (want[j].fd == io->reg[i].fd && want[j].events == io->reg[i].events)
				keep = true;
		if (!keep) {
			ssh_event_remove_fd(ev, io->reg[i].fd);
			io->reg[i].fd = -1;
		}
	}
	/* Close what nothing refers to any more, now that it is not polled. */
	for (size_t i = 0; i < n_was; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= was[j] == was[i];
		if (!seen && was[i] >= 0 && !in_use(io, was[i]))
			close(was[i]);
	}
	for (size_t j = 0; j < n; j++) {
		bool have = false;
		if (!want[j].events)
			continue;
		for (int i = 0; i < 3; i++)
			have |= io->reg[i].fd == want[j].fd;
		if (have)
			continue;
		for (int i = 0; i < 3; i++) {
			if (io->reg[i].fd < 0) {
				if (ssh_event_add_fd(ev, want[j].fd, want[j].events, on_fd, io) == SSH_OK) {
					io->reg[i].fd = want[j].fd;
					io->reg[i].events = want[j].events;
				}
				break;
			}
		}
	}
}

void chanio_pump(struct chanio *io, ssh_event ev)
{
	const int was[3] = { io->wfd, io->rfd[0], io->rfd[1] };

	pump_in(io);
	if (io->wfd >= 0 && io->remote_eof && !buf_used(&io->in) && !io->in_backlog) {
		/* The client's EOF: the command sees end of input. */
		if (io->wfd_shutdown)
			shutdown(io->wfd, SHUT_WR);
		io->wfd = -1;
	}
	for (int k = 0; k < 2; k++)
		pump_out(io, k);
	sync_polls(io, ev, was, 3);
}

bool chanio_read_done(const struct chanio *io)
{
	return io->rfd[0] < 0 && io->rfd[1] < 0 && !buf_used(&io->out[0]) && !buf_used(&io->out[1]);
}

bool chanio_write_done(const struct chanio *io)
{
	return io->wfd < 0;
}

void chanio_close(struct chanio *io, ssh_event ev)
{
	int fds[3] = { io->wfd, io->rfd[0], io->rfd[1] };

	for (int i = 0; i < 3; i++) {
		if (io->reg[i].fd >= 0)
			ssh_event_remove_fd(ev, io->reg[i].fd);
		io->reg[i].fd = -1;
	}
	for (int i = 0; i < 3; i++) {
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen |= fds[j] == fds[i];
		if (!seen && fds[i] >= 0)
			close(fds[i]);
	}
	io->wfd = io->rfd[0] = io->rfd[1] = -1;
	buf_free(&io->in);
	buf_free(&io->out[0]);
	buf_free(&io->out[1]);
}
