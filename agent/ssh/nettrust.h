/* SPDX-License-Identifier: Apache-2.0 */
/* nettrust.h — what a login asks of cluster SSH besides authorized keys.
 *
 * PORTHOLE_CLUSTER_TRUST=network: the addresses of the job's own hosts, from
 * which any public key may log in (the client still proves it holds the key
 * it offers).  Written by the cluster helper next to the control socket when
 * CloudWatch cannot be read; read by each connection at login.  Only exact
 * addresses, one a line: nothing wider gets in.
 *
 * And whether the rendezvous is still deciding: hosts finish it one poll
 * apart, so a peer that finished first may log in before this host has its
 * key; that login waits (bounded) instead of being refused. */
#ifndef PORTHOLE_NETTRUST_H
#define PORTHOLE_NETTRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ssh_settings.h"

/* Does text (the list) name addr?  IPv4-mapped IPv6 addresses match their
 * IPv4 form; lines that are not addresses match nothing. */
bool nettrust_allows(const char *text, const char *addr);

/* Is cluster SSH's rendezvous still deciding (PID 1's marker is there)? */
bool nettrust_pending(const struct ssh_settings *cfg);

/* Watch the directory the marker and the files are in, so a waiting login
 * wakes when the helper writes them: an inotify fd, or -1 (then
 * nettrust_wait sleeps in short steps). */
int nettrust_watch(const struct ssh_settings *cfg);

/* Wait until the watched directory changes or usec pass; fd from
 * nettrust_watch (closed by the caller). */
void nettrust_wait(int fd, uint64_t usec);

/* Does the list in force admit addr?  False whenever network trust is not
 * the setting, or the list is missing or unreadable. */
bool nettrust_check(const struct ssh_settings *cfg, const char *addr);

#endif
