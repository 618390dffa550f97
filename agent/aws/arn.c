/* SPDX-License-Identifier: Apache-2.0 */
/* arn.c — see arn.h. */
#include "arn.h"

#include <string.h>

char *arn_region(const char *arn)
{
	const char *p = arn;

	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return NULL;
	for (int field = 0; field < 3; field++) {
		p = strchr(p, ':');
		if (!p)
			return NULL;
		p++;
	}
	const char *end = strchr(p, ':');
	if (!end || end == p)
		return NULL;
	return strndup(p, (size_t)(end - p));
}
