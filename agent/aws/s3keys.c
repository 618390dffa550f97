/* SPDX-License-Identifier: Apache-2.0 */
/* s3keys.c — see s3keys.h. */
#include "s3keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3get.h"

#include "../lib/clock.h"
#include "../lib/log.h"

#define MAX_BYTES (1u << 20)
#define RETRY_FIRST (5 * USEC_PER_SEC)
#define RETRY_MAX (5 * 60 * USEC_PER_SEC)

struct s3keys {
	sd_event *loop;
	struct aws *aws;
	char *url;
	char path[4096];
	struct s3get *get;
	sd_event_source *retry;
	uint64_t backoff;
	char *last_why; /* say a failure once, until it changes */
};

/* Replace the cache file whole, so a login never reads half of it. */
static int write_cache(const char *path, const char *body, size_t len)
{
	char tmp[4200];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, body, len) != (ssize_t)len || fsync(fd) < 0)
		err = errno ? -errno : -EIO;
	close(fd);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void fetch(struct s3keys *k);

static int on_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	fetch(ud);
	return 0;
}

static void schedule_retry(struct s3keys *k)
{
	uint64_t when = clock_mono_usec() + k->backoff;

	k->backoff = k->backoff * 2 > RETRY_MAX ? RETRY_MAX : k->backoff * 2;
	if (!k->retry) {
		if (sd_event_add_time(k->loop, &k->retry, CLOCK_MONOTONIC, when, USEC_PER_SEC, on_retry, k) < 0)
			return;
	} else {
		sd_event_source_set_time(k->retry, when);
	}
	sd_event_source_set_enabled(k->retry, SD_EVENT_ONESHOT);
}

static void on_done(void *ud, const char *body, size_t len, const char *why)
{
	struct s3keys *k = ud;
	int rc;

	k->get = NULL;
	if (!body) {
		if (!k->last_why || strcmp(k->last_why, why) != 0) {
			log_warn("ssh: cannot fetch authorized keys from %s (PORTHOLE_AUTHORIZED_KEYS_S3): %s; "
				 "retrying in the background", k->url, why);
			free(k->last_why);
			k->last_why = strdup(why);
		}
		schedule_retry(k);
		return;
	}
	rc = write_cache(k->path, body, len);
	if (rc < 0) {
		log_error("ssh: cannot write %s for the keys from %s: %s", k->path, k->url, strerror(-rc));
		return;
	}
	log_info("ssh: authorized keys from %s (%zu bytes) are in use", k->url, len);
}

static void fetch(struct s3keys *k)
{
	char why[512];

	k->get = s3get_start(k->aws, k->url, MAX_BYTES, on_done, k, why, sizeof(why));
	if (!k->get)
		log_error("ssh: PORTHOLE_AUTHORIZED_KEYS_S3=\"%s\": %s; expected s3://bucket/key", k->url, why);
}

int s3keys_new(sd_event *loop, struct aws *aws, const char *url, const char *cache_path, struct s3keys **ret)
{
	struct s3keys *k;
	char *bucket, *key;

	*ret = NULL;
	if (s3get_parse_url(url, &bucket, &key) < 0) {
		log_error("ssh: PORTHOLE_AUTHORIZED_KEYS_S3=\"%s\": expected s3://bucket/key; ignored", url);
		return -EINVAL;
	}
	free(bucket);
	free(key);
	k = calloc(1, sizeof(*k));
	if (!k || !(k->url = strdup(url))) {
		free(k);
		return -ENOMEM;
	}
	k->loop = loop;
	k->aws = aws;
	k->backoff = RETRY_FIRST;
	snprintf(k->path, sizeof(k->path), "%s", cache_path);
	/* Keys of an earlier porthole in this container are not this one's. */
	unlink(k->path);
	fetch(k);
	if (!k->get && !k->retry) {
		s3keys_free(k);
		return -EINVAL;
	}
	*ret = k;
	return 0;
}

void s3keys_free(struct s3keys *k)
{
	if (!k)
		return;
	if (k->get)
		s3get_cancel(k->get);
	sd_event_source_disable_unref(k->retry);
	free(k->last_why);
	free(k->url);
	free(k);
}
