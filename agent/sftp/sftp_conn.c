/* SPDX-License-Identifier: Apache-2.0 */
/* sftp_conn.c — see sftp_conn.h. */
#include "sftp_conn.h"

#include <errno.h>
#include <stdlib.h>

#include "sftp_reply.h"

int sftp_conn_new(const struct sftp_options *opt, struct sftp_buf *out, struct sftp_conn **ret)
{
	struct sftp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (opt)
		c->opt = *opt;
	c->out = out;
	if (sftp_handles_new(SFTP_MAX_HANDLES, &c->handles) < 0 || sftp_names_new(&c->names) < 0) {
		sftp_conn_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void sftp_conn_free(struct sftp_conn *c)
{
	if (!c)
		return;
	sftp_handles_free(c->handles);
	sftp_names_free(c->names);
	free(c);
}

bool sftp_conn_denied(struct sftp_conn *c, uint32_t id)
{
	if (!c->opt.read_only)
		return false;
	sftp_reply_status(c->out, id, SSH_FX_PERMISSION_DENIED);
	return true;
}
