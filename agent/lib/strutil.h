/* SPDX-License-Identifier: Apache-2.0 */
/* strutil.h — small string helpers shared by the text parsers. */
#ifndef PORTHOLE_STRUTIL_H
#define PORTHOLE_STRUTIL_H

/* Strip leading and trailing whitespace in place; returns the new start. */
char *strutil_trim(char *s);

/* A copy of s; NULL for NULL (or when out of memory). */
char *strutil_dup(const char *s);
/* The same, but NULL for "" too. */
char *strutil_dup_nonempty(const char *s);

#endif
