/* SPDX-License-Identifier: Apache-2.0 */
/* relay_reader.c — see relay_reader.h. */
#include "relay_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "relay.h"

struct relay_reader {
	int fd;                  /* -1 once the pipe has ended */
	sd_event_source *io;     /* NULL without a loop */
	struct relay_lines lines;
	size_t max_line;
	bool skipping;           /* inside a line over max_line: drop up to its newline */
	relay_reader_take_fn take;
	relay_reader_ended_fn ended;
	void *ud;
};

static void on_line(void *ud, const char *line)
{
	struct relay_reader *r = ud;
	cJSON *o = relay_parse(line);

	if (o && !(r->take && r->take(r->ud, o)))
		relay_log(o);
	cJSON_Delete(o);
}

/* Hand over every line chunk completes.  Each line is added on its own, so
 * that only a line over the bound is dropped, not its neighbours.  0, or
 * -ENOMEM. */
static int consume(struct relay_reader *r, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl ? (size_t)(nl - p) + 1 : n;

		if (r->skipping) {
			r->skipping = !nl;
		} else {
			int rc = relay_lines_add(&r->lines, p, part, r->max_line, on_line, r);
			if (rc == -E2BIG) {
				/* No helper writes lines this long: drop, do not grow. */
				relay_lines_clear(&r->lines);
				r->skipping = !nl;
			} else if (rc < 0) {
				return rc;
			}
		}
		p += part;
		n -= part;
	}
	return 0;
}

static void stop(struct relay_reader *r)
{
	r->io = sd_event_source_disable_unref(r->io);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* One read: false once the pipe has ended (then ended has been told). */
static bool read_once(struct relay_reader *r)
{
	char chunk[4096];
	ssize_t n = read(r->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n > 0 && consume(r, chunk, (size_t)n) == 0)
		return true;
	stop(r);
	if (r->ended)
		r->ended(r->ud);
	return false;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	(void)s;
	(void)fd;
	(void)revents;
	read_once(ud);
	return 0;
}

int relay_reader_new(sd_event *loop, int fd, size_t max_line, relay_reader_take_fn take,
		     relay_reader_ended_fn ended, void *ud, struct relay_reader **ret)
{
	struct relay_reader *r = calloc(1, sizeof(*r));
	int fl = fcntl(fd, F_GETFL), rc;

	*ret = NULL;
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	*r = (struct relay_reader){ .fd = fd, .max_line = max_line, .take = take, .ended = ended, .ud = ud };
	/* A read never blocks the loop, nor relay_reader_wait past its deadline. */
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		relay_reader_free(r);
		return rc;
	}
	if (loop && (rc = sd_event_add_io(loop, &r->io, fd, EPOLLIN, on_io, r)) < 0) {
		relay_reader_free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

int relay_reader_wait(struct relay_reader *r, uint64_t deadline_usec, bool (*done)(void *ud))
{
	for (;;) {
		if (done && done(r->ud))
			return 1;
		if (r->fd < 0)
			return 0;
		uint64_t now = clock_mono_usec();
		if (now >= deadline_usec)
			return -ETIME;
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		/* Rounded up: woken before the deadline, it would only poll again. */
		uint64_t ms = (deadline_usec - now) / 1000 + 1;
		if (poll(&pfd, 1, ms < INT_MAX ? (int)ms : INT_MAX) != 0)
			read_once(r);
	}
}

void relay_reader_free(struct relay_reader *r)
{
	if (!r)
		return;
	stop(r);
	relay_lines_clear(&r->lines);
	free(r);
}
