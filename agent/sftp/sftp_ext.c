/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_ext.c — see sftp_ext.h.  The extensions are a table: adding one is a
 * handler and a row. */
#include "sftp_ext.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sftp_file.h"
#include "sftp_fs.h"
#include "sftp_handles.h"
#include "sftp_names.h"
#include "sftp_path.h"
#include "sftp_reply.h"

/* copy-data moves the data through a buffer of this size. */
#define COPY_CHUNK (64 * 1024)

static void ext_posix_rename(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	sftp_path_two_paths(c, id, r, "posix-rename", rename);
}

static void ext_hardlink(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	sftp_path_two_paths(c, id, r, "hardlink", link);
}

static void reply_statvfs(struct sftp_buf *out, uint32_t id, const struct statvfs *v)
{
	uint64_t flag = 0;

	if (v->f_flag & ST_RDONLY)
		flag |= SSH_FXE_STATVFS_ST_RDONLY;
	if (v->f_flag & ST_NOSUID)
		flag |= SSH_FXE_STATVFS_ST_NOSUID;
	sftp_wire_begin(out, SSH_FXP_EXTENDED_REPLY);
	sftp_wire_put_u32(out, id);
	sftp_wire_put_u64(out, v->f_bsize);
	sftp_wire_put_u64(out, v->f_frsize);
	sftp_wire_put_u64(out, v->f_blocks);
	sftp_wire_put_u64(out, v->f_bfree);
	sftp_wire_put_u64(out, v->f_bavail);
	sftp_wire_put_u64(out, v->f_files);
	sftp_wire_put_u64(out, v->f_ffree);
	sftp_wire_put_u64(out, v->f_favail);
	sftp_wire_put_u64(out, v->f_fsid);
	sftp_wire_put_u64(out, flag);
	sftp_wire_put_u64(out, v->f_namemax);
	sftp_wire_end(out);
}

static void ext_statvfs(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	struct statvfs v;

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (statvfs(path, &v) < 0)
		sftp_reply_errno(c->out, id, errno);
	else
		reply_statvfs(c->out, id, &v);
	free(path);
}

static void ext_fstatvfs(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_ANY);
	struct statvfs v;

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	else if (fstatvfs(sftp_handles_fd(h), &v) < 0)
		sftp_reply_errno(c->out, id, errno);
	else
		reply_statvfs(c->out, id, &v);
}

static void ext_fsync(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_FILE);

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (!h)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	else
		sftp_reply_result(c->out, id, fsync(h->fd) < 0 ? -errno : 0);
}

/* What the client may send and ask for: packet and I/O sizes, handles. */
static void ext_limits(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	(void)r;
	sftp_wire_begin(c->out, SSH_FXP_EXTENDED_REPLY);
	sftp_wire_put_u32(c->out, id);
	sftp_wire_put_u64(c->out, SFTP_MAX_PACKET);
	sftp_wire_put_u64(c->out, SFTP_MAX_IO); /* read length */
	sftp_wire_put_u64(c->out, SFTP_MAX_IO); /* write length */
	sftp_wire_put_u64(c->out, sftp_handles_limit(c->handles));
	sftp_wire_end(c->out);
}

/* REALPATH that also expands "~" and "~user". */
static void ext_expand_path(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r), *exp = NULL, *res = NULL;
	int rc;

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
		goto out;
	}
	rc = sftp_fs_expand_tilde(path, &exp);
	if (rc == 0)
		rc = sftp_fs_resolve(exp, &res);
	SFTP_TRACE(c, "expand-path \"%s\" -> \"%s\"", path, rc == 0 ? res : "(error)");
	if (rc < 0)
		sftp_reply_errno(c->out, id, -rc);
	else
		sftp_reply_name(c->out, id, res);
out:
	free(res);
	free(exp);
	free(path);
}

static void ext_home_directory(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *user = sftp_wire_get_cstring(r), *home;

	if (r->bad)
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	else if (sftp_fs_home_of(user, &home) < 0)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
	else {
		sftp_reply_name(c->out, id, home);
		free(home);
	}
	free(user);
}

/* One string of the users-groups-by-id reply: the names of the u32 ids in
 * ids, each "" if it has none. */
static void put_names(struct sftp_conn *c, bool group, const uint8_t *ids, uint32_t len)
{
	struct sftp_reader r;
	size_t at = sftp_wire_put_string_begin(c->out);

	sftp_wire_reader_init(&r, ids, len);
	while (sftp_wire_reader_left(&r) >= 4 && !c->out->overflow) {
		uint32_t id = sftp_wire_get_u32(&r);
		const char *name = group ? sftp_names_group(c->names, id) : sftp_names_user(c->names, id);

		sftp_wire_put_cstring(c->out, name ? name : "");
	}
	sftp_wire_put_string_end(c->out, at);
}

static void ext_users_groups_by_id(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	uint32_t ulen, glen;
	const uint8_t *u = sftp_wire_get_string(r, &ulen), *g = sftp_wire_get_string(r, &glen);

	if (r->bad || ulen % 4 || glen % 4) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	sftp_wire_begin(c->out, SSH_FXP_EXTENDED_REPLY);
	sftp_wire_put_u32(c->out, id);
	put_names(c, false, u, ulen);
	put_names(c, true, g, glen);
	if (sftp_wire_end(c->out) < 0)
		sftp_reply_status(c->out, id, SSH_FX_FAILURE); /* too many ids for one reply */
}

/* Copy len bytes (0: up to the end of file) from rh at roff to wh at woff,
 * and answer with the status. */
static void copy_range(struct sftp_conn *c, uint32_t id, struct sftp_handle *rh, uint64_t roff, uint64_t len,
		       struct sftp_handle *wh, uint64_t woff)
{
	uint8_t buf[COPY_CHUNK];
	bool to_eof = len == 0;

	while (to_eof || len > 0) {
		size_t want = sizeof(buf);
		ssize_t n;
		int rc;

		if (!to_eof && len < want)
			want = (size_t)len;
		n = sftp_file_pread(rh, buf, want, roff);
		if (n < 0) {
			sftp_reply_errno(c->out, id, (int)-n);
			return;
		}
		if (n == 0) {
			/* A definite length past the end is an error, as a read would be. */
			sftp_reply_status(c->out, id, to_eof ? SSH_FX_OK : SSH_FX_EOF);
			return;
		}
		rc = sftp_file_pwrite(wh, buf, (size_t)n, woff);
		if (rc < 0) {
			sftp_reply_errno(c->out, id, -rc);
			return;
		}
		roff += (uint64_t)n;
		woff += (uint64_t)n;
		if (!to_eof)
			len -= (uint64_t)n;
	}
	sftp_reply_status(c->out, id, SSH_FX_OK);
}

/* copy-data: read-handle, read-offset, length (0: to EOF), write-handle,
 * write-offset.  Done here, in one go, like OpenSSH. */
static void ext_copy_data(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *rh = sftp_handles_get(c->handles, r, SFTP_HANDLE_FILE);
	uint64_t roff = sftp_wire_get_u64(r), len = sftp_wire_get_u64(r);
	struct sftp_handle *wh = sftp_handles_get(c->handles, r, SFTP_HANDLE_FILE);
	uint64_t woff = sftp_wire_get_u64(r);
	bool to_eof = len == 0;

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	if (!rh || !wh) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		return;
	}
	if (!rh->readable || !wh->writable) {
		sftp_reply_status(c->out, id, SSH_FX_PERMISSION_DENIED);
		return;
	}
	if (roff > INT64_MAX || woff > INT64_MAX || (!to_eof && len > INT64_MAX - roff)) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		return;
	}
	/* Same file, overlapping ranges: refuse, as OpenSSH does. */
	if (rh == wh && (to_eof || (roff < woff + len && woff < roff + len))) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		return;
	}
	SFTP_TRACE(c, "copy-data \"%s\" -> \"%s\"", rh->path, wh->path);
	copy_range(c, id, rh, roff, len, wh, woff);
}

static const struct extension {
	const char *name;
	const char *version;
	sftp_request_fn *fn;
} extensions[] = {
	{ "posix-rename@openssh.com", "1", ext_posix_rename },
	{ "statvfs@openssh.com", "2", ext_statvfs },
	{ "fstatvfs@openssh.com", "2", ext_fstatvfs },
	{ "hardlink@openssh.com", "1", ext_hardlink },
	{ "fsync@openssh.com", "1", ext_fsync },
	{ "lsetstat@openssh.com", "1", sftp_path_lsetstat },
	{ "limits@openssh.com", "1", ext_limits },
	{ "expand-path@openssh.com", "1", ext_expand_path },
	{ "copy-data", "1", ext_copy_data },
	{ "home-directory", "1", ext_home_directory },
	{ "users-groups-by-id@openssh.com", "1", ext_users_groups_by_id },
};

#define N_EXTENSIONS (sizeof(extensions) / sizeof(extensions[0]))

void sftp_ext_request(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	uint32_t len;
	const uint8_t *name = sftp_wire_get_string(r, &len);

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	for (size_t i = 0; i < N_EXTENSIONS; i++) {
		if (strlen(extensions[i].name) == len && memcmp(extensions[i].name, name, len) == 0) {
			extensions[i].fn(c, id, r);
			return;
		}
	}
	SFTP_TRACE(c, "unsupported extension \"%.*s\"", (int)(len > 64 ? 64 : len), (const char *)name);
	sftp_reply_status(c->out, id, SSH_FX_OP_UNSUPPORTED);
}

void sftp_ext_put_list(struct sftp_buf *b)
{
	for (size_t i = 0; i < N_EXTENSIONS; i++) {
		sftp_wire_put_cstring(b, extensions[i].name);
		sftp_wire_put_cstring(b, extensions[i].version);
	}
}
