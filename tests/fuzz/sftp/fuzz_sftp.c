/* SPDX-License-Identifier: Apache-2.0 */
/* The SFTP packet handler (sftp_dispatch): the input is a stream of
 * packets, each a 4-byte length and its bytes, after an INIT; read-only,
 * from an empty directory, so nothing outside it changes. */
#include "../fuzz.h"

#include <fcntl.h>

#include "sftp/sftp_conn.h"
#include "sftp/sftp_dispatch.h"
#include "sftp/sftp_wire.h"
#include "lib/log.h"

#define MAX_PACKET (256 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(PLOG_NONE);
	log_discard_early();
	if (chdir(fuzz_tmpdir()) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t init[] = { SSH_FXP_INIT, 0, 0, 0, 3 };
	struct sftp_options opt = { .read_only = true };
	struct sftp_buf out = { 0 };
	struct sftp_conn *c;
	size_t off = 0;

	out.cap = 4 * SFTP_REPLY_ROOM;
	out.data = malloc(out.cap);
	if (!out.data || sftp_conn_new(&opt, &out, &c) < 0) {
		free(out.data);
		return 0;
	}
	sftp_dispatch_packet(c, init, sizeof(init));
	out.head = out.tail = 0;
	while (size - off >= 4) {
		uint32_t len = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 | (uint32_t)data[off + 2] << 8 |
			       data[off + 3];
		off += 4;
		if (len > size - off || len > MAX_PACKET)
			len = (uint32_t)(size - off);
		/* A copy of exactly len bytes: ASan sees any read past it. */
		uint8_t *p = malloc(len ? len : 1);
		if (!p)
			break;
		memcpy(p, data + off, len);
		/* What the server's reader hands on: 5 bytes at least. */
		int rc = len >= 5 ? sftp_dispatch_packet(c, p, len) : 0;
		free(p);
		off += len;
		if (rc < 0)
			break; /* the server ends the session here */
		out.head = out.tail = 0; /* the client took every reply */
		out.overflow = false;
	}
	sftp_conn_free(c);
	free(out.data);
	return 0;
}
