/* SPDX-License-Identifier: Apache-2.0 */
/* match.c — see match.h. */
#include "match.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool match_glob(const char *s, const char *p)
{
	/* Iterative with one backtrack point: '*' never needs more, and a
	 * hostile pattern cannot make this exponential. */
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || (*p && tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* An address in 16 bytes: IPv4 as ::ffff:a.b.c.d, so one comparison serves
 * both families; bits is the prefix length in that 128-bit space. */
static bool parse_addr(const char *text, unsigned char out[16])
{
	unsigned char v4[4];

	if (inet_pton(AF_INET6, text, out) == 1)
		return true;
	if (inet_pton(AF_INET, text, v4) != 1)
		return false;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
	return true;
}

static bool parse_cidr(const char *entry, unsigned char net[16], unsigned *bits)
{
	char buf[64], *slash, *end;
	unsigned long b;
	bool v4;

	if (strlen(entry) >= sizeof(buf))
		return false;
	strcpy(buf, entry);
	slash = strchr(buf, '/');
	if (!slash || !isdigit((unsigned char)slash[1]))
		return false;
	*slash = '\0';
	b = strtoul(slash + 1, &end, 10);
	v4 = strchr(buf, ':') == NULL;
	if (*end || b > (v4 ? 32u : 128u) || !parse_addr(buf, net))
		return false;
	*bits = (unsigned)b + (v4 ? 96 : 0);
	/* Host bits set (10.1.2.3/8) make a typo likely: refuse, like OpenSSH. */
	for (unsigned i = *bits; i < 128; i++)
		if (net[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool in_cidr(const unsigned char addr[16], const unsigned char net[16], unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(addr, net, full) != 0)
		return false;
	return rest == 0 || ((addr[full] ^ net[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Call fn on each comma-separated entry (without its '!'); stop on non-zero. */
static int each_entry(const char *list, int (*fn)(const char *entry, bool negated, void *ud), void *ud)
{
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char entry[256];
		bool neg = false;
		int rc;

		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n && *p == '!') {
			neg = true;
			p++;
			n--;
		}
		if (n >= sizeof(entry))
			n = sizeof(entry) - 1;
		memcpy(entry, p, n);
		entry[n] = '\0';
		rc = fn(entry, neg, ud);
		if (rc)
			return rc;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

struct addr_match {
	const char *text;
	unsigned char bin[16];
	bool have_bin;
	bool allowed;
};

static int match_one(const char *entry, bool negated, void *ud)
{
	struct addr_match *m = ud;
	unsigned char net[16];
	unsigned bits;
	bool hit;

	if (strchr(entry, '/'))
		hit = m->have_bin && parse_cidr(entry, net, &bits) && in_cidr(m->bin, net, bits);
	else
		hit = match_glob(m->text, entry);
	if (hit && negated)
		return -1;
	if (hit)
		m->allowed = true;
	return 0;
}

int match_addr_list(const char *addr, const char *list)
{
	struct addr_match m = { .text = addr };

	m.have_bin = parse_addr(addr, m.bin);
	if (each_entry(list, match_one, &m) < 0)
		return -1;
	return m.allowed ? 1 : 0;
}

static int check_one(const char *entry, bool negated, void *ud)
{
	unsigned char net[16];
	unsigned bits;
	(void)negated;
	(void)ud;

	if (!*entry)
		return -1;
	if (strchr(entry, '/') && !parse_cidr(entry, net, &bits))
		return -1;
	return 0;
}

bool match_addr_list_valid(const char *list)
{
	return *list && each_entry(list, check_one, NULL) == 0;
}

/* Split "host:port" / "[v6]:port" into host (brackets removed) and port text. */
static bool split_hostport(const char *entry, char *host, size_t hlen, const char **port)
{
	const char *colon;
	size_t n;

	if (entry[0] == '[') {
		const char *close = strchr(entry, ']');
		if (!close || close[1] != ':')
			return false;
		n = (size_t)(close - entry - 1);
		colon = close + 1;
		entry++;
	} else {
		colon = strrchr(entry, ':');
		if (!colon)
			return false;
		n = (size_t)(colon - entry);
	}
	if (n == 0 || n >= hlen)
		return false;
	memcpy(host, entry, n);
	host[n] = '\0';
	*port = colon + 1;
	return true;
}

static bool valid_port_text(const char *p)
{
	char *end;
	unsigned long v;

	if (strcmp(p, "*") == 0)
		return true;
	if (!isdigit((unsigned char)*p))
		return false;
	v = strtoul(p, &end, 10);
	return !*end && v <= 65535;
}

bool match_hostport_valid(const char *entry)
{
	char host[256];
	const char *port;

	return split_hostport(entry, host, sizeof(host), &port) && valid_port_text(port);
}

bool match_hostport(const char *host, unsigned port, const char *entry)
{
	char h[256];
	const char *p;

	if (!split_hostport(entry, h, sizeof(h), &p) || !valid_port_text(p))
		return false;
	if (strcmp(p, "*") != 0 && strtoul(p, NULL, 10) != port)
		return false;
	return strcmp(h, "*") == 0 || strcasecmp(h, host) == 0;
}
