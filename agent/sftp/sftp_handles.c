/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_handles.c — see sftp_handles.h. */
#include "sftp_handles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct sftp_handles {
	unsigned max;
	unsigned n_open;
	uint32_t next_gen;
	struct sftp_handle h[];
};

int sftp_handles_new(unsigned max, struct sftp_handles **ret)
{
	struct sftp_handles *hs = calloc(1, sizeof(*hs) + (size_t)max * sizeof(hs->h[0]));

	if (!hs)
		return -ENOMEM;
	hs->max = max;
	for (unsigned i = 0; i < max; i++)
		hs->h[i].fd = -1;
	*ret = hs;
	return 0;
}

void sftp_handles_free(struct sftp_handles *hs)
{
	if (!hs)
		return;
	for (unsigned i = 0; i < hs->max; i++)
		if (hs->h[i].kind != SFTP_HANDLE_ANY)
			sftp_handles_close(hs, &hs->h[i]);
	free(hs);
}

bool sftp_handles_full(const struct sftp_handles *hs)
{
	return hs->n_open >= hs->max;
}

unsigned sftp_handles_count(const struct sftp_handles *hs)
{
	return hs->n_open;
}

int sftp_handles_add(struct sftp_handles *hs, enum sftp_handle_kind kind, int fd, DIR *dir,
		     const char *path, bool readable, bool writable, struct sftp_handle **ret)
{
	char *copy;

	if (sftp_handles_full(hs))
		return -EMFILE;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (unsigned i = 0; i < hs->max; i++) {
		struct sftp_handle *h = &hs->h[i];

		if (h->kind != SFTP_HANDLE_ANY)
			continue;
		h->kind = kind;
		h->gen = ++hs->next_gen;
		h->fd = fd;
		h->dir = dir;
		h->path = copy;
		h->readable = readable;
		h->writable = writable;
		h->stream = false;
		hs->n_open++;
		*ret = h;
		return 0;
	}
	free(copy); /* cannot happen: n_open < max means a slot is free */
	return -EMFILE;
}

struct sftp_handle *sftp_handles_get(struct sftp_handles *hs, struct sftp_reader *r,
				     enum sftp_handle_kind kind)
{
	uint32_t len;
	const uint8_t *p = sftp_wire_get_string(r, &len);
	struct sftp_reader hr;
	uint32_t i, gen;

	if (!p || len != SFTP_HANDLE_LEN)
		return NULL;
	sftp_wire_reader_init(&hr, p, len);
	i = sftp_wire_get_u32(&hr);
	gen = sftp_wire_get_u32(&hr);
	if (i >= hs->max || hs->h[i].kind == SFTP_HANDLE_ANY || hs->h[i].gen != gen)
		return NULL;
	if (kind != SFTP_HANDLE_ANY && hs->h[i].kind != kind)
		return NULL;
	return &hs->h[i];
}

void sftp_handles_put(const struct sftp_handles *hs, const struct sftp_handle *h, struct sftp_buf *b)
{
	uint32_t i = (uint32_t)(h - hs->h);

	sftp_wire_put_u32(b, SFTP_HANDLE_LEN);
	sftp_wire_put_u32(b, i);
	sftp_wire_put_u32(b, h->gen);
}

int sftp_handles_fd(const struct sftp_handle *h)
{
	return h->kind == SFTP_HANDLE_DIR ? dirfd(h->dir) : h->fd;
}

int sftp_handles_close(struct sftp_handles *hs, struct sftp_handle *h)
{
	int rc = h->kind == SFTP_HANDLE_DIR ? closedir(h->dir) : close(h->fd);

	if (rc < 0)
		rc = -errno;
	free(h->path);
	h->path = NULL;
	h->dir = NULL;
	h->fd = -1;
	h->kind = SFTP_HANDLE_ANY;
	hs->n_open--;
	return rc;
}

uint64_t sftp_handles_limit(const struct sftp_handles *hs)
{
	struct rlimit rl;
	uint64_t n = hs->max;

	/* Leave room for stdio and the odd descriptor of our own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 16)
		n = rl.rlim_cur > 32 ? rl.rlim_cur - 16 : 16;
	return n;
}
