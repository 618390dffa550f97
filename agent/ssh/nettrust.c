/* SPDX-License-Identifier: Apache-2.0 */
/* nettrust.c — see nettrust.h. */
#include "nettrust.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/inotify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/strutil.h"

#define MAX_BYTES (64u << 10)

/* addr as 16 bytes, IPv4 as ::ffff:a.b.c.d: 0, or -1 if not an address. */
static int to16(const char *addr, unsigned char out[16])
{
	unsigned char v4[4];

	if (inet_pton(AF_INET6, addr, out) == 1)
		return 0;
	if (inet_pton(AF_INET, addr, v4) != 1)
		return -1;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
	return 0;
}

bool nettrust_allows(const char *text, const char *addr)
{
	unsigned char want[16], got[16];
	char *copy, *line, *save = NULL;
	bool ok = false;

	if (!text || !addr || to16(addr, want) < 0 || !(copy = strdup(text)))
		return false;
	for (line = strtok_r(copy, "\n", &save); line && !ok; line = strtok_r(NULL, "\n", &save)) {
		char *s = strutil_trim(line);
		ok = *s && *s != '#' && to16(s, got) == 0 && memcmp(want, got, 16) == 0;
	}
	free(copy);
	return ok;
}

bool nettrust_pending(const struct ssh_settings *cfg)
{
	return cfg->cluster_pending_file && access(cfg->cluster_pending_file, F_OK) == 0;
}

bool nettrust_check(const struct ssh_settings *cfg, const char *addr)
{
	char *text;
	size_t n;
	FILE *f;
	bool ok;

	if (!cfg->cluster_trust_file || !(f = fopen(cfg->cluster_trust_file, "re")))
		return false;
	text = malloc(MAX_BYTES + 1);
	n = text ? fread(text, 1, MAX_BYTES, f) : 0;
	fclose(f);
	if (!text)
		return false;
	text[n] = '\0';
	ok = nettrust_allows(text, addr);
	free(text);
	return ok;
}

int nettrust_watch(const struct ssh_settings *cfg)
{
	int fd;

	if (!cfg->cluster_dir || (fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		return -1;
	/* The helper replaces files by rename and removes the marker. */
	if (inotify_add_watch(fd, cfg->cluster_dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void nettrust_wait(int fd, uint64_t usec)
{
	/* Without inotify (out of watches): short sleeps, only for the
	 * seconds a rendezvous is still deciding. */
	const uint64_t step = 100 * 1000;
	char buf[4096];

	if (fd < 0) {
		usleep((useconds_t)(usec < step ? usec : step));
		return;
	}
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int ms = (int)((usec + 999) / 1000);
	if (poll(&pfd, 1, ms) > 0)
		while (read(fd, buf, sizeof(buf)) > 0 || errno == EINTR)
			;
}
