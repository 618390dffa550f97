/* SPDX-License-Identifier: Apache-2.0 */
/* sshd_lib.c — see sshd_lib.h. */
#define SSHD_LIB_IMPL
#include "sshlib.h"

#include <dlfcn.h>
#include <stdio.h>

#define SONAME "libssh.so.4"

struct sshlib sshlib_table;

int sshlib_load(char *err, size_t len)
{
	struct sshlib lib = { 0 };

	if (sshlib_table.handle)
		return 0;
	lib.handle = dlopen(SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib.handle) {
		snprintf(err, len, "cannot load %s (Debian package libssh-4): %s", SONAME, dlerror());
		return -1;
	}
#define X(f)                                                                                 \
	if (!(*(void **)&lib.f = dlsym(lib.handle, #f))) {                                    \
		snprintf(err, len, "%s has no %s: porthole needs libssh 0.10 or later", SONAME, #f); \
		dlclose(lib.handle);                                                          \
		return -1;                                                                    \
	}
	SSHLIB_FUNCTIONS(X)
#undef X
	if (!lib.ssh_version(SSH_VERSION_INT(0, 10, 0))) {
		snprintf(err, len, "%s is libssh %s; porthole needs 0.10 or later", SONAME, lib.ssh_version(0));
		dlclose(lib.handle);
		return -1;
	}
	sshlib_table = lib;
	return 0;
}
