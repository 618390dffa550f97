/* SPDX-License-Identifier: Apache-2.0 */
/* test_authkeys.c — the authorized_keys parser (options, key types, bad
 * lines), from= pattern lists with CIDR and negation, permitopen matching,
 * and which entry admits a key from an address. */
#include "testutil.h"

#include "ssh/authkeys.h"
#include "ssh/match.h"
#include "ssh/sshlib.h"

/* Two real public keys (ssh-keygen -t ed25519). */
#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxeLLG0LFsfmEcDV2VQHzuJf8eqvUaw0ApLI6t/9m2Q"
#define KEY_B "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICYF3K3ypE6uX2T2yOVToZ46PGCG5toLMgw00kRJQVwZ"

struct errs {
	char where[16][128];
	char why[16][256];
	int n;
};

static void on_err(void *ud, const char *where, const char *why)
{
	struct errs *e = ud;

	if (e->n < 16) {
		snprintf(e->where[e->n], sizeof(e->where[0]), "%s", where);
		snprintf(e->why[e->n], sizeof(e->why[0]), "%s", why);
	}
	e->n++;
}

static int setup(void **state)
{
	char err[256];
	(void)state;
	if (sshlib_load(err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return 0;
}

static ssh_key key_of(const char *line)
{
	ssh_key k = NULL;
	char type[64], b64[256];

	assert_int_equal(sscanf(line, "%63s %255s", type, b64), 2);
	assert_int_equal(ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &k), SSH_OK);
	return k;
}

static void test_glob(void **state)
{
	static const struct { const char *s, *p; bool want; } rows[] = {
		{ "127.0.0.1", "127.0.0.1", true },   { "127.0.0.1", "127.0.0.*", true },
		{ "127.0.0.1", "127.*.1", true },     { "127.0.0.12", "127.0.0.?", false },
		{ "10.1.2.3", "*", true },            { "host.EXAMPLE.com", "*.example.COM", true },
		{ "", "*", true },                    { "abc", "a*c*", true },
		{ "abc", "a*d", false },              { "aaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*c", false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TU_CHECK(match_glob(rows[i].s, rows[i].p) == rows[i].want, "match_glob(\"%s\", \"%s\") != %d",
			 rows[i].s, rows[i].p, rows[i].want);
	TU_END();
}

static void test_addr_list(void **state)
{
	static const struct { const char *addr, *list; int want; } rows[] = {
		{ "127.0.0.1", "127.0.0.1", 1 },
		{ "127.0.0.1", "10.0.0.0/8,127.0.0.0/8", 1 },
		{ "127.0.0.1", "10.0.0.0/8", 0 },
		{ "10.200.3.4", "10.0.0.0/8", 1 },
		{ "11.0.0.1", "10.0.0.0/8", 0 },
		{ "192.168.1.77", "192.168.1.64/26", 1 },
		{ "192.168.1.128", "192.168.1.64/26", 0 },
		{ "127.0.0.1", "!127.0.0.1,*", -1 },
		{ "10.0.0.9", "!127.0.0.1,*", 1 },
		{ "10.0.0.9", "*,!10.0.0.0/24", -1 },
		{ "fd00::5", "fd00::/8", 1 },
		{ "fe80::1", "fd00::/8", 0 },
		{ "::1", "::1", 1 },
		{ "10.0.0.1", "0.0.0.0/0", 1 },
		{ "10.0.0.1", " 10.0.0.1 , 1.2.3.4", 1 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TU_CHECK(match_addr_list(rows[i].addr, rows[i].list) == rows[i].want,
			 "match_addr_list(\"%s\", \"%s\") = %d, want %d", rows[i].addr, rows[i].list,
			 match_addr_list(rows[i].addr, rows[i].list), rows[i].want);
	TU_CHECK(match_addr_list_valid("10.0.0.0/8,!1.2.3.4,*.x"), "valid list refused");
	TU_CHECK(!match_addr_list_valid("10.0.0.0/33"), "/33 accepted");
	TU_CHECK(!match_addr_list_valid("10.1.0.0/8"), "host bits accepted");
	TU_CHECK(!match_addr_list_valid("a,,b"), "empty entry accepted");
	TU_CHECK(!match_addr_list_valid(""), "empty list accepted");
	TU_END();
}

static void test_hostport(void **state)
{
	static const struct { const char *host; unsigned port; const char *entry; bool want; } rows[] = {
		{ "localhost", 8888, "localhost:8888", true },  { "LOCALHOST", 8888, "localhost:8888", true },
		{ "localhost", 8889, "localhost:8888", false }, { "127.0.0.1", 8888, "localhost:8888", false },
		{ "127.0.0.1", 22, "127.0.0.1:*", true },       { "anything", 5678, "*:5678", true },
		{ "::1", 80, "[::1]:80", true },                { "::1", 81, "[::1]:80", false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		TU_CHECK(match_hostport(rows[i].host, rows[i].port, rows[i].entry) == rows[i].want,
			 "match_hostport(%s, %u, %s) != %d", rows[i].host, rows[i].port, rows[i].entry, rows[i].want);
	TU_CHECK(match_hostport_valid("h:1") && match_hostport_valid("[::1]:22") && match_hostport_valid("h:*"), "valid refused");
	TU_CHECK(!match_hostport_valid("h") && !match_hostport_valid("h:99999") && !match_hostport_valid(":22") &&
		 !match_hostport_valid("[::1]22"), "invalid accepted");
	TU_END();
}

static void test_parse_options(void **state)
{
	struct authkeys ak = { 0 };
	struct errs e = { 0 };
	const char *text =
		"# comment\n"
		"\n"
		KEY_A " plain key\n"
		"restrict,pty " KEY_A "\n"
		"no-pty,no-port-forwarding,command=\"echo \\\"hi\\\"\",from=\"10.0.0.0/8\" " KEY_B " c\r\n"
		"permitopen=\"localhost:8888\",permitopen=\"127.0.0.1:*\",environment=\"A=b c\" " KEY_A "\n"
		"  expiry-time=\"20000101\" " KEY_B "\n";
	(void)state;

	authkeys_parse(&ak, text, "src", on_err, &e);
	assert_int_equal(e.n, 0);
	assert_int_equal(ak.n, 5);
	TU_CHECK(tu_streq(ak.v[0].where, "src:3"), "where %s", ak.v[0].where);
	TU_CHECK(tu_streq(ak.v[0].comment, "plain key"), "comment %s", tu_str(ak.v[0].comment));
	TU_CHECK(!ak.v[0].o.no_pty && !ak.v[0].o.no_port_forwarding, "plain key restricted");
	/* restrict then pty: everything off but the pty */
	TU_CHECK(!ak.v[1].o.no_pty && ak.v[1].o.no_port_forwarding && ak.v[1].o.no_agent_forwarding &&
		 ak.v[1].o.no_x11_forwarding && ak.v[1].o.no_user_rc, "restrict,pty wrong");
	TU_CHECK(ak.v[2].o.no_pty && ak.v[2].o.no_port_forwarding, "flags");
	TU_CHECK(tu_streq(ak.v[2].o.command, "echo \"hi\""), "command %s", tu_str(ak.v[2].o.command));
	TU_CHECK(tu_streq(ak.v[2].o.from, "10.0.0.0/8"), "from %s", tu_str(ak.v[2].o.from));
	TU_CHECK(tu_streq(ak.v[2].comment, "c"), "CRLF comment \"%s\"", tu_str(ak.v[2].comment));
	TU_CHECK(ak.v[3].o.permitopen && tu_streq(ak.v[3].o.permitopen[0], "localhost:8888") &&
		 tu_streq(ak.v[3].o.permitopen[1], "127.0.0.1:*") && !ak.v[3].o.permitopen[2], "permitopen list");
	TU_CHECK(ak.v[3].o.environment && tu_streq(ak.v[3].o.environment[0], "A=b c"), "environment");
	TU_CHECK(authkeys_may_open(&ak.v[3].o, "localhost", 8888) && authkeys_may_open(&ak.v[3].o, "127.0.0.1", 9) &&
		 !authkeys_may_open(&ak.v[3].o, "localhost", 22), "permitopen decisions");
	TU_CHECK(!authkeys_may_open(&ak.v[2].o, "localhost", 8888), "no-port-forwarding allowed a forward");
	TU_CHECK(authkeys_may_open(&ak.v[0].o, "example.com", 443), "plain key may forward anywhere");
	TU_CHECK(ak.v[4].o.expiry > 0, "expiry");
	authkeys_free(&ak);
	TU_END();
}

static void test_bad_lines(void **state)
{
	static const struct { const char *line, *why; } rows[] = {
		{ "ssh-ed25519 AAAAnot-base64", "not valid" },
		{ "ssh-frobnicate AAAAC3Nz", "unknown key type \"ssh-frobnicate\"" },
		{ "bogus " KEY_A, "unknown option \"bogus\"" },
		{ "command=unquoted " KEY_A, "double quotes" },
		{ "command=\"unterminated " KEY_A, "closing quote" },
		{ "from=\"10.0.0.0/40\" " KEY_A, "not a valid pattern list" },
		{ "permitopen=\"nohostport\" " KEY_A, "not host:port" },
		{ "environment=\"=x\" " KEY_A, "NAME=value" },
		{ "expiry-time=\"tomorrow\" " KEY_A, "YYYYMMDD" },
		{ "cert-authority " KEY_A, "unsupported option \"cert-authority\"" },
		{ "no-pty", "options but no key" },
		{ "no-pty,", "malformed" },
		{ "ssh-ed25519", "not valid" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct authkeys ak = { 0 };
		struct errs e = { 0 };
		char text[1024];
		snprintf(text, sizeof(text), "%s\n%s\n", KEY_B, rows[i].line);
		authkeys_parse(&ak, text, "f", on_err, &e);
		TU_CHECK(ak.n == 1 && e.n == 1 && ak.errors == 1, "\"%s\": %zu keys, %d errors", rows[i].line, ak.n, e.n);
		if (e.n == 1) {
			TU_CHECK(tu_streq(e.where[0], "f:2"), "\"%s\": where %s", rows[i].line, e.where[0]);
			TU_CHECK(strstr(e.why[0], rows[i].why) != NULL, "\"%s\": why \"%s\", want \"%s\"", rows[i].line,
				 e.why[0], rows[i].why);
		}
		authkeys_free(&ak);
	}
	TU_END();
}

static void test_match(void **state)
{
	struct authkeys ak = { 0 };
	ssh_key a = key_of(KEY_A), b = key_of(KEY_B);
	const struct authkey *k;
	const char *why;
	(void)state;

	authkeys_parse(&ak,
		       "from=\"10.0.0.0/8\" " KEY_A " first\n"
		       "from=\"127.0.0.1\" " KEY_A " second\n"
		       "expiry-time=\"20000101\" " KEY_B "\n",
		       "m", NULL, NULL);
	assert_int_equal(ak.n, 3);
	k = authkeys_match(&ak, a, "10.1.1.1", time(NULL), &why);
	TU_CHECK(k && tu_streq(k->comment, "first"), "10.1.1.1 should match the first line");
	k = authkeys_match(&ak, a, "127.0.0.1", time(NULL), &why);
	TU_CHECK(k && tu_streq(k->comment, "second"), "127.0.0.1 should match the second line");
	k = authkeys_match(&ak, a, "192.168.0.1", time(NULL), &why);
	TU_CHECK(!k && why && strstr(why, "from="), "192.168.0.1 admitted or no reason (%s)", tu_str(why));
	k = authkeys_match(&ak, b, "127.0.0.1", time(NULL), &why);
	TU_CHECK(!k && why && strstr(why, "expired"), "expired key admitted (%s)", tu_str(why));
	k = authkeys_match(&ak, b, "127.0.0.1", 0, &why);
	TU_CHECK(k != NULL, "key before its expiry refused");
	ssh_key_free(a);
	ssh_key_free(b);
	authkeys_free(&ak);
	TU_END();
}

static void test_load_file(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path("%s/ak", dir);
	struct authkeys ak = { 0 };
	struct errs e = { 0 };
	(void)state;

	TU_CHECK(authkeys_load_file(&ak, path, on_err, &e) == -ENOENT, "missing file not -ENOENT");
	tu_write_file(path, KEY_A "\nnonsense\n" KEY_B);
	TU_CHECK(authkeys_load_file(&ak, path, on_err, &e) == 0, "load failed");
	TU_CHECK(ak.n == 2 && e.n == 1, "%zu keys, %d errors", ak.n, e.n);
	TU_CHECK(e.n == 1 && strstr(e.where[0], "/ak:2"), "where %s", e.where[0]);
	authkeys_free(&ak);
	tu_rm_rf(dir);
	free(path);
	free(dir);
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_addr_list),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_parse_options),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
