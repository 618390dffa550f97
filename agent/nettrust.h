/* nettrust.h — PORTHOLE_CLUSTER_TRUST=network: the addresses of the job's
 * own hosts, from which any public key may log in (the client still proves
 * it holds the key it offers).  Written by the cluster helper next to the
 * control socket when CloudWatch cannot be read; read by each connection
 * at login.  Only exact addresses, one a line: nothing wider gets in. */
#ifndef PORTHOLE_NETTRUST_H
#define PORTHOLE_NETTRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Does text (the list) name addr?  IPv4-mapped IPv6 addresses match their
 * IPv4 form; lines that are not addresses match nothing. */
bool nettrust_allows(const char *text, const char *addr);

/* Does the list in force admit addr?  False whenever network trust is not
 * the setting, or the list is missing or unreadable. */
bool nettrust_check(const struct config *cfg, const char *addr);

#endif
