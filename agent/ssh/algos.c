/* SPDX-License-Identifier: Apache-2.0 */
/* algos.c — see algos.h. */
#include "algos.h"

int algos_apply(ssh_bind b)
{
	static const struct {
		enum ssh_bind_options_e opt;
		const char *list;
	} lists[] = {
		{ SSH_BIND_OPTIONS_KEY_EXCHANGE, ALGOS_KEX },
		{ SSH_BIND_OPTIONS_CIPHERS_C_S, ALGOS_CIPHERS },
		{ SSH_BIND_OPTIONS_CIPHERS_S_C, ALGOS_CIPHERS },
		{ SSH_BIND_OPTIONS_HMAC_C_S, ALGOS_MACS },
		{ SSH_BIND_OPTIONS_HMAC_S_C, ALGOS_MACS },
		{ SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, ALGOS_HOSTKEYS },
		{ SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, ALGOS_USERKEYS },
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (ssh_bind_options_set(b, lists[i].opt, lists[i].list) != SSH_OK)
			return -1;
	return 0;
}

bool algos_userkey_ok(enum ssh_keytypes_e type)
{
	switch (type) {
	case SSH_KEYTYPE_ED25519:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
	case SSH_KEYTYPE_SK_ED25519:
	case SSH_KEYTYPE_SK_ECDSA:
	case SSH_KEYTYPE_RSA:
		return true;
	default:
		return false;
	}
}
