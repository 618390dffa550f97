/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_names.h — the names of user and group ids, for `ls -l` lines and
 * users-groups-by-id@openssh.com.  Cached: a directory listing asks for the
 * same few ids over and over. */
#ifndef PORTHOLE_SFTP_NAMES_H
#define PORTHOLE_SFTP_NAMES_H

#include <stdint.h>

struct sftp_names;

/* 0 or -ENOMEM. */
int sftp_names_new(struct sftp_names **ret);
void sftp_names_free(struct sftp_names *n);  /* NULL-safe */

/* The name of a uid or gid, or NULL if it has none.  Valid until the next
 * lookup. */
const char *sftp_names_user(struct sftp_names *n, uint32_t uid);
const char *sftp_names_group(struct sftp_names *n, uint32_t gid);

#endif
