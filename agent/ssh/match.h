/* SPDX-License-Identifier: Apache-2.0 */
/* match.h — the matching rules of authorized_keys options, as
 * OpenSSH defines them: pattern lists for from="…" and host:port lists for
 * permitopen="…" / permitlisten="…".  Pure functions, no I/O. */
#ifndef PORTHOLE_MATCH_H
#define PORTHOLE_MATCH_H

#include <stdbool.h>

/* Shell-style glob: '*' any run, '?' one character; case-insensitive. */
bool match_glob(const char *s, const char *pattern);

/* addr (an IP address in text form) against a from="…" list: comma-separated
 * globs or CIDR blocks (10.0.0.0/8, fd00::/8), each optionally negated with
 * '!'.  A negated match wins over everything.  1 allowed, 0 not listed,
 * -1 explicitly refused. */
int match_addr_list(const char *addr, const char *list);

/* Is list well-formed (every CIDR entry valid, nothing empty)? */
bool match_addr_list_valid(const char *list);

/* host:port against one permitopen/permitlisten entry ("host:port",
 * "[v6]:port", '*' for any host or any port).  Host names compare literally,
 * ignoring case, as in OpenSSH. */
bool match_hostport(const char *host, unsigned port, const char *entry);

/* Is entry a well-formed host:port? */
bool match_hostport_valid(const char *entry);

#endif
