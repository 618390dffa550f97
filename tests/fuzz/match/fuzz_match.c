/* SPDX-License-Identifier: Apache-2.0 */
/* from="…" pattern lists and permitopen/permitlisten entries against
 * addresses and host:port pairs, all from the input. */
#include "../fuzz.h"

#include "ssh/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *p[4];

	if (!s)
		return 0;
	fuzz_parts(s, size, p, 4);
	match_addr_list_valid(p[1]);
	match_addr_list(p[0], p[1]);
	match_glob(p[0], p[1]);
	if (match_hostport_valid(p[2]))
		match_hostport(p[0], (unsigned)strtoul(p[3], NULL, 10), p[2]);
	match_hostport(p[3], 22, p[2]);
	free(s);
	return 0;
}
