/* SPDX-License-Identifier: Apache-2.0 */
/* dynlib.c — see dynlib.h. */
#include "dynlib.h"

#include <dlfcn.h>
#include <stdio.h>

int dynlib_open(struct dynlib *dl, const struct dynlib_spec *spec, const struct dynlib_sym *syms, size_t n,
		char *err, size_t len)
{
	const char *why = "no soname to try";
	size_t i;

	*dl = (struct dynlib){ 0 };
	for (i = 0; spec->sonames[i] && !dl->handle; i++) {
		dl->handle = dlopen(spec->sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (dl->handle)
			dl->soname = spec->sonames[i];
		else
			why = dlerror();
	}
	if (!dl->handle) {
		/* The last soname tried names the library; dlerror() says the rest. */
		snprintf(err, len, "cannot load %s (Debian package %s): %s", i ? spec->sonames[i - 1] : "?",
			 spec->package, why);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!(*syms[i].slot = dlsym(dl->handle, syms[i].name))) {
			snprintf(err, len, "%s has no %s: porthole needs %s", dl->soname, syms[i].name, spec->needs);
			dynlib_close(dl);
			return -1;
		}
	}
	return 0;
}

void dynlib_linked(struct dynlib *dl, const char *name)
{
	static char marker;

	dl->handle = &marker;
	dl->soname = name;
}

void dynlib_close(struct dynlib *dl)
{
	if (!dl || !dl->handle)
		return;
#ifndef PORTHOLE_STATIC
	dlclose(dl->handle);
#endif
	*dl = (struct dynlib){ 0 };
}
