/* SPDX-License-Identifier: Apache-2.0 */
/* test_roster.c — the cluster rendezvous's roster: building and parsing it,
 * the leader, what a host accepts (its own current keys, every host, the
 * newest), and the reasons it gives for what it rejects. */
#include "testutil.h"

#include "cluster/roster.h"

#define HK1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1111111111111111111111111111111111111111"
#define HK2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2222222222222222222222222222222222222222"
#define HK3 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3333333333333333333333333333333333333333"
#define CK1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1111111111111111111111111111111111111111 porthole-cluster@algo-1"
#define CK2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2222222222222222222222222222222222222222 porthole-cluster@algo-2"
#define CK2_OLD "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC9999999999999999999999999999999999999999 porthole-cluster@algo-2"

static char *const hosts2[] = { "algo-1", "algo-2" };

static const struct roster_host two[] = {
	{ .host = "algo-1", .ip = "10.0.0.1", .host_key = HK1, .client_key = CK1, .port = 22, .gpus = 8,
	  .ts = "2026-01-01T00:00:00.000Z", .ts_ms = 1767225600000 },
	{ .host = "algo-2", .ip = "10.0.0.2", .host_key = HK2, .client_key = CK2, .port = 2222, .gpus = 0,
	  .ts_ms = 1767225601000 },
};

/* algo-2 as it publishes now. */
static const struct roster_self me = { .job = "j", .host = "algo-2", .host_key = HK2, .client_key = CK2,
				       .hosts = hosts2, .n_hosts = 2 };

static void test_stream_and_leader(void **state)
{
	char buf[64];
	char *const order[] = { "algo-10", "algo-2", "algo-1", "algo-3" };
	char *const names[] = { "worker-b", "worker-a" };
	(void)state;

	assert_int_equal(roster_stream("job-7", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "job-7/porthole-roster");
	assert_int_equal(roster_stream("a-long-job-name", buf, 10), -1);
	/* algo-N by number, whatever resourceconfig.json's order. */
	assert_string_equal(roster_leader(order, 4), "algo-1");
	assert_string_equal(roster_leader(order, 2), "algo-2");
	assert_string_equal(roster_leader(names, 2), "worker-a");
	assert_null(roster_leader(NULL, 0));
}

static void test_round_trip(void **state)
{
	char *msg = roster_build("j", "algo-1", two, 2), why[256] = "";
	struct roster r;
	(void)state;

	assert_non_null(msg);
	/* Not a host's record: records.c reads "porthole":"ready". */
	assert_non_null(strstr(msg, "\"porthole\":\"roster\""));
	assert_int_equal(roster_parse(msg, "j", hosts2, 2, &r, why, sizeof(why)), 0);
	assert_string_equal(r.leader, "algo-1");
	assert_int_equal(r.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(r.v[i].host, two[i].host);
		assert_string_equal(r.v[i].ip, two[i].ip);
		assert_string_equal(r.v[i].host_key, two[i].host_key);
		assert_string_equal(r.v[i].client_key, two[i].client_key);
		assert_int_equal(r.v[i].port, two[i].port);
		assert_int_equal(r.v[i].gpus, two[i].gpus);
		assert_int_equal(r.v[i].ts_ms, two[i].ts_ms);
	}
	assert_string_equal(r.v[0].ts, two[0].ts);
	assert_null(r.v[1].ts);
	assert_int_equal(roster_holds(&r, &me, why, sizeof(why)), 0);

	/* As peers, in resourceconfig.json's order. */
	char *const rev[] = { "algo-2", "algo-1" };
	struct cluster_peer p[2];
	assert_int_equal(roster_peers(&r, rev, 2, p), 2);
	assert_string_equal(p[0].host, "algo-2");
	assert_string_equal(p[0].ip, "10.0.0.2");
	assert_int_equal(p[0].port, 2222);
	assert_string_equal(p[1].client_key, CK1);
	assert_int_equal(p[1].gpus, 8);
	roster_free(&r);
	free(msg);
}

static void test_holds_own_current_keys(void **state)
{
	struct roster_host stale[2] = { two[0], two[1] };
	char *msg, why[256] = "";
	struct roster r;
	(void)state;

	/* An earlier attempt's roster: algo-2 had another client key. */
	stale[1].client_key = CK2_OLD;
	msg = roster_build("j", "algo-1", stale, 2);
	assert_int_equal(roster_parse(msg, "j", hosts2, 2, &r, why, sizeof(why)), 0);
	assert_int_equal(roster_holds(&r, &me, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "other keys for this host (algo-2)"));
	roster_free(&r);
	free(msg);

	/* Another host key. */
	stale[1].client_key = CK2;
	stale[1].host_key = HK3;
	msg = roster_build("j", "algo-1", stale, 2);
	assert_int_equal(roster_parse(msg, "j", hosts2, 2, &r, why, sizeof(why)), 0);
	assert_int_equal(roster_holds(&r, &me, why, sizeof(why)), -1);
	roster_free(&r);
	free(msg);

	/* The same keys with another comment are the same keys. */
	stale[1].host_key = HK2 " root@algo-2";
	stale[1].client_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2222222222222222222222222222222222222222 x";
	msg = roster_build("j", "algo-1", stale, 2);
	assert_int_equal(roster_parse(msg, "j", hosts2, 2, &r, why, sizeof(why)), 0);
	assert_int_equal(roster_holds(&r, &me, why, sizeof(why)), 0);
	roster_free(&r);
	free(msg);

	/* A roster without this host at all (a job of other hosts). */
	msg = roster_build("j", "algo-1", two, 1);
	char *const just1[] = { "algo-1" };
	assert_int_equal(roster_parse(msg, "j", just1, 1, &r, why, sizeof(why)), 0);
	assert_int_equal(roster_holds(&r, &me, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "lacks this host"));
	roster_free(&r);
	free(msg);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *msg, *why;
	} bad[] = {
		{ "not json", "not a porthole roster" },
		{ "{\"porthole\":\"ready\",\"job\":\"j\",\"host\":\"algo-1\"}", "not a porthole roster" },
		{ "{\"porthole\":\"roster\",\"version\":2,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[]}",
		  "another version" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"k\",\"leader\":\"algo-1\",\"hosts\":[]}",
		  "another job" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[]}",
		  "without its leader or hosts" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\\nHost *\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1
		  "\"}]}",
		  "no plain host name" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"evil.example\",\"port\":22,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1 "\"}]}",
		  "algo-1 has no numeric address" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":0,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1 "\"}]}",
		  "algo-1 has no SSH port" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\\ncommand=x\",\"client_key\":\"" CK1
		  "\"}]}",
		  "algo-1 has no valid host key and client key" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\"}]}",
		  "algo-1 has no valid host key and client key" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1
		  "\",\"gpus\":-1}]}",
		  "algo-1 has a bad GPU count" },
		/* Complete entries, but algo-2 is missing. */
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1 "\"}]}",
		  "the roster lacks algo-2" },
		{ "{\"porthole\":\"roster\",\"version\":1,\"job\":\"j\",\"leader\":\"algo-1\",\"hosts\":[{\"host\":"
		  "\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1 "\"},"
		  "{\"host\":\"algo-1\",\"ip\":\"10.0.0.1\",\"port\":22,\"host_key\":\"" HK1 "\",\"client_key\":\"" CK1
		  "\"}]}",
		  "algo-1 is in the roster twice" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[256] = "";
		struct roster r;
		int rc = roster_parse(bad[i].msg, "j", hosts2, 2, &r, why, sizeof(why));
		TU_CHECK(rc == -1, "message %zu accepted", i);
		TU_CHECK(strstr(why, bad[i].why) != NULL, "message %zu: \"%s\", not \"%s\"", i, why, bad[i].why);
		TU_CHECK(r.n == 0 && r.v == NULL, "message %zu: left a roster behind", i);
	}
	TU_END();
}

/* A GetLogEvents answer with the given messages at timestamps 100, 200 ... */
static char *page(const char *const *msgs, size_t n, const char *token)
{
	cJSON *o = cJSON_CreateObject(), *evs = cJSON_AddArrayToObject(o, "events");
	char *out;

	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "timestamp", (double)(100 * (i + 1)));
		cJSON_AddStringToObject(e, "message", msgs[i]);
		cJSON_AddNumberToObject(e, "ingestionTime", (double)(100 * (i + 1)));
		cJSON_AddItemToArray(evs, e);
	}
	if (token)
		cJSON_AddStringToObject(o, "nextForwardToken", token);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static void test_newest_wins(void **state)
{
	struct roster_host a[2] = { two[0], two[1] }, b[2] = { two[0], two[1] }, stale[2] = { two[0], two[1] };
	struct roster best = { 0 };
	char why[256] = "", *next = NULL;
	(void)state;

	a[0].ip = "10.0.0.11";
	b[0].ip = "10.0.0.12";
	stale[1].client_key = CK2_OLD;
	stale[0].ip = "10.0.0.13";
	char *ma = roster_build("j", "algo-1", a, 2), *mb = roster_build("j", "algo-1", b, 2),
	     *ms = roster_build("j", "algo-1", stale, 2);
	const char *const msgs[] = { ma, mb, ms, "garbage" };
	char *body = page(msgs, 4, "f/2");

	/* Two acceptable rosters: the later one; the stale one and the garbage
	 * are rejected, whatever their place. */
	assert_int_equal(roster_merge_page(body, &me, &best, &next, why, sizeof(why)), 2);
	assert_string_equal(next, "f/2");
	assert_int_equal(best.n, 2);
	assert_string_equal(best.v[0].ip, "10.0.0.12");
	assert_int_equal(best.event_ms, 200);
	free(next);
	free(body);

	/* A later page with only an older-stamped roster keeps the newest. */
	const char *const older[] = { ma };
	body = page(older, 1, NULL);
	assert_int_equal(roster_merge_page(body, &me, &best, &next, why, sizeof(why)), 0);
	assert_null(next);
	assert_string_equal(best.v[0].ip, "10.0.0.12");
	free(body);
	roster_free(&best);

	/* Only a stale one: nothing taken, and why says so. */
	const char *const only_stale[] = { ms };
	body = page(only_stale, 1, "f/3");
	assert_int_equal(roster_merge_page(body, &me, &best, &next, why, sizeof(why)), 1);
	assert_int_equal(best.n, 0);
	assert_non_null(strstr(why, "other keys for this host"));
	free(next);
	free(body);

	/* Not a GetLogEvents answer. */
	assert_int_equal(roster_merge_page("{\"nextToken\":\"x\"}", &me, &best, &next, why, sizeof(why)), -1);
	assert_int_equal(roster_merge_page("", &me, &best, &next, why, sizeof(why)), -1);
	free(ma);
	free(mb);
	free(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_and_leader), cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_holds_own_current_keys), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_newest_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
