/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_server.c — see sftp.h.
 *
 * One process serves one client.  Input is read in large chunks into `in`;
 * every complete request in it is handled at once and its reply appended to
 * `out`, which is written as the descriptor takes it.  READ replies are read
 * from the file straight into `out`, WRITE data is written to the file
 * straight from `in`: a pipelined transfer costs one pread or pwrite per
 * request and a few large reads and writes of the channel.
 *
 * A request is handled only when `out` has room for the largest reply, so
 * the buffers stay fixed -- except for a client that neither reads replies
 * nor lets us read its requests, where waiting would deadlock: `out` then
 * grows (out_has_room).  Neither descriptor blocks for long (io_setup), so
 * requests keep being read while replies wait. */
#include "sftp_server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sftp_wire.h"

#include "../lib/log.h"

#define IN_CAP  (2u * 1024 * 1024)
#define OUT_CAP (1024u * 1024)
/* How far `out` may grow for a client that neither reads replies nor lets
 * us read its requests (see out_has_room). */
#define OUT_MAX (64u * 1024 * 1024)
/* Free room in `out` required before a request is handled: the largest
 * reply (a full DATA packet or a READDIR batch) fits in it. */
#define REPLY_ROOM (SFTP_MAX_PACKET + 8192)
#define MAX_HANDLES 512
#define READDIR_MAX_ENTRIES 100
#define READDIR_MAX_BYTES (128u * 1024)
#define NAME_CACHE 64
#define PIPE_SIZE (1024 * 1024)
#define FATAL_FLUSH_SEC 5
#define SOCK_SEND_TIMEOUT_USEC 20000

enum handle_kind { H_ANY, H_FILE, H_DIR };

struct handle {
	enum handle_kind kind; /* H_ANY: free */
	uint32_t gen;
	int fd;                /* H_FILE */
	DIR *dir;              /* H_DIR */
	char *path;
	bool readable, writable;
	bool stream;           /* pread/pwrite failed with ESPIPE: use read/write */
};

struct name_entry {
	bool valid, found;
	uint32_t id;
	char name[64];
};

struct io_saved {
	int in_fl, out_fl;     /* file status flags, or -1 if untouched */
	struct timeval sndtimeo;
	bool sndtimeo_set;
};

struct server {
	int in_fd, out_fd;
	const struct sftp_options *opt;
	uint8_t *in;
	size_t in_head, in_tail;
	struct sftp_buf out;
	bool inited;
	bool in_eof;
	bool fatal;            /* stop reading; flush what is queued and exit 1 */
	bool out_gone;
	bool in_sock, out_sock; /* see io_setup */
	time_t fatal_deadline; /* CLOCK_MONOTONIC seconds; 0 until fatal */
	struct handle h[MAX_HANDLES];
	unsigned n_open;
	uint32_t next_gen;
	struct name_entry users[NAME_CACHE], groups[NAME_CACHE];
};

/* --- replies --- */

static void send_status(struct server *s, uint32_t id, uint32_t code)
{
	sftp_wire_put_status(&s->out, id, code);
}

static void send_errno(struct server *s, uint32_t id, int err)
{
	send_status(s, id, sftp_wire_status_from_errno(err));
}

/* 0 → OK, otherwise the status for errno. */
static void send_result(struct server *s, uint32_t id, int rc)
{
	send_status(s, id, rc < 0 ? sftp_wire_status_from_errno(errno) : SSH_FX_OK);
}

/* A NAME reply with one entry and no attributes (REALPATH, READLINK ...). */
static void send_one_name(struct server *s, uint32_t id, const char *name)
{
	sftp_wire_begin(&s->out, SSH_FXP_NAME);
	sftp_wire_put_u32(&s->out, id);
	sftp_wire_put_u32(&s->out, 1);
	sftp_wire_put_cstring(&s->out, name);
	sftp_wire_put_cstring(&s->out, name);
	sftp_wire_put_u32(&s->out, 0);
	if (sftp_wire_end(&s->out) < 0)
		send_status(s, id, SSH_FX_FAILURE);
}

static void send_stat(struct server *s, uint32_t id, const struct stat *st)
{
	struct sftp_attrs a;

	sftp_wire_attrs_from_stat(&a, st);
	sftp_wire_begin(&s->out, SSH_FXP_ATTRS);
	sftp_wire_put_u32(&s->out, id);
	sftp_wire_put_attrs(&s->out, &a);
	sftp_wire_end(&s->out);
}

/* --- handles --- */

static int handle_new(struct server *s, enum handle_kind kind, int fd, DIR *dir, const char *path,
		      bool readable, bool writable)
{
	char *copy;

	if (s->n_open >= MAX_HANDLES)
		return -1;
	copy = strdup(path);
	if (!copy)
		return -1;
	for (int i = 0; i < MAX_HANDLES; i++) {
		struct handle *h = &s->h[i];

		if (h->kind != H_ANY)
			continue;
		h->kind = kind;
		h->gen = ++s->next_gen;
		h->fd = fd;
		h->dir = dir;
		h->path = copy;
		h->readable = readable;
		h->writable = writable;
		h->stream = false;
		s->n_open++;
		return i;
	}
	free(copy);
	return -1;
}

/* A handle on the wire: its slot and generation, so a stale handle from a
 * reused slot is refused rather than mistaken for the new file. */
static void send_handle(struct server *s, uint32_t id, int i)
{
	uint8_t raw[8];
	uint32_t gen = s->h[i].gen;

	raw[0] = (uint8_t)(i >> 24);
	raw[1] = (uint8_t)(i >> 16);
	raw[2] = (uint8_t)(i >> 8);
	raw[3] = (uint8_t)i;
	raw[4] = (uint8_t)(gen >> 24);
	raw[5] = (uint8_t)(gen >> 16);
	raw[6] = (uint8_t)(gen >> 8);
	raw[7] = (uint8_t)gen;
	sftp_wire_begin(&s->out, SSH_FXP_HANDLE);
	sftp_wire_put_u32(&s->out, id);
	sftp_wire_put_string(&s->out, raw, sizeof(raw));
	sftp_wire_end(&s->out);
}

/* The handle named next in the request, of the kind wanted (H_ANY: either),
 * or NULL.  A malformed string sets r->bad. */
static struct handle *get_handle(struct server *s, struct sftp_reader *r, enum handle_kind kind)
{
	uint32_t len;
	const uint8_t *p = sftp_wire_get_string(r, &len);
	struct sftp_reader hr;
	uint32_t i, gen;

	if (!p || len != 8)
		return NULL;
	sftp_wire_reader_init(&hr, p, len);
	i = sftp_wire_get_u32(&hr);
	gen = sftp_wire_get_u32(&hr);
	if (i >= MAX_HANDLES || s->h[i].kind == H_ANY || s->h[i].gen != gen)
		return NULL;
	if (kind != H_ANY && s->h[i].kind != kind)
		return NULL;
	return &s->h[i];
}

/* The descriptor to fstat/fchmod... through, for either kind. */
static int handle_fd(const struct handle *h)
{
	return h->kind == H_DIR ? dirfd(h->dir) : h->fd;
}

static int handle_close(struct server *s, struct handle *h)
{
	int rc;

	rc = h->kind == H_DIR ? closedir(h->dir) : close(h->fd);
	free(h->path);
	h->path = NULL;
	h->dir = NULL;
	h->fd = -1;
	h->kind = H_ANY;
	s->n_open--;
	return rc;
}

/* --- names of ids --- */

/* The name of a uid or gid, or NULL if it has none.  Cached: a directory
 * listing asks for the same few ids over and over. */
static const char *id_name(struct server *s, bool group, uint32_t id)
{
	struct name_entry *e = group ? &s->groups[id % NAME_CACHE] : &s->users[id % NAME_CACHE];
	const char *name = NULL;

	if (e->valid && e->id == id)
		return e->found ? e->name : NULL;
	if (group) {
		struct group *gr = getgrgid((gid_t)id);

		if (gr)
			name = gr->gr_name;
	} else {
		struct passwd *pw = getpwuid((uid_t)id);

		if (pw)
			name = pw->pw_name;
	}
	if (name && strlen(name) >= sizeof(e->name))
		return name; /* too long to cache; valid until the next lookup */
	e->valid = true;
	e->id = id;
	e->found = name != NULL;
	if (name)
		strcpy(e->name, name);
	return e->found ? e->name : NULL;
}

/* --- paths --- */

/* The absolute, symlink-free form of path (malloc'd), or NULL with errno.  A
 * last component that does not exist is allowed, as OpenSSH's server allows
 * it: clients ask where a file they are about to create will be. */
static char *resolve_path(const char *path)
{
	char *res, *dir, *rdir, *out;
	const char *slash, *base;
	size_t n, blen, dlen;

	if (!*path)
		path = ".";
	res = realpath(path, NULL);
	if (res || errno != ENOENT)
		return res;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	slash = memrchr(path, '/', n);
	base = slash ? slash + 1 : path;
	blen = n - (size_t)(base - path);
	if (blen == 0 || (blen == 1 && base[0] == '.') || (blen == 2 && base[0] == '.' && base[1] == '.')) {
		errno = ENOENT;
		return NULL;
	}
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return NULL;
	rdir = realpath(dir, NULL);
	free(dir);
	if (!rdir)
		return NULL;
	dlen = strlen(rdir);
	out = malloc(dlen + 1 + blen + 1);
	if (out) {
		memcpy(out, rdir, dlen);
		if (dlen == 0 || rdir[dlen - 1] != '/')
			out[dlen++] = '/';
		memcpy(out + dlen, base, blen);
		out[dlen + blen] = '\0';
	}
	free(rdir);
	return out;
}

/* Our own home: $HOME as the session set it, else the password entry's. */
static const char *current_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home == '/')
		return home;
	pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}

/* The home directory of user (ours if empty), malloc'd. */
static char *home_of(const char *user)
{
	struct passwd *pw = *user ? getpwnam(user) : NULL;
	const char *home = *user ? (pw ? pw->pw_dir : NULL) : current_home();

	if (!home || !*home) {
		errno = ENOENT;
		return NULL;
	}
	return strdup(home);
}

/* "~", "~/x", "~user/x" expanded (malloc'd); anything else copied. */
static char *expand_tilde(const char *path)
{
	const char *rest;
	char *user, *home, *out;

	if (path[0] != '~')
		return strdup(path);
	rest = strchr(path, '/');
	if (!rest)
		rest = path + strlen(path);
	user = strndup(path + 1, (size_t)(rest - path - 1));
	if (!user)
		return NULL;
	home = home_of(user);
	free(user);
	if (!home)
		return NULL;
	if (asprintf(&out, "%s%s", home, rest) < 0)
		out = NULL;
	free(home);
	return out;
}

/* --- file I/O --- */

static ssize_t file_pread(struct handle *h, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	for (;;) {
		n = h->stream ? read(h->fd, buf, len) : pread(h->fd, buf, len, (off_t)off);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0 && errno == ESPIPE && !h->stream) {
		h->stream = true;
		return file_pread(h, buf, len, off);
	}
	return n;
}

/* All of buf, or -1 with errno. */
static int file_pwrite(struct handle *h, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = h->stream ? write(h->fd, buf + done, len - done)
				      : pwrite(h->fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ESPIPE && !h->stream && done == 0) {
			h->stream = true;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Apply attributes through fd (if >= 0) or path; the first error wins but
 * every field is tried, as OpenSSH does.  0 or -1 with errno. */
static int set_attrs(int fd, const char *path, bool follow, const struct sftp_attrs *a)
{
	int err = 0, flag = follow ? 0 : AT_SYMLINK_NOFOLLOW;

	if (a->flags & SSH_FILEXFER_ATTR_SIZE) {
		int rc;

		if (a->size > INT64_MAX) {
			errno = EFBIG;
			rc = -1;
		} else {
			rc = fd >= 0 ? ftruncate(fd, (off_t)a->size) : truncate(path, (off_t)a->size);
		}
		if (rc < 0 && !err)
			err = errno;
	}
	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) {
		mode_t mode = (mode_t)(a->perm & 07777);
		int rc = fd >= 0 ? fchmod(fd, mode) : fchmodat(AT_FDCWD, path, mode, flag);

		if (rc < 0 && !err)
			err = errno;
	}
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		struct timespec ts[2] = {
			{ .tv_sec = (time_t)a->atime, .tv_nsec = 0 },
			{ .tv_sec = (time_t)a->mtime, .tv_nsec = 0 },
		};
		int rc = fd >= 0 ? futimens(fd, ts) : utimensat(AT_FDCWD, path, ts, flag);

		if (rc < 0 && !err)
			err = errno;
	}
	if (a->flags & SSH_FILEXFER_ATTR_UIDGID) {
		int rc = fd >= 0 ? fchown(fd, (uid_t)a->uid, (gid_t)a->gid)
				 : fchownat(AT_FDCWD, path, (uid_t)a->uid, (gid_t)a->gid, flag);

		if (rc < 0 && !err)
			err = errno;
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* --- requests --- */

#define TRACE(s, ...) do { if ((s)->opt->trace) log_debug("sftp: " __VA_ARGS__); } while (0)

typedef void (*request_fn)(struct server *s, uint32_t id, struct sftp_reader *r);

static bool denied(struct server *s, uint32_t id)
{
	if (!s->opt->read_only)
		return false;
	send_status(s, id, SSH_FX_PERMISSION_DENIED);
	return true;
}

static void do_open(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	uint32_t pflags = sftp_wire_get_u32(r);
	struct sftp_attrs a;
	int flags, fd, i;
	bool wr = pflags & SSH_FXF_WRITE;
	mode_t mode;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		goto out;
	}
	flags = wr ? (pflags & SSH_FXF_READ ? O_RDWR : O_WRONLY) : O_RDONLY;
	if (pflags & SSH_FXF_APPEND)
		flags |= O_APPEND;
	if (pflags & SSH_FXF_CREAT)
		flags |= O_CREAT;
	if (pflags & SSH_FXF_TRUNC)
		flags |= O_TRUNC;
	if (pflags & SSH_FXF_EXCL)
		flags |= O_EXCL;
	mode = a.flags & SSH_FILEXFER_ATTR_PERMISSIONS ? (mode_t)(a.perm & 0777) : 0666;
	TRACE(s, "open \"%s\" flags 0x%x mode 0%o", path, pflags, (unsigned)mode);
	if ((wr || (flags & (O_CREAT | O_TRUNC | O_APPEND))) && denied(s, id))
		goto out;
	if (s->n_open >= MAX_HANDLES) {
		send_status(s, id, SSH_FX_FAILURE);
		goto out;
	}
	fd = open(path, flags | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0) {
		send_errno(s, id, errno);
		goto out;
	}
	i = handle_new(s, H_FILE, fd, NULL, path, !wr || (pflags & SSH_FXF_READ), wr);
	if (i < 0) {
		close(fd);
		send_status(s, id, SSH_FX_FAILURE);
		goto out;
	}
	send_handle(s, id, i);
out:
	free(path);
}

static void do_close(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_ANY);

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		send_status(s, id, SSH_FX_FAILURE);
	else {
		TRACE(s, "close \"%s\"", h->path);
		send_result(s, id, handle_close(s, h));
	}
}

static void do_read(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_FILE);
	uint64_t off = sftp_wire_get_u64(r);
	uint32_t len = sftp_wire_get_u32(r);
	size_t at;
	uint8_t *dst;
	ssize_t n;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	if (!h) {
		send_status(s, id, SSH_FX_FAILURE);
		return;
	}
	if (!h->readable) {
		send_status(s, id, SSH_FX_PERMISSION_DENIED);
		return;
	}
	if (off > INT64_MAX || len == 0) {
		send_status(s, id, SSH_FX_EOF);
		return;
	}
	if (len > SFTP_MAX_IO)
		len = SFTP_MAX_IO;
	sftp_wire_begin(&s->out, SSH_FXP_DATA);
	sftp_wire_put_u32(&s->out, id);
	at = sftp_wire_put_string_begin(&s->out);
	dst = sftp_wire_put_reserve(&s->out, len);
	if (!dst) { /* cannot happen: REPLY_ROOM was checked */
		sftp_wire_abort(&s->out);
		send_status(s, id, SSH_FX_FAILURE);
		return;
	}
	n = file_pread(h, dst, len, off);
	if (n <= 0) {
		int err = errno;

		sftp_wire_abort(&s->out);
		send_status(s, id, n == 0 ? SSH_FX_EOF : sftp_wire_status_from_errno(err));
		return;
	}
	s->out.tail -= len - (size_t)n;
	sftp_wire_put_string_end(&s->out, at);
	sftp_wire_end(&s->out);
}

static void do_write(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_FILE);
	uint64_t off = sftp_wire_get_u64(r);
	uint32_t len;
	const uint8_t *data = sftp_wire_get_string(r, &len);

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		send_status(s, id, SSH_FX_FAILURE);
	else if (!h->writable)
		send_status(s, id, SSH_FX_PERMISSION_DENIED);
	else if (off > INT64_MAX - (uint64_t)len)
		send_errno(s, id, EFBIG);
	else
		send_result(s, id, file_pwrite(h, data, len, off));
}

static void do_stat_common(struct server *s, uint32_t id, struct sftp_reader *r, bool follow)
{
	char *path = sftp_wire_get_cstring(r);
	struct stat st;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	} else {
		TRACE(s, "%sstat \"%s\"", follow ? "" : "l", path);
		if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
			send_errno(s, id, errno);
		else
			send_stat(s, id, &st);
	}
	free(path);
}

static void do_stat(struct server *s, uint32_t id, struct sftp_reader *r)
{
	do_stat_common(s, id, r, true);
}

static void do_lstat(struct server *s, uint32_t id, struct sftp_reader *r)
{
	do_stat_common(s, id, r, false);
}

static void do_fstat(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_ANY);
	struct stat st;

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		send_status(s, id, SSH_FX_FAILURE);
	else if (fstat(handle_fd(h), &st) < 0)
		send_errno(s, id, errno);
	else
		send_stat(s, id, &st);
}

static void setstat_common(struct server *s, uint32_t id, struct sftp_reader *r, bool follow)
{
	char *path = sftp_wire_get_cstring(r);
	struct sftp_attrs a;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	} else if (!denied(s, id)) {
		TRACE(s, "%ssetstat \"%s\" flags 0x%x", follow ? "" : "l", path, a.flags);
		if (!follow && (a.flags & SSH_FILEXFER_ATTR_SIZE))
			send_status(s, id, SSH_FX_BAD_MESSAGE); /* nonsensical for links */
		else
			send_result(s, id, set_attrs(-1, path, follow, &a));
	}
	free(path);
}

static void do_setstat(struct server *s, uint32_t id, struct sftp_reader *r)
{
	setstat_common(s, id, r, true);
}

static void do_fsetstat(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_ANY);
	struct sftp_attrs a;

	sftp_wire_get_attrs(r, &a);
	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		send_status(s, id, SSH_FX_FAILURE);
	else if (!denied(s, id)) {
		TRACE(s, "fsetstat \"%s\" flags 0x%x", h->path, a.flags);
		send_result(s, id, set_attrs(handle_fd(h), h->path, true, &a));
	}
}

static void do_opendir(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	DIR *dir;
	int i;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		goto out;
	}
	TRACE(s, "opendir \"%s\"", path);
	if (s->n_open >= MAX_HANDLES) {
		send_status(s, id, SSH_FX_FAILURE);
		goto out;
	}
	dir = opendir(path);
	if (!dir) {
		send_errno(s, id, errno);
		goto out;
	}
	i = handle_new(s, H_DIR, -1, dir, path, true, false);
	if (i < 0) {
		closedir(dir);
		send_status(s, id, SSH_FX_FAILURE);
		goto out;
	}
	send_handle(s, id, i);
out:
	free(path);
}

static void do_readdir(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_DIR);
	size_t count_at, start;
	uint32_t count = 0;
	int err = 0;
	time_t now = time(NULL);

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	if (!h) {
		send_status(s, id, SSH_FX_FAILURE);
		return;
	}
	sftp_wire_begin(&s->out, SSH_FXP_NAME);
	sftp_wire_put_u32(&s->out, id);
	count_at = s->out.tail;
	sftp_wire_put_u32(&s->out, 0);
	start = s->out.tail;
	/* Each entry is at most ~1.3 KiB (name, longname, attrs), so stopping
	 * below READDIR_MAX_BYTES keeps the reply well inside REPLY_ROOM. */
	while (count < READDIR_MAX_ENTRIES && s->out.tail - start < READDIR_MAX_BYTES) {
		struct dirent *de;
		struct stat st;
		struct sftp_attrs a;
		char longname[1024], ubuf[16], gbuf[16];
		const char *user, *group;

		errno = 0;
		de = readdir(h->dir);
		if (!de) {
			err = errno;
			break;
		}
		if (fstatat(dirfd(h->dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone since readdir */
		user = id_name(s, false, (uint32_t)st.st_uid);
		if (!user) {
			snprintf(ubuf, sizeof(ubuf), "%u", (unsigned)st.st_uid);
			user = ubuf;
		}
		group = id_name(s, true, (uint32_t)st.st_gid);
		if (!group) {
			snprintf(gbuf, sizeof(gbuf), "%u", (unsigned)st.st_gid);
			group = gbuf;
		}
		sftp_wire_longname(longname, sizeof(longname), de->d_name, &st, user, group, now);
		sftp_wire_attrs_from_stat(&a, &st);
		sftp_wire_put_cstring(&s->out, de->d_name);
		sftp_wire_put_cstring(&s->out, longname);
		sftp_wire_put_attrs(&s->out, &a);
		count++;
	}
	if (count == 0) {
		sftp_wire_abort(&s->out);
		send_status(s, id, err ? sftp_wire_status_from_errno(err) : SSH_FX_EOF);
		return;
	}
	sftp_wire_patch_u32(&s->out, count_at, count);
	if (sftp_wire_end(&s->out) < 0)
		send_status(s, id, SSH_FX_FAILURE);
}

/* Requests that take one path and answer with a status. */
static void path_op(struct server *s, uint32_t id, struct sftp_reader *r, const char *what,
		    int (*op)(const char *))
{
	char *path = sftp_wire_get_cstring(r);

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!denied(s, id)) {
		TRACE(s, "%s \"%s\"", what, path);
		send_result(s, id, op(path));
	}
	free(path);
}

static void do_remove(struct server *s, uint32_t id, struct sftp_reader *r)
{
	path_op(s, id, r, "remove", unlink);
}

static void do_rmdir(struct server *s, uint32_t id, struct sftp_reader *r)
{
	path_op(s, id, r, "rmdir", rmdir);
}

static void do_mkdir(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	struct sftp_attrs a;
	mode_t mode;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	} else if (!denied(s, id)) {
		mode = a.flags & SSH_FILEXFER_ATTR_PERMISSIONS ? (mode_t)(a.perm & 07777) : 0777;
		TRACE(s, "mkdir \"%s\" mode 0%o", path, (unsigned)mode);
		send_result(s, id, mkdir(path, mode));
	}
	free(path);
}

static void do_realpath(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r), *res;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	} else {
		res = resolve_path(path);
		TRACE(s, "realpath \"%s\" -> \"%s\"", path, res ? res : "(error)");
		if (!res)
			send_errno(s, id, errno);
		else
			send_one_name(s, id, res);
		free(res);
	}
	free(path);
}

/* SSH_FXP_RENAME must not replace an existing target (v3 semantics).
 * renameat2(RENAME_NOREPLACE) says so atomically; filesystems without it get
 * OpenSSH's way: link+unlink for files, check-then-rename otherwise. */
static int rename_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	if (lstat(from, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode) && link(from, to) == 0) {
		if (unlink(from) < 0) {
			int err = errno;

			unlink(to);
			errno = err;
			return -1;
		}
		return 0;
	}
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* Requests that take two paths and answer with a status. */
static void two_path_op(struct server *s, uint32_t id, struct sftp_reader *r, const char *what,
			int (*op)(const char *, const char *))
{
	char *a = sftp_wire_get_cstring(r), *b = sftp_wire_get_cstring(r);

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!denied(s, id)) {
		TRACE(s, "%s \"%s\" \"%s\"", what, a, b);
		send_result(s, id, op(a, b));
	}
	free(a);
	free(b);
}

static void do_rename(struct server *s, uint32_t id, struct sftp_reader *r)
{
	two_path_op(s, id, r, "rename", rename_noreplace);
}

/* OpenSSH's order, which clients follow: the target comes first, the path
 * of the new link second (the draft has them the other way round). */
static void do_symlink(struct server *s, uint32_t id, struct sftp_reader *r)
{
	two_path_op(s, id, r, "symlink", symlink);
}

static void do_readlink(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	char target[PATH_MAX + 1];
	ssize_t n;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	} else {
		TRACE(s, "readlink \"%s\"", path);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0) {
			send_errno(s, id, errno);
		} else {
			target[n] = '\0';
			send_one_name(s, id, target);
		}
	}
	free(path);
}

/* --- extensions --- */

static void ext_posix_rename(struct server *s, uint32_t id, struct sftp_reader *r)
{
	two_path_op(s, id, r, "posix-rename", rename);
}

static void ext_hardlink(struct server *s, uint32_t id, struct sftp_reader *r)
{
	two_path_op(s, id, r, "hardlink", link);
}

static void send_statvfs(struct server *s, uint32_t id, const struct statvfs *v)
{
	uint64_t flag = 0;

	if (v->f_flag & ST_RDONLY)
		flag |= SSH_FXE_STATVFS_ST_RDONLY;
	if (v->f_flag & ST_NOSUID)
		flag |= SSH_FXE_STATVFS_ST_NOSUID;
	sftp_wire_begin(&s->out, SSH_FXP_EXTENDED_REPLY);
	sftp_wire_put_u32(&s->out, id);
	sftp_wire_put_u64(&s->out, v->f_bsize);
	sftp_wire_put_u64(&s->out, v->f_frsize);
	sftp_wire_put_u64(&s->out, v->f_blocks);
	sftp_wire_put_u64(&s->out, v->f_bfree);
	sftp_wire_put_u64(&s->out, v->f_bavail);
	sftp_wire_put_u64(&s->out, v->f_files);
	sftp_wire_put_u64(&s->out, v->f_ffree);
	sftp_wire_put_u64(&s->out, v->f_favail);
	sftp_wire_put_u64(&s->out, v->f_fsid);
	sftp_wire_put_u64(&s->out, flag);
	sftp_wire_put_u64(&s->out, v->f_namemax);
	sftp_wire_end(&s->out);
}

static void ext_statvfs(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	struct statvfs v;

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (statvfs(path, &v) < 0)
		send_errno(s, id, errno);
	else
		send_statvfs(s, id, &v);
	free(path);
}

static void ext_fstatvfs(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_ANY);
	struct statvfs v;

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		send_status(s, id, SSH_FX_FAILURE);
	else if (fstatvfs(handle_fd(h), &v) < 0)
		send_errno(s, id, errno);
	else
		send_statvfs(s, id, &v);
}

static void ext_fsync(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *h = get_handle(s, r, H_FILE);

	if (r->bad)
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		send_status(s, id, SSH_FX_FAILURE);
	else
		send_result(s, id, fsync(h->fd));
}

static void ext_lsetstat(struct server *s, uint32_t id, struct sftp_reader *r)
{
	setstat_common(s, id, r, false);
}

static uint64_t max_handles(void)
{
	struct rlimit rl;
	uint64_t n = MAX_HANDLES;

	/* Leave room for stdio and the odd descriptor of our own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 16)
		n = rl.rlim_cur > 32 ? rl.rlim_cur - 16 : 16;
	return n;
}

static void ext_limits(struct server *s, uint32_t id, struct sftp_reader *r)
{
	(void)r;
	sftp_wire_begin(&s->out, SSH_FXP_EXTENDED_REPLY);
	sftp_wire_put_u32(&s->out, id);
	sftp_wire_put_u64(&s->out, SFTP_MAX_PACKET);
	sftp_wire_put_u64(&s->out, SFTP_MAX_IO);
	sftp_wire_put_u64(&s->out, SFTP_MAX_IO);
	sftp_wire_put_u64(&s->out, max_handles());
	sftp_wire_end(&s->out);
}

static void ext_expand_path(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r), *exp = NULL, *res = NULL;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		goto out;
	}
	exp = expand_tilde(path);
	res = exp ? resolve_path(exp) : NULL;
	TRACE(s, "expand-path \"%s\" -> \"%s\"", path, res ? res : "(error)");
	if (!res)
		send_errno(s, id, errno);
	else
		send_one_name(s, id, res);
out:
	free(res);
	free(exp);
	free(path);
}

static void ext_home_directory(struct server *s, uint32_t id, struct sftp_reader *r)
{
	char *user = sftp_wire_get_cstring(r), *home;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
	} else {
		home = home_of(user);
		if (!home)
			send_status(s, id, SSH_FX_FAILURE);
		else
			send_one_name(s, id, home);
		free(home);
	}
	free(user);
}

static void ext_users_groups_by_id(struct server *s, uint32_t id, struct sftp_reader *r)
{
	uint32_t ulen, glen;
	const uint8_t *u = sftp_wire_get_string(r, &ulen), *g = sftp_wire_get_string(r, &glen);
	struct sftp_reader ids;
	size_t at;

	if (r->bad || ulen % 4 || glen % 4) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	sftp_wire_begin(&s->out, SSH_FXP_EXTENDED_REPLY);
	sftp_wire_put_u32(&s->out, id);
	for (int pass = 0; pass < 2; pass++) {
		bool group = pass == 1;

		if (group)
			sftp_wire_reader_init(&ids, g, glen);
		else
			sftp_wire_reader_init(&ids, u, ulen);
		at = sftp_wire_put_string_begin(&s->out);
		while (sftp_wire_reader_left(&ids) >= 4 && !s->out.overflow) {
			const char *name = id_name(s, group, sftp_wire_get_u32(&ids));

			sftp_wire_put_cstring(&s->out, name ? name : "");
		}
		sftp_wire_put_string_end(&s->out, at);
	}
	if (sftp_wire_end(&s->out) < 0)
		send_status(s, id, SSH_FX_FAILURE); /* too many ids for one reply */
}

/* copy-data: read-handle, read-offset, length (0: to EOF), write-handle,
 * write-offset.  Done here, in one go, like OpenSSH. */
static void ext_copy_data(struct server *s, uint32_t id, struct sftp_reader *r)
{
	struct handle *rh = get_handle(s, r, H_FILE);
	uint64_t roff = sftp_wire_get_u64(r), len = sftp_wire_get_u64(r);
	struct handle *wh = get_handle(s, r, H_FILE);
	uint64_t woff = sftp_wire_get_u64(r);
	static uint8_t buf[64 * 1024];
	bool to_eof = len == 0;

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	if (!rh || !wh) {
		send_status(s, id, SSH_FX_FAILURE);
		return;
	}
	if (!rh->readable || !wh->writable) {
		send_status(s, id, SSH_FX_PERMISSION_DENIED);
		return;
	}
	if (roff > INT64_MAX || woff > INT64_MAX || (!to_eof && len > INT64_MAX - roff)) {
		send_status(s, id, SSH_FX_FAILURE);
		return;
	}
	/* Same file, overlapping ranges: refuse, as OpenSSH does. */
	if (rh == wh && (to_eof || (roff < woff + len && woff < roff + len))) {
		send_status(s, id, SSH_FX_FAILURE);
		return;
	}
	TRACE(s, "copy-data \"%s\" -> \"%s\"", rh->path, wh->path);
	while (to_eof || len > 0) {
		size_t want = sizeof(buf);
		ssize_t n;

		if (!to_eof && len < want)
			want = (size_t)len;
		n = file_pread(rh, buf, want, roff);
		if (n < 0) {
			send_errno(s, id, errno);
			return;
		}
		if (n == 0) {
			/* A definite length past the end is an error, as a read would be. */
			send_status(s, id, to_eof ? SSH_FX_OK : SSH_FX_EOF);
			return;
		}
		if (file_pwrite(wh, buf, (size_t)n, woff) < 0) {
			send_errno(s, id, errno);
			return;
		}
		roff += (uint64_t)n;
		woff += (uint64_t)n;
		if (!to_eof)
			len -= (uint64_t)n;
	}
	send_status(s, id, SSH_FX_OK);
}

static const struct extension {
	const char *name;
	const char *version;
	request_fn fn;
} extensions[] = {
	{ "posix-rename@openssh.com", "1", ext_posix_rename },
	{ "statvfs@openssh.com", "2", ext_statvfs },
	{ "fstatvfs@openssh.com", "2", ext_fstatvfs },
	{ "hardlink@openssh.com", "1", ext_hardlink },
	{ "fsync@openssh.com", "1", ext_fsync },
	{ "lsetstat@openssh.com", "1", ext_lsetstat },
	{ "limits@openssh.com", "1", ext_limits },
	{ "expand-path@openssh.com", "1", ext_expand_path },
	{ "copy-data", "1", ext_copy_data },
	{ "home-directory", "1", ext_home_directory },
	{ "users-groups-by-id@openssh.com", "1", ext_users_groups_by_id },
};

static void do_extended(struct server *s, uint32_t id, struct sftp_reader *r)
{
	uint32_t len;
	const uint8_t *name = sftp_wire_get_string(r, &len);

	if (r->bad) {
		send_status(s, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		if (strlen(extensions[i].name) == len && memcmp(extensions[i].name, name, len) == 0) {
			extensions[i].fn(s, id, r);
			return;
		}
	}
	TRACE(s, "unsupported extension \"%.*s\"", (int)(len > 64 ? 64 : len), (const char *)name);
	send_status(s, id, SSH_FX_OP_UNSUPPORTED);
}

static void do_init(struct server *s, struct sftp_reader *r)
{
	uint32_t version = sftp_wire_get_u32(r);

	TRACE(s, "client version %u", version);
	sftp_wire_begin(&s->out, SSH_FXP_VERSION);
	sftp_wire_put_u32(&s->out, SFTP_PROTOCOL_VERSION);
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		sftp_wire_put_cstring(&s->out, extensions[i].name);
		sftp_wire_put_cstring(&s->out, extensions[i].version);
	}
	sftp_wire_end(&s->out);
	s->inited = true;
}

static const request_fn requests[] = {
	[SSH_FXP_OPEN] = do_open,
	[SSH_FXP_CLOSE] = do_close,
	[SSH_FXP_READ] = do_read,
	[SSH_FXP_WRITE] = do_write,
	[SSH_FXP_LSTAT] = do_lstat,
	[SSH_FXP_FSTAT] = do_fstat,
	[SSH_FXP_SETSTAT] = do_setstat,
	[SSH_FXP_FSETSTAT] = do_fsetstat,
	[SSH_FXP_OPENDIR] = do_opendir,
	[SSH_FXP_READDIR] = do_readdir,
	[SSH_FXP_REMOVE] = do_remove,
	[SSH_FXP_MKDIR] = do_mkdir,
	[SSH_FXP_RMDIR] = do_rmdir,
	[SSH_FXP_REALPATH] = do_realpath,
	[SSH_FXP_STAT] = do_stat,
	[SSH_FXP_RENAME] = do_rename,
	[SSH_FXP_READLINK] = do_readlink,
	[SSH_FXP_SYMLINK] = do_symlink,
};

/* One whole request (the body after its length). */
static void handle_packet(struct server *s, const uint8_t *p, uint32_t len)
{
	struct sftp_reader r;
	uint8_t type;
	uint32_t id;

	sftp_wire_reader_init(&r, p, len);
	type = sftp_wire_get_u8(&r);
	if (!s->inited || type == SSH_FXP_INIT) {
		if (s->inited || type != SSH_FXP_INIT) {
			log_warn("sftp: %s", s->inited ? "a second INIT" : "a request before INIT");
			s->fatal = true;
			return;
		}
		do_init(s, &r);
		return;
	}
	id = sftp_wire_get_u32(&r);
	if (type == SSH_FXP_EXTENDED)
		do_extended(s, id, &r);
	else if (type < sizeof(requests) / sizeof(requests[0]) && requests[type])
		requests[type](s, id, &r);
	else
		send_status(s, id, SSH_FX_OP_UNSUPPORTED);
}

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

	if (b->cap - b->tail >= REPLY_ROOM)
		return true;
	/* Move the unsent bytes down only when fewer are left than were sent
	 * since the last move: every byte is then moved at most once on
	 * average. */
	if (b->head >= pending && b->cap - pending >= REPLY_ROOM) {
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
	return b->cap - b->tail >= REPLY_ROOM;
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
		handle_packet(s, s->in + s->in_head + 4, len);
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

static int serve_loop(struct server *s)
{
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int in_i = -1, out_i = -1, timeout;
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
			continue;
		}
		timeout = poll_timeout(s);
		if (timeout == -2)
			return 1;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("sftp: poll: %s", strerror(errno));
			return 1;
		}
		if (in_i >= 0 && pfd[in_i].revents)
			read_input(s);
		if (out_i >= 0 && pfd[out_i].revents)
			write_output(s);
	}
}

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

int sftp_server_serve(int in_fd, int out_fd, const struct sftp_options *opt)
{
	struct sftp_options defaults = { 0 };
	struct server *s;
	struct io_saved saved;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->in = malloc(IN_CAP);
	s->out.data = malloc(OUT_CAP);
	if (!s->in || !s->out.data) {
		free(s->in);
		free(s->out.data);
		free(s);
		log_error("sftp: out of memory");
		return 1;
	}
	s->out.cap = OUT_CAP;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->opt = opt ? opt : &defaults;
	for (int i = 0; i < MAX_HANDLES; i++)
		s->h[i].fd = -1;

	io_setup(s, &saved);
	rc = serve_loop(s);
	io_restore(s, &saved);
	for (int i = 0; i < MAX_HANDLES; i++)
		if (s->h[i].kind != H_ANY)
			handle_close(s, &s->h[i]);
	free(s->in);
	free(s->out.data);
	free(s);
	return rc;
}

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
	struct passwd *pw = getpwuid(getuid());
	const char *home = current_home();
	const char *user = pw ? pw->pw_name : getenv("USER");
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
		case 'u': {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);

			if (!*optarg || *end || m > 0777) {
				fprintf(stderr, "porthole: sftp-server: bad umask \"%s\"\n", optarg);
				return 2;
			}
			umask((mode_t)m);
			break;
		}
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
	if (start_dir) {
		char *dir = expand_start_dir(start_dir);

		if (!dir || chdir(dir) < 0) {
			log_error("sftp: cannot change to \"%s\": %s", dir ? dir : start_dir, strerror(errno));
			free(dir);
			return 1;
		}
		free(dir);
	}
	signal(SIGPIPE, SIG_IGN);
	tzset();
	return sftp_server_serve(STDIN_FILENO, STDOUT_FILENO, &opt);
}
