/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_path.c — see sftp_path.h.  Relative paths resolve against the
 * server's working directory, as the system calls do. */
#include "sftp_path.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sftp_fs.h"
#include "sftp_reply.h"

static void stat_path(struct sftp_conn *c, uint32_t id, struct sftp_reader *r, bool follow)
{
	char *path = sftp_wire_get_cstring(r);
	struct stat st;

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else {
		SFTP_TRACE(c, "%sstat \"%s\"", follow ? "" : "l", path);
		if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
			sftp_reply_errno(c->out, id, errno);
		else
			sftp_reply_attrs(c->out, id, &st);
	}
	free(path);
}

void sftp_path_stat(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	stat_path(c, id, r, true);
}

void sftp_path_lstat(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	stat_path(c, id, r, false);
}

static void setstat_path(struct sftp_conn *c, uint32_t id, struct sftp_reader *r, bool follow)
{
	char *path = sftp_wire_get_cstring(r);
	struct sftp_attrs a;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else if (!sftp_conn_denied(c, id)) {
		SFTP_TRACE(c, "%ssetstat \"%s\" flags 0x%x", follow ? "" : "l", path, a.flags);
		if (!follow && (a.flags & SSH_FILEXFER_ATTR_SIZE))
			sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE); /* nonsensical for links */
		else
			sftp_reply_result(c->out, id, sftp_fs_set_attrs(-1, path, follow, &a));
	}
	free(path);
}

void sftp_path_setstat(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	setstat_path(c, id, r, true);
}

void sftp_path_lsetstat(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	setstat_path(c, id, r, false);
}

/* A request of one path that changes the filesystem and answers with a
 * status: op(path), 0 or -1 with errno. */
static void one_path(struct sftp_conn *c, uint32_t id, struct sftp_reader *r, const char *what,
		     int (*op)(const char *))
{
	char *path = sftp_wire_get_cstring(r);

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else if (!sftp_conn_denied(c, id)) {
		SFTP_TRACE(c, "%s \"%s\"", what, path);
		sftp_reply_result(c->out, id, op(path) < 0 ? -errno : 0);
	}
	free(path);
}

void sftp_path_remove(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	one_path(c, id, r, "remove", unlink);
}

void sftp_path_rmdir(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	one_path(c, id, r, "rmdir", rmdir);
}

void sftp_path_mkdir(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	struct sftp_attrs a;
	mode_t mode;

	sftp_wire_get_attrs(r, &a);
	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else if (!sftp_conn_denied(c, id)) {
		mode = a.flags & SSH_FILEXFER_ATTR_PERMISSIONS ? (mode_t)(a.perm & 07777) : 0777;
		SFTP_TRACE(c, "mkdir \"%s\" mode 0%o", path, (unsigned)mode);
		sftp_reply_result(c->out, id, mkdir(path, mode) < 0 ? -errno : 0);
	}
	free(path);
}

void sftp_path_realpath(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r), *res = NULL;
	int rc;

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else {
		rc = sftp_fs_resolve(path, &res);
		SFTP_TRACE(c, "realpath \"%s\" -> \"%s\"", path, rc == 0 ? res : "(error)");
		if (rc < 0)
			sftp_reply_errno(c->out, id, -rc);
		else
			sftp_reply_name(c->out, id, res);
		free(res);
	}
	free(path);
}

void sftp_path_two_paths(struct sftp_conn *c, uint32_t id, struct sftp_reader *r, const char *what,
			 int (*op)(const char *, const char *))
{
	char *a = sftp_wire_get_cstring(r), *b = sftp_wire_get_cstring(r);

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else if (!sftp_conn_denied(c, id)) {
		SFTP_TRACE(c, "%s \"%s\" \"%s\"", what, a, b);
		sftp_reply_result(c->out, id, op(a, b) < 0 ? -errno : 0);
	}
	free(a);
	free(b);
}

/* v3's RENAME does not replace an existing target (posix-rename@openssh.com
 * does). */
void sftp_path_rename(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	sftp_path_two_paths(c, id, r, "rename", sftp_fs_rename_noreplace);
}

/* OpenSSH's order, which clients follow: the target comes first, the path
 * of the new link second (the draft has them the other way round). */
void sftp_path_symlink(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	sftp_path_two_paths(c, id, r, "symlink", symlink);
}

void sftp_path_readlink(struct sftp_conn *c, uint32_t id, struct sftp_reader *r)
{
	char *path = sftp_wire_get_cstring(r);
	char target[PATH_MAX + 1];
	ssize_t n;

	if (r->bad) {
		sftp_reply_status(c->out, id, SSH_FX_BAD_MESSAGE);
	} else {
		SFTP_TRACE(c, "readlink \"%s\"", path);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0) {
			sftp_reply_errno(c->out, id, errno);
		} else {
			target[n] = '\0';
			sftp_reply_name(c->out, id, target);
		}
	}
	free(path);
}
