/* SPDX-License-Identifier: Apache-2.0 */
/* hostkey.h — the SSH host key: a new Ed25519 key at each start, or the one
 * in PORTHOLE_HOST_KEY, made or read with libssh: by a forked helper
 * (sshd_setup.c) in the dynamic build, so that PID 1 never maps OpenSSL; in
 * PID 1 itself in the static build, where libssh is linked in anyway.  PID 1
 * holds it as text. */
#ifndef PORTHOLE_HOSTKEY_H
#define PORTHOLE_HOSTKEY_H

#include <stddef.h>

struct hostkey {
	char *priv;        /* the private key, base64 text (OpenSSH format for Ed25519) */
	char *pub;         /* "ssh-ed25519 AAAA…", as in known_hosts */
	char *fingerprint; /* "SHA256:…", as ssh prints it */
};

/* Load path, or generate a key when path is NULL (needs libssh loaded).
 * 0, or -1 with the reason in err. */
int hostkey_make(const char *path, struct hostkey *out, char *err, size_t len);

/* Write the private key to path, mode 0600 (for the image's sshd). */
int hostkey_write(const struct hostkey *hk, const char *path, char *err, size_t len);

void hostkey_free(struct hostkey *hk);

#endif
