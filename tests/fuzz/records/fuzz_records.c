/* SPDX-License-Identifier: Apache-2.0 */
/* Identity records and the roster as CloudWatch hands them back: a
 * FilterLogEvents page (records_merge_page, roster_merge_page) and one
 * roster message (roster_parse), the same input read all three ways. */
#include "../fuzz.h"

#include "cloudwatch/records.h"
#include "cluster/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const hosts[] = { "algo-1", "algo-2", "algo-3" };
	const struct roster_self self = { .job = "job", .host = "algo-2", .host_key = "ssh-ed25519 AAAAC3Nza",
					  .client_key = "ssh-ed25519 AAAAC3Nzb", .hosts = hosts, .n_hosts = 3 };
	char *s = fuzz_str(data, size), *next = NULL, why[256], text[128];
	struct hostset set = { 0 };
	struct roster r, best;

	if (!s)
		return 0;
	if (records_merge_page(&set, "job", s, &next) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			records_state_text(&set.v[i], text, sizeof(text));
			records_gone(&set.v[i]);
		}
		records_find(&set, "algo-1");
	}
	free(next);
	next = NULL;
	records_free(&set);
	memset(&r, 0, sizeof(r));
	if (roster_parse(s, "job", hosts, 3, &r, why, sizeof(why)) == 0) {
		struct cluster_peer peers[3];
		roster_holds(&r, &self, why, sizeof(why));
		roster_peers(&r, hosts, 3, peers);
		roster_free(&r);
	}
	memset(&best, 0, sizeof(best));
	roster_merge_page(s, &self, &best, &next, why, sizeof(why));
	free(next);
	roster_free(&best);
	free(s);
	return 0;
}
