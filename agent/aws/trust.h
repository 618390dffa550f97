/* SPDX-License-Identifier: Apache-2.0 */
/* trust.h — which CA certificates TLS to AWS trusts.
 *
 * As the AWS SDKs and OpenSSL do: AWS_CA_BUNDLE, else SSL_CERT_FILE, names
 * the file; a set one that cannot be read is an error (nothing is sent with
 * a trust the user did not ask for).  Otherwise the static binary, which
 * cannot know the image it lands in, looks at the usual places of
 * Debian/Ubuntu, Alpine, RHEL/Amazon Linux and SUSE, and when the image has
 * none uses the bundle built into it from Debian's ca-certificates; the
 * dynamic binary leaves the choice to its distribution's libcurl. */
#ifndef PORTHOLE_TRUST_H
#define PORTHOLE_TRUST_H

#include <stddef.h>

struct trust {
	char *file;        /* CURLOPT_CAINFO, or NULL */
	void *blob;        /* CURLOPT_CAINFO_BLOB (the built-in bundle, owned), or NULL */
	size_t blob_len;
	char what[320];    /* where it came from, for one line in the log */
};

/* The usual bundle paths, NULL-terminated, most common first. */
extern const char *const trust_usual_paths[];

/* Gives the built-in bundle, malloc'd: 0, or -errno (-ENOENT: none). */
typedef int (*trust_builtin_fn)(void **data, size_t *len);

/* Decide: paths (NULL: leave it to libcurl) are searched when neither
 * variable is set, then builtin (NULL: none) is asked.  0, or -errno with
 * why in err (naming the variable and the file). */
int trust_find(struct trust *t, const char *const *paths, trust_builtin_fn builtin, char *err, size_t len);
void trust_clear(struct trust *t);

#endif
