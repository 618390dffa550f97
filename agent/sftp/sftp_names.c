/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_names.c — see sftp_names.h.  A small direct-mapped cache per kind:
 * the slot is the id modulo its size, and the newest lookup wins it. */
#include "sftp_names.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/passwd.h"

#define NAME_CACHE 64

struct name_entry {
	bool valid, found;
	uint32_t id;
	char name[256]; /* as long as passwd.h's names: every name fits */
};

struct sftp_names {
	struct name_entry users[NAME_CACHE], groups[NAME_CACHE];
};

int sftp_names_new(struct sftp_names **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void sftp_names_free(struct sftp_names *n)
{
	free(n);
}

/* Remember what the password or group file said about id (name or NULL). */
static const char *remember(struct name_entry *e, uint32_t id, const char *name)
{
	e->valid = true;
	e->id = id;
	e->found = name != NULL;
	if (name)
		snprintf(e->name, sizeof(e->name), "%s", name);
	return e->found ? e->name : NULL;
}

const char *sftp_names_user(struct sftp_names *n, uint32_t uid)
{
	struct name_entry *e = &n->users[uid % NAME_CACHE];
	struct passwd_entry pw;

	if (e->valid && e->id == uid)
		return e->found ? e->name : NULL;
	return remember(e, uid, passwd_by_uid((uid_t)uid, &pw) == 0 ? pw.name : NULL);
}

const char *sftp_names_group(struct sftp_names *n, uint32_t gid)
{
	struct name_entry *e = &n->groups[gid % NAME_CACHE];
	char name[256];

	if (e->valid && e->id == gid)
		return e->found ? e->name : NULL;
	return remember(e, gid, passwd_group_name((gid_t)gid, name, sizeof(name)) == 0 ? name : NULL);
}
