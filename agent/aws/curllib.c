/* SPDX-License-Identifier: Apache-2.0 */
/* curl_lib.c — see curl_lib.h. */
#define CURL_LIB_IMPL
#include "curllib.h"

#include <dlfcn.h>
#include <stdio.h>

#define SONAME "libcurl.so.4"

struct curllib curllib_table;

int curllib_load(char *err, size_t len)
{
	struct curllib lib = { 0 };
	const curl_version_info_data *v;

	if (curllib_table.handle)
		return 0;
	lib.handle = dlopen(SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib.handle) {
		snprintf(err, len, "cannot load %s (Debian package libcurl4): %s", SONAME, dlerror());
		return -1;
	}
#define X(f)                                                                                  \
	if (!(*(void **)&lib.f = dlsym(lib.handle, #f))) {                                     \
		snprintf(err, len, "%s has no %s: porthole needs libcurl 7.75 or later", SONAME, #f); \
		dlclose(lib.handle);                                                           \
		return -1;                                                                     \
	}
	CURLLIB_FUNCTIONS(X)
#undef X
	/* CURLOPT_AWS_SIGV4, which signs every AWS call, came with 7.75. */
	v = lib.curl_version_info(CURLVERSION_NOW);
	if (!v || v->version_num < 0x074b00) {
		snprintf(err, len, "%s is libcurl %s; porthole needs 7.75 or later", SONAME, v ? v->version : "?");
		dlclose(lib.handle);
		return -1;
	}
	curllib_table = lib;
	return 0;
}
