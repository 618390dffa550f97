/* SPDX-License-Identifier: Apache-2.0 */
/* test_persource.c — netblocks and the penalty exempt list. */
#include "testutil.h"

#include "ssh/persource.h"

static void test_blocks(void **state)
{
	static const struct {
		const char *addr;
		unsigned v4, v6;
		const char *want;
	} cases[] = {
		{ "10.1.2.3", 32, 128, "10.1.2.3/32" },
		{ "10.1.2.3", 24, 128, "10.1.2.0/24" },
		{ "10.1.2.3", 0, 128, "0.0.0.0/0" },
		{ "10.1.2.3", 20, 128, "10.1.0.0/20" },
		{ "fd00::1:2", 32, 64, "fd00::/64" },
		{ "fd00:1:2:3:4::1", 32, 48, "fd00:1:2::/48" },
		{ "::1", 32, 128, "::1/128" },
	};
	char buf[72];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ssh_netblock nb = { cases[i].v4, cases[i].v6 };
		TU_CHECK(persource_block(cases[i].addr, &nb, buf, sizeof(buf)) == 0 && strcmp(buf, cases[i].want) == 0,
			 "%s /%u /%u: \"%s\", want \"%s\"", cases[i].addr, cases[i].v4, cases[i].v6, buf, cases[i].want);
	}
	struct ssh_netblock nb = { 32, 128 };
	TU_CHECK(persource_block("nope", &nb, buf, sizeof(buf)) < 0, "not an address");
	TU_END();
}

static void test_exempt(void **state)
{
	struct ssh_settings cfg = { 0 };
	(void)state;

	assert_true(persource_exempt_valid("loopback,cluster"));
	assert_true(persource_exempt_valid("none"));
	assert_true(persource_exempt_valid("10.0.0.0/8,!10.1.*,fd00::/8"));
	assert_false(persource_exempt_valid("10.0.0.0/99"));
	assert_false(persource_exempt_valid(NULL));

	assert_true(persource_exempt("loopback,cluster", &cfg, "127.0.0.1"));
	assert_true(persource_exempt("loopback", &cfg, "127.5.5.5"));
	assert_true(persource_exempt("loopback", &cfg, "::1"));
	assert_false(persource_exempt("loopback,cluster", &cfg, "10.1.2.3"));
	assert_false(persource_exempt("none", &cfg, "127.0.0.1"));
	assert_true(persource_exempt("10.0.0.0/8", &cfg, "10.1.2.3"));
	assert_false(persource_exempt(NULL, &cfg, "127.0.0.1"));
}

static void test_cluster_hosts(void **state)
{
	char *dir = tu_tmpdir(), path[512];
	struct ssh_settings cfg = { 0 };
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/porthole_known_hosts", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# porthole\nalgo-1,10.0.0.1 ssh-ed25519 AAAA\n[algo-2]:2222,[10.0.0.2]:2222 ssh-ed25519 AAAA\n");
	fclose(f);
	cfg.cluster_hosts_file = path;
	assert_true(persource_exempt("cluster", &cfg, "10.0.0.1"));
	assert_true(persource_exempt("cluster", &cfg, "10.0.0.2"));
	assert_false(persource_exempt("cluster", &cfg, "10.0.0.3"));
	assert_false(persource_exempt("cluster", &cfg, "127.0.0.1"));
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_cluster_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
