/* SPDX-License-Identifier: Apache-2.0 */
/* test_rendezvous.c — the cluster rendezvous's decisions (rendezvous.h),
 * without a process or the network: whose keys are known (this host's own
 * from itself, the others' from complete records), what a host lacks,
 * who writes and who reads the roster, what a roster hands over, when
 * each call is due, when CloudWatch counts as unreadable (throttling does
 * not), the roster's fallback, and the result at the end. */
#include "testutil.h"

#include "cluster/rendezvous.h"

#define MS (UINT64_C(1000))
#define SEC (UINT64_C(1000000))

#define HK1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1111111111111111111111111111111111111111"
#define HK2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2222222222222222222222222222222222222222"
#define HK3 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3333333333333333333333333333333333333333"
#define CK1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1111111111111111111111111111111111111111 porthole-cluster@algo-1"
#define CK2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2222222222222222222222222222222222222222 porthole-cluster@algo-2"
#define CK2_OLD "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC9999999999999999999999999999999999999999 porthole-cluster@algo-2"
#define CK3 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3333333333333333333333333333333333333333 porthole-cluster@algo-3"

static char *const hosts3[] = { "algo-1", "algo-2", "algo-3" };

/* algo-2, with everything it publishes known to itself. */
static const struct rendezvous_job me2 = {
	.hosts = hosts3, .n_hosts = 3,
	.self = { .host = "algo-2", .ip = "10.0.0.2", .host_key = HK2, .client_key = CK2, .port = 22, .gpus = 8 },
};

#define REC(name, addr, p, hk, ck) \
	{ .host = (char *)(name), .ip = (char *)(addr), .port = (p), .host_key = (char *)(hk), \
	  .client_key = (char *)(ck), .ts_ms = 1767225600000 }

/* What CloudWatch says: algo-1 complete, algo-2 an old record of this
 * host (another client key), algo-3 without a client key. */
static struct host_rec recs[] = {
	REC("algo-1", "10.0.0.1", 22, HK1, CK1),
	REC("algo-2", "10.0.0.2", 22, HK2, CK2_OLD),
	REC("algo-3", "10.0.0.3", 2222, HK3, NULL),
};
static const struct hostset cw = { .v = recs, .n = 3 };

static void test_known(void **state)
{
	struct cluster_peer p[3];
	struct rendezvous_job half = me2;
	(void)state;

	/* This host knows itself without any record. */
	assert_true(rendezvous_known(&me2, NULL, "algo-2", &p[0]));
	assert_string_equal(p[0].client_key, CK2);
	assert_int_equal(p[0].gpus, 8);
	assert_false(rendezvous_known(&me2, NULL, "algo-1", &p[0]));
	/* ... and takes its own current keys over its older record's. */
	assert_true(rendezvous_known(&me2, &cw, "algo-2", &p[0]));
	assert_string_equal(p[0].client_key, CK2);

	/* The others: a complete record only. */
	assert_true(rendezvous_known(&me2, &cw, "algo-1", &p[0]));
	assert_string_equal(p[0].ip, "10.0.0.1");
	assert_string_equal(p[0].client_key, CK1);
	assert_false(rendezvous_known(&me2, &cw, "algo-3", &p[0]));
	assert_false(rendezvous_known(&me2, &cw, "algo-9", &p[0]));

	/* In the job's order; not all yet. */
	assert_int_equal(rendezvous_peers(&me2, &cw, p), 2);
	assert_string_equal(p[0].host, "algo-1");
	assert_string_equal(p[1].host, "algo-2");

	/* Without its own address this host needs its record like any other,
	 * and that one holds an old client key, which still counts as one. */
	half.self.ip = "";
	assert_true(rendezvous_known(&half, &cw, "algo-2", &p[0]));
	assert_string_equal(p[0].client_key, CK2_OLD);
	assert_false(rendezvous_known(&half, NULL, "algo-2", &p[0]));
	/* Nor before its client key is made. */
	half = me2;
	half.self.client_key = NULL;
	assert_false(rendezvous_known(&half, NULL, "algo-2", &p[0]));
}

static void test_every_host_known(void **state)
{
	struct host_rec all[] = { recs[0], recs[1], REC("algo-3", "10.0.0.3", 2222, HK3, CK3) };
	struct hostset set = { .v = all, .n = 3 };
	struct cluster_peer p[3];
	char buf[256];
	(void)state;

	assert_int_equal(rendezvous_peers(&me2, &set, p), 3);
	assert_int_equal(p[2].port, 2222);
	rendezvous_waiting(&me2, &set, buf, sizeof(buf));
	assert_string_equal(buf, "");
	rendezvous_missing(&me2, &set, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void test_lacking(void **state)
{
	struct host_rec odd[] = {
		REC("algo-1", NULL, 22, HK1, CK1),
		REC("algo-2", "10.0.0.2", 0, HK2, CK2),
		REC("algo-3", "10.0.0.3", 22, "ssh-ed25519", CK3),
		REC("algo-4", "10.0.0.4", 22, HK1, CK1 "\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC9 x"),
		REC("algo-5", "10.0.0.5", 22, HK1, CK1),
	};
	struct hostset set = { .v = odd, .n = 5 };
	(void)state;

	assert_string_equal(rendezvous_lacking(&set, "algo-1"), "no address or SSH port");
	assert_string_equal(rendezvous_lacking(&set, "algo-2"), "no address or SSH port");
	assert_string_equal(rendezvous_lacking(&set, "algo-3"), "no host key");
	assert_string_equal(rendezvous_lacking(&set, "algo-4"), "no client key (PORTHOLE_CLUSTER_SSH off there?)");
	assert_null(rendezvous_lacking(&set, "algo-5"));
	assert_string_equal(rendezvous_lacking(&set, "algo-6"), "no record");
	/* A host seen only through a hold_end has no record yet. */
	odd[4].ts_ms = 0;
	assert_string_equal(rendezvous_lacking(&set, "algo-5"), "no record");
}

static void test_waiting_and_missing(void **state)
{
	char *const hosts4[] = { "algo-1", "algo-2", "algo-3", "algo-4" };
	struct rendezvous_job rj = me2;
	char buf[256], small[12];
	cJSON *arr = cJSON_CreateArray();
	(void)state;

	rj.hosts = hosts4;
	rj.n_hosts = 4;
	rendezvous_waiting(&rj, &cw, buf, sizeof(buf));
	assert_string_equal(buf, "algo-3 (no client key (PORTHOLE_CLUSTER_SSH off there?)), algo-4 (no record)");
	rendezvous_missing(&rj, &cw, arr, buf, sizeof(buf));
	assert_string_equal(buf, "algo-3, algo-4");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_string_equal(cJSON_GetArrayItem(arr, 1)->valuestring, "algo-4");
	cJSON_Delete(arr);
	/* Cut short, never overrun; the array still names every one. */
	arr = cJSON_CreateArray();
	rendezvous_missing(&rj, &cw, arr, small, sizeof(small));
	assert_string_equal(small, "algo-3, alg");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	cJSON_Delete(arr);
	/* Nothing known at all (no records read yet): every other host. */
	rendezvous_missing(&rj, NULL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "algo-1, algo-3, algo-4");
}

static void test_roles(void **state)
{
	char *const order[] = { "algo-10", "algo-2", "algo-1" };
	struct rendezvous_job rj = { .hosts = order, .n_hosts = 3, .self = { .host = "algo-1" } };
	(void)state;

	/* algo-N by number, whatever resourceconfig.json's order. */
	assert_int_equal(rendezvous_role(&rj), RENDEZVOUS_LEADER);
	assert_true(rendezvous_writes_roster(&rj, RENDEZVOUS_ALL_RECORDS));
	/* Only once it has every record. */
	assert_false(rendezvous_writes_roster(&rj, RENDEZVOUS_DEADLINE));
	assert_false(rendezvous_writes_roster(&rj, RENDEZVOUS_UNREADABLE));
	assert_false(rendezvous_writes_roster(&rj, RENDEZVOUS_ROSTER));
	/* A job of one has nobody to write it for. */
	rj.n_hosts = 1;
	rj.hosts = (char *const[]){ "algo-1" };
	assert_int_equal(rendezvous_role(&rj), RENDEZVOUS_LEADER);
	assert_false(rendezvous_writes_roster(&rj, RENDEZVOUS_ALL_RECORDS));

	assert_int_equal(rendezvous_role(&me2), RENDEZVOUS_FOLLOWER);
	assert_false(rendezvous_writes_roster(&me2, RENDEZVOUS_ALL_RECORDS));
	rj.n_hosts = 0;
	assert_int_equal(rendezvous_role(&rj), RENDEZVOUS_ALONE);
}

static void test_roster_peers(void **state)
{
	struct roster_host v[] = {
		{ .host = "algo-3", .ip = "10.0.0.3", .host_key = HK3, .client_key = CK3, .port = 2222 },
		{ .host = "algo-1", .ip = "10.0.0.1", .host_key = HK1, .client_key = CK1, .port = 22, .gpus = 4 },
		/* As the leader saw this host: an address it no longer has. */
		{ .host = "algo-2", .ip = "10.9.9.9", .host_key = HK2, .client_key = CK2, .port = 22 },
	};
	struct roster ros = { .leader = "algo-1", .v = v, .n = 3 };
	struct rendezvous_job half = me2;
	struct cluster_peer p[3];
	(void)state;

	/* In the job's order; this host as it knows itself. */
	assert_int_equal(rendezvous_roster_peers(&me2, &ros, p), 3);
	assert_string_equal(p[0].host, "algo-1");
	assert_int_equal(p[0].gpus, 4);
	assert_string_equal(p[1].ip, "10.0.0.2");
	assert_int_equal(p[1].gpus, 8);
	assert_string_equal(p[2].client_key, CK3);
	/* Not knowing its own address, it takes the roster's. */
	half.self.ip = "";
	assert_int_equal(rendezvous_roster_peers(&half, &ros, p), 3);
	assert_string_equal(p[1].ip, "10.9.9.9");
}

/* ---- polling ------------------------------------------------------------- */

#define T0 (1000 * SEC)
#define RND UINT32_C(0x80000000) /* jitter: 3/4 of the delay */

static void test_leader_polls(void **state)
{
	struct rendezvous_poll p;
	struct pace mirror;
	uint64_t t = T0, d;
	(void)state;

	rendezvous_poll_init(&p, 3, false, T0, T0 + 600 * SEC);
	pace_init(&mirror, 3, PACE_LEADER);
	/* The leader searches the records at once, and never reads a roster. */
	assert_true(rendezvous_poll_filter_due(&p, T0));
	assert_false(rendezvous_poll_roster_due(&p, T0));
	assert_int_equal(rendezvous_poll_wake(&p), T0);

	/* News: more hosts than before. */
	assert_int_equal(rendezvous_poll_fetched(&p, 1, 3, t, RND), RENDEZVOUS_FOUND_MORE);
	d = pace_jitter(pace_after(&mirror, 1), RND);
	assert_int_equal(p.next_filter, t + d);
	assert_false(rendezvous_poll_filter_due(&p, t + d - 1));
	assert_true(rendezvous_poll_filter_due(&p, t + d));
	assert_int_equal(rendezvous_poll_wake(&p), t + d);

	/* No news: the delay grows (pace.h), never past the leader's cap. */
	for (int i = 0; i < 10; i++) {
		t = p.next_filter;
		assert_int_equal(rendezvous_poll_fetched(&p, 1, 3, t, RND), RENDEZVOUS_FOUND_NO_MORE);
		d = pace_after(&mirror, 1);
		assert_int_equal(p.next_filter, t + pace_jitter(d, RND));
		assert_true(d <= PACE_LEADER_MAX_USEC);
	}
	assert_int_equal(d, PACE_LEADER_MAX_USEC);
	/* Fewer than the best so far (a record went stale) is no news either. */
	assert_int_equal(rendezvous_poll_fetched(&p, 0, 3, t, RND), RENDEZVOUS_FOUND_NO_MORE);
	assert_int_equal(p.next_filter, t + pace_jitter(pace_after(&mirror, 0), RND));
	/* News brings the delay back to the shortest. */
	assert_int_equal(rendezvous_poll_fetched(&p, 2, 3, t, RND), RENDEZVOUS_FOUND_MORE);
	assert_int_equal(p.next_filter, t + pace_jitter(mirror.first, RND));
	/* Every host: done. */
	assert_int_equal(rendezvous_poll_fetched(&p, 3, 3, t, RND), RENDEZVOUS_FOUND_ALL);

	/* The deadline comes before a call that is due after it. */
	rendezvous_poll_init(&p, 3, false, T0, T0 + 100 * MS);
	rendezvous_poll_fetched(&p, 1, 3, T0, RND);
	assert_int_equal(rendezvous_poll_wake(&p), T0 + 100 * MS);
}

static void test_refusals_and_throttling(void **state)
{
	struct rendezvous_poll p;
	uint64_t t = T0;
	(void)state;

	rendezvous_poll_init(&p, 3, false, T0, T0 + 600 * SEC);
	/* Throttling is no refusal: it only waits, at the longest delay. */
	for (int i = 0; i < 2 * RENDEZVOUS_READ_FAILURES; i++) {
		assert_true(rendezvous_poll_fetch_failed(&p, true, t, UINT32_MAX));
		assert_int_equal(p.next_filter, t + pace_jitter(p.filter.cap, UINT32_MAX));
	}
	/* Refusals in a row: unreadable at the third ... */
	assert_true(rendezvous_poll_fetch_failed(&p, false, t, RND));
	assert_true(rendezvous_poll_fetch_failed(&p, false, t, RND));
	/* ... throttling in between does not count, nor reset the count ... */
	assert_true(rendezvous_poll_fetch_failed(&p, true, t, RND));
	assert_false(rendezvous_poll_fetch_failed(&p, false, t, RND));

	/* ... and a search that worked starts the count again. */
	rendezvous_poll_init(&p, 3, false, T0, T0 + 600 * SEC);
	assert_true(rendezvous_poll_fetch_failed(&p, false, t, RND));
	assert_true(rendezvous_poll_fetch_failed(&p, false, t, RND));
	rendezvous_poll_fetched(&p, 1, 3, t, RND);
	assert_true(rendezvous_poll_fetch_failed(&p, false, t, RND));
	assert_true(rendezvous_poll_fetch_failed(&p, false, t, RND));
	assert_false(rendezvous_poll_fetch_failed(&p, false, t, RND));
}

static void test_follower_polls(void **state)
{
	struct rendezvous_poll p;
	struct pace roster, filter;
	uint64_t t = T0;
	(void)state;

	rendezvous_poll_init(&p, 16, true, T0, T0 + 600 * SEC);
	pace_init(&roster, 16, PACE_ROSTER);
	pace_init(&filter, 16, PACE_FOLLOWER);
	/* Both at once at first. */
	assert_true(rendezvous_poll_roster_due(&p, T0));
	assert_true(rendezvous_poll_filter_due(&p, T0));

	/* The records are searched at the follower's share, slower than the
	 * roster is read: the fallback in case the roster never comes. */
	assert_int_equal(rendezvous_poll_fetched(&p, 1, 16, t, RND), RENDEZVOUS_FOUND_MORE);
	assert_int_equal(p.next_filter, t + pace_jitter(pace_after(&filter, 1), RND));
	rendezvous_poll_roster_read(&p, RENDEZVOUS_READ_NONE, t, RND);
	assert_int_equal(p.next_roster, t + pace_jitter(pace_after(&roster, 1), RND));
	assert_true(p.next_roster < p.next_filter);
	assert_int_equal(rendezvous_poll_wake(&p), p.next_roster);
	assert_false(rendezvous_poll_roster_due(&p, p.next_roster - 1));
	assert_true(rendezvous_poll_roster_due(&p, p.next_roster));

	/* A stream not there yet, or a failed read: again at the pace. */
	t = p.next_roster;
	rendezvous_poll_roster_read(&p, RENDEZVOUS_READ_FAILED, t, RND);
	assert_int_equal(p.next_roster, t + pace_jitter(pace_after(&roster, 1), RND));
	/* Throttled: at the roster's longest delay. */
	rendezvous_poll_roster_read(&p, RENDEZVOUS_READ_THROTTLED, t, RND);
	assert_int_equal(p.next_roster, t + pace_jitter(pace_throttled(&roster), RND));

	/* Refused by IAM: the records alone from now on. */
	rendezvous_poll_roster_read(&p, RENDEZVOUS_READ_DENIED, t, RND);
	assert_false(p.roster_on);
	assert_false(rendezvous_poll_roster_due(&p, UINT64_MAX));
	assert_int_equal(rendezvous_poll_wake(&p), p.next_filter);

	/* A follower without the roster's stream (a job name too long)
	 * searches as the leader does. */
	rendezvous_poll_init(&p, 16, false, T0, T0 + 600 * SEC);
	pace_init(&filter, 16, PACE_LEADER);
	rendezvous_poll_fetched(&p, 1, 16, T0, RND);
	assert_int_equal(p.next_filter, T0 + pace_jitter(pace_after(&filter, 1), RND));
}

static void test_results(void **state)
{
	static const struct {
		enum rendezvous_end end;
		enum cluster_trust trust;
		const char *state, *reason, *via;
		bool files, network;
	} cases[] = {
		{ RENDEZVOUS_ALL_RECORDS, TRUST_KEYS, "ready", NULL, "records", true, false },
		{ RENDEZVOUS_ROSTER, TRUST_KEYS, "ready", NULL, "roster", true, false },
		/* The hosts that did publish can still reach each other. */
		{ RENDEZVOUS_DEADLINE, TRUST_KEYS, "failed", "timeout", NULL, true, false },
		{ RENDEZVOUS_UNREADABLE, TRUST_KEYS, "failed", "cloudwatch", NULL, false, false },
		/* Network trust only when the records cannot be read. */
		{ RENDEZVOUS_ALL_RECORDS, TRUST_NETWORK, "ready", NULL, "records", true, false },
		{ RENDEZVOUS_DEADLINE, TRUST_NETWORK, "failed", "timeout", NULL, true, false },
		{ RENDEZVOUS_UNREADABLE, TRUST_NETWORK, NULL, NULL, NULL, false, true },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rendezvous_result r = rendezvous_result(cases[i].end, cases[i].trust);
		TU_CHECK(tu_streq(r.state, cases[i].state), "case %zu: state %s", i, tu_str(r.state));
		TU_CHECK(tu_streq(r.reason, cases[i].reason), "case %zu: reason %s", i, tu_str(r.reason));
		TU_CHECK(tu_streq(r.via, cases[i].via), "case %zu: via %s", i, tu_str(r.via));
		TU_CHECK(r.write_files == cases[i].files, "case %zu: write_files %d", i, r.write_files);
		TU_CHECK(r.network_trust == cases[i].network, "case %zu: network_trust %d", i, r.network_trust);
	}
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_every_host_known),
		cmocka_unit_test(test_lacking),
		cmocka_unit_test(test_waiting_and_missing),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_roster_peers),
		cmocka_unit_test(test_leader_polls),
		cmocka_unit_test(test_refusals_and_throttling),
		cmocka_unit_test(test_follower_polls),
		cmocka_unit_test(test_results),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
