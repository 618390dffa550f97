/* SPDX-License-Identifier: Apache-2.0 */
/* vis.c — see vis.h. */
#include "vis.h"

#include <stdint.h>
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

/* The length of a valid UTF-8 sequence at p that encodes a printable code
 * point (U+00A0 and above: C1 controls such as U+009B, a CSI to some
 * terminals, are not), or 0. */
static size_t utf8_printable(const unsigned char *p)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	/* Overlong forms, surrogates, past U+10FFFF, C1 controls. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    cp < 0xa0)
		return 0;
	return n;
}

size_t vis_str(char *dst, size_t len, const char *src)
{
	size_t out = 0, kept = 0;
	bool full = false;
	char buf[5];

	for (const unsigned char *p = (const unsigned char *)src; *p;) {
		size_t u = *p >= 0x80 ? utf8_printable(p) : 0;
		const char *e = u ? NULL : escape(*p, buf);
		size_t n = u ? u : e ? strlen(e) : 1;
		/* Whole escapes and characters only: once one does not fit, nothing more. */
		if (!full && out + n < len) {
			memcpy(dst + out, e ? e : (const char *)p, n);
			kept = out + n;
		} else {
			full = true;
		}
		out += n;
		p += u ? u : 1;
	}
	if (len)
		dst[kept] = '\0';
	return out;
}

bool vis_needed(const char *s)
{
	char buf[5];

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t u = *p >= 0x80 ? utf8_printable(p) : 0;
		if (!u && escape(*p, buf))
			return true;
		p += u ? u : 1;
	}
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
