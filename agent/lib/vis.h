/* SPDX-License-Identifier: Apache-2.0 */
/* vis.h — text from outside made safe to print, as OpenSSH's strnvis()
 * does for its logs: printable ASCII stays, a backslash doubles, \n \r \t
 * become C escapes and every other byte (control characters, escape
 * sequences, DEL) becomes \ooo.  Unlike strnvis, printable UTF-8 (U+00A0
 * and up) stays, so names and paths in other scripts read as they are;
 * invalid UTF-8 and the C1 controls (U+0080-U+009F: U+009B is a CSI to some
 * terminals) are escaped byte by byte.  A user name holding a
 * newline and terminal escapes then cannot forge a line of the training log
 * or reach whoever reads it as control sequences.
 *
 * log.c applies it to every message before it reaches stderr, the journal
 * or a sink; relay.c to every string field a forked process reports, since
 * those carry what SSH clients sent (user names, commands, hosts). */
#ifndef PORTHOLE_VIS_H
#define PORTHOLE_VIS_H

#include <stdbool.h>
#include <stddef.h>

/* src escaped into dst (always NUL-terminated when len > 0, cut at a whole
 * escape); the length the whole result would have had. */
size_t vis_str(char *dst, size_t len, const char *src);

/* Would vis_str change s? */
bool vis_needed(const char *s);

/* A malloc'd escaped copy; NULL when out of memory. */
char *vis_dup(const char *s);

#endif
