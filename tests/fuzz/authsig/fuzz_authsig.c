/* SPDX-License-Identifier: Apache-2.0 */
/* The packet capture authsig.c reads a security key's flags from: any
 * bytes, as if libssh had written them. */
#include "../fuzz.h"

#include "ssh/authsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The seed corpus's key (tests/fuzz/seeds.py). */
	static const char key[] = "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIBERERERERERERERERERERERERERERERERERERERERERAAAABHNzaDo=";
	uint8_t flags = 0;

	if (authsig_parse(data, size, "root", key, &flags) == 0 && flags == 0xff)
		return 0; /* reached: the parse took a whole request */
	authsig_parse(data, size, "", "", &flags);
	return 0;
}
