/* SPDX-License-Identifier: Apache-2.0 */
/* passwd.h — users and groups, read from /etc/passwd and /etc/group.
 *
 * getpwuid() and friends go through NSS, which in a static binary means
 * loading the image's libnss_* modules, built for another glibc: porthole
 * must never do that.  Containers keep their users in the files, so the
 * files are read directly (fgetpwent: no NSS).  The dynamic build also
 * asks NSS when the files do not have the user, so that LDAP or SSSD users
 * on a HyperPod node still resolve. */
#ifndef PORTHOLE_PASSWD_H
#define PORTHOLE_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

struct passwd_entry {
	uid_t uid;
	gid_t gid;
	char name[256];
	char dir[1024];   /* home */
	char shell[256];
};

/* By uid (name NULL) or by name, from file (a passwd(5) file): 0, -ENOENT,
 * or -errno when the file cannot be read. */
int passwd_find(const char *file, const char *name, uid_t uid, struct passwd_entry *out);
/* From /etc/passwd (then NSS in the dynamic build). */
int passwd_by_uid(uid_t uid, struct passwd_entry *out);
int passwd_by_name(const char *name, struct passwd_entry *out);

/* A group's name from file (a group(5) file): 0 or -ENOENT/-errno. */
int passwd_group_find(const char *file, gid_t gid, char *buf, size_t len);
/* From /etc/group (then NSS in the dynamic build). */
int passwd_group_name(gid_t gid, char *buf, size_t len);

#endif
