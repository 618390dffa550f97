/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_wire.c — see sftp_wire.h. */
#include "sftp_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sftp_wire_reader_init(struct sftp_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

size_t sftp_wire_reader_left(const struct sftp_reader *r)
{
	return r->bad ? 0 : r->len - r->off;
}

/* The next n bytes, or NULL (and bad) if fewer are left. */
static const uint8_t *take(struct sftp_reader *r, size_t n)
{
	const uint8_t *q;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

uint8_t sftp_wire_get_u8(struct sftp_reader *r)
{
	const uint8_t *q = take(r, 1);

	return q ? q[0] : 0;
}

uint32_t sftp_wire_get_u32(struct sftp_reader *r)
{
	const uint8_t *q = take(r, 4);

	if (!q)
		return 0;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

uint64_t sftp_wire_get_u64(struct sftp_reader *r)
{
	uint64_t hi = sftp_wire_get_u32(r);
	uint64_t lo = sftp_wire_get_u32(r);

	return hi << 32 | lo;
}

const uint8_t *sftp_wire_get_string(struct sftp_reader *r, uint32_t *len)
{
	uint32_t n = sftp_wire_get_u32(r);
	const uint8_t *q = take(r, n);

	*len = q ? n : 0;
	return q;
}

char *sftp_wire_get_cstring(struct sftp_reader *r)
{
	uint32_t n;
	const uint8_t *q = sftp_wire_get_string(r, &n);
	char *s;

	if (!q)
		return NULL;
	if (memchr(q, '\0', n)) {
		r->bad = true;
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, q, n);
	s[n] = '\0';
	return s;
}

bool sftp_wire_get_attrs(struct sftp_reader *r, struct sftp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = sftp_wire_get_u32(r);
	if (a->flags & SSH_FILEXFER_ATTR_SIZE)
		a->size = sftp_wire_get_u64(r);
	if (a->flags & SSH_FILEXFER_ATTR_UIDGID) {
		a->uid = sftp_wire_get_u32(r);
		a->gid = sftp_wire_get_u32(r);
	}
	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		a->perm = sftp_wire_get_u32(r);
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		a->atime = sftp_wire_get_u32(r);
		a->mtime = sftp_wire_get_u32(r);
	}
	if (a->flags & SSH_FILEXFER_ATTR_EXTENDED) {
		uint32_t count = sftp_wire_get_u32(r), n;

		/* Each pair is at least 8 bytes, so a bogus count ends at the
		 * first overrun rather than spinning. */
		for (uint32_t i = 0; i < count && !r->bad; i++) {
			sftp_wire_get_string(r, &n);
			sftp_wire_get_string(r, &n);
		}
	}
	return !r->bad;
}

void sftp_wire_attrs_from_stat(struct sftp_attrs *a, const struct stat *st)
{
	a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID | SSH_FILEXFER_ATTR_PERMISSIONS |
		   SSH_FILEXFER_ATTR_ACMODTIME;
	a->size = (uint64_t)st->st_size;
	a->uid = (uint32_t)st->st_uid;
	a->gid = (uint32_t)st->st_gid;
	a->perm = (uint32_t)st->st_mode;
	a->atime = (uint32_t)st->st_atime;
	a->mtime = (uint32_t)st->st_mtime;
}

/* --- output --- */

uint8_t *sftp_wire_put_reserve(struct sftp_buf *b, size_t n)
{
	uint8_t *q;

	if (b->overflow || b->cap - b->tail < n) {
		b->overflow = true;
		return NULL;
	}
	q = b->data + b->tail;
	b->tail += n;
	return q;
}

static void store_u32(uint8_t *q, uint32_t v)
{
	q[0] = (uint8_t)(v >> 24);
	q[1] = (uint8_t)(v >> 16);
	q[2] = (uint8_t)(v >> 8);
	q[3] = (uint8_t)v;
}

void sftp_wire_put_u8(struct sftp_buf *b, uint8_t v)
{
	uint8_t *q = sftp_wire_put_reserve(b, 1);

	if (q)
		q[0] = v;
}

void sftp_wire_put_u32(struct sftp_buf *b, uint32_t v)
{
	uint8_t *q = sftp_wire_put_reserve(b, 4);

	if (q)
		store_u32(q, v);
}

void sftp_wire_put_u64(struct sftp_buf *b, uint64_t v)
{
	sftp_wire_put_u32(b, (uint32_t)(v >> 32));
	sftp_wire_put_u32(b, (uint32_t)v);
}

void sftp_wire_put_string(struct sftp_buf *b, const void *p, size_t len)
{
	uint8_t *q;

	if (len > UINT32_MAX) {
		b->overflow = true;
		return;
	}
	sftp_wire_put_u32(b, (uint32_t)len);
	q = sftp_wire_put_reserve(b, len);
	if (q && len)
		memcpy(q, p, len);
}

void sftp_wire_put_cstring(struct sftp_buf *b, const char *s)
{
	sftp_wire_put_string(b, s, strlen(s));
}

size_t sftp_wire_put_string_begin(struct sftp_buf *b)
{
	size_t at = b->tail;

	sftp_wire_put_u32(b, 0);
	return at;
}

void sftp_wire_put_string_end(struct sftp_buf *b, size_t at)
{
	if (!b->overflow)
		store_u32(b->data + at, (uint32_t)(b->tail - at - 4));
}

void sftp_wire_patch_u32(struct sftp_buf *b, size_t at, uint32_t v)
{
	if (!b->overflow && at + 4 <= b->tail)
		store_u32(b->data + at, v);
}

void sftp_wire_begin(struct sftp_buf *b, uint8_t type)
{
	b->mark = b->tail;
	b->overflow = false;
	sftp_wire_put_u32(b, 0);
	sftp_wire_put_u8(b, type);
}

void sftp_wire_abort(struct sftp_buf *b)
{
	b->tail = b->mark;
	b->overflow = false;
}

int sftp_wire_end(struct sftp_buf *b)
{
	if (b->overflow) {
		sftp_wire_abort(b);
		return -1;
	}
	store_u32(b->data + b->mark, (uint32_t)(b->tail - b->mark - 4));
	return 0;
}

void sftp_wire_put_attrs(struct sftp_buf *b, const struct sftp_attrs *a)
{
	uint32_t flags = a->flags & ~SSH_FILEXFER_ATTR_EXTENDED;

	sftp_wire_put_u32(b, flags);
	if (flags & SSH_FILEXFER_ATTR_SIZE)
		sftp_wire_put_u64(b, a->size);
	if (flags & SSH_FILEXFER_ATTR_UIDGID) {
		sftp_wire_put_u32(b, a->uid);
		sftp_wire_put_u32(b, a->gid);
	}
	if (flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		sftp_wire_put_u32(b, a->perm);
	if (flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		sftp_wire_put_u32(b, a->atime);
		sftp_wire_put_u32(b, a->mtime);
	}
}

const char *sftp_wire_status_text(uint32_t code)
{
	static const char *const text[] = {
		"Success", "End of file", "No such file", "Permission denied", "Failure",
		"Bad message", "No connection", "Connection lost", "Operation unsupported",
	};

	return code < sizeof(text) / sizeof(text[0]) ? text[code] : "Unknown error";
}

void sftp_wire_put_status(struct sftp_buf *b, uint32_t id, uint32_t code)
{
	sftp_wire_begin(b, SSH_FXP_STATUS);
	sftp_wire_put_u32(b, id);
	sftp_wire_put_u32(b, code);
	sftp_wire_put_cstring(b, sftp_wire_status_text(code));
	sftp_wire_put_cstring(b, ""); /* language tag */
	sftp_wire_end(b);
}

/* The same mapping as OpenSSH's sftp-server, which clients are used to. */
uint32_t sftp_wire_status_from_errno(int err)
{
	switch (err) {
	case 0:
		return SSH_FX_OK;
	case ENOENT:
	case ENOTDIR:
	case EBADF:
	case ELOOP:
		return SSH_FX_NO_SUCH_FILE;
	case EPERM:
	case EACCES:
	case EFAULT:
	case EROFS:
		return SSH_FX_PERMISSION_DENIED;
	case ENAMETOOLONG:
	case EINVAL:
		return SSH_FX_BAD_MESSAGE;
	case ENOSYS:
	case EOPNOTSUPP:
		return SSH_FX_OP_UNSUPPORTED;
	default:
		return SSH_FX_FAILURE;
	}
}

void sftp_wire_strmode(mode_t mode, char out[12])
{
	char t;

	switch (mode & S_IFMT) {
	case S_IFDIR: t = 'd'; break;
	case S_IFREG: t = '-'; break;
	case S_IFLNK: t = 'l'; break;
	case S_IFCHR: t = 'c'; break;
	case S_IFBLK: t = 'b'; break;
	case S_IFIFO: t = 'p'; break;
	case S_IFSOCK: t = 's'; break;
	default: t = '?'; break;
	}
	out[0] = t;
	/* user, group, other: r w x, where x shows setuid/setgid/sticky as
	 * s/t (executable) or S/T (not), as ls -l does. */
	static const struct { mode_t r, w, x, special; char set; } triad[] = {
		{ S_IRUSR, S_IWUSR, S_IXUSR, S_ISUID, 's' },
		{ S_IRGRP, S_IWGRP, S_IXGRP, S_ISGID, 's' },
		{ S_IROTH, S_IWOTH, S_IXOTH, S_ISVTX, 't' },
	};
	for (size_t i = 0; i < 3; i++) {
		char *o = out + 1 + 3 * i;
		o[0] = mode & triad[i].r ? 'r' : '-';
		o[1] = mode & triad[i].w ? 'w' : '-';
		if (mode & triad[i].special)
			o[2] = mode & triad[i].x ? triad[i].set : (char)(triad[i].set - 'a' + 'A');
		else
			o[2] = mode & triad[i].x ? 'x' : '-';
	}
	out[10] = ' ';
	out[11] = '\0';
}

void sftp_wire_longname(char *buf, size_t len, const char *name, const struct stat *st,
		   const char *user, const char *group, time_t now)
{
	char mode[12], when[32] = "", links[16];
	struct tm tm;
	size_t n = 0;
	int ulen = (int)strlen(user), glen = (int)strlen(group);

	sftp_wire_strmode(st->st_mode, mode);
	snprintf(links, sizeof(links), "%u", (unsigned)st->st_nlink);
	if (localtime_r(&st->st_mtime, &tm)) {
		if (now - (365 * 24 * 60 * 60) / 2 < st->st_mtime && now >= st->st_mtime)
			n = strftime(when, sizeof(when), "%b %e %H:%M", &tm);
		else
			n = strftime(when, sizeof(when), "%b %e  %Y", &tm);
	}
	if (n == 0)
		when[0] = '\0';
	snprintf(buf, len, "%s %3s %-*s %-*s %8llu %s %s", mode, links, ulen < 8 ? 8 : ulen, user,
		 glen < 8 ? 8 : glen, group, (unsigned long long)st->st_size, when, name);
}
