/* SPDX-License-Identifier: Apache-2.0 */
/* sshlib.c — see sshlib.h. */
#define SSHLIB_IMPL
#include "sshlib.h"

#include <stdio.h>

static const char *const sonames[] = { "libssh.so.4", NULL };
static const struct dynlib_spec spec = { sonames, "libssh-4", "libssh 0.10 or later" };

struct sshlib sshlib_table;

DYNLIB_DEFINE_FILL(struct sshlib, SSHLIB_FUNCTIONS, spec, "libssh (linked in)")

int sshlib_load(char *err, size_t len)
{
	struct sshlib lib = { 0 };

	if (sshlib_table.dl.handle)
		return 0;
	if (fill(&lib, err, len) < 0)
		return -1;
	if (!lib.ssh_version(SSH_VERSION_INT(0, 10, 0))) {
		snprintf(err, len, "%s is libssh %s; porthole needs 0.10 or later", lib.dl.soname, lib.ssh_version(0));
		dynlib_close(&lib.dl);
		return -1;
	}
	sshlib_table = lib;
	return 0;
}
