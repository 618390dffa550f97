/* SPDX-License-Identifier: Apache-2.0 */
/* authsig.h — the flags of a security key's signature (sk-ssh-ed25519,
 * sk-ecdsa-sha2-nistp256), which libssh 0.10 verifies but neither checks nor
 * shows: whether the user touched the key (user presence, 0x01) or proved who
 * they are to it (user verification, 0x04).  OpenSSH refuses a signature
 * without presence unless the key's line says no-touch-required, and one
 * without verification when it says verify-required; session.c does the same
 * with what this module reads.
 *
 * How: libssh can write the cleartext packets of a connection to a capture
 * file (ssh_set_pcap_file, meant for Wireshark).  Until the user logs in, a
 * connection captures into a memfd; when a signature is valid, the request
 * libssh is handling is the last one captured, and its signature blob holds
 * the flags.  After the login nothing more is captured.  Where libssh has no
 * capture (built without it), the flags cannot be read, and a key that needs
 * them is refused. */
#ifndef PORTHOLE_AUTHSIG_H
#define PORTHOLE_AUTHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "sshlib.h"

#define AUTHSIG_USER_PRESENT 0x01
#define AUTHSIG_USER_VERIFIED 0x04

struct authsig;

/* Start capturing s's packets (after ssh_bind_accept_fd, before the key
 * exchange): 0, or -errno (then every call below is harmless, and the
 * flags are never known). */
int authsig_new(ssh_session s, struct authsig **ret);
/* The flags of the signature libssh has just found valid for key in user's
 * request (from within the auth callback): 0, or -errno (-ENODATA when no
 * such request was captured). */
int authsig_sk_flags(struct authsig *a, const char *user, ssh_key key, uint8_t *flags);
/* Logged in: capture nothing more. */
void authsig_stop(struct authsig *a);
/* After ssh_free() of the session it captured. */
void authsig_free(struct authsig *a);

/* The parser, on its own (tests, fuzzing): in a capture file's bytes, the
 * last SSH_MSG_USERAUTH_REQUEST; if it is user's "publickey" request with a
 * signature by the key whose blob (base64, as ssh_pki_export_pubkey_base64
 * writes it) is key_b64, and an sk-* signature, its flags.  0, or -ENODATA,
 * or -EBADMSG when the request does not parse or is not for that key. */
int authsig_parse(const uint8_t *cap, size_t len, const char *user, const char *key_b64, uint8_t *flags);

#endif
