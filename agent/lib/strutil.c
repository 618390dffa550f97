/* SPDX-License-Identifier: Apache-2.0 */
/* strutil.c — see strutil.h. */
#include "strutil.h"

#include <ctype.h>
#include <string.h>

char *strutil_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

char *strutil_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *strutil_dup_nonempty(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}
