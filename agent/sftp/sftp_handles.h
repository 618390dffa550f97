/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_handles.h — the files and directories one SFTP client has open, by
 * handle string.
 *
 * A handle on the wire is SFTP_HANDLE_LEN bytes: its slot in the table and
 * the slot's generation (big-endian u32s), so a handle kept after its CLOSE
 * is refused rather than taken for whatever reused the slot.  The table is
 * bounded: a client cannot run the process out of descriptors. */
#ifndef PORTHOLE_SFTP_HANDLES_H
#define PORTHOLE_SFTP_HANDLES_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>

#include "sftp_wire.h"

/* The server's table size (handles open at once per client). */
#define SFTP_MAX_HANDLES 512
#define SFTP_HANDLE_LEN 8

enum sftp_handle_kind {
	SFTP_HANDLE_ANY,  /* in a slot: free; to sftp_handles_get: either kind */
	SFTP_HANDLE_FILE,
	SFTP_HANDLE_DIR,
};

struct sftp_handle {
	enum sftp_handle_kind kind;
	uint32_t gen;          /* the table's: tells a reused slot from the old one */
	int fd;                /* FILE */
	DIR *dir;              /* DIR */
	char *path;            /* as the client named it (for traces) */
	bool readable, writable;
	bool stream;           /* pread/pwrite failed with ESPIPE: use read/write */
};

struct sftp_handles;

/* A table of at most max handles.  0 or -ENOMEM. */
int sftp_handles_new(unsigned max, struct sftp_handles **ret);
/* Closes every handle still open.  NULL-safe. */
void sftp_handles_free(struct sftp_handles *hs);

bool sftp_handles_full(const struct sftp_handles *hs);
unsigned sftp_handles_count(const struct sftp_handles *hs);

/* A new handle for fd (FILE) or dir (DIR), which it owns from then on.
 * 0, -EMFILE when the table is full or -ENOMEM; on failure the caller still
 * owns fd or dir. */
int sftp_handles_add(struct sftp_handles *hs, enum sftp_handle_kind kind, int fd, DIR *dir,
		     const char *path, bool readable, bool writable, struct sftp_handle **ret);

/* The handle named next in the request (a string), if it is open and of the
 * kind wanted (SFTP_HANDLE_ANY: either); else NULL.  A malformed string
 * sets r->bad. */
struct sftp_handle *sftp_handles_get(struct sftp_handles *hs, struct sftp_reader *r,
				     enum sftp_handle_kind kind);
/* Append h's handle string to the packet being built. */
void sftp_handles_put(const struct sftp_handles *hs, const struct sftp_handle *h, struct sftp_buf *b);

/* The descriptor to fstat, fchmod ... through, for either kind. */
int sftp_handles_fd(const struct sftp_handle *h);

/* Close h and free its slot.  0, or -errno from close(2)/closedir(3) (the
 * slot is freed either way). */
int sftp_handles_close(struct sftp_handles *hs, struct sftp_handle *h);

/* How many handles a client may count on, as limits@openssh.com tells it:
 * the table's size, less when RLIMIT_NOFILE leaves fewer descriptors. */
uint64_t sftp_handles_limit(const struct sftp_handles *hs);

#endif
