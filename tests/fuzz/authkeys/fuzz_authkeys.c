/* SPDX-License-Identifier: Apache-2.0 */
/* The authorized_keys parser with every option, and what the options then
 * allow: from=, permitopen, permitlisten. */
#include "../fuzz.h"

#include "ssh/authkeys.h"
#include "ssh/match.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	(void)argc;
	(void)argv;
	if (sshlib_load(err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return 0;
}

static void count(void *ud, const char *where, const char *why)
{
	(void)where;
	(void)why;
	(*(unsigned *)ud)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addrs[] = { "127.0.0.1", "10.1.2.3", "::1", "fd00::5", "::ffff:10.1.2.3", "x" };
	struct authkeys ak = { 0 };
	unsigned errors = 0;
	char *text = fuzz_str(data, size);

	if (!text)
		return 0;
	authkeys_parse(&ak, text, "fuzz", count, &errors);
	for (size_t i = 0; i < ak.n; i++) {
		const struct authkey_opts *o = &ak.v[i].o;
		for (size_t a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
			if (o->from)
				match_addr_list(addrs[a], o->from);
			authkeys_may_open(o, addrs[a], 22);
			authkeys_may_listen(o, addrs[a], 8080);
		}
		authkeys_may_open(o, "localhost", 0);
		authkeys_may_listen(o, "", 65535);
	}
	authkeys_free(&ak);
	free(text);
	return 0;
}
