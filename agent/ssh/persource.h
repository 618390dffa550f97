/* SPDX-License-Identifier: Apache-2.0 */
/* persource.h — what PID 1 counts a connection's source as, for the
 * per-source limits (OpenSSH's PerSourceMaxStartups, PerSourceNetBlockSize,
 * PerSourcePenaltyExemptList): the client's address masked to its netblock
 * (PORTHOLE_PER_SOURCE_NETBLOCK_SIZE, /32 and /128 by default, so one
 * address), and whether it is exempt from penalties
 * (PORTHOLE_PER_SOURCE_PENALTY_EXEMPT).
 *
 * The exempt list is from="…"'s pattern syntax (addresses, CIDR blocks,
 * globs, !negation) plus two words: "loopback" (127.0.0.0/8 and ::1: Session
 * Manager's port forwarding, and the container itself) and "cluster" (the
 * job's own hosts, as cluster SSH wrote them into its known hosts file). */
#ifndef PORTHOLE_PERSOURCE_H
#define PORTHOLE_PERSOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "ssh_settings.h"

/* addr (text, IPv4 or IPv6) masked to its netblock, as "a.b.c.d/n" or
 * "x::/n": 0, or -EINVAL when addr is not an address. */
int persource_block(const char *addr, const struct ssh_netblock *nb, char *buf, size_t len);

/* Is the exempt list well formed?  (Checked once, at start.) */
bool persource_exempt_valid(const char *list);

/* Does list (persource_exempt_valid) exempt addr from penalties?  cfg
 * says where "cluster" finds the job's hosts. */
bool persource_exempt(const char *list, const struct ssh_settings *cfg, const char *addr);

#endif
