/* SPDX-License-Identifier: Apache-2.0 */
/* gpus.c — see gpus.h. */
#include "gpus.h"

#include <dirent.h>
#include <string.h>

unsigned gpus_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		const char *s = e->d_name;
		if (strncmp(s, "nvidia", 6) != 0 || !s[6])
			continue;
		if (strspn(s + 6, "0123456789") == strlen(s + 6))
			n++;
	}
	closedir(d);
	return n;
}
