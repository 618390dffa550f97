/* SPDX-License-Identifier: Apache-2.0 */
/* failure.c — see failure.h. */
#include "failure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int failure_write(const char *ml_root, const char *reason)
{
	char dir[4096], path[4200], line[1100];
	struct stat st;
	int fd, n;

	if (stat(ml_root, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* not a SageMaker-style tree: nowhere to report */
	snprintf(dir, sizeof(dir), "%s/output", ml_root);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/failure", dir);
	/* No O_TRUNC: what the command wrote is the better reason. */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > 0) {
		close(fd);
		return 0;
	}
	/* DescribeTrainingJob shows the first 1024 characters. */
	n = snprintf(line, sizeof(line), "%.1000s\n", reason);
	if (write(fd, line, (size_t)n) != n) {
		int err = errno;
		close(fd);
		return -err;
	}
	close(fd);
	return 1;
}
