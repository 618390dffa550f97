/* SPDX-License-Identifier: Apache-2.0 */
/* curllib.c — see curllib.h. */
#define CURLLIB_IMPL
#include "curllib.h"

#include <stdio.h>

static const char *const sonames[] = { "libcurl.so.4", NULL };
static const struct dynlib_spec spec = { sonames, "libcurl4", "libcurl 7.75 or later" };

struct curllib curllib_table;

DYNLIB_DEFINE_FILL(struct curllib, CURLLIB_FUNCTIONS, spec, "libcurl (linked in)")

int curllib_load(char *err, size_t len)
{
	struct curllib lib = { 0 };
	const curl_version_info_data *v;

	if (curllib_table.dl.handle)
		return 0;
	if (fill(&lib, err, len) < 0)
		return -1;
	/* CURLOPT_AWS_SIGV4, which signs every AWS call, came with 7.75. */
	v = lib.curl_version_info(CURLVERSION_NOW);
	if (!v || v->version_num < 0x074b00) {
		snprintf(err, len, "%s is libcurl %s; porthole needs 7.75 or later", lib.dl.soname, v ? v->version : "?");
		dynlib_close(&lib.dl);
		return -1;
	}
	curllib_table = lib;
	return 0;
}
