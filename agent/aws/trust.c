/* SPDX-License-Identifier: Apache-2.0 */
/* trust.c — see trust.h. */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const trust_usual_paths[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine, Gentoo */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* RHEL, Amazon Linux, Fedora */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* the same, newer layout */
	"/etc/ssl/ca-bundle.pem",                            /* SUSE */
	"/etc/ssl/cert.pem",                                 /* Alpine, conda's openssl */
	NULL,
};

/* A regular file we may open: 0 or -errno. */
static int readable(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	close(fd);
	return rc;
}

static int from_variable(struct trust *t, const char *name, const char *path, char *err, size_t len)
{
	int rc = readable(path);

	if (rc < 0) {
		snprintf(err, len, "%s=%s: cannot read it (%s); expected a file of PEM CA certificates", name, path,
			 strerror(-rc));
		return rc;
	}
	if (!(t->file = strdup(path)))
		return -ENOMEM;
	snprintf(t->what, sizeof(t->what), "%s (%s)", path, name);
	return 0;
}

int trust_find(struct trust *t, const char *const *paths, trust_builtin_fn builtin, char *err, size_t len)
{
	static const char *const vars[] = { "AWS_CA_BUNDLE", "SSL_CERT_FILE" };

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return from_variable(t, vars[i], v, err, len);
	}
	if (!paths) {
		snprintf(t->what, sizeof(t->what), "libcurl's default");
		return 0;
	}
	for (size_t i = 0; paths[i]; i++) {
		if (readable(paths[i]) == 0) {
			if (!(t->file = strdup(paths[i])))
				return -ENOMEM;
			snprintf(t->what, sizeof(t->what), "%s", paths[i]);
			return 0;
		}
	}
	if (builtin && builtin(&t->blob, &t->blob_len) == 0) {
		snprintf(t->what, sizeof(t->what), "the CA certificates built into porthole (the image has none "
			 "at the usual paths; set AWS_CA_BUNDLE to use others)");
		return 0;
	}
	snprintf(err, len, "no CA certificates: none at %s or the other usual paths, AWS_CA_BUNDLE and "
		 "SSL_CERT_FILE unset", paths[0] ? paths[0] : "(none)");
	return -ENOENT;
}

void trust_clear(struct trust *t)
{
	free(t->file);
	free(t->blob);
	memset(t, 0, sizeof(*t));
}
