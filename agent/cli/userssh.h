/* SPDX-License-Identifier: Apache-2.0 */
/* userssh.h — the user side's OpenSSH plumbing: the known_hosts file porthole
 * keeps for published host keys, one HostKeyAlias per job and host, the
 * ~/.ssh/config blocks, and the ssh command line that checks against them. */
#ifndef PORTHOLE_USERSSH_H
#define PORTHOLE_USERSSH_H

#include <stddef.h>
#include <stdio.h>

#include "../cloudwatch/records.h"

/* $XDG_CACHE_HOME/porthole/known_hosts, else ~/.cache/porthole/known_hosts.
 * Caller frees; NULL (errno set) without either variable. */
char *userssh_known_hosts_path(void);

/* "JOB.algo-2.porthole": the known_hosts name of one host of one job. */
void userssh_alias(const char *job, const char *host, char *buf, size_t len);

/* Make path hold exactly one entry for alias: host_key ("ssh-ed25519 AAAA…").
 * Creates the directory (0700).  0, or -errno. */
int userssh_trust(const char *path, const char *alias, const char *host_key);

/* SSH over Session Manager: the ProxyCommand that opens a tunnel to h's SSH
 * port through its SSM target,
 *   aws ssm start-session --target T --document-name AWS-StartSSHSession
 *       --parameters portNumber=PORT [--region R]
 * so that ssh still checks the published host key at the other end.  0, or
 * -EINVAL when h has no target or its target or region are not plain names
 * (ssh runs the command through the shell). */
int userssh_ssm_proxy(const struct host_rec *h, char *buf, size_t len);

/* A "Host JOB-algo-N" block for h (which must have port and host_key, and
 * ip unless proxy is given): HostName and Port, or, with proxy (a
 * ProxyCommand), the tunnel instead. */
void userssh_config_block(FILE *out, const char *job, const struct host_rec *h, const char *known_hosts,
			  const char *proxy);

/* The ssh command line for h: the user's options first (so they win), then
 * porthole's (with proxy, a ProxyCommand, as userssh_ssm_proxy makes), the
 * destination, and the user's command. */
struct userssh_cmd {
	char **argv;          /* NULL-terminated; strings are args', cmd's or static */
	char port[16];
	char alias[600];
	char known_hosts[4200];
	char proxy[1600];     /* with room for redirecting aws's messages */
};
/* 0, or -ENOMEM. */
int userssh_argv(struct userssh_cmd *cmd, const char *job, const struct host_rec *h, const char *known_hosts,
		 const char *proxy, int argc, char **args);
void userssh_cmd_free(struct userssh_cmd *cmd);

#endif
