/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_fs.c — see sftp_fs.h. */
#include "sftp_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/passwd.h"

/* dir + "/" + the blen bytes at base, malloc'd; NULL if out of memory. */
static char *join(const char *dir, const char *base, size_t blen)
{
	size_t dlen = strlen(dir);
	char *out = malloc(dlen + 1 + blen + 1);

	if (!out)
		return NULL;
	memcpy(out, dir, dlen);
	if (dlen == 0 || dir[dlen - 1] != '/')
		out[dlen++] = '/';
	memcpy(out + dlen, base, blen);
	out[dlen + blen] = '\0';
	return out;
}

int sftp_fs_resolve(const char *path, char **ret)
{
	char *res, *dir, *rdir;
	const char *slash, *base;
	size_t n, blen;
	int err;

	if (!*path)
		path = ".";
	res = realpath(path, NULL);
	if (res) {
		*ret = res;
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	/* Missing: resolve its directory and put the last component back on,
	 * unless that component is "." or "..", which cannot be created. */
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	slash = memrchr(path, '/', n);
	base = slash ? slash + 1 : path;
	blen = n - (size_t)(base - path);
	if (blen == 0 || (blen == 1 && base[0] == '.') || (blen == 2 && base[0] == '.' && base[1] == '.'))
		return -ENOENT;
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	rdir = realpath(dir, NULL);
	err = errno;
	free(dir);
	if (!rdir)
		return -err;
	res = join(rdir, base, blen);
	free(rdir);
	if (!res)
		return -ENOMEM;
	*ret = res;
	return 0;
}

const char *sftp_fs_current_home(char *buf, size_t len)
{
	const char *home = getenv("HOME");
	struct passwd_entry pw;

	if (home && *home == '/')
		return home;
	if (passwd_by_uid(getuid(), &pw) < 0)
		return NULL;
	snprintf(buf, len, "%s", pw.dir);
	return buf;
}

int sftp_fs_home_of(const char *user, char **ret)
{
	struct passwd_entry pw;
	char own[sizeof(pw.dir)];
	const char *home = *user ? (passwd_by_name(user, &pw) == 0 ? pw.dir : NULL)
				 : sftp_fs_current_home(own, sizeof(own));

	if (!home || !*home)
		return -ENOENT;
	*ret = strdup(home);
	return *ret ? 0 : -ENOMEM;
}

int sftp_fs_expand_tilde(const char *path, char **ret)
{
	const char *rest;
	char *user, *home;
	int rc;

	if (path[0] != '~') {
		*ret = strdup(path);
		return *ret ? 0 : -ENOMEM;
	}
	rest = strchr(path, '/');
	if (!rest)
		rest = path + strlen(path);
	user = strndup(path + 1, (size_t)(rest - path - 1));
	if (!user)
		return -ENOMEM;
	rc = sftp_fs_home_of(user, &home);
	free(user);
	if (rc < 0)
		return rc;
	if (asprintf(ret, "%s%s", home, rest) < 0)
		rc = -ENOMEM;
	free(home);
	return rc;
}

/* renameat2(RENAME_NOREPLACE) says "no replacing" atomically; filesystems
 * without it get OpenSSH's way: link+unlink for files, check-then-rename
 * otherwise. */
int sftp_fs_rename_noreplace(const char *from, const char *to)
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

int sftp_fs_set_attrs(int fd, const char *path, bool follow, const struct sftp_attrs *a)
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
	return -err;
}
