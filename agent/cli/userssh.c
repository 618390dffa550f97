/* SPDX-License-Identifier: Apache-2.0 */
/* userssh.c — known_hosts entries, ssh_config blocks and the ssh command
 * line for connecting to a published host with strict host key checking. */
#include "userssh.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *userssh_known_hosts_path(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *path = NULL;

	/* XDG says a relative value is to be ignored. */
	if (xdg && xdg[0] == '/') {
		if (asprintf(&path, "%s/porthole/known_hosts", xdg) < 0)
			return NULL;
	} else if (home && *home) {
		if (asprintf(&path, "%s/.cache/porthole/known_hosts", home) < 0)
			return NULL;
	} else {
		errno = ENOENT;
	}
	return path;
}

void userssh_alias(const char *job, const char *host, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%s.porthole", job, host);
}

/* mkdir -p for the parents of path. */
static int make_parents(const char *path)
{
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return -e;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

/* Copy old entries except alias's, then the new one, into fd. */
static int rewrite(FILE *old, int fd, const char *alias, const char *host_key)
{
	FILE *out = fdopen(fd, "w");
	char *line = NULL;
	size_t cap = 0, alen = strlen(alias);
	int rc = 0;

	if (!out)
		return -errno;
	while (old && getline(&line, &cap, old) >= 0)
		if (!(strncmp(line, alias, alen) == 0 && (line[alen] == ' ' || line[alen] == '\t')))
			fputs(line, out);
	free(line);
	fprintf(out, "%s %s\n", alias, host_key);
	if (fflush(out) != 0 || fsync(fd) < 0)
		rc = -errno;
	if (fclose(out) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

int userssh_trust(const char *path, const char *alias, const char *host_key)
{
	size_t n = strlen(path);
	char lock[n + 6], tmp[n + 8];
	int lfd, fd, rc;
	FILE *old;

	/* A key with a newline would smuggle a second entry in. */
	if (strpbrk(host_key, "\r\n") || strpbrk(alias, " \t\r\n"))
		return -EINVAL;
	rc = make_parents(path);
	if (rc < 0)
		return rc;
	/* Two `porthole ssh` at once must not lose each other's entries:
	 * the file is replaced by rename, so the lock lives beside it. */
	snprintf(lock, sizeof(lock), "%s.lock", path);
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return -errno;
	if (flock(lfd, LOCK_EX) < 0) {
		rc = -errno;
		close(lfd);
		return rc;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		close(lfd);
		return rc;
	}
	old = fopen(path, "re");
	if (!old && errno != ENOENT) {
		rc = -errno;
		close(fd);
	} else {
		rc = rewrite(old, fd, alias, host_key);
		if (old)
			fclose(old);
	}
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	close(lfd);
	return rc;
}

/* Only these reach the shell ssh runs a ProxyCommand with. */
static bool plain(const char *s, const char *extra)
{
	if (!s || !*s || strlen(s) > 256)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

int userssh_ssm_proxy(const struct host_rec *h, char *buf, size_t len)
{
	/* mi-0123…, or sagemaker-training-job:<job>_algo-1 (remote debug) */
	if (!plain(h->ssm_target, "._:-") || (h->ssm_region && !plain(h->ssm_region, "-")))
		return -EINVAL;
	snprintf(buf, len, "aws ssm start-session --target %s --document-name AWS-StartSSHSession "
		 "--parameters portNumber=%u%s%s", h->ssm_target, h->port, h->ssm_region ? " --region " : "",
		 h->ssm_region ? h->ssm_region : "");
	return 0;
}

void userssh_config_block(FILE *out, const char *job, const struct host_rec *h, const char *known_hosts,
			  const char *proxy)
{
	char alias[512];

	userssh_alias(job, h->host, alias, sizeof(alias));
	fprintf(out, "Host %s-%s\n", job, h->host);
	if (proxy)
		fprintf(out, "    ProxyCommand %s\n", proxy);
	else
		fprintf(out, "    HostName %s\n    Port %u\n", h->ip, h->port);
	fprintf(out,
		"    User root\n"
		"    HostKeyAlias %s\n"
		"    UserKnownHostsFile \"%s\"\n"
		"    StrictHostKeyChecking yes\n",
		alias, known_hosts);
}

/* ssh's options that take a value (OpenSSH 9). */
static bool takes_value(char c)
{
	return c && strchr("BDEFIJLOPQRSWbceilmopw", c) != NULL;
}

int userssh_argv(struct userssh_cmd *cmd, const char *job, const struct host_rec *h, const char *known_hosts,
		 const char *proxy, int argc, char **args)
{
	/* ssh + user options + ours (at most 12) + destination + "--" + command + NULL */
	char **v = calloc((size_t)argc + 16, sizeof(*v));
	char alias[512];
	bool user_port = false, user_login = false;
	int i = 0, n = 0;

	cmd->argv = v;
	if (!v)
		return -ENOMEM;
	v[n++] = "ssh";
	/* The user's options, up to their command. */
	for (; i < argc && args[i][0] == '-' && args[i][1]; i++) {
		if (strcmp(args[i], "--") == 0) {
			i++;
			break;
		}
		v[n++] = args[i];
		for (const char *c = args[i] + 1; *c; c++) {
			user_port |= *c == 'p';
			user_login |= *c == 'l';
			if (takes_value(*c)) {
				if (!c[1] && i + 1 < argc)
					v[n++] = args[++i];
				break;
			}
		}
	}
	userssh_alias(job, h->host, alias, sizeof(alias));
	snprintf(cmd->known_hosts, sizeof(cmd->known_hosts), "UserKnownHostsFile=\"%s\"", known_hosts);
	snprintf(cmd->alias, sizeof(cmd->alias), "HostKeyAlias=%s", alias);
	snprintf(cmd->port, sizeof(cmd->port), "%u", h->port);
	v[n++] = "-o";
	v[n++] = "StrictHostKeyChecking=yes";
	v[n++] = "-o";
	v[n++] = cmd->known_hosts;
	v[n++] = "-o";
	v[n++] = cmd->alias;
	if (proxy) {
		snprintf(cmd->proxy, sizeof(cmd->proxy), "ProxyCommand=%s", proxy);
		v[n++] = "-o";
		v[n++] = cmd->proxy;
	}
	if (!user_port) {
		v[n++] = "-p";
		v[n++] = cmd->port;
	}
	if (!user_login) {
		v[n++] = "-l";
		v[n++] = "root";
	}
	/* Through a tunnel the name only shows in messages. */
	v[n++] = h->ip ? h->ip : h->ssm_target;
	/* ssh would read a command word starting with '-' as an option. */
	if (i < argc && args[i][0] == '-')
		v[n++] = "--";
	for (; i < argc; i++)
		v[n++] = args[i];
	v[n] = NULL;
	return 0;
}

void userssh_cmd_free(struct userssh_cmd *cmd)
{
	free(cmd->argv);
	cmd->argv = NULL;
}
