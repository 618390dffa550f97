/* SPDX-License-Identifier: Apache-2.0 */
/* authkeys.c — see authkeys.h. */
#include "authkeys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match.h"

#include "../lib/passwd.h"

#define MAX_FILE (1 << 20)
#define MAX_LIST 64

/* ---- one line ----------------------------------------------------------- */

struct line {
	const char *p;  /* what is left to parse */
	char why[256];  /* set on the first problem */
};

static bool bad(struct line *l, const char *fmt, const char *arg)
{
	if (!l->why[0])
		snprintf(l->why, sizeof(l->why), fmt, arg);
	return false;
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void opts_free(struct authkey_opts *o)
{
	free(o->command);
	free(o->from);
	free_list(o->permitopen);
	free_list(o->permitlisten);
	free_list(o->environment);
	memset(o, 0, sizeof(*o));
}

static bool list_add(char ***v, char *item)
{
	size_t n = 0;

	while (*v && (*v)[n])
		n++;
	if (n == MAX_LIST) {
		free(item);
		return false;
	}
	char **nv = realloc(*v, (n + 2) * sizeof(*nv));
	if (!nv) {
		free(item);
		return false;
	}
	nv[n] = item;
	nv[n + 1] = NULL;
	*v = nv;
	return true;
}

/* A quoted option value: "…" with \" for a quote.  Returns it (malloc'd). */
static char *quoted(struct line *l)
{
	const char *p = l->p;
	char *out, *o;

	if (*p != '"') {
		bad(l, "%s", "option value must be in double quotes");
		return NULL;
	}
	out = o = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1] == '"')
			p++;
		*o++ = *p;
	}
	if (*p != '"') {
		free(out);
		bad(l, "%s", "missing closing quote in an option value");
		return NULL;
	}
	*o = '\0';
	l->p = p + 1;
	return out;
}

/* YYYYMMDD[HHMM[SS]][Z], local time unless Z (as OpenSSH). */
static bool parse_expiry(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	size_t n = strlen(s);
	bool utc = n && (s[n - 1] == 'Z' || s[n - 1] == 'z');
	char buf[16];

	if (utc)
		n--;
	if ((n != 8 && n != 12 && n != 14) || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)buf[i]))
			return false;
	if (sscanf(buf, "%4d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return false;
	if (n >= 12 && sscanf(buf + 8, "%2d%2d", &tm.tm_hour, &tm.tm_min) != 2)
		return false;
	if (n == 14 && sscanf(buf + 12, "%2d", &tm.tm_sec) != 1)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	*out = utc ? timegm(&tm) : mktime(&tm);
	return *out != (time_t)-1;
}

static const char *const flag_names[] = {
	"no-pty", "no-port-forwarding", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc",
};

static bool *flag_field(struct authkey_opts *o, size_t i)
{
	bool *const fields[] = { &o->no_pty, &o->no_port_forwarding, &o->no_agent_forwarding, &o->no_x11_forwarding,
				 &o->no_user_rc };
	return fields[i];
}

static bool one_option(struct line *l, struct authkey_opts *o)
{
	const char *start = l->p;
	size_t n = strcspn(start, "=, \t");
	char name[64];
	char *val = NULL;

	if (n == 0 || n >= sizeof(name))
		return bad(l, "%s", "malformed options");
	memcpy(name, start, n);
	name[n] = '\0';
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	l->p = start + n;

	if (strcmp(name, "restrict") == 0) {
		for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			*flag_field(o, i) = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (strcmp(name, flag_names[i]) == 0) {
			*flag_field(o, i) = true;
			return true;
		}
		if (strcmp(name, flag_names[i] + 3) == 0) { /* "pty" re-allows after restrict */
			*flag_field(o, i) = false;
			return true;
		}
	}
	if (strcmp(name, "no-touch-required") == 0) {
		o->no_touch_required = true;
		return true;
	}
	if (strcmp(name, "verify-required") == 0) {
		o->verify_required = true;
		return true;
	}

	/* OpenSSH options porthole cannot honour: the key must not work. */
	if (strcmp(name, "cert-authority") == 0 || strcmp(name, "principals") == 0 || strcmp(name, "tunnel") == 0)
		return bad(l, "unsupported option \"%s\"", name);
	if (*l->p != '=')
		return bad(l, "unknown option \"%s\"", name);
	l->p++;
	val = quoted(l);
	if (!val)
		return bad(l, "%s", "out of memory");
	if (strcmp(name, "command") == 0) {
		free(o->command);
		o->command = val;
	} else if (strcmp(name, "from") == 0) {
		if (!match_addr_list_valid(val)) {
			bad(l, "from=\"%s\" is not a valid pattern list", val);
			free(val);
			return false;
		}
		free(o->from);
		o->from = val;
	} else if (strcmp(name, "permitopen") == 0 || strcmp(name, "permitlisten") == 0) {
		if (!match_hostport_valid(val)) {
			bad(l, "\"%s\" is not host:port", val);
			free(val);
			return false;
		}
		if (!list_add(name[6] == 'o' ? &o->permitopen : &o->permitlisten, val))
			return bad(l, "%s", "too many permitopen/permitlisten entries");
	} else if (strcmp(name, "environment") == 0) {
		const char *eq = strchr(val, '=');
		if (!eq || eq == val) {
			bad(l, "environment=\"%s\" is not NAME=value", val);
			free(val);
			return false;
		}
		if (!list_add(&o->environment, val))
			return bad(l, "%s", "too many environment entries");
	} else if (strcmp(name, "expiry-time") == 0) {
		bool ok = parse_expiry(val, &o->expiry);
		if (!ok)
			bad(l, "expiry-time=\"%s\" is not YYYYMMDD[HHMM[SS]]", val);
		free(val);
		return ok;
	} else {
		free(val);
		return bad(l, "unknown option \"%s\"", name);
	}
	return true;
}

static bool parse_options(struct line *l, struct authkey_opts *o)
{
	for (;;) {
		if (!one_option(l, o))
			return false;
		if (*l->p == ',') {
			l->p++;
			continue;
		}
		if (*l->p == ' ' || *l->p == '\t')
			return true;
		return bad(l, "%s", *l->p ? "malformed options" : "options but no key");
	}
}

static void skip_space(struct line *l)
{
	while (*l->p == ' ' || *l->p == '\t')
		l->p++;
}

/* The next whitespace-separated word, or "" at the end. */
static void word(struct line *l, char *buf, size_t len)
{
	size_t n;

	skip_space(l);
	n = strcspn(l->p, " \t");
	if (n >= len)
		n = len - 1;
	memcpy(buf, l->p, n);
	buf[n] = '\0';
	l->p += strcspn(l->p, " \t");
}

static bool parse_line(const char *text, struct authkey *out, char *why, size_t whylen)
{
	struct line l = { .p = text };
	char type[128], *b64 = NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	skip_space(&l);
	/* Options come first unless the line starts with a key type. */
	n = strcspn(l.p, " \t");
	if (n < sizeof(type)) {
		memcpy(type, l.p, n);
		type[n] = '\0';
	} else {
		type[0] = '\0';
	}
	if (ssh_key_type_from_name(type) == SSH_KEYTYPE_UNKNOWN) {
		/* "ssh-foo AAAA…": a key type we do not know, not options. */
		const char *next = l.p + n;
		while (*next == ' ' || *next == '\t')
			next++;
		if (type[0] && !strpbrk(type, "=,\"") && strncmp(next, "AAAA", 4) == 0) {
			bad(&l, "unknown key type \"%s\"", type);
			goto fail;
		}
		if (!parse_options(&l, &out->o))
			goto fail;
	}
	word(&l, type, sizeof(type));
	if (ssh_key_type_from_name(type) == SSH_KEYTYPE_UNKNOWN) {
		bad(&l, type[0] ? "unknown key type \"%s\"" : "%sno key", type);
		goto fail;
	}
	skip_space(&l);
	n = strcspn(l.p, " \t");
	b64 = strndup(l.p, n);
	if (!b64) {
		bad(&l, "%s", "out of memory");
		goto fail;
	}
	l.p += n;
	if (!*b64 || ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &out->key) != SSH_OK) {
		bad(&l, "the %s key data is not valid", type);
		goto fail;
	}
	free(b64);
	skip_space(&l);
	if (*l.p)
		out->comment = strdup(l.p);
	return true;
fail:
	free(b64);
	opts_free(&out->o);
	snprintf(why, whylen, "%s", l.why);
	return false;
}

/* ---- collections ----------------------------------------------------------- */

void authkeys_parse(struct authkeys *ak, const char *text, const char *source, authkeys_error_fn err, void *ud)
{
	const char *p = text;
	unsigned lineno = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n), *c, where[512], why[256];
		struct authkey k;

		p += n + (p[n] == '\n');
		lineno++;
		if (!line)
			return;
		/* CRLF from a file edited elsewhere, and trailing blanks. */
		for (c = line + strlen(line); c > line && isspace((unsigned char)c[-1]);)
			*--c = '\0';
		for (c = line; isspace((unsigned char)*c); c++)
			;
		if (!*c || *c == '#') {
			free(line);
			continue;
		}
		snprintf(where, sizeof(where), "%s:%u", source, lineno);
		if (!parse_line(c, &k, why, sizeof(why))) {
			ak->errors++;
			if (err)
				err(ud, where, why);
			free(line);
			continue;
		}
		free(line);
		struct authkey *nv = realloc(ak->v, (ak->n + 1) * sizeof(*nv));
		k.where = strdup(where);
		if (!nv || !k.where) {
			free(k.where);
			free(k.comment);
			ssh_key_free(k.key);
			opts_free(&k.o);
			if (nv)
				ak->v = nv;
			return;
		}
		ak->v = nv;
		ak->v[ak->n++] = k;
	}
}

int authkeys_load_file(struct authkeys *ak, const char *path, authkeys_error_fn err, void *ud)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;

	if (!f)
		return -errno;
	text = malloc(MAX_FILE + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, MAX_FILE, f);
	if (ferror(f)) {
		int e = errno ? errno : EIO;
		fclose(f);
		free(text);
		return -e;
	}
	fclose(f);
	text[n] = '\0';
	authkeys_parse(ak, text, path, err, ud);
	free(text);
	return 0;
}

void authkeys_user_file(char *buf, size_t len)
{
	struct passwd_entry pw;
	const char *home = passwd_by_uid(getuid(), &pw) == 0 && pw.dir[0] ? pw.dir : "/root";

	snprintf(buf, len, "%s/.ssh/authorized_keys", home);
}

void authkeys_load_all(struct authkeys *ak, const struct ssh_settings *cfg, authkeys_error_fn err, void *ud)
{
	char user_file[4096];
	const char *files[5];
	size_t nf = 0;

	if (cfg->authorized_keys)
		authkeys_parse(ak, cfg->authorized_keys, cfg->inline_keys_name ? cfg->inline_keys_name : "PORTHOLE_AUTHORIZED_KEYS", err, ud);
	if (cfg->authorized_keys_file)
		files[nf++] = cfg->authorized_keys_file;
	/* Fetched by PID 1; missing until the fetch has succeeded. */
	if (cfg->s3_keys_file)
		files[nf++] = cfg->s3_keys_file;
	/* The job's hosts' client keys, written once the rendezvous is done. */
	if (cfg->cluster_keys_file)
		files[nf++] = cfg->cluster_keys_file;
	files[nf++] = AUTHKEYS_SYSTEM_FILE;
	authkeys_user_file(user_file, sizeof(user_file));
	files[nf++] = user_file;
	for (size_t i = 0; i < nf; i++) {
		int rc = authkeys_load_file(ak, files[i], err, ud);
		/* Only the file the user named must exist. */
		if (rc < 0 && (rc != -ENOENT || files[i] == cfg->authorized_keys_file)) {
			char why[256];
			snprintf(why, sizeof(why), "cannot read it: %s", strerror(-rc));
			ak->errors++;
			if (err)
				err(ud, files[i], why);
		}
	}
}

void authkeys_free(struct authkeys *ak)
{
	for (size_t i = 0; i < ak->n; i++) {
		ssh_key_free(ak->v[i].key);
		free(ak->v[i].where);
		free(ak->v[i].comment);
		opts_free(&ak->v[i].o);
	}
	free(ak->v);
	memset(ak, 0, sizeof(*ak));
}

const struct authkey *authkeys_match(const struct authkeys *ak, const ssh_key key, const char *addr, time_t now,
				     const char **why)
{
	*why = NULL;
	for (size_t i = 0; i < ak->n; i++) {
		const struct authkey *k = &ak->v[i];
		if (ssh_key_cmp(k->key, key, SSH_KEY_CMP_PUBLIC) != 0)
			continue;
		if (k->o.expiry && now >= k->o.expiry) {
			*why = "the key has expired (expiry-time)";
			continue;
		}
		if (k->o.from && match_addr_list(addr, k->o.from) != 1) {
			*why = "the key is not allowed from this address (from=)";
			continue;
		}
		*why = NULL;
		return k;
	}
	return NULL;
}

static bool may(char *const *list, bool forbidden, const char *host, unsigned port)
{
	if (forbidden)
		return false;
	if (!list)
		return true;
	for (size_t i = 0; list[i]; i++)
		if (match_hostport(host, port, list[i]))
			return true;
	return false;
}

bool authkeys_may_open(const struct authkey_opts *o, const char *host, unsigned port)
{
	return may(o->permitopen, o->no_port_forwarding, host, port);
}

bool authkeys_may_listen(const struct authkey_opts *o, const char *host, unsigned port)
{
	return may(o->permitlisten, o->no_port_forwarding, host, port);
}
