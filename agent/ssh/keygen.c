/* SPDX-License-Identifier: Apache-2.0 */
/* keygen.c — see keygen.h. */
#include "keygen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ed25519.h"
#include "sha2.h"

#define KEY_TYPE "ssh-ed25519"
#define AUTH_MAGIC "openssh-key-v1"
/* The same block libssh pads the private section to (OpenSSH uses 8 for an
 * unencrypted key; both read either). */
#define PAD_BLOCK 16

/* The private key as libssh writes it: the PEM-style armour around one
 * line of base64, ending with a newline. */
#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PEM_END "\n-----END OPENSSH PRIVATE KEY-----\n"

struct buf {
	uint8_t b[512];
	size_t n;
};

static void put_u32(struct buf *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* An SSH "string": a 32-bit length, then the bytes. */
static void put_string(struct buf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	put_bytes(b, p, n);
}

/* Standard base64 (RFC 4648); without the '=' padding when pad is false,
 * as OpenSSH prints fingerprints. */
static char *base64(const uint8_t *p, size_t n, bool pad)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		if (i + 1 < n)
			*o++ = tab[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (i + 2 < n)
			*o++ = tab[v & 63];
		else if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int fill_random(void *p, size_t n, char *err, size_t len)
{
	uint8_t *b = p;

	/* Blocks only until the kernel's generator is seeded, as ssh-keygen would. */
	while (n) {
		ssize_t got = getrandom(b, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, len, "cannot get random bytes for the host key: %s", strerror(errno));
			return -1;
		}
		b += got;
		n -= (size_t)got;
	}
	return 0;
}

int keygen_from_seed(const uint8_t seed[32], uint32_t check, struct hostkey *out, char *err, size_t len)
{
	uint8_t pub[ED25519_PUBLIC_LEN], priv[64], hash[SHA2_256_LEN];
	struct buf blob = { .n = 0 }, sec = { .n = 0 }, file = { .n = 0 };
	char *b64_blob = NULL, *b64_hash = NULL, *b64_file = NULL;

	memset(out, 0, sizeof(*out));
	ed25519_public_key(seed, pub);
	memcpy(priv, seed, 32);
	memcpy(priv + 32, pub, 32);

	/* The public key blob: what known_hosts holds and the fingerprint hashes. */
	put_string(&blob, KEY_TYPE, strlen(KEY_TYPE));
	put_string(&blob, pub, sizeof(pub));
	/* The private section (unencrypted): a check number twice, the key
	 * pair, an empty comment, then 1, 2, 3 ... up to the block size. */
	put_u32(&sec, check);
	put_u32(&sec, check);
	put_string(&sec, KEY_TYPE, strlen(KEY_TYPE));
	put_string(&sec, pub, sizeof(pub));
	put_string(&sec, priv, sizeof(priv));
	put_string(&sec, "", 0);
	for (uint8_t i = 1; sec.n % PAD_BLOCK; i++)
		sec.b[sec.n++] = i;
	put_bytes(&file, AUTH_MAGIC, sizeof(AUTH_MAGIC)); /* with its NUL */
	put_string(&file, "none", 4);                      /* cipher */
	put_string(&file, "none", 4);                      /* KDF */
	put_string(&file, "", 0);                          /* KDF options */
	put_u32(&file, 1);                                 /* one key */
	put_string(&file, blob.b, blob.n);
	put_string(&file, sec.b, sec.n);

	sha2_256(blob.b, blob.n, hash);
	b64_blob = base64(blob.b, blob.n, true);
	b64_hash = base64(hash, sizeof(hash), false);
	b64_file = base64(file.b, file.n, true);
	if (b64_blob && b64_hash && b64_file &&
	    asprintf(&out->pub, "%s %s", KEY_TYPE, b64_blob) >= 0 &&
	    asprintf(&out->fingerprint, "SHA256:%s", b64_hash) >= 0 &&
	    asprintf(&out->priv, "%s%s%s", PEM_BEGIN, b64_file, PEM_END) >= 0) {
		/* done */
	} else {
		snprintf(err, len, "out of memory");
	}
	explicit_bzero(priv, sizeof(priv));
	explicit_bzero(sec.b, sizeof(sec.b));
	explicit_bzero(file.b, sizeof(file.b));
	if (b64_file)
		explicit_bzero(b64_file, strlen(b64_file));
	free(b64_blob);
	free(b64_hash);
	free(b64_file);
	if (!out->pub || !out->fingerprint || !out->priv) {
		free(out->pub);
		free(out->fingerprint);
		free(out->priv);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int keygen_ed25519(struct hostkey *out, char *err, size_t len)
{
	uint8_t seed[32];
	uint32_t check;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fill_random(seed, sizeof(seed), err, len) < 0 || fill_random(&check, sizeof(check), err, len) < 0)
		return -1;
	rc = keygen_from_seed(seed, check, out, err, len);
	explicit_bzero(seed, sizeof(seed));
	return rc;
}
