/* SPDX-License-Identifier: Apache-2.0 */
/* vis.c — see vis.h. */
#include "vis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The escape for byte c, or NULL if it stays as it is. */
static const char *escape(unsigned char c, char buf[5])
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		break;
	}
	if (c >= 0x20 && c < 0x7f)
		return NULL;
	snprintf(buf, 5, "\\%03o", c);
	return buf;
}

size_t vis_str(char *dst, size_t len, const char *src)
{
	size_t out = 0, kept = 0;
	bool full = false;
	char buf[5];

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		const char *e = escape(*p, buf);
		size_t n = e ? strlen(e) : 1;
		/* Whole escapes only: once one does not fit, nothing more. */
		if (!full && out + n < len) {
			memcpy(dst + out, e ? e : (const char *)p, n);
			kept = out + n;
		} else {
			full = true;
		}
		out += n;
	}
	if (len)
		dst[kept] = '\0';
	return out;
}

bool vis_needed(const char *s)
{
	char buf[5];

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (escape(*p, buf))
			return true;
	return false;
}

char *vis_dup(const char *s)
{
	size_t n = vis_str(NULL, 0, s);
	char *d = malloc(n + 1);

	if (d)
		vis_str(d, n + 1, s);
	return d;
}
