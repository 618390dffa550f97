/* SPDX-License-Identifier: Apache-2.0 */
/* test_cluster.c — cluster SSH's pure parts: the files it writes (authorized
 * keys, known_hosts, the managed ~/.ssh/config block, the hostfile), what a
 * published key may look like, network trust's address matching, GPU
 * counting, the records' client_key and gpus members, and the poll pace. */
#include "testutil.h"

#include "cluster/cluster_files.h"
#include "platform/gpus.h"
#include "ssh/nettrust.h"
#include "cluster/pace.h"
#include "cloudwatch/records.h"

#define HK1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1111111111111111111111111111111111111111"
#define HK2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2222222222222222222222222222222222222222"
#define CK1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1111111111111111111111111111111111111111 porthole-cluster@algo-1"
#define CK2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2222222222222222222222222222222222222222 porthole-cluster@algo-2"

static const struct cluster_peer two[] = {
	{ .host = "algo-1", .ip = "10.0.0.1", .host_key = HK1, .client_key = CK1, .port = 22, .gpus = 8 },
	{ .host = "algo-2", .ip = "10.0.0.2", .host_key = HK2, .client_key = CK2, .port = 2222, .gpus = 0 },
};

static void test_key_valid(void **state)
{
	(void)state;
	TU_CHECK(cluster_files_key_valid(HK1), "plain key");
	TU_CHECK(cluster_files_key_valid(CK1), "key with comment");
	TU_CHECK(cluster_files_key_valid("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= x@y"), "ecdsa");
	static const char *const bad[] = {
		NULL, "", "ssh-ed25519", "ssh-ed25519 ", "ssh-ed25519 short",
		/* a second line would be a second entry in known_hosts */
		HK1 "\nalgo-9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH9999999999999999",
		HK1 " comment\rx", "from=\"*\" " HK1, "SSH-ED25519 AAAAC3NzaC1lZDI1NTE5AAAA",
		"ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIH1111", "ssh-ed25519 AAAAC3Nza\"C1lZDI1NTE5AAAAIH1111",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TU_CHECK(!cluster_files_key_valid(bad[i]), "bad key %zu accepted: %s", i, bad[i] ? bad[i] : "NULL");
	TU_END();
}

static void test_authorized_keys(void **state)
{
	struct cluster_peer v[3] = { two[0], two[1], { .host = "algo-3", .client_key = "evil\ncommand=\"x\" k" } };
	char *s = cluster_files_authorized_keys(v, 3);
	(void)state;

	assert_non_null(s);
	/* The comment is porthole's, not the record's. */
	assert_string_equal(s, "# porthole cluster SSH: the job's hosts' client keys (written at each start)\n"
			       "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1111111111111111111111111111111111111111 "
			       "porthole-cluster@algo-1\n"
			       "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2222222222222222222222222222222222222222 "
			       "porthole-cluster@algo-2\n");
	free(s);
}

static void test_known_hosts(void **state)
{
	struct cluster_peer v[4] = { two[0], two[1], { .host = "algo-3", .ip = "10.0.0.3", .port = 22 },
				     { .host = "algo-4", .host_key = HK1 " with comment", .port = 22 } };
	char *s = cluster_files_known_hosts(v, 4);
	(void)state;

	assert_non_null(s);
	assert_string_equal(s, "algo-1,10.0.0.1 " HK1 "\n"
			       "[algo-2]:2222,[10.0.0.2]:2222 " HK2 "\n"
			       "algo-4 " HK1 "\n");
	free(s);
}

static void test_ssh_block_keys(void **state)
{
	char *s = cluster_files_ssh_block(two, 2, true, 22);
	(void)state;

	assert_non_null(s);
	assert_string_equal(s, CLUSTER_BLOCK_BEGIN "\n"
			       "# Written by porthole (PORTHOLE_CLUSTER_SSH=1) at each start; edits inside this block "
			       "are lost.\n"
			       "Host algo-1 10.0.0.1\n"
			       "  HostName 10.0.0.1\n"
			       "  IdentityFile ~/.ssh/porthole_cluster_ed25519\n"
			       "  IdentitiesOnly yes\n"
			       "  UserKnownHostsFile ~/.ssh/porthole_known_hosts\n"
			       "  StrictHostKeyChecking yes\n"
			       "Host algo-2 10.0.0.2\n"
			       "  HostName 10.0.0.2\n"
			       "  Port 2222\n"
			       "  IdentityFile ~/.ssh/porthole_cluster_ed25519\n"
			       "  IdentitiesOnly yes\n"
			       "  UserKnownHostsFile ~/.ssh/porthole_known_hosts\n"
			       "  StrictHostKeyChecking yes\n" CLUSTER_BLOCK_END "\n");
	free(s);
}

static void test_ssh_block_network(void **state)
{
	struct cluster_peer v[3] = { { .host = "algo-1", .ip = "10.0.0.1" }, { .host = "algo-2" },
				     { .host = "algo-3", .ip = "10.0.0.3" } };
	char *s = cluster_files_ssh_block(v, 3, false, 2222);
	(void)state;

	assert_non_null(s);
	assert_non_null(strstr(s, "\nHost algo-* 10.0.0.1 10.0.0.3\n  Port 2222\n"));
	assert_non_null(strstr(s, "  StrictHostKeyChecking accept-new\n" CLUSTER_BLOCK_END "\n"));
	assert_null(strstr(s, "HostName"));
	free(s);
}

static void test_config_merge(void **state)
{
	const char *block = CLUSTER_BLOCK_BEGIN "\nHost algo-1\n  Port 1\n" CLUSTER_BLOCK_END "\n";
	const char *block2 = CLUSTER_BLOCK_BEGIN "\nHost algo-1\n  Port 2\n" CLUSTER_BLOCK_END "\n";
	const char *user = "Host laptop\n  User me\n\nHost *\n  ServerAliveInterval 30\n";
	char *a, *b, *c, *d;
	(void)state;

	/* No file yet: the block alone. */
	a = cluster_files_config_merge(NULL, block);
	assert_string_equal(a, block);
	free(a);

	/* The user's file: the block goes first, the rest as it was. */
	a = cluster_files_config_merge(user, block);
	assert_non_null(a);
	assert_true(strncmp(a, block, strlen(block)) == 0);
	assert_string_equal(a + strlen(block), user);

	/* Again: the same bytes (idempotent). */
	b = cluster_files_config_merge(a, block);
	assert_string_equal(a, b);

	/* New contents replace the old block in place, nothing else moves. */
	c = cluster_files_config_merge(b, block2);
	assert_true(strncmp(c, block2, strlen(block2)) == 0);
	assert_string_equal(c + strlen(block2), user);
	assert_null(strstr(c, "Port 1"));

	/* A block the user moved below their own lines comes back to the top. */
	char *moved = NULL;
	assert_true(asprintf(&moved, "%s%s", user, block) > 0);
	d = cluster_files_config_merge(moved, block2);
	assert_true(strncmp(d, block2, strlen(block2)) == 0);
	assert_string_equal(d + strlen(block2), user);
	free(moved);
	free(a);
	free(b);
	free(c);
	free(d);

	/* A BEGIN without END is not porthole's to cut: everything is kept. */
	const char *broken = CLUSTER_BLOCK_BEGIN "\nHost x\n";
	a = cluster_files_config_merge(broken, block);
	assert_true(strncmp(a, block, strlen(block)) == 0);
	assert_string_equal(a + strlen(block), broken);
	free(a);

	/* The markers count only as whole lines. */
	const char *quoted = "# see " CLUSTER_BLOCK_BEGIN "\nHost y\n";
	a = cluster_files_config_merge(quoted, block);
	assert_string_equal(a + strlen(block), quoted);
	free(a);
}

static void test_hostfile(void **state)
{
	char *s = cluster_files_hostfile(two, 2);
	(void)state;

	assert_string_equal(s, "algo-1 slots=8\nalgo-2 slots=1\n");
	free(s);
	s = cluster_files_hostfile(two, 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_write_file(void **state)
{
	char *dir = tu_tmpdir(), *path = tu_path("%s/f", dir), *got;
	struct stat st;
	(void)state;

	assert_int_equal(cluster_files_write(path, "one\n", 0600), 0);
	assert_int_equal(cluster_files_write(path, "two\n", 0644), 0);
	got = tu_read_file(path);
	assert_string_equal(got, "two\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	free(got);
	/* No temporary file is left behind. */
	char *ls = tu_path("%s/f.XXXXXX", dir);
	assert_int_equal(access(ls, F_OK), -1);
	free(ls);
	assert_int_equal(cluster_files_write("/nonexistent/dir/f", "x", 0600), -ENOENT);
	tu_rm_rf(dir);
	free(path);
	free(dir);
}

static void test_runtime_path(void **state)
{
	char buf[256];
	(void)state;

	cluster_files_path("/run/porthole", CLUSTER_KEYS_FILE, buf, sizeof(buf));
	assert_string_equal(buf, "/run/porthole/authorized_keys.cluster");
	cluster_files_path("/run/porthole", CLUSTER_TRUST_FILE, buf, sizeof(buf));
	assert_string_equal(buf, "/run/porthole/cluster_trust");
}

static void test_nettrust(void **state)
{
	const char *list = "# the job's hosts\n10.0.0.1\n  10.0.0.2  \nfd00::5\nalgo-3\n10.0.0.0/8\n*\n\n";
	(void)state;

	TU_CHECK(nettrust_allows(list, "10.0.0.1"), "listed");
	TU_CHECK(nettrust_allows(list, "10.0.0.2"), "listed with blanks");
	TU_CHECK(nettrust_allows(list, "::ffff:10.0.0.1"), "IPv4-mapped");
	TU_CHECK(nettrust_allows(list, "fd00:0::5"), "IPv6, other spelling");
	/* Names, blocks and globs are not addresses: they admit nobody. */
	TU_CHECK(!nettrust_allows(list, "10.0.0.3"), "inside 10.0.0.0/8 but not listed");
	TU_CHECK(!nettrust_allows(list, "10.0.0.10"), "prefix of a listed address");
	TU_CHECK(!nettrust_allows(list, "192.168.1.1"), "outsider");
	TU_CHECK(!nettrust_allows(list, "algo-3"), "a name");
	TU_CHECK(!nettrust_allows(list, ""), "empty");
	TU_CHECK(!nettrust_allows(NULL, "10.0.0.1"), "no list");
	TU_CHECK(!nettrust_allows("", "10.0.0.1"), "empty list");
	TU_END();
}

static void test_nettrust_check(void **state)
{
	char *dir = tu_tmpdir(), *file = tu_path("%s/cluster_trust", dir);
	/* config_load sets the trust file only for network trust with cluster
	 * SSH on (test_config checks that); without it no list counts. */
	struct ssh_settings cfg = { .cluster_dir = dir, .cluster_trust_file = file };
	(void)state;

	assert_false(nettrust_check(&cfg, "10.0.0.1")); /* no list yet */
	tu_write_file(file, "10.0.0.1\n");
	assert_true(nettrust_check(&cfg, "10.0.0.1"));
	assert_false(nettrust_check(&cfg, "10.0.0.2"));
	/* Keys mode (no trust file) never trusts addresses. */
	cfg.cluster_trust_file = NULL;
	assert_false(nettrust_check(&cfg, "10.0.0.1"));
	tu_rm_rf(dir);
	free(file);
	free(dir);
}

static void test_gpus(void **state)
{
	char *dir = tu_tmpdir();
	static const char *const names[] = { "nvidia0", "nvidia1", "nvidia15", "nvidiactl", "nvidia-uvm",
					     "nvidia-uvm-tools", "nvidia-caps", "nvidia", "nvidia0x", "null" };
	(void)state;

	assert_int_equal(gpus_count(dir), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = tu_path("%s/%s", dir, names[i]);
		tu_write_file(p, "");
		free(p);
	}
	assert_int_equal(gpus_count(dir), 3);
	assert_int_equal(gpus_count("/nonexistent"), 0);
	tu_rm_rf(dir);
	free(dir);
}

static void test_records_cluster_members(void **state)
{
	const char *page =
		"{\"events\":[{\"logStreamName\":\"j/algo-1-1/ssm\",\"timestamp\":5,\"message\":"
		"\"{\\\"event\\\":\\\"identity\\\",\\\"data\\\":{\\\"porthole\\\":\\\"ready\\\",\\\"job\\\":\\\"j\\\","
		"\\\"host\\\":\\\"algo-1\\\",\\\"ip\\\":\\\"10.0.0.1\\\",\\\"port\\\":22,\\\"host_key\\\":\\\"" HK1
		"\\\",\\\"client_key\\\":\\\"" CK1 "\\\",\\\"gpus\\\":8,"
		"\\\"cluster\\\":{\\\"state\\\":\\\"rendezvous\\\",\\\"authorized\\\":3}}}\"}]}";
	struct hostset set = { 0 };
	char *next = NULL;
	(void)state;

	assert_int_equal(records_merge_page(&set, "j", page, &next), 0);
	const struct host_rec *h = records_find(&set, "algo-1");
	assert_non_null(h);
	assert_string_equal(h->client_key, CK1);
	assert_int_equal(h->gpus, 8);
	records_free(&set);
}

static void test_pace_small_job(void **state)
{
	struct pace p;
	(void)state;

	/* 3 hosts, a follower's FilterLogEvents: its share of what the leader
	 * leaves (2 x 0.686 s) is above the 300 ms floor. */
	pace_init(&p, 3, PACE_FOLLOWER);
	assert_int_equal(pace_after(&p, 1), 1371428);
	assert_int_equal(pace_after(&p, 1), 2000000); /* 2.06 s, capped */
	assert_int_equal(pace_after(&p, 1), 2000000);
	/* News: fast again. */
	assert_int_equal(pace_after(&p, 2), 1371428);
	/* Throttled: the longest, and growing from there stays there. */
	assert_int_equal(pace_throttled(&p), 2000000);
	assert_int_equal(pace_after(&p, 2), 2000000);
	/* The leader: 2.5 calls a second, growing to 600 ms without news. */
	pace_init(&p, 3, PACE_LEADER);
	assert_int_equal(pace_after(&p, 1), 533333);
	assert_int_equal(pace_after(&p, 1), 600000);
	assert_int_equal(pace_after(&p, 1), 600000);
	assert_int_equal(pace_after(&p, 2), 533333);
	/* The roster: the small-job floor, growing to 600 ms. */
	pace_init(&p, 3, PACE_ROSTER);
	assert_int_equal(pace_after(&p, 0), 300000);
	assert_int_equal(pace_after(&p, 0), 450000);
	assert_int_equal(pace_after(&p, 0), 600000);
	/* A single host: the floor, growing to 2 s as before the roster. */
	pace_init(&p, 1, PACE_LEADER);
	assert_int_equal(pace_after(&p, 0), 300000);
	assert_int_equal(pace_after(&p, 0), 450000);
	assert_int_equal(pace_throttled(&p), 2000000);
}

/* The shortest delay a pace ever gives (news every time). */
static uint64_t shortest(size_t n, enum pace_role role)
{
	struct pace p;
	uint64_t best = UINT64_MAX;

	pace_init(&p, n, role);
	for (size_t known = 1; known <= n + 1; known++) {
		uint64_t d = pace_after(&p, known);
		best = d < best ? d : best;
	}
	TU_CHECK(pace_mean_usec(&p) == best * 3 / 4, "%zu hosts: mean %llu", n, (unsigned long long)pace_mean_usec(&p));
	return best;
}

static void test_pace_share_of_quota(void **state)
{
	(void)state;

	/* However big the job, all hosts together average under both quotas
	 * (FilterLogEvents 5, GetLogEvents 25 calls a second, with a margin):
	 * each waits 3/4 of its delay on average, and its delay is never below
	 * its share.  The leader alone keeps about half of FilterLogEvents. */
	static const size_t sizes[] = { 1, 2, 3, 16, 64, 256 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		double lead = 1e6 / (0.75 * (double)shortest(n, PACE_LEADER));
		double follow = 1e6 / (0.75 * (double)shortest(n, PACE_FOLLOWER));
		double roster = 1e6 / (0.75 * (double)shortest(n, PACE_ROSTER));
		double filter = lead + (double)(n - 1) * follow, get = (double)(n - 1) * roster;
		TU_CHECK(filter <= 4.5, "%zu hosts: %.2f FilterLogEvents a second", n, filter);
		TU_CHECK(get <= 22.5, "%zu hosts: %.2f GetLogEvents a second", n, get);
		TU_CHECK(n == 1 || (lead >= 2.4 && lead <= 2.6), "%zu hosts: the leader's %.2f a second", n, lead);
		/* No host faster than the small-job floor. */
		TU_CHECK(lead <= 4.45 && follow <= 4.45 && roster <= 4.45, "%zu hosts: under the floor", n);
	}
	/* 16 hosts: the others read the roster every 1 s at most (0.75 s on
	 * average), and search the records every 10.3 s. */
	TU_CHECK(shortest(16, PACE_ROSTER) == 1000000, "16 hosts: roster %llu",
		 (unsigned long long)shortest(16, PACE_ROSTER));
	TU_CHECK(shortest(16, PACE_FOLLOWER) == 10285713, "16 hosts: follower %llu",
		 (unsigned long long)shortest(16, PACE_FOLLOWER));
	TU_END();
}

static void test_pace_jitter(void **state)
{
	(void)state;

	assert_int_equal(pace_jitter(1000000, 0), 500000);
	assert_int_equal(pace_jitter(1000000, UINT32_MAX), 999999);
	assert_int_equal(pace_jitter(1000000, UINT32_C(1) << 31), 750000);
	assert_int_equal(pace_jitter(0, 12345), 0);
	assert_int_equal(pace_jitter(1, UINT32_MAX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_valid),       cmocka_unit_test(test_authorized_keys),
		cmocka_unit_test(test_known_hosts),     cmocka_unit_test(test_ssh_block_keys),
		cmocka_unit_test(test_ssh_block_network), cmocka_unit_test(test_config_merge),
		cmocka_unit_test(test_hostfile),        cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_runtime_path),    cmocka_unit_test(test_nettrust),
		cmocka_unit_test(test_nettrust_check),  cmocka_unit_test(test_gpus),
		cmocka_unit_test(test_records_cluster_members), cmocka_unit_test(test_pace_small_job),
		cmocka_unit_test(test_pace_share_of_quota), cmocka_unit_test(test_pace_jitter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
