/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_fs.h — the filesystem work behind some SFTP requests that is more
 * than one system call: resolving paths as OpenSSH does, home directories
 * and "~", a rename that never replaces, applying attributes.  Nothing here
 * knows the protocol beyond struct sftp_attrs. */
#ifndef PORTHOLE_SFTP_FS_H
#define PORTHOLE_SFTP_FS_H

#include <stdbool.h>

#include "sftp_wire.h"

/* The absolute, symlink-free form of path ("" is "."), malloc'd into *ret.
 * A last component that does not exist is allowed, as OpenSSH's server
 * allows it: clients ask where a file they are about to create will be.
 * 0 or -errno. */
int sftp_fs_resolve(const char *path, char **ret);

/* Our own home: $HOME as the session set it, else the password entry's
 * (copied into buf); NULL if neither says. */
const char *sftp_fs_current_home(char *buf, size_t len);

/* The home directory of user (ours if ""), malloc'd into *ret.  0, -ENOENT
 * (no such user, or no home) or -ENOMEM. */
int sftp_fs_home_of(const char *user, char **ret);

/* "~", "~/x", "~user/x" expanded, anything else copied; malloc'd into *ret.
 * 0 or -errno as sftp_fs_home_of. */
int sftp_fs_expand_tilde(const char *path, char **ret);

/* rename(2) that fails with EEXIST rather than replace an existing target
 * (SSH_FXP_RENAME's v3 semantics).  0 or -1 with errno, like rename(2), so
 * it takes rename's place wherever a two-path call is expected. */
int sftp_fs_rename_noreplace(const char *from, const char *to);

/* Apply the attributes a names through fd (if >= 0) or path (following a
 * last symlink or not).  Every field is tried, as OpenSSH does; 0, or the
 * first field's -errno. */
int sftp_fs_set_attrs(int fd, const char *path, bool follow, const struct sftp_attrs *a);

#endif
