/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_reply.c — see sftp_reply.h. */
#include "sftp_reply.h"

void sftp_reply_status(struct sftp_buf *out, uint32_t id, uint32_t code)
{
	sftp_wire_put_status(out, id, code);
}

void sftp_reply_errno(struct sftp_buf *out, uint32_t id, int err)
{
	sftp_wire_put_status(out, id, sftp_wire_status_from_errno(err));
}

void sftp_reply_result(struct sftp_buf *out, uint32_t id, int rc)
{
	sftp_wire_put_status(out, id, rc < 0 ? sftp_wire_status_from_errno(-rc) : SSH_FX_OK);
}

void sftp_reply_name(struct sftp_buf *out, uint32_t id, const char *name)
{
	sftp_wire_begin(out, SSH_FXP_NAME);
	sftp_wire_put_u32(out, id);
	sftp_wire_put_u32(out, 1);
	sftp_wire_put_cstring(out, name); /* filename */
	sftp_wire_put_cstring(out, name); /* longname */
	sftp_wire_put_u32(out, 0);        /* attribute flags: none */
	if (sftp_wire_end(out) < 0)
		sftp_wire_put_status(out, id, SSH_FX_FAILURE);
}

void sftp_reply_attrs(struct sftp_buf *out, uint32_t id, const struct stat *st)
{
	struct sftp_attrs a;

	sftp_wire_attrs_from_stat(&a, st);
	sftp_wire_begin(out, SSH_FXP_ATTRS);
	sftp_wire_put_u32(out, id);
	sftp_wire_put_attrs(out, &a);
	sftp_wire_end(out);
}

void sftp_reply_handle(struct sftp_buf *out, uint32_t id, const struct sftp_handles *hs,
		       const struct sftp_handle *h)
{
	sftp_wire_begin(out, SSH_FXP_HANDLE);
	sftp_wire_put_u32(out, id);
	sftp_handles_put(hs, h, out);
	sftp_wire_end(out);
}
