/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz.h — small helpers the libFuzzer harnesses share (tests/fuzz/README.md). */
#ifndef PORTHOLE_FUZZ_H
#define PORTHOLE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The input as a NUL-terminated string (caller frees). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Split s in place at the first n-1 NUL bytes (after fuzz_str, at "\n---\n"
 * separators): parts[i] point into s; missing parts are "". */
static inline void fuzz_parts(char *s, size_t size, char **parts, size_t n)
{
	size_t k = 0;
	char *p = s, *end = s + size;

	for (size_t i = 0; i < n; i++)
		parts[i] = (char *)"";
	while (k < n && p <= end) {
		char *sep = k + 1 < n ? strstr(p, "\n---\n") : NULL;
		parts[k++] = p;
		if (!sep)
			break;
		*sep = '\0';
		p = sep + 5;
	}
}

/* Write text to path; 0 or -1. */
static inline int fuzz_write(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	fwrite(text, 1, n, f);
	fclose(f);
	return 0;
}

/* A private temporary directory for this process (created once). */
static inline const char *fuzz_tmpdir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/porthole-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

#endif
