/* SPDX-License-Identifier: Apache-2.0 */
/* sshlib.c — see sshlib.h. */
#define SSHLIB_IMPL
#include "sshlib.h"

#include <stdio.h>

static const char *const sonames[] = { "libssh.so.4", NULL };
static const struct dynlib_spec spec = { sonames, "libssh-4", "libssh 0.10 or later" };

struct sshlib sshlib_table;

#ifdef PORTHOLE_STATIC
/* The static binary links the library in: the table holds the linked
 * functions, so the code calling through it is the same in both builds. */
static int fill(struct sshlib *lib, char *err, size_t len)
{
	(void)err;
	(void)len;
	(void)spec;
#define X(f) lib->f = f;
	SSHLIB_FUNCTIONS(X)
#undef X
	dynlib_linked(&lib->dl, "libssh (linked in)");
	return 0;
}
#else
/* Every function of SSHLIB_FUNCTIONS into lib: the one place that knows
 * they come from dlopen(). */
static int fill(struct sshlib *lib, char *err, size_t len)
{
#define X(f) { #f, (void **)&lib->f },
	const struct dynlib_sym syms[] = { SSHLIB_FUNCTIONS(X) };
#undef X
	return dynlib_open(&lib->dl, &spec, syms, sizeof(syms) / sizeof(syms[0]), err, len);
}
#endif

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
