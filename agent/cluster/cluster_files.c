/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_files.c — see cluster_files.h. */
#include "cluster_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

void cluster_files_path(const char *dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir ? dir : ".", name);
}

static bool key_type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '@' || c == '.';
}

static bool base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
	       c == '=';
}

/* Length of the type and of the base64 part of key, or false. */
static bool key_parts(const char *key, size_t *tlen, size_t *blen)
{
	const char *s = key, *b;

	if (!key)
		return false;
	while (key_type_char(*s))
		s++;
	*tlen = (size_t)(s - key);
	if (*tlen == 0 || *s != ' ')
		return false;
	b = ++s;
	while (base64_char(*s))
		s++;
	*blen = (size_t)(s - b);
	if (*blen < 16 || (*s && *s != ' '))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

bool cluster_files_key_valid(const char *key)
{
	size_t t, b;
	return key_parts(key, &t, &b);
}

/* "TYPE BASE64" of key, without its comment. */
static void put_key(FILE *f, const char *key)
{
	size_t t, b;

	key_parts(key, &t, &b);
	fprintf(f, "%.*s", (int)(t + 1 + b), key);
}

/* The stream's text once closed (open_memstream sets buf at fclose). */
static char *finish(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *cluster_files_authorized_keys(const struct cluster_peer *v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "# porthole cluster SSH: the job's hosts' client keys (written at each start)\n");
	for (size_t i = 0; i < n; i++) {
		if (!cluster_files_key_valid(v[i].client_key))
			continue;
		put_key(f, v[i].client_key);
		fprintf(f, " porthole-cluster@%s\n", v[i].host);
	}
	return finish(f, &buf);
}

char *cluster_files_known_hosts(const struct cluster_peer *v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct cluster_peer *p = &v[i];
		if (!cluster_files_key_valid(p->host_key))
			continue;
		if (!p->port || p->port == 22)
			fprintf(f, "%s%s%s ", p->host, p->ip ? "," : "", p->ip ? p->ip : "");
		else if (p->ip)
			fprintf(f, "[%s]:%u,[%s]:%u ", p->host, p->port, p->ip, p->port);
		else
			fprintf(f, "[%s]:%u ", p->host, p->port);
		put_key(f, p->host_key);
		fputc('\n', f);
	}
	return finish(f, &buf);
}

static void common_options(FILE *f, bool strict)
{
	fprintf(f,
		"  IdentityFile ~/.ssh/" CLUSTER_KEY_NAME "\n"
		"  IdentitiesOnly yes\n"
		"  UserKnownHostsFile ~/.ssh/" CLUSTER_KNOWN_HOSTS "\n"
		"  StrictHostKeyChecking %s\n",
		strict ? "yes" : "accept-new");
}

char *cluster_files_ssh_block(const struct cluster_peer *v, size_t n, bool strict, unsigned default_port)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, CLUSTER_BLOCK_BEGIN "\n# Written by porthole (PORTHOLE_CLUSTER_SSH=1) at each start; "
		   "edits inside this block are lost.\n");
	if (strict) {
		/* One block per host: HostName makes `ssh algo-2` work before
		 * the name resolves, and each host has its own port. */
		for (size_t i = 0; i < n; i++) {
			const struct cluster_peer *p = &v[i];
			if (!p->ip || !cluster_files_key_valid(p->host_key))
				continue;
			fprintf(f, "Host %s %s\n  HostName %s\n", p->host, p->ip, p->ip);
			if (p->port && p->port != 22)
				fprintf(f, "  Port %u\n", p->port);
			common_options(f, true);
		}
	} else {
		fprintf(f, "Host algo-*");
		for (size_t i = 0; i < n; i++)
			if (v[i].ip)
				fprintf(f, " %s", v[i].ip);
		fputc('\n', f);
		if (default_port && default_port != 22)
			fprintf(f, "  Port %u\n", default_port);
		common_options(f, false);
	}
	fprintf(f, CLUSTER_BLOCK_END "\n");
	return finish(f, &buf);
}

/* The start of the whole line equal to text in s, or NULL. */
static const char *find_line(const char *s, const char *text)
{
	size_t n = strlen(text);

	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, text, n) == 0 && (p[n] == '\n' || p[n] == '\0' || (p[n] == '\r' && p[n + 1] == '\n')))
			return p;
	return NULL;
}

char *cluster_files_config_merge(const char *old, const char *block)
{
	const char *begin = old ? find_line(old, CLUSTER_BLOCK_BEGIN) : NULL;
	const char *end = begin ? find_line(begin, CLUSTER_BLOCK_END) : NULL;
	char *out = NULL;

	if (!old)
		old = "";
	if (end) {
		const char *after = strchr(end, '\n');
		after = after ? after + 1 : end + strlen(end);
		if (asprintf(&out, "%s%.*s%s", block, (int)(begin - old), old, after) < 0)
			out = NULL;
	} else if (asprintf(&out, "%s%s", block, old) < 0) {
		out = NULL;
	}
	return out;
}

char *cluster_files_hostfile(const struct cluster_peer *v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s slots=%u\n", v[i].host, v[i].gpus ? v[i].gpus : 1);
	return finish(f, &buf);
}

int cluster_files_write(const char *path, const char *text, mode_t mode)
{
	size_t n = strlen(path), len = strlen(text);
	char tmp[n + 8];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		err = errno ? -errno : -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
