/* SPDX-License-Identifier: Apache-2.0 */
/* sha2.h — SHA-256 and SHA-512 of a buffer, for the host key made in PID 1
 * (hostkey_generate): Ed25519 derives its key from SHA-512, and OpenSSH
 * fingerprints are SHA-256.  PID 1 never loads libssh or OpenSSL, whose
 * loading is most of what a key used to cost at start. */
#ifndef PORTHOLE_SHA2_H
#define PORTHOLE_SHA2_H

#include <stddef.h>
#include <stdint.h>

#define SHA2_256_LEN 32
#define SHA2_512_LEN 64

void sha2_256(const void *data, size_t len, uint8_t out[SHA2_256_LEN]);
void sha2_512(const void *data, size_t len, uint8_t out[SHA2_512_LEN]);

#endif
