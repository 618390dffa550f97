/* SPDX-License-Identifier: Apache-2.0 */
/* Durations: whatever parses formats back to the same number of seconds. */
#include "../fuzz.h"

#include "lib/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), buf[64];
	uint64_t sec, again;

	if (!s)
		return 0;
	if (duration_parse(s, &sec) == 0) {
		if (sec > DURATION_MAX_SEC)
			abort();
		duration_format(sec, buf, sizeof(buf));
		if (duration_parse(buf, &again) != 0 || again != sec)
			abort();
	}
	free(s);
	return 0;
}
