/* SPDX-License-Identifier: Apache-2.0 */
/* authsig.c — see authsig.h. */
#include "authsig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_FILE_HEADER 24
#define PCAP_RECORD_HEADER 16
#define TCPIP_HEADER 40          /* libssh's fake IPv4 + TCP headers */
#define MSG_USERAUTH_REQUEST 50
#define MAX_CAPTURE (4u << 20)   /* what a connection may send before logging in, and more */

struct authsig {
	ssh_pcap_file pcap;
	int fd;
	char path[64];
};

/* ---- reading SSH wire types --------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->n < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->n--;
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->n < 4)
		return -1;
	*v = be32(r->p);
	r->p += 4;
	r->n -= 4;
	return 0;
}

static int rd_string(struct rd *r, struct rd *out)
{
	uint32_t len;

	if (rd_u32(r, &len) < 0 || len > r->n)
		return -1;
	out->p = r->p;
	out->n = len;
	r->p += len;
	r->n -= len;
	return 0;
}

static bool str_is(const struct rd *s, const char *text)
{
	size_t n = strlen(text);
	return s->n == n && memcmp(s->p, text, n) == 0;
}

static bool b64_is(const struct rd *s, const char *b64)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0, o = 0, n = strlen(b64);

	/* Encode s and compare as we go. */
	for (i = 0; i < s->n; i += 3) {
		uint32_t v = (uint32_t)s->p[i] << 16;
		size_t left = s->n - i;
		char q[4];
		if (left > 1)
			v |= (uint32_t)s->p[i + 1] << 8;
		if (left > 2)
			v |= s->p[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = left > 1 ? tab[v >> 6 & 63] : '=';
		q[3] = left > 2 ? tab[v & 63] : '=';
		if (o + 4 > n || memcmp(b64 + o, q, 4) != 0)
			return false;
		o += 4;
	}
	return o == n;
}

/* One captured packet: the SSH packet as libssh had it in the clear (with
 * its length field, except with encrypt-then-MAC), padding stripped. */
static bool packet_payload(const uint8_t *data, size_t len, struct rd *payload)
{
	size_t off = len >= 4 && be32(data) == len - 4 ? 4 : 0;
	uint8_t pad;

	if (len < off + 1)
		return false;
	pad = data[off];
	if ((size_t)pad + 1 > len - off)
		return false;
	payload->p = data + off + 1;
	payload->n = len - off - 1 - pad;
	return payload->n > 0;
}

static int parse_request(struct rd m, const char *user, const char *key_b64, uint8_t *flags)
{
	struct rd u, service, method, algo, blob, sig, sigtype, sigbytes;
	uint8_t type, has_sig, fl;
	uint32_t counter;

	if (rd_u8(&m, &type) < 0 || type != MSG_USERAUTH_REQUEST || rd_string(&m, &u) < 0 ||
	    rd_string(&m, &service) < 0 || rd_string(&m, &method) < 0)
		return -EBADMSG;
	if (!str_is(&u, user) || !str_is(&method, "publickey"))
		return -EBADMSG;
	if (rd_u8(&m, &has_sig) < 0 || !has_sig || rd_string(&m, &algo) < 0 || rd_string(&m, &blob) < 0 ||
	    rd_string(&m, &sig) < 0)
		return -EBADMSG;
	if (!b64_is(&blob, key_b64))
		return -EBADMSG;
	/* string type, string signature, byte flags, uint32 counter */
	if (rd_string(&sig, &sigtype) < 0 || rd_string(&sig, &sigbytes) < 0 || rd_u8(&sig, &fl) < 0 ||
	    rd_u32(&sig, &counter) < 0 || sig.n != 0)
		return -EBADMSG;
	if (!str_is(&sigtype, "sk-ssh-ed25519@openssh.com") && !str_is(&sigtype, "sk-ecdsa-sha2-nistp256@openssh.com"))
		return -EBADMSG;
	*flags = fl;
	return 0;
}

int authsig_parse(const uint8_t *cap, size_t len, const char *user, const char *key_b64, uint8_t *flags)
{
	struct rd last = { NULL, 0 };
	size_t off = PCAP_FILE_HEADER;

	if (len < PCAP_FILE_HEADER)
		return -ENODATA;
	while (len - off >= PCAP_RECORD_HEADER) {
		uint32_t caplen = be32(cap + off + 8);
		const uint8_t *rec = cap + off + PCAP_RECORD_HEADER;
		struct rd payload;

		if (caplen > len - off - PCAP_RECORD_HEADER)
			break; /* cut short: what came before is still good */
		off += PCAP_RECORD_HEADER + caplen;
		if (caplen <= TCPIP_HEADER || !packet_payload(rec + TCPIP_HEADER, caplen - TCPIP_HEADER, &payload))
			continue;
		if (payload.p[0] == MSG_USERAUTH_REQUEST)
			last = payload; /* only clients send these */
	}
	if (!last.p)
		return -ENODATA;
	return parse_request(last, user, key_b64, flags);
}

/* ---- the capture ------------------------------------------------------------------ */

int authsig_new(ssh_session s, struct authsig **ret)
{
	struct authsig *a = calloc(1, sizeof(*a));
	int rc = -ENOMEM;

	*ret = NULL;
	if (!a)
		return -ENOMEM;
	a->fd = memfd_create("porthole-auth", MFD_CLOEXEC);
	if (a->fd < 0) {
		rc = -errno;
		goto fail;
	}
	/* libssh fopen()s a path: the memfd's, through /proc. */
	snprintf(a->path, sizeof(a->path), "/proc/self/fd/%d", a->fd);
	a->pcap = ssh_pcap_file_new();
	if (!a->pcap)
		goto fail;
	if (ssh_pcap_file_open(a->pcap, a->path) != SSH_OK || ssh_set_pcap_file(s, a->pcap) != SSH_OK) {
		rc = -ENOTSUP;
		goto fail;
	}
	*ret = a;
	return 0;
fail:
	authsig_free(a);
	return rc;
}

int authsig_sk_flags(struct authsig *a, const char *user, ssh_key key, uint8_t *flags)
{
	char *b64 = NULL;
	struct stat st;
	uint8_t *buf;
	int rc;

	if (!a || a->fd < 0)
		return -ENOTSUP;
	/* Closing flushes libssh's stdio buffer into the memfd. */
	ssh_pcap_file_close(a->pcap);
	if (fstat(a->fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > MAX_CAPTURE) {
		rc = -ENODATA;
	} else if (!(buf = malloc((size_t)st.st_size))) {
		rc = -ENOMEM;
	} else {
		ssize_t n = pread(a->fd, buf, (size_t)st.st_size, 0);
		rc = n < 0 ? -errno : ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ? -ENOMEM :
		     authsig_parse(buf, (size_t)n, user, b64, flags);
		ssh_string_free_char(b64);
		free(buf);
	}
	/* Capture again, from empty, for the client's next attempt. */
	if (ftruncate(a->fd, 0) < 0 || ssh_pcap_file_open(a->pcap, a->path) != SSH_OK)
		authsig_stop(a);
	return rc;
}

void authsig_stop(struct authsig *a)
{
	if (!a || a->fd < 0)
		return;
	ssh_pcap_file_close(a->pcap);
	close(a->fd);
	a->fd = -1;
}

void authsig_free(struct authsig *a)
{
	if (!a)
		return;
	authsig_stop(a);
	if (a->pcap)
		ssh_pcap_file_free(a->pcap);
	free(a);
}
