/* SPDX-License-Identifier: Apache-2.0 */
/* hostkey.c — see hostkey.h. */
#include "hostkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshlib.h"

static int describe(ssh_key key, struct hostkey *out, char *err, size_t len)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *b64 = NULL, *fp = NULL, *priv = NULL;

	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    !(fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen))) {
		snprintf(err, len, "cannot export the host key");
		ssh_string_free_char(priv);
		ssh_string_free_char(b64);
		ssh_clean_pubkey_hash(&hash);
		return -1;
	}
	out->priv = strdup(priv);
	out->fingerprint = strdup(fp);
	if (asprintf(&out->pub, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), b64) < 0)
		out->pub = NULL;
	ssh_string_free_char(priv);
	ssh_string_free_char(b64);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	if (!out->priv || !out->fingerprint || !out->pub) {
		hostkey_free(out);
		snprintf(err, len, "out of memory");
		return -1;
	}
	return 0;
}

int hostkey_make(const char *path, struct hostkey *out, char *err, size_t len)
{
	ssh_key key = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (path) {
		if (access(path, R_OK) < 0) {
			snprintf(err, len, "cannot read host key %s: %s", path, strerror(errno));
			return -1;
		}
		rc = ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key);
		if (rc != SSH_OK) {
			snprintf(err, len, "host key %s is not a private key libssh can read (encrypted, or not "
				 "OpenSSH/PEM format)", path);
			return -1;
		}
	} else if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		snprintf(err, len, "cannot generate an Ed25519 host key");
		return -1;
	}
	rc = describe(key, out, err, len);
	ssh_key_free(key);
	return rc;
}

int hostkey_write(const struct hostkey *hk, const char *path, char *err, size_t len)
{
	size_t n = strlen(hk->priv);
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, hk->priv, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
		snprintf(err, len, "cannot write host key %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void hostkey_free(struct hostkey *hk)
{
	free(hk->priv);
	free(hk->pub);
	free(hk->fingerprint);
	memset(hk, 0, sizeof(*hk));
}
