/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_wire.h — the SFTP v3 wire format (draft-ietf-secsh-filexfer-02 as
 * OpenSSH speaks it): bounds-checked reading of requests, building of
 * replies, file attributes, status codes and `ls -l` lines.  No I/O here, so
 * every length check can be tested on its own. */
#ifndef PORTHOLE_SFTP_WIRE_H
#define PORTHOLE_SFTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define SFTP_PROTOCOL_VERSION 3

/* Packet types. */
enum {
	SSH_FXP_INIT = 1,
	SSH_FXP_VERSION = 2,
	SSH_FXP_OPEN = 3,
	SSH_FXP_CLOSE = 4,
	SSH_FXP_READ = 5,
	SSH_FXP_WRITE = 6,
	SSH_FXP_LSTAT = 7,
	SSH_FXP_FSTAT = 8,
	SSH_FXP_SETSTAT = 9,
	SSH_FXP_FSETSTAT = 10,
	SSH_FXP_OPENDIR = 11,
	SSH_FXP_READDIR = 12,
	SSH_FXP_REMOVE = 13,
	SSH_FXP_MKDIR = 14,
	SSH_FXP_RMDIR = 15,
	SSH_FXP_REALPATH = 16,
	SSH_FXP_STAT = 17,
	SSH_FXP_RENAME = 18,
	SSH_FXP_READLINK = 19,
	SSH_FXP_SYMLINK = 20,
	SSH_FXP_STATUS = 101,
	SSH_FXP_HANDLE = 102,
	SSH_FXP_DATA = 103,
	SSH_FXP_NAME = 104,
	SSH_FXP_ATTRS = 105,
	SSH_FXP_EXTENDED = 200,
	SSH_FXP_EXTENDED_REPLY = 201,
};

/* Status codes. */
enum {
	SSH_FX_OK = 0,
	SSH_FX_EOF = 1,
	SSH_FX_NO_SUCH_FILE = 2,
	SSH_FX_PERMISSION_DENIED = 3,
	SSH_FX_FAILURE = 4,
	SSH_FX_BAD_MESSAGE = 5,
	SSH_FX_NO_CONNECTION = 6,
	SSH_FX_CONNECTION_LOST = 7,
	SSH_FX_OP_UNSUPPORTED = 8,
};

/* Attribute flags. */
#define SSH_FILEXFER_ATTR_SIZE        0x00000001u
#define SSH_FILEXFER_ATTR_UIDGID      0x00000002u
#define SSH_FILEXFER_ATTR_PERMISSIONS 0x00000004u
#define SSH_FILEXFER_ATTR_ACMODTIME   0x00000008u
#define SSH_FILEXFER_ATTR_EXTENDED    0x80000000u

/* OPEN flags. */
#define SSH_FXF_READ   0x01u
#define SSH_FXF_WRITE  0x02u
#define SSH_FXF_APPEND 0x04u
#define SSH_FXF_CREAT  0x08u
#define SSH_FXF_TRUNC  0x10u
#define SSH_FXF_EXCL   0x20u

/* statvfs@openssh.com f_flag bits. */
#define SSH_FXE_STATVFS_ST_RDONLY 0x1u
#define SSH_FXE_STATVFS_ST_NOSUID 0x2u

/* The largest packet we send, as advertised by limits@openssh.com (OpenSSH's
 * client refuses anything bigger), and the read/write lengths that keep a
 * DATA reply or a WRITE request inside it. */
#define SFTP_MAX_PACKET (256u * 1024u)
#define SFTP_MAX_IO     (SFTP_MAX_PACKET - 1024u)
/* The largest request body we accept: a full-size WRITE from a client that
 * ignores limits@openssh.com, with its header.  Anything longer ends the
 * session: the stream cannot be trusted to be in sync any more. */
#define SFTP_MAX_REQUEST (SFTP_MAX_PACKET + 1024u)

/* A request being parsed.  Every getter checks the remaining length; after
 * the first overrun `bad` stays set and getters return zeros/NULL, so a
 * handler parses all its fields and checks `bad` once. */
struct sftp_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

void sftp_wire_reader_init(struct sftp_reader *r, const void *p, size_t len);
uint8_t sftp_wire_get_u8(struct sftp_reader *r);
uint32_t sftp_wire_get_u32(struct sftp_reader *r);
uint64_t sftp_wire_get_u64(struct sftp_reader *r);
/* A string in place (not NUL-terminated); NULL on overrun. */
const uint8_t *sftp_wire_get_string(struct sftp_reader *r, uint32_t *len);
/* A string as a fresh NUL-terminated copy, which the caller frees; NULL (and
 * `bad`) on overrun, an embedded NUL, or no memory. */
char *sftp_wire_get_cstring(struct sftp_reader *r);
size_t sftp_wire_reader_left(const struct sftp_reader *r);

/* File attributes: the v3 fields; extended pairs are skipped on input and
 * never sent. */
struct sftp_attrs {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid;
	uint32_t perm;
	uint32_t atime, mtime;
};

/* false (and `bad`) if the attributes run past the request. */
bool sftp_wire_get_attrs(struct sftp_reader *r, struct sftp_attrs *a);
void sftp_wire_attrs_from_stat(struct sftp_attrs *a, const struct stat *st);

/* An output queue of whole packets.  The owner allocates `data`/`cap`; bytes
 * [head, tail) are waiting to be written.  Appending past `cap` sets
 * `overflow` instead of writing; sftp_wire_end() then takes the packet back so
 * the caller can send a short status instead. */
struct sftp_buf {
	uint8_t *data;
	size_t cap;
	size_t head, tail;
	size_t mark;   /* where the packet being built starts */
	bool overflow;
};

void sftp_wire_begin(struct sftp_buf *b, uint8_t type);
/* 0 with the length filled in, or -1 (packet dropped) after an overflow. */
int sftp_wire_end(struct sftp_buf *b);
/* Drop the packet being built. */
void sftp_wire_abort(struct sftp_buf *b);
void sftp_wire_put_u8(struct sftp_buf *b, uint8_t v);
void sftp_wire_put_u32(struct sftp_buf *b, uint32_t v);
void sftp_wire_put_u64(struct sftp_buf *b, uint64_t v);
void sftp_wire_put_string(struct sftp_buf *b, const void *p, size_t len);
void sftp_wire_put_cstring(struct sftp_buf *b, const char *s);
void sftp_wire_put_attrs(struct sftp_buf *b, const struct sftp_attrs *a);
/* Room for n bytes at the tail, or NULL (and overflow); the caller fills
 * them in place. */
uint8_t *sftp_wire_put_reserve(struct sftp_buf *b, size_t n);
/* A string whose contents are appended piecewise: begin returns the offset
 * of its length field, end fills that in. */
size_t sftp_wire_put_string_begin(struct sftp_buf *b);
void sftp_wire_put_string_end(struct sftp_buf *b, size_t at);
/* Overwrite a u32 already appended at offset `at` (a count known later). */
void sftp_wire_patch_u32(struct sftp_buf *b, size_t at, uint32_t v);

/* A STATUS reply with OpenSSH's message for the code. */
void sftp_wire_put_status(struct sftp_buf *b, uint32_t id, uint32_t code);
const char *sftp_wire_status_text(uint32_t code);
uint32_t sftp_wire_status_from_errno(int err);

/* "drwxr-xr-x " (11 characters, as BSD strmode). */
void sftp_wire_strmode(mode_t mode, char out[12]);
/* The `ls -l` line of a READDIR entry, formatted like OpenSSH's sftp-server:
 * mode, links, owner, group, size, date (time of day within the last half
 * year, else the year), name.  Truncated to fit. */
void sftp_wire_longname(char *buf, size_t len, const char *name, const struct stat *st,
		   const char *user, const char *group, time_t now);

#endif
