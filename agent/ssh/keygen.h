/* SPDX-License-Identifier: Apache-2.0 */
/* keygen.h — a new Ed25519 host key made in PID 1 itself, without libssh:
 * the private key in OpenSSH's format (as libssh's export writes it, which
 * the connection processes import), the public key as known_hosts has it,
 * and its SHA256 fingerprint.  Making it takes microseconds, where the
 * forked helper that loads libssh and OpenSSL took milliseconds on the
 * path to the training command's start. */
#ifndef PORTHOLE_KEYGEN_H
#define PORTHOLE_KEYGEN_H

#include <stdint.h>

#include "hostkey.h"

/* A new key from the kernel's random numbers.  0, or -1 with why in err. */
int keygen_ed25519(struct hostkey *out, char *err, size_t len);

/* The key for a given seed and check number (the private format's two
 * equal words), for tests. */
int keygen_from_seed(const uint8_t seed[32], uint32_t check, struct hostkey *out, char *err, size_t len);

#endif
