/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_dir.c — see sftp_dir.h. */
#include "sftp_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "sftp_handles.h"
#include "sftp_names.h"
#include "sftp_reply.h"
#include "sftp_wire.h"

/* A READDIR reply holds at most this many entries and stops once it is this
 * long.  Each entry is at most ~1.3 KiB (name, longname, attrs), so a batch
 * stays well inside the room the dispatcher is given (SFTP_REPLY_ROOM). */
#define READDIR_MAX_ENTRIES 100
#define READDIR_MAX_BYTES (128u * 1024)

void sftp_dir_opendir(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	struct sftp_handle *h;
	DIR *dir;

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
		goto out;
	}
	SFTP_TRACE(c, "opendir \"%s\"", path);
	if (sftp_handles_full(c->handles)) {
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		goto out;
	}
	dir = opendir(path);
	if (!dir) {
		sftp_reply_errno(c->out, id, errno);
		goto out;
	}
	if (sftp_handles_add(c->handles, SFTP_HANDLE_DIR, -1, dir, path, true, false, &h) < 0) {
		closedir(dir);
		sftp_reply_status(c->out, id, SSH_FX_FAILURE);
		goto out;
	}
	sftp_reply_handle(c->out, id, c->handles, h);
out:
	free(path);
}

/* The owner or group name for an `ls -l` line: the name, else the number
 * (formatted into buf). */
static const char *owner_name(struct sftp_conn *c, bool group, uint32_t id, char buf[16])
{
	const char *name = group ? sftp_names_group(c->names, id) : sftp_names_user(c->names, id);

	if (name)
		return name;
	snprintf(buf, 16, "%u", (unsigned)id);
	return buf;
}

/* Append the entry name of dir to the NAME reply being built; false if it
 * went away since readdir returned it. */
static bool put_entry(struct sftp_conn *c, DIR *dir, const char *name, time_t now)
{
	struct stat st;
	struct sftp_attrs a;
	char longname[1024], ubuf[16], gbuf[16];
	const char *user, *group;

	if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	user = owner_name(c, false, (uint32_t)st.st_uid, ubuf);
	group = owner_name(c, true, (uint32_t)st.st_gid, gbuf);
	sftp_wire_longname(longname, sizeof(longname), name, &st, user, group, now);
	sftp_wire_attrs_from_stat(&a, &st);
	sftp_wire_put_cstring(c->out, name);
	sftp_wire_put_cstring(c->out, longname);
	sftp_wire_put_attrs(c->out, &a);
	return true;
}

void sftp_dir_readdir(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	struct sftp_handle *h = sftp_handles_get(c->handles, r, SFTP_HANDLE_DIR);
	struct sftp_buf *out = c->out;
	size_t count_at, start;
	uint32_t count = 0;
	int err = 0;
	time_t now = time(NULL);

	if (r->bad) {
		sftp_reply_status(out, id, SSH_FX_BAD_MESSAGE);
		return;
	}
	if (!h) {
		sftp_reply_status(out, id, SSH_FX_FAILURE);
		return;
	}
	sftp_wire_begin(out, SSH_FXP_NAME);
	sftp_wire_put_u32(out, id);
	count_at = out->tail;
	sftp_wire_put_u32(out, 0); /* the count, filled in below */
	start = out->tail;
	while (count < READDIR_MAX_ENTRIES && out->tail - start < READDIR_MAX_BYTES) {
		struct dirent *de;

		errno = 0;
		de = readdir(h->dir);
		if (!de) {
			err = errno;
			break;
		}
		if (put_entry(c, h->dir, de->d_name, now))
			count++;
	}
	if (count == 0) {
		sftp_wire_abort(out);
		sftp_reply_status(out, id, err ? sftp_wire_status_from_errno(err) : SSH_FX_EOF);
		return;
	}
	sftp_wire_patch_u32(out, count_at, count);
	if (sftp_wire_end(out) < 0)
		sftp_reply_status(out, id, SSH_FX_FAILURE);
}
