/* SPDX-License-Identifier: Apache-2.0 */
/* The spool's on-disk format as a crash or a disk fault may leave it: the
 * input holds the cursor file and up to three segment files (parts
 * separated by "\n---\n"); the spool is opened, read to its end,
 * committed, appended to and closed. */
#include "../fuzz.h"

#include <dirent.h>
#include <sys/stat.h>

#include "cloudwatch/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *p[4], dir[256], path[320];
	struct spool *sp;

	if (!s)
		return 0;
	snprintf(dir, sizeof(dir), "%s/spool", fuzz_tmpdir());
	mkdir(dir, 0700);
	empty_dir(dir);
	fuzz_parts(s, size, p, 4);
	snprintf(path, sizeof(path), "%s/cursor", dir);
	fuzz_write(path, p[0], strlen(p[0]));
	for (int i = 1; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%016x.seg", dir, i);
		if (*p[i])
			fuzz_write(path, p[i], strlen(p[i]));
	}
	if (spool_open(dir, 1 << 20, &sp) == 0) {
		for (int round = 0; round < 64; round++) {
			const struct spool_rec *recs;
			size_t n = 0;
			if (spool_read(sp, 64 * 1024, 100, &recs, &n) < 0 || n == 0)
				break;
			if (spool_commit(sp, recs[n - 1].end) < 0)
				break;
		}
		spool_append(sp, 1700000000000, "after", 5);
		spool_pending(sp);
		spool_take_dropped(sp);
		spool_close(sp);
	}
	free(s);
	return 0;
}
