/* SPDX-License-Identifier: Apache-2.0 */
/* resolve.h — getaddrinfo without stopping the connection's loop.
 *
 * glibc's resolver blocks (DNS can take seconds), and a connection process
 * has one loop serving all its channels.  Each lookup runs in a short-lived
 * thread of its own, which writes a byte to a socket the loop polls when
 * it is done.  The thread only resolves: it touches nothing else.  A
 * numeric address is answered at once, without a thread. */
#ifndef PORTHOLE_RESOLVE_H
#define PORTHOLE_RESOLVE_H

#include <netdb.h>
#include <stdbool.h>

struct resolve;

/* Start looking up host:port (TCP).  0, or -errno. */
int resolve_new(const char *host, unsigned port, struct resolve **ret);

/* Readable once the lookup is done. */
int resolve_fd(const struct resolve *r);

/* False while it runs; then true, with *gai 0 and *res (valid until
 * resolve_free), or *gai the EAI_* error (for gai_strerror). */
bool resolve_done(const struct resolve *r, const struct addrinfo **res, int *gai);

/* NULL-safe; a lookup still running finishes on its own and cleans up. */
void resolve_free(struct resolve *r);

#endif
