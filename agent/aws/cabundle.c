/* SPDX-License-Identifier: Apache-2.0 */
/* cabundle.c — see cabundle.h. */
#include "cabundle.h"

#include <errno.h>

#ifdef PORTHOLE_STATIC
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

/* From the Makefile's cabundle.o: the gzip'd bundle, and (after it) its
 * size as gzip's trailer gives it, little-endian. */
extern const unsigned char cabundle_gz[];
extern const unsigned char cabundle_gz_end[];

int cabundle_load(void **data, size_t *len)
{
	size_t gz = (size_t)(cabundle_gz_end - cabundle_gz);
	z_stream z = { 0 };
	uint32_t size;
	unsigned char *out;
	int rc;

	if (gz < 18)
		return -ENOENT;
	const unsigned char *isize = cabundle_gz + gz - 4; /* gzip's trailer: the size, mod 2^32 */
	size = (uint32_t)isize[0] | (uint32_t)isize[1] << 8 | (uint32_t)isize[2] << 16 | (uint32_t)isize[3] << 24;
	if (!(out = malloc((size_t)size + 1)))
		return -ENOMEM;
	/* 16 + MAX_WBITS: a gzip stream, as `gzip -9` wrote it. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		return -ENOMEM;
	}
	z.next_in = (unsigned char *)cabundle_gz;
	z.avail_in = (uInt)gz;
	z.next_out = out;
	z.avail_out = (uInt)size;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != size) {
		free(out);
		return -EIO;
	}
	out[size] = '\0';
	*data = out;
	*len = size;
	return 0;
}
#else
int cabundle_load(void **data, size_t *len)
{
	(void)data;
	(void)len;
	return -ENOENT;
}
#endif
