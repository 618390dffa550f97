/* SPDX-License-Identifier: Apache-2.0 */
/* test_keygen.c — the host key PID 1 makes without libssh: SHA-2 and
 * Ed25519 against their standards' test vectors, Ed25519 against OpenSSL
 * for many random seeds, and the OpenSSH texts against libssh, which reads
 * the private key in every connection process. */
#include "testutil.h"

#include <dlfcn.h>
#include <sys/random.h>

#include "ssh/ed25519.h"
#include "ssh/keygen.h"
#include "ssh/sha2.h"
#include "ssh/sshlib.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void unhex(const char *s, uint8_t *out)
{
	for (size_t i = 0; s[2 * i]; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
}

static void test_sha2_vectors(void **state)
{
	static const struct {
		const char *in, *h256, *h512;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
		/* 56 and 112 bytes: the length no longer fits the first block. */
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		  "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
		  "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
	};
	uint8_t d256[SHA2_256_LEN], d512[SHA2_512_LEN];
	char h[2 * SHA2_512_LEN + 1];
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha2_256(v[i].in, strlen(v[i].in), d256);
		hex(d256, sizeof(d256), h);
		assert_string_equal(h, v[i].h256);
		sha2_512(v[i].in, strlen(v[i].in), d512);
		hex(d512, sizeof(d512), h);
		assert_string_equal(h, v[i].h512);
	}
}

/* RFC 8032, 7.1: TEST 1, 2, 3 and 1024, secret key → public key. */
static void test_ed25519_rfc8032(void **state)
{
	static const char *const v[][2] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025" },
		{ "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
		  "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e" },
	};
	uint8_t seed[32], pub[32];
	char h[65];
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i][0], seed);
		ed25519_public_key(seed, pub);
		hex(pub, sizeof(pub), h);
		assert_string_equal(h, v[i][1]);
	}
}

/* OpenSSL's own Ed25519, looked up at run time (the test links no crypto
 * library): the same public key for many random seeds. */
static void test_ed25519_matches_openssl(void **state)
{
	void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	(void)state;

	if (!lib)
		skip();
	void *(*new_raw)(int, void *, const unsigned char *, size_t) = dlsym(lib, "EVP_PKEY_new_raw_private_key");
	int (*get_pub)(const void *, unsigned char *, size_t *) = dlsym(lib, "EVP_PKEY_get_raw_public_key");
	void (*pkey_free)(void *) = dlsym(lib, "EVP_PKEY_free");
	assert_non_null(new_raw);
	assert_non_null(get_pub);
	assert_non_null(pkey_free);
	for (int i = 0; i < 500; i++) {
		uint8_t seed[32], ours[32], theirs[32];
		size_t len = sizeof(theirs);
		assert_int_equal(getrandom(seed, sizeof(seed), 0), (ssize_t)sizeof(seed));
		/* Edge seeds too: all zero, all ones. */
		if (i == 0)
			memset(seed, 0, sizeof(seed));
		if (i == 1)
			memset(seed, 0xff, sizeof(seed));
		ed25519_public_key(seed, ours);
		void *k = new_raw(1087 /* NID_ED25519 */, NULL, seed, sizeof(seed));
		assert_non_null(k);
		assert_int_equal(get_pub(k, theirs, &len), 1);
		pkey_free(k);
		assert_int_equal(len, 32);
		assert_memory_equal(ours, theirs, 32);
	}
	dlclose(lib);
}

/* RFC 8032 TEST 1's seed as an OpenSSH key: the public key and fingerprint
 * as ssh-keygen prints them for it, and the private key in the layout
 * libssh writes (ssh-keygen -y reads it back to the same public key). */
static void test_openssh_texts(void **state)
{
	uint8_t seed[32];
	struct hostkey hk;
	char err[128];
	(void)state;

	unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed);
	assert_int_equal(keygen_from_seed(seed, 0x01020304, &hk, err, sizeof(err)), 0);
	assert_string_equal(hk.pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea");
	assert_string_equal(hk.fingerprint, "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8");
	assert_string_equal(hk.priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n"
				     "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDXWpgBgr"
				     "EKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGgAAAJABAgMEAQIDBAAAAAtzc2gtZWQyNTUxOQAAACDXWpgBgrEKt9VL"
				     "/tPJZAc6DuFy89qmIyWvAhpo9wdRGgAAAECdYbGd7/1aYLqESvSS7CzEREnFaXsyaRlwO6wDHK5/YNdamAGCsQq31U"
				     "v+08lkBzoO4XLz2qYjJa8CGmj3B1EaAAAAAAECAwQFBgcICQoLDA0="
				     "\n-----END OPENSSH PRIVATE KEY-----\n");
	hostkey_free(&hk);
}

/* What libssh makes of our private key: the same public key and
 * fingerprint, for fresh random keys. */
static void test_libssh_reads_our_keys(void **state)
{
	char err[256];
	(void)state;

	if (sshlib_load(err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (int i = 0; i < 20; i++) {
		struct hostkey hk;
		ssh_key key = NULL;
		char *b64 = NULL, *fp = NULL, pub[256];
		unsigned char *hash = NULL;
		size_t hlen = 0;

		assert_int_equal(keygen_ed25519(&hk, err, sizeof(err)), 0);
		assert_int_equal(ssh_pki_import_privkey_base64(hk.priv, NULL, NULL, NULL, &key), SSH_OK);
		assert_int_equal(ssh_key_type(key), SSH_KEYTYPE_ED25519);
		assert_int_equal(ssh_pki_export_pubkey_base64(key, &b64), SSH_OK);
		snprintf(pub, sizeof(pub), "ssh-ed25519 %s", b64);
		assert_string_equal(pub, hk.pub);
		assert_int_equal(ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen), 0);
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		assert_string_equal(fp, hk.fingerprint);
		ssh_string_free_char(b64);
		ssh_string_free_char(fp);
		ssh_clean_pubkey_hash(&hash);
		ssh_key_free(key);
		hostkey_free(&hk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha2_vectors),
		cmocka_unit_test(test_ed25519_rfc8032),
		cmocka_unit_test(test_ed25519_matches_openssl),
		cmocka_unit_test(test_openssh_texts),
		cmocka_unit_test(test_libssh_reads_our_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
