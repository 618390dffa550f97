/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_file.c — see sftp_file.h.
 *
 * READ replies are read from the file straight into the reply queue and
 * WRITE data is written to the file straight from the request: a pipelined
 * transfer costs one pread or pwrite per request and no copies. */
#include "sftp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sftp_fs.h"
#include "sftp_reply.h"
#include "sftp_wire.h"

ssize_t sftp_file_pread(struct sftp_handle *h, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	for (;;) {
		n = h->stream ? read(h->fd, buf, len) : pread(h->fd, buf, len, (off_t)off);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			break;
	}
	if (errno == ESPIPE && !h->stream) {
		h->stream = true;
		return sftp_file_pread(h, buf, len, off);
	}
	return -errno;
}

int sftp_file_pwrite(struct sftp_handle *h, const uint8_t *buf, size_t len, uint64_t off)
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
			return -errno;
		if (n == 0)
			return -ENOSPC;
		done += (size_t)n;
	}
	return 0;
}

/* open(2) flags for the SSH_FXF_* flags of an OPEN. */
static int open_flags(uint32_t pflags)
{
	int flags;

	if (pflags & SSH_FXF_WRITE)
		flags = pflags & SSH_FXF_READ ? O_RDWR : O_WRONLY;
	else
		flags = O_RDONLY;
	if (pflags & SSH_FXF_APPEND)
		flags |= O_APPEND;
	if (pflags & SSH_FXF_CREAT)
		flags |= O_CREAT;
	if (pflags & SSH_FXF_TRUNC)
		flags |= O_TRUNC;
	if (pflags & SSH_FXF_EXCL)
		flags |= O_EXCL;
	return flags;
}

void sftp_file_open(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	uint32_t pflags = sftp_wire_get_u32(r);
	struct sftp_attrs a;
	struct sftp_handle *h;
	int flags, fd;
	bool wr = pflags & SSH_FXF_WRITE;
	mode_t mode;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
		goto out;
	}
	flags = open_flags(pflags);
	mode = a.flags & SSH_FILEXFER_ATTR_PERMISSIONS ? (mode_t)(a.perm & 0777) : 0666;
	SFTP_TRACE(c, "open \"%s\" flags 0x%x mode 0%o", path, pflags, (unsigned)mode);
	if ((wr || (flags & (O_CREAT | O_TRUNC | O_APPEND))) && sftp_conn_denied(c, id))
		goto out;
	/* Checked before opening, so that a full table creates no file. */
	if (sftp_handles_full(c->handles)) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		goto out;
	}
	fd = open(path, flags | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0) {
		sftp_reply_errno(c->out, id, errno);
		goto out;
	}
	if (sftp_handles_add(c->handles, SFTP_HANDLE_FILE, fd, NULL, path, !wr || (pflags & SSH_FXF_READ), wr,
			     &h) < 0) {
		close(fd);
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		goto out;
	}
	sftp_reply_handle(c->out, id, c->handles, h);
out:
	free(path);
}

void sftp_file_close(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_ANY);

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else if (!h) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	} else {
		SFTP_TRACE(c, "close \"%s\"", h->path);
		sftp_reply_result(c->out, id, sftp_handles_close(c->handles, h));
	}
}

/* The DATA reply to a READ of len bytes at off, read straight into it; EOF
 * or an error status instead if nothing could be read. */
static void reply_data(struct sftp_conn *c, uint32_t id, struct sftp_handle *h, uint64_t off, uint32_t len)
{
	struct sftp_buf *out = c->out;
	size_t at;
	uint8_t *dst;
	ssize_t n;

	sftp_wire_begin(out, SSH_FXP_DATA);
	sftp_wire_put_u32(out, id);
	at = sftp_wire_put_string_begin(out);
	dst = sftp_wire_put_reserve(out, len);
	if (!dst) { /* cannot happen: the dispatcher's caller left SFTP_REPLY_ROOM */
		sftp_wire_abort(out);
		sftp_reply_status(out, id, SSH_FX_FAILURE);
		return;
	}
	n = sftp_file_pread(h, dst, len, off);
	if (n <= 0) {
		sftp_wire_abort(out);
		sftp_reply_status(out, id, n == 0 ? SSH_FX_EOF : sftp_wire_status_from_errno((int)-n));
		return;
	}
	out->tail -= len - (size_t)n; /* a short read: give back the rest */
	sftp_wire_put_string_end(out, at);
	sftp_wire_end(out);
}

void sftp_file_read(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_FILE);
	uint64_t off = sftp_wire_get_u64(r);
	uint32_t len = sftp_wire_get_u32(r);

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	else if (!h->readable)
		sftp_reply_status(c->out, id, SSH_FX_PERMISSION_DENIED);
	else if (off > INT64_MAX || len == 0)
		sftp_reply_status(c->out, id, SSH_FX_EOF);
	else
		reply_data(c, id, h, off, len > SFTP_MAX_IO ? SFTP_MAX_IO : len);
}

void sftp_file_write(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_FILE);
	uint64_t off = sftp_wire_get_u64(r);
	uint32_t len;
	const uint8_t *data = sftp_wire_get_string(r, &len);

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	else if (!h->writable)
		sftp_reply_status(c->out, id, SSH_FX_PERMISSION_DENIED);
	else if (off > INT64_MAX - (uint64_t)len)
		sftp_reply_errno(c->out, id, EFBIG);
	else
		sftp_reply_result(c->out, id, sftp_file_pwrite(h, data, len, off));
}

void sftp_file_fstat(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_ANY);
	struct stat st;

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	else if (fstat(sftp_handles_fd(h), &st) < 0)
		sftp_reply_errno(c->out, id, errno);
	else
		sftp_reply_attrs(c->out, id, &st);
}

void sftp_file_fsetstat(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_ANY);
	struct sftp_attrs a;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else if (!h) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	} else if (!sftp_conn_denied(c, id)) {
		SFTP_TRACE(c, "fsetstat \"%s\" flags 0x%x", h->path, a.flags);
		sftp_reply_result(c->out, id, sftp_fs_set_attrs(sftp_handles_fd(h), h->path, true, &a));
	}
}
