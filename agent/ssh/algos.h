/* SPDX-License-Identifier: Apache-2.0 */
/* algos.h — porthole's SSH algorithm policy, written down in one place:
 * OpenSSH 9.x's default KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms and
 * PubkeyAcceptedAlgorithms, less what libssh 0.10 does not implement
 * (sntrup761x25519-sha512, umac-*) and less certificates (porthole has no
 * cert-authority).  So no ssh-rsa (SHA-1) signatures and no ssh-dss, for
 * host keys or user keys alike; and every list is set explicitly, because
 * libssh's own default cipher list ends in an empty name, which RFC 4251
 * forbids.  docs/ARCHITECTURE.md ("Security model") says why. */
#ifndef PORTHOLE_ALGOS_H
#define PORTHOLE_ALGOS_H

#include <stdbool.h>

#include "sshlib.h"

#define ALGOS_KEX \
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384," \
	"ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512," \
	"diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
#define ALGOS_CIPHERS \
	"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com," \
	"aes256-gcm@openssh.com"
#define ALGOS_MACS \
	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com," \
	"hmac-sha2-256,hmac-sha2-512,hmac-sha1"
#define ALGOS_HOSTKEYS \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"
#define ALGOS_USERKEYS \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521," \
	"sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256"

/* Set every list on the bind: 0, or -1 with libssh's error on the bind. */
int algos_apply(ssh_bind b);

/* May a user key of this type log in (before any signature: libssh would
 * otherwise let a client sign with a type the lists exclude and leave the
 * connection hanging)?  Plain keys of ALGOS_USERKEYS only; RSA keys sign
 * with rsa-sha2-* (libssh refuses ssh-rsa signatures by the list). */
bool algos_userkey_ok(enum ssh_keytypes_e type);

#endif
