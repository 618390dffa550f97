/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_dispatch.c — see sftp_dispatch.h. */
#include "sftp_dispatch.h"

#include <errno.h>

#include "sftp_dir.h"
#include "sftp_ext.h"
#include "sftp_file.h"
#include "sftp_path.h"
#include "sftp_reply.h"

#include "../lib/log.h"

static sftp_request_fn *const requests[] = {
	[SSH_FXP_OPEN] = sftp_file_open,
	[SSH_FXP_CLOSE] = sftp_file_close,
	[SSH_FXP_READ] = sftp_file_read,
	[SSH_FXP_WRITE] = sftp_file_write,
	[SSH_FXP_LSTAT] = sftp_path_lstat,
	[SSH_FXP_FSTAT] = sftp_file_fstat,
	[SSH_FXP_SETSTAT] = sftp_path_setstat,
	[SSH_FXP_FSETSTAT] = sftp_file_fsetstat,
	[SSH_FXP_OPENDIR] = sftp_dir_opendir,
	[SSH_FXP_READDIR] = sftp_dir_readdir,
	[SSH_FXP_REMOVE] = sftp_path_remove,
	[SSH_FXP_MKDIR] = sftp_path_mkdir,
	[SSH_FXP_RMDIR] = sftp_path_rmdir,
	[SSH_FXP_REALPATH] = sftp_path_realpath,
	[SSH_FXP_STAT] = sftp_path_stat,
	[SSH_FXP_RENAME] = sftp_path_rename,
	[SSH_FXP_READLINK] = sftp_path_readlink,
	[SSH_FXP_SYMLINK] = sftp_path_symlink,
	[SSH_FXP_EXTENDED] = sftp_ext_request,
};

/* INIT: our version (whatever the client's) and the extensions. */
static void init(struct sftp_conn *c, struct sftp_reader *r)
{
	uint32_t version = sftp_wire_get_u32(r);

	SFTP_TRACE(c, "client version %u", version);
	sftp_wire_begin(c->out, SSH_FXP_VERSION);
	sftp_wire_put_u32(c->out, SFTP_PROTOCOL_VERSION);
	sftp_ext_put_list(c->out);
	sftp_wire_end(c->out);
	c->inited = true;
}

int sftp_dispatch_packet(struct sftp_conn *c, const uint8_t *p, uint32_t len)
{
	struct sftp_reader r;
	uint8_t type;
	uint32_t id;

	sftp_wire_reader_init(&r, p, len);
	type = sftp_wire_get_u8(&r);
	if (!c->inited || type == SSH_FXP_INIT) {
		if (c->inited || type != SSH_FXP_INIT) {
			log_warn("sftp: %s", c->inited ? "a second INIT" : "a request before INIT");
			return -EPROTO;
		}
		init(c, &r);
		return 0;
	}
	id = sftp_wire_get_u32(&r);
	if (type < sizeof(requests) / sizeof(requests[0]) && requests[type])
		requests[type](c, id, &r);
	else
		sftp_reply_status(c->out, id, SSH_FX_OP_UNSUPPORTED);
	return 0;
}
