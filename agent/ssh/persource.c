/* SPDX-License-Identifier: Apache-2.0 */
/* persource.c — see persource.h. */
#include "persource.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "nettrust.h"

#define MAX_HOSTS_FILE (256 * 1024)

int persource_block(const char *addr, const struct ssh_netblock *nb, char *buf, size_t len)
{
	unsigned char bin[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	unsigned bits = family == AF_INET ? nb->v4 : nb->v6, total = family == AF_INET ? 32 : 128;
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(family, addr, bin) != 1)
		return -EINVAL;
	if (bits > total)
		bits = total;
	for (unsigned i = 0; i < total / 8; i++) {
		unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
		if (keep < 8)
			bin[i] &= (unsigned char)(0xff00u >> keep);
	}
	if (!inet_ntop(family, bin, text, sizeof(text)))
		return -EINVAL;
	snprintf(buf, len, "%s/%u", text, bits);
	return 0;
}

/* Calls fn on each word of the comma-separated list until it returns true. */
static bool any_word(const char *list, bool (*fn)(const char *word, const void *ud), const void *ud)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		char w[256];
		if (n && n < sizeof(w)) {
			memcpy(w, p, n);
			w[n] = '\0';
			if (fn(w, ud))
				return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

static bool word_invalid(const char *w, const void *ud)
{
	(void)ud;
	if (strcmp(w, "loopback") == 0 || strcmp(w, "cluster") == 0 || strcmp(w, "none") == 0)
		return false;
	return !match_addr_list_valid(w);
}

bool persource_exempt_valid(const char *list)
{
	return list && !any_word(list, word_invalid, NULL);
}

/* Addresses of the job's hosts in cluster SSH's known hosts file: the first
 * field of each line is "host,address" (or "[host]:port,[address]:port"). */
static bool in_cluster_hosts(const char *path, const char *addr)
{
	FILE *f = path ? fopen(path, "re") : NULL;
	char line[8192];
	bool found = false;
	size_t total = 0;

	if (!f)
		return false;
	while (!found && total < MAX_HOSTS_FILE && fgets(line, sizeof(line), f)) {
		char *rest = NULL, *names = strtok_r(line, " \t", &rest), *save = NULL;
		total += strlen(line) + 1;
		if (!names || *names == '#')
			continue;
		for (char *n = strtok_r(names, ",", &save); n && !found; n = strtok_r(NULL, ",", &save)) {
			char host[256];
			if (*n == '[') {
				size_t k = strcspn(n + 1, "]");
				snprintf(host, sizeof(host), "%.*s", (int)k, n + 1);
			} else {
				snprintf(host, sizeof(host), "%s", n);
			}
			found = nettrust_allows(host, addr);
		}
	}
	fclose(f);
	return found;
}

struct exempt_ask {
	const struct ssh_settings *cfg;
	const char *addr;
};

static bool word_exempts(const char *w, const void *ud)
{
	const struct exempt_ask *a = ud;

	if (strcmp(w, "none") == 0)
		return false;
	if (strcmp(w, "loopback") == 0)
		return match_addr_list(a->addr, "127.0.0.0/8,::1") == 1;
	if (strcmp(w, "cluster") == 0)
		return in_cluster_hosts(a->cfg->cluster_hosts_file, a->addr) || nettrust_check(a->cfg, a->addr);
	return match_addr_list(a->addr, w) == 1;
}

bool persource_exempt(const char *list, const struct ssh_settings *cfg, const char *addr)
{
	struct exempt_ask a = { cfg, addr };

	return list && any_word(list, word_exempts, &a);
}
