/* SPDX-License-Identifier: Apache-2.0 */
/* awsprofile.c — see awsprofile.h.  Only what porthole uses: flat
 * "key = value" pairs in sections; nested (indented) sub-sections are
 * skipped like the SDKs do for keys they do not know. */
#include "awsprofile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/strutil.h"

char *awsprofile_ini_get(const char *path, const char *section, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	bool in_section = false;
	char *val = NULL;

	if (!f)
		return NULL;
	while (!val && fgets(line, sizeof(line), f)) {
		bool indented = line[0] == ' ' || line[0] == '\t';
		char *p = strutil_trim(line);
		if (!*p || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *end = strchr(p, ']');
			if (end) {
				*end = '\0';
				in_section = strcmp(strutil_trim(p + 1), section) == 0;
			}
			continue;
		}
		if (!in_section || indented)
			continue;
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(strutil_trim(p), key) == 0) {
			char *v = strutil_trim(eq + 1);
			if (*v)
				val = strdup(v);
		}
	}
	fclose(f);
	return val;
}

const char *awsprofile_name(void)
{
	const char *p = getenv("AWS_PROFILE");

	if (!p || !*p)
		p = getenv("AWS_DEFAULT_PROFILE");
	return p && *p ? p : "default";
}

static char *file_path(const char *env, const char *name)
{
	const char *v = getenv(env), *home = getenv("HOME");
	char *path = NULL;

	if (v && *v) {
		/* The SDKs expand a leading ~ here too. */
		if (v[0] == '~' && home && asprintf(&path, "%s%s", home, v + 1) >= 0)
			return path;
		return strdup(v);
	}
	if (!home || !*home)
		return NULL;
	return asprintf(&path, "%s/.aws/%s", home, name) < 0 ? NULL : path;
}

char *awsprofile_get(bool credentials_file, const char *key)
{
	const char *profile = awsprofile_name();
	char *path = credentials_file ? file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials")
				      : file_path("AWS_CONFIG_FILE", "config");
	char section[512];
	char *val;

	if (!path)
		return NULL;
	if (credentials_file || strcmp(profile, "default") == 0)
		snprintf(section, sizeof(section), "%s", profile);
	else
		snprintf(section, sizeof(section), "profile %s", profile);
	val = awsprofile_ini_get(path, section, key);
	/* Some tools write [profile default] too. */
	if (!val && !credentials_file && strcmp(profile, "default") == 0)
		val = awsprofile_ini_get(path, "profile default", key);
	free(path);
	return val;
}
