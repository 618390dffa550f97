/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_server.c — see sftp_server.h.
 *
 * One process serves one client.  Input is read in large chunks into `in`;
 * every complete request in it is handed to the dispatcher at once, which
 * appends its reply to `out`, written as the descriptor takes it.  READ
 * replies are read from the file straight into `out` and WRITE data is
 * written from `in` (sftp_file): a pipelined transfer costs one pread or
 * pwrite per request and a few large reads and writes of the channel.
 *
 * A request is handled only when `out` has room for the largest reply, so
 * the buffers stay fixed -- except for a client that neither reads replies
 * nor lets us read its requests, where waiting would deadlock: `out` then
 * grows (out_has_room).  Neither descriptor blocks for long (io_setup), so
 * requests keep being read while replies wait. */
#include "sftp_server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sftp_conn.h"
#include "sftp_dispatch.h"
#include "sftp_fs.h"
#include "sftp_wire.h"

#include "../lib/log.h"
#include "../lib/passwd.h"

#define IN_CAP  (2u * 1024 * 1024)
#define OUT_CAP (1024u * 1024)
/* How far `out` may grow for a client that neither reads replies nor lets
 * us read its requests (see out_has_room). */
#define OUT_MAX (64u * 1024 * 1024)
#define PIPE_SIZE (1024 * 1024)
#define FATAL_FLUSH_SEC 5
#define SOCK_SEND_TIMEOUT_USEC 20000

struct io_saved {
	int in_fl, out_fl;     /* file status flags, or -1 if untouched */
	struct timeval sndtimeo;
	bool sndtimeo_set;
};

struct server {
	int in_fd, out_fd;
	uint8_t *in;
	size_t in_head, in_tail;
	struct sftp_buf out;
	struct sftp_conn *conn;
	bool in_eof;
	bool fatal;            /* stop reading; flush what is queued and exit 1 */
	bool out_gone;
	bool in_sock, out_sock; /* see io_setup */
	time_t fatal_deadline; /* CLOCK_MONOTONIC seconds; 0 until fatal */
};

/* --- the loop --- */

static uint32_t peek_u32(const uint8_t *q)
{
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* Unhandled requests fill `in`: nothing more can be read until some are
 * handled. */
static bool input_full(const struct server *s)
{
	return s->in_tail - s->in_head >= IN_CAP - (SFTP_MAX_REQUEST + 4);
}

/* Room for the largest reply at the tail of `out`. */
static bool out_has_room(struct server *s)
{
	struct sftp_buf *b = &s->out;
	size_t pending = b->tail - b->head, ncap;
	uint8_t *nd;

	if (b->cap - b->tail >= SFTP_REPLY_ROOM)
		return true;
	/* Move the unsent bytes down only when fewer are left than were sent
	 * since the last move: every byte is then moved at most once on
	 * average. */
	if (b->head >= pending && b->cap - pending >= SFTP_REPLY_ROOM) {
		memmove(b->data, b->data + b->head, pending);
		b->tail = pending;
		b->head = 0;
		return true;
	}
	/* Otherwise wait for the client to take replies -- unless it cannot
	 * send us anything more either, and is perhaps blocked doing so: then
	 * waiting would be a deadlock, so queue more, within a limit. */
	if (!input_full(s) || b->cap >= OUT_MAX)
		return false;
	ncap = b->cap * 2 > OUT_MAX ? OUT_MAX : b->cap * 2;
	nd = realloc(b->data, ncap);
	if (!nd)
		return false;
	b->data = nd;
	b->cap = ncap;
	return b->cap - b->tail >= SFTP_REPLY_ROOM;
}

/* Handle every complete request in `in` while `out` has room. */
static void process_input(struct server *s)
{
	while (!s->fatal) {
		size_t avail = s->in_tail - s->in_head;
		uint32_t len;

		if (avail < 4)
			break;
		len = peek_u32(s->in + s->in_head);
		if (len < 5 || len > SFTP_MAX_REQUEST) {
			log_warn("sftp: bad packet length %u; closing", len);
			s->fatal = true;
			break;
		}
		if (avail - 4 < len || !out_has_room(s))
			break;
		/* A full reply's worth queued: hand it over before reading the
		 * next block from disk, so the client is never left idle while
		 * we pread a batch (small replies still go out in bulk).  Not
		 * when requests fill `in`: see out_has_room. */
		if (s->out.tail - s->out.head >= SFTP_MAX_IO && !input_full(s))
			break;
		if (sftp_dispatch_packet(s->conn, s->in + s->in_head + 4, len) < 0)
			s->fatal = true;
		s->in_head += 4 + (size_t)len;
	}
	if (s->in_head == s->in_tail) {
		s->in_head = s->in_tail = 0;
	} else if (s->in_head > 0 && IN_CAP - s->in_tail < SFTP_MAX_REQUEST + 4) {
		memmove(s->in, s->in + s->in_head, s->in_tail - s->in_head);
		s->in_tail -= s->in_head;
		s->in_head = 0;
	}
}

static void read_input(struct server *s)
{
	void *dst = s->in + s->in_tail;
	size_t room = IN_CAP - s->in_tail;
	ssize_t n = s->in_sock ? recv(s->in_fd, dst, room, MSG_DONTWAIT) : read(s->in_fd, dst, room);

	if (n > 0)
		s->in_tail += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		s->in_eof = true;
}

static void write_output(struct server *s)
{
	struct sftp_buf *b = &s->out;
	const void *src = b->data + b->head;
	size_t len = b->tail - b->head;
	ssize_t n = s->out_sock ? send(s->out_fd, src, len, MSG_NOSIGNAL) : write(s->out_fd, src, len);

	if (n > 0) {
		b->head += (size_t)n;
		if (b->head == b->tail) {
			b->head = b->tail = 0;
			if (b->cap > OUT_CAP) { /* back to normal after a burst */
				uint8_t *nd = realloc(b->data, OUT_CAP);

				if (nd) {
					b->data = nd;
					b->cap = OUT_CAP;
				}
			}
		}
	} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		if (errno != EPIPE)
			log_warn("sftp: write: %s", strerror(errno));
		s->out_gone = true;
	}
}

/* poll's timeout: none normally.  After a protocol error the replies
 * already queued still go out, but a client that does not take them is not
 * waited for long: -2 once that time is up. */
static int poll_timeout(struct server *s)
{
	struct timespec now;

	if (!s->fatal)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!s->fatal_deadline)
		s->fatal_deadline = now.tv_sec + FATAL_FLUSH_SEC;
	return now.tv_sec >= s->fatal_deadline ? -2 : 1000;
}

/* Wait until input can be read or output written, and do it.  0 to go on,
 * -1 to stop (poll failed, or a client after a protocol error is not taking
 * its last replies). */
static int wait_for_io(struct server *s)
{
	struct pollfd pfd[2];
	nfds_t n = 0;
	int in_i = -1, out_i = -1, timeout;

	if (!s->in_eof && !s->fatal && s->in_tail < IN_CAP) {
		pfd[n].fd = s->in_fd;
		pfd[n].events = POLLIN;
		in_i = (int)n++;
	}
	if (s->out.tail > s->out.head) {
		pfd[n].fd = s->out_fd;
		pfd[n].events = POLLOUT;
		out_i = (int)n++;
	}
	if (n == 0) {
		/* Input buffer full of one incomplete request: cannot happen, as
		 * IN_CAP holds the largest; treat as a protocol error. */
		s->fatal = true;
		return 0;
	}
	timeout = poll_timeout(s);
	if (timeout == -2)
		return -1;
	if (poll(pfd, n, timeout) < 0) {
		if (errno == EINTR)
			return 0;
		log_warn("sftp: poll: %s", strerror(errno));
		return -1;
	}
	if (in_i >= 0 && pfd[in_i].revents)
		read_input(s);
	if (out_i >= 0 && pfd[out_i].revents)
		write_output(s);
	return 0;
}

static int serve_loop(struct server *s)
{
	for (;;) {
		bool pending;

		process_input(s);
		pending = s->out.tail > s->out.head;
		if (s->out_gone)
			return 1;
		/* Done: input ended (or is no longer trusted) and all replies are out.
		 * A request cut short by the end of input is dropped. */
		if ((s->in_eof || s->fatal) && !pending)
			return s->fatal ? 1 : 0;
		/* Try the cheap way first: most of the time a write goes straight
		 * through, and poll is only needed when it would block. */
		if (pending) {
			write_output(s);
			if (s->out_gone)
				return 1;
			if (s->out.tail == s->out.head)
				continue;
		}
		if (wait_for_io(s) < 0)
			return 1;
	}
}

/* --- the descriptors --- */

static bool is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Neither descriptor may block us indefinitely, or a client writing
 * requests while we write replies would deadlock with us.
 *
 * Pipes are made non-blocking: poll reports a pipe writable as soon as a page
 * is free.  A socket is left blocking with a short send timeout instead:
 * poll reports a Unix socket writable only once it is three quarters empty,
 * which starves a fast reader, while a blocking send keeps it topped up;
 * the timeout hands control back to poll when the client stops reading.  It
 * is read with MSG_DONTWAIT (stdin and stdout are often one socket, so its
 * O_NONBLOCK would apply to both). */
static void io_setup(struct server *s, struct io_saved *saved)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = SOCK_SEND_TIMEOUT_USEC };
	socklen_t len = sizeof(saved->sndtimeo);

	saved->in_fl = saved->out_fl = -1;
	saved->sndtimeo_set = false;
	s->in_sock = is_socket(s->in_fd);
	s->out_sock = is_socket(s->out_fd);
	if (s->out_sock) {
		if (getsockopt(s->out_fd, SOL_SOCKET, SO_SNDTIMEO, &saved->sndtimeo, &len) == 0 &&
		    setsockopt(s->out_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0)
			saved->sndtimeo_set = true;
	} else {
		/* Bigger pipes mean fewer, larger writes and reads. */
		fcntl(s->out_fd, F_SETPIPE_SZ, PIPE_SIZE);
		saved->out_fl = fcntl(s->out_fd, F_GETFL);
		if (saved->out_fl >= 0 && !(saved->out_fl & O_NONBLOCK))
			fcntl(s->out_fd, F_SETFL, saved->out_fl | O_NONBLOCK);
	}
	if (!s->in_sock) {
		fcntl(s->in_fd, F_SETPIPE_SZ, PIPE_SIZE);
		saved->in_fl = fcntl(s->in_fd, F_GETFL);
		if (saved->in_fl >= 0 && !(saved->in_fl & O_NONBLOCK))
			fcntl(s->in_fd, F_SETFL, saved->in_fl | O_NONBLOCK);
	}
}

static void io_restore(struct server *s, const struct io_saved *saved)
{
	if (saved->sndtimeo_set)
		setsockopt(s->out_fd, SOL_SOCKET, SO_SNDTIMEO, &saved->sndtimeo, sizeof(saved->sndtimeo));
	if (saved->out_fl >= 0)
		fcntl(s->out_fd, F_SETFL, saved->out_fl);
	if (saved->in_fl >= 0)
		fcntl(s->in_fd, F_SETFL, saved->in_fl);
}

static void server_free(struct server *s)
{
	sftp_conn_free(s->conn);
	free(s->in);
	free(s->out.data);
	free(s);
}

int sftp_server_serve(int in_fd, int out_fd, const struct sftp_options *opt)
{
	struct server *s;
	struct io_saved saved;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->in = malloc(IN_CAP);
	s->out.data = malloc(OUT_CAP);
	if (!s->in || !s->out.data || sftp_conn_new(opt, &s->out, &s->conn) < 0) {
		server_free(s);
		log_error("sftp: out of memory");
		return 1;
	}
	s->out.cap = OUT_CAP;
	s->in_fd = in_fd;
	s->out_fd = out_fd;

	io_setup(s, &saved);
	rc = serve_loop(s);
	io_restore(s, &saved);
	server_free(s); /* closes the handles the client left open */
	return rc;
}

/* --- the command line --- */

/* OpenSSH's -l levels and porthole's own names. */
static int parse_level(const char *arg, enum plog_level *lvl)
{
	static const struct { const char *name; enum plog_level lvl; } names[] = {
		{ "QUIET", PLOG_NONE }, { "FATAL", PLOG_ERROR }, { "ERROR", PLOG_ERROR },
		{ "INFO", PLOG_INFO }, { "VERBOSE", PLOG_INFO }, { "DEBUG", PLOG_DEBUG },
		{ "DEBUG1", PLOG_DEBUG }, { "DEBUG2", PLOG_DEBUG }, { "DEBUG3", PLOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(arg, names[i].name) == 0) {
			*lvl = names[i].lvl;
			return 0;
		}
	}
	return log_level_parse(arg, lvl);
}

/* -d DIR with OpenSSH's %d (home) and %u (user) expanded. */
static char *expand_start_dir(const char *arg)
{
	struct passwd_entry pw;
	char own[sizeof(pw.dir)];
	const char *home = sftp_fs_current_home(own, sizeof(own));
	const char *user = passwd_by_uid(getuid(), &pw) == 0 ? pw.name : getenv("USER");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (const char *p = arg; *p; p++) {
		if (*p == '%' && p[1] == 'd') {
			fputs(home ? home : "", f);
			p++;
		} else if (*p == '%' && p[1] == 'u') {
			fputs(user ? user : "", f);
			p++;
		} else if (*p == '%' && p[1] == '%') {
			fputc('%', f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void sftp_usage(FILE *out)
{
	fprintf(out,
		"usage: porthole sftp-server [-R] [-d DIR] [-u UMASK] [-l LEVEL] [-e] [-f FACILITY]\n"
		"  SFTP v3 on stdin/stdout, for the ssh \"sftp\" subsystem.\n"
		"  -R        read-only: refuse every request that would change files\n"
		"  -d DIR    start in DIR (%%d: home directory, %%u: user name)\n"
		"  -u UMASK  umask for created files and directories (octal)\n"
		"  -l LEVEL  log level (QUIET ERROR INFO VERBOSE DEBUG, or porthole's); DEBUG traces requests\n"
		"  -e, -f    accepted for OpenSSH compatibility; messages go to stderr or the journal\n");
}

/* -u UMASK: octal, at most 0777.  0, or -1 after telling the user. */
static int set_umask(const char *arg)
{
	char *end;
	unsigned long m = strtoul(arg, &end, 8);

	if (!*arg || *end || m > 0777) {
		fprintf(stderr, "porthole: sftp-server: bad umask \"%s\"\n", arg);
		return -1;
	}
	umask((mode_t)m);
	return 0;
}

/* -d DIR: change to it.  0, or -1 after logging why not. */
static int enter_start_dir(const char *arg)
{
	char *dir = expand_start_dir(arg);

	if (!dir || chdir(dir) < 0) {
		log_error("sftp: cannot change to \"%s\": %s", dir ? dir : arg, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

int sftp_server_main(int argc, char **argv)
{
	struct sftp_options opt = { 0 };
	enum plog_level lvl = PLOG_WARN;
	const char *start_dir = NULL;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "d:ef:hl:Ru:")) != -1) {
		switch (c) {
		case 'd':
			start_dir = optarg;
			break;
		case 'e':
		case 'f':
			break;
		case 'h':
			sftp_usage(stdout);
			return 0;
		case 'l':
			if (parse_level(optarg, &lvl) < 0) {
				fprintf(stderr, "porthole: sftp-server: unknown log level \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'R':
			opt.read_only = true;
			break;
		case 'u':
			if (set_umask(optarg) < 0)
				return 2;
			break;
		default:
			sftp_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		sftp_usage(stderr);
		return 2;
	}
	log_set_level(lvl);
	opt.trace = lvl <= PLOG_DEBUG;
	if (start_dir && enter_start_dir(start_dir) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	tzset();
	return sftp_server_serve(STDIN_FILENO, STDOUT_FILENO, &opt);
}
