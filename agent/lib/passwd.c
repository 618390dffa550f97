/* SPDX-License-Identifier: Apache-2.0 */
/* passwd.c — see passwd.h. */
#include "passwd.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

static void fill(struct passwd_entry *out, const struct passwd *pw)
{
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->name, sizeof(out->name), "%s", pw->pw_name ? pw->pw_name : "");
	snprintf(out->dir, sizeof(out->dir), "%s", pw->pw_dir ? pw->pw_dir : "");
	snprintf(out->shell, sizeof(out->shell), "%s", pw->pw_shell ? pw->pw_shell : "");
}

int passwd_find(const char *file, const char *name, uid_t uid, struct passwd_entry *out)
{
	FILE *f = fopen(file, "re");
	struct passwd *pw;
	int rc = -ENOENT;

	if (!f)
		return -errno;
	/* fgetpwent reads the stream itself: no NSS, also in a static binary. */
	while ((pw = fgetpwent(f))) {
		if (name ? strcmp(pw->pw_name, name) == 0 : pw->pw_uid == uid) {
			fill(out, pw);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

int passwd_group_find(const char *file, gid_t gid, char *buf, size_t len)
{
	FILE *f = fopen(file, "re");
	struct group *gr;
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while ((gr = fgetgrent(f))) {
		if (gr->gr_gid == gid) {
			snprintf(buf, len, "%s", gr->gr_name);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

#ifdef PORTHOLE_STATIC
static int nss_user(const char *name, uid_t uid, struct passwd_entry *out)
{
	(void)name;
	(void)uid;
	(void)out;
	return -ENOENT;
}

static int nss_group(gid_t gid, char *buf, size_t len)
{
	(void)gid;
	(void)buf;
	(void)len;
	return -ENOENT;
}
#else
static int nss_user(const char *name, uid_t uid, struct passwd_entry *out)
{
	struct passwd *pw = name ? getpwnam(name) : getpwuid(uid);

	if (!pw)
		return -ENOENT;
	fill(out, pw);
	return 0;
}

static int nss_group(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (!gr)
		return -ENOENT;
	snprintf(buf, len, "%s", gr->gr_name);
	return 0;
}
#endif

int passwd_by_uid(uid_t uid, struct passwd_entry *out)
{
	return passwd_find("/etc/passwd", NULL, uid, out) == 0 ? 0 : nss_user(NULL, uid, out);
}

int passwd_by_name(const char *name, struct passwd_entry *out)
{
	return passwd_find("/etc/passwd", name, 0, out) == 0 ? 0 : nss_user(name, 0, out);
}

int passwd_group_name(gid_t gid, char *buf, size_t len)
{
	return passwd_group_find("/etc/group", gid, buf, len) == 0 ? 0 : nss_group(gid, buf, len);
}
