/* SPDX-License-Identifier: Apache-2.0 */
/* dynlib.h — a library porthole loads when a process first needs it, rather
 * than links: libssh (ssh/sshlib.h) and libcurl (aws/curllib.h), which
 * would otherwise map OpenSSL and more into every porthole process, PID 1
 * included.  Each keeps its own function table and the X-macro list of the
 * functions it uses, and fills the table with the fill() that
 * DYNLIB_DEFINE_FILL writes: dlopen() in the dynamic build, the linked
 * functions in the static one (-DPORTHOLE_STATIC), so the code calling
 * through the table is the same in both. */
#ifndef PORTHOLE_DYNLIB_H
#define PORTHOLE_DYNLIB_H

#include <stddef.h>

/* Which library, for dlopen() and for messages. */
struct dynlib_spec {
	const char *const *sonames; /* tried in order, NULL-terminated: { "libssh.so.4", NULL } */
	const char *package;        /* the Debian package that has it: "libssh-4" */
	const char *needs;          /* what porthole needs: "libssh 0.10 or later" */
};

/* One function: its name, and where its address goes. */
struct dynlib_sym {
	const char *name;
	void **slot;
};

/* A loaded library. */
struct dynlib {
	void *handle;       /* NULL: not loaded; dynlib_linked's marker in the static build */
	const char *soname; /* the one that loaded */
};

/* dlopen() the first of spec's sonames that loads and resolve the n syms
 * into their slots: 0 with *dl set, or -1 with why in err and nothing left
 * loaded ("cannot load libssh.so.4 (Debian package libssh-4): …",
 * "libssh.so.4 has no ssh_bind_new: porthole needs libssh 0.10 or later").
 * Slots may have been written even then. */
int dynlib_open(struct dynlib *dl, const struct dynlib_spec *spec, const struct dynlib_sym *syms, size_t n,
		char *err, size_t len);

/* The static build links the library in: mark dl loaded without dlopen(),
 * the table having been filled with the linked functions' addresses. */
void dynlib_linked(struct dynlib *dl, const char *name);

/* Unload it (a later version check refused it); NULL-safe. */
void dynlib_close(struct dynlib *dl);

/* Defines `static int fill(TYPE *lib, char *err, size_t len)`: every
 * function of the X-macro list FUNCTIONS into lib (whose struct dynlib is
 * lib->dl), from SPEC's library; 0, or -1 with why in err.  NAME names the
 * linked-in library in the static build's messages. */
#define DYNLIB_SYM_SLOT_(f) { #f, (void **)&lib->f },
#define DYNLIB_LINKED_SLOT_(f) lib->f = f;
#ifdef PORTHOLE_STATIC
#define DYNLIB_DEFINE_FILL(TYPE, FUNCTIONS, SPEC, NAME)          \
	static int fill(TYPE *lib, char *err, size_t len)        \
	{                                                        \
		(void)err;                                       \
		(void)len;                                       \
		(void)(SPEC);                                    \
		FUNCTIONS(DYNLIB_LINKED_SLOT_)                   \
		dynlib_linked(&lib->dl, NAME);                   \
		return 0;                                        \
	}
#else
#define DYNLIB_DEFINE_FILL(TYPE, FUNCTIONS, SPEC, NAME)                                        \
	static int fill(TYPE *lib, char *err, size_t len)                                      \
	{                                                                                      \
		const struct dynlib_sym syms[] = { FUNCTIONS(DYNLIB_SYM_SLOT_) };              \
		return dynlib_open(&lib->dl, &(SPEC), syms, sizeof(syms) / sizeof(syms[0]), err, len); \
	}
#endif

#endif
