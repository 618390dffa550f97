/* SPDX-License-Identifier: Apache-2.0 */
/* strutil.h — small string helpers shared by the text parsers. */
#ifndef PORTHOLE_STRUTIL_H
#define PORTHOLE_STRUTIL_H

/* Strip leading and trailing whitespace in place; returns the new start. */
char *strutil_trim(char *s);

#endif
