/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_log.c — see ssm_log.h. */
#include "ssm_log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLLOW_MAX 4

static const struct {
	const char *word;
	enum plog_level lvl;
} levels[] = {
	{ "CRITICAL", PLOG_ERROR }, { "ERROR", PLOG_ERROR }, { "WARN", PLOG_WARN }, { "WARNING", PLOG_WARN },
	{ "INFO", PLOG_INFO }, { "DEBUG", PLOG_DEBUG }, { "TRACE", PLOG_DEBUG },
};

static bool digits(const char *s, const char *shape)
{
	for (; *shape; s++, shape++)
		if (*shape == 'd' ? !isdigit((unsigned char)*s) : *s != *shape)
			return false;
	return true;
}

int ssm_log_parse(const char *line, enum plog_level *lvl, char *word, size_t wordlen, const char **msg)
{
	const char *p = line;

	if (!digits(p, "dddd-dd-dd dd:dd:dd"))
		return -1;
	p += 19;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p++ != ' ')
		return -1;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		size_t n = strlen(levels[i].word);
		if (strncmp(p, levels[i].word, n) == 0 && (p[n] == ' ' || p[n] == '\0')) {
			*lvl = levels[i].lvl;
			snprintf(word, wordlen, "%s", levels[i].word);
			p += n;
			while (*p == ' ')
				p++;
			*msg = p;
			return 0;
		}
	}
	return -1;
}

void ssm_log_lines_feed(struct ssm_lines *l, const char *data, size_t n, ssm_line_fn fn, void *ud)
{
	for (size_t i = 0; i < n; i++) {
		char c = data[i];
		if (c == '\n' || l->len == sizeof(l->buf) - 1) {
			l->buf[l->len] = '\0';
			if (l->len && l->buf[l->len - 1] == '\r')
				l->buf[--l->len] = '\0';
			if (l->len)
				fn(ud, l->buf);
			l->len = 0;
			if (c == '\n')
				continue;
		}
		l->buf[l->len++] = c;
	}
}

struct followed {
	char *name;
	int fd;          /* -1 until the file exists */
	off_t off;
	struct ssm_lines lines;
	struct ssm_follow *f;
};

struct ssm_follow {
	int ifd;
	char *dir;
	sd_event_source *io;
	struct followed files[FOLLOW_MAX];
	size_t n;
	ssm_follow_fn fn;
	void *ud;
};

static void deliver(void *ud, const char *line)
{
	struct followed *fl = ud;

	fl->f->fn(fl->f->ud, fl->name, line);
}

static void open_file(struct ssm_follow *f, struct followed *fl, bool at_end)
{
	char path[4096];
	struct stat st;

	if (fl->fd >= 0)
		close(fl->fd);
	snprintf(path, sizeof(path), "%s/%s", f->dir, fl->name);
	fl->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	fl->off = 0;
	fl->lines.len = 0;
	if (fl->fd >= 0 && at_end && fstat(fl->fd, &st) == 0)
		fl->off = st.st_size;
}

static void read_new(struct ssm_follow *f, struct followed *fl)
{
	char buf[8192];
	struct stat st;
	ssize_t n;

	if (fl->fd < 0)
		open_file(f, fl, false);
	if (fl->fd < 0)
		return;
	/* Shorter than what was read: truncated in place (copytruncate). */
	if (fstat(fl->fd, &st) == 0 && st.st_size < fl->off) {
		fl->off = 0;
		fl->lines.len = 0;
	}
	while ((n = pread(fl->fd, buf, sizeof(buf), fl->off)) > 0) {
		fl->off += n;
		ssm_log_lines_feed(&fl->lines, buf, (size_t)n, deliver, fl);
	}
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct ssm_follow *f = ud;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	(void)s;
	(void)revents;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (!ev->len)
				continue;
			for (size_t i = 0; i < f->n; i++) {
				struct followed *fl = &f->files[i];
				if (strcmp(ev->name, fl->name) != 0)
					continue;
				/* A new file under the name: the agent rolled its log. */
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					open_file(f, fl, false);
				read_new(f, fl);
			}
		}
	}
	return 0;
}

int ssm_log_follow_new(sd_event *loop, const char *dir, const char *const *files, ssm_follow_fn fn, void *ud,
		   struct ssm_follow **out)
{
	struct ssm_follow *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->ud = ud;
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	f->dir = strdup(dir);
	if (f->ifd < 0 || !f->dir) {
		rc = f->ifd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	if (inotify_add_watch(f->ifd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		rc = -errno;
		goto fail;
	}
	for (; files[f->n] && f->n < FOLLOW_MAX; f->n++) {
		struct followed *fl = &f->files[f->n];
		fl->f = f;
		fl->fd = -1;
		fl->name = strdup(files[f->n]);
		if (!fl->name) {
			rc = -ENOMEM;
			goto fail;
		}
		/* What is there already was written before porthole looked. */
		open_file(f, fl, true);
	}
	rc = sd_event_add_io(loop, &f->io, f->ifd, EPOLLIN, on_inotify, f);
	if (rc < 0)
		goto fail;
	*out = f;
	return 0;
fail:
	ssm_log_follow_free(f);
	return rc;
}

void ssm_log_follow_free(struct ssm_follow *f)
{
	if (!f)
		return;
	sd_event_source_disable_unref(f->io);
	for (size_t i = 0; i < f->n; i++) {
		if (f->files[i].fd >= 0)
			close(f->files[i].fd);
		free(f->files[i].name);
	}
	if (f->ifd >= 0)
		close(f->ifd);
	free(f->dir);
	free(f);
}
