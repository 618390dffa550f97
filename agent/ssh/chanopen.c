/* SPDX-License-Identifier: Apache-2.0 */
/* chanopen.c — see chanopen.h. */
#include "chanopen.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* libssh 0.10's struct ssh_message_struct (include/libssh/messages.h),
 * member for member.  Only session, type and channel_request_open are read
 * from libssh's messages; the rest makes the copies libssh reads whole. */
struct l10_auth_request {
	char *username;
	int method;
	char *password;
	void *pubkey;
	char *sigtype;
	int signature_state; /* enum ssh_publickey_state_e */
	char kbdint_response;
};

struct l10_channel_request_open {
	int type;
	uint32_t sender;
	uint32_t window;
	uint32_t packet_size;
	char *originator;
	uint16_t originator_port;
	char *destination;
	uint16_t destination_port;
};

struct l10_channel_request {
	int type;
	void *channel;
	uint8_t want_reply;
	char *TERM;
	uint32_t width, height, pxwidth, pxheight;
	void *modes;
	char *var_name, *var_value, *command, *subsystem;
	uint8_t x11_single_connection;
	char *x11_auth_protocol, *x11_auth_cookie;
	uint32_t x11_screen_number;
};

struct l10_message {
	ssh_session session;
	int type;
	struct l10_auth_request auth_request;
	struct l10_channel_request_open channel_request_open;
	struct l10_channel_request channel_request;
	struct { char *service; } service_request;
	struct { int type; uint8_t want_reply; char *bind_address; uint16_t bind_port; } global_request;
};

struct chanopen {
	/* What libssh's replies read: a message of our own, which libssh
	 * only reads. */
	struct l10_message msg;
};

int chanopen_new(ssh_session s, ssh_message msg, struct chanopen **ret)
{
	const struct l10_message *m = (const struct l10_message *)msg;
	const struct l10_channel_request_open *o = &m->channel_request_open;
	const char *dest = ssh_message_channel_request_open_destination(msg);
	const char *orig = ssh_message_channel_request_open_originator(msg);
	struct chanopen *c;

	*ret = NULL;
	/* Every member read here is before or around the three wanted ones;
	 * distinct heap pointers at the right places make a wrong layout that
	 * still agrees on all of them implausible. */
	if (ssh_message_type(msg) != SSH_REQUEST_CHANNEL_OPEN || !dest || !orig || m->session != s ||
	    m->type != SSH_REQUEST_CHANNEL_OPEN || o->type != ssh_message_subtype(msg) || o->destination != dest ||
	    o->originator != orig || o->destination_port != ssh_message_channel_request_open_destination_port(msg) ||
	    o->originator_port != ssh_message_channel_request_open_originator_port(msg))
		return -ENOTSUP;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->msg.session = s;
	c->msg.type = SSH_REQUEST_CHANNEL_OPEN;
	c->msg.channel_request_open.type = o->type;
	c->msg.channel_request_open.sender = o->sender;
	c->msg.channel_request_open.window = o->window;
	c->msg.channel_request_open.packet_size = o->packet_size;
	*ret = c;
	return 0;
}

ssh_channel chanopen_accept(struct chanopen *o)
{
	ssh_channel ch = ssh_channel_new(o->msg.session);

	if (!ch)
		return NULL;
	if (ssh_message_channel_request_open_reply_accept_channel((ssh_message)&o->msg, ch) != SSH_OK) {
		ssh_channel_free(ch);
		return NULL;
	}
	return ch;
}

void chanopen_refuse(struct chanopen *o)
{
	ssh_message_reply_default((ssh_message)&o->msg);
}

void chanopen_free(struct chanopen *o)
{
	free(o);
}
