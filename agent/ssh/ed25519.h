/* SPDX-License-Identifier: Apache-2.0 */
/* ed25519.h — an Ed25519 public key from its 32-byte seed (RFC 8032), so
 * PID 1 can make the SSH host key itself in well under a millisecond,
 * instead of forking a helper that loads libssh and OpenSSL before the
 * training command may start.  Signing stays with libssh, in the
 * connection processes, which read the private key in OpenSSH's format
 * (hostkey_generate). */
#ifndef PORTHOLE_ED25519_H
#define PORTHOLE_ED25519_H

#include <stdint.h>

#define ED25519_SEED_LEN 32
#define ED25519_PUBLIC_LEN 32

void ed25519_public_key(const uint8_t seed[ED25519_SEED_LEN], uint8_t pub[ED25519_PUBLIC_LEN]);

#endif
