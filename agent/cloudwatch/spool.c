/* SPDX-License-Identifier: Apache-2.0 */
/* spool.c — see spool.h.  No fsync: the spool guards against porthole
 * being killed, not against the machine losing power (the container would
 * be gone then anyway). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SEG_MAX_BYTES (1u << 20)

struct seg {
	uint64_t seq, bytes, events;
};

struct spool {
	char *dir;
	int lock_fd, wfd;
	struct seg *segs;       /* oldest first; the last one is appended to */
	size_t nsegs, cap;
	struct spool_pos cur;
	uint64_t max_bytes, seg_max, total, dropped, epoch;
	char *rbuf;
	size_t rbuf_cap;
	struct spool_rec *recs;
	size_t recs_cap;
};

static char *seg_path(const struct spool *sp, uint64_t seq)
{
	char *p = NULL;
	return asprintf(&p, "%s/%016" PRIx64 ".seg", sp->dir, seq) < 0 ? NULL : p;
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return -e;
		}
		*s = '/';
	}
	free(p);
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

static int write_small(const struct spool *sp, const char *name, const char *text)
{
	char *tmp = NULL, *path = NULL;
	int fd, rc = 0;
	size_t len = strlen(text);

	if (asprintf(&tmp, "%s/.%s.tmp", sp->dir, name) < 0 || asprintf(&path, "%s/%s", sp->dir, name) < 0) {
		free(tmp);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	/* rename: a reader sees the old or the new cursor, never half of one. */
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	free(tmp);
	free(path);
	return rc;
}

static int read_small(const struct spool *sp, const char *name, char *buf, size_t len)
{
	char *path = NULL;
	int fd;
	ssize_t n;

	if (asprintf(&path, "%s/%s", sp->dir, name) < 0)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int save_cursor(const struct spool *sp)
{
	char text[96];

	snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", sp->cur.seg, sp->cur.off, sp->cur.idx);
	return write_small(sp, "cursor", text);
}

static struct seg *seg_find(struct spool *sp, uint64_t seq)
{
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].seq == seq)
			return &sp->segs[i];
	return NULL;
}

static int seg_push(struct spool *sp, uint64_t seq, uint64_t bytes, uint64_t events)
{
	if (sp->nsegs == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 16;
		struct seg *ns = realloc(sp->segs, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		sp->segs = ns;
		sp->cap = cap;
	}
	sp->segs[sp->nsegs++] = (struct seg){ .seq = seq, .bytes = bytes, .events = events };
	sp->total += bytes;
	return 0;
}

static void seg_unlink(const struct spool *sp, uint64_t seq)
{
	char *path = seg_path(sp, seq);

	if (path)
		unlink(path);
	free(path);
}

/* Remove the oldest segment's file and entry. */
static void seg_drop_first(struct spool *sp)
{
	seg_unlink(sp, sp->segs[0].seq);
	sp->total -= sp->segs[0].bytes;
	memmove(sp->segs, sp->segs + 1, (sp->nsegs - 1) * sizeof(*sp->segs));
	sp->nsegs--;
}

/* Count records of a segment file, cutting a torn last record; with
 * upto_off, also how many end at or before that offset. */
static int scan_segment(struct spool *sp, uint64_t seq, uint64_t *bytes, uint64_t *events, uint64_t upto_off,
			uint64_t *idx)
{
	char *path = seg_path(sp, seq), buf[65536];
	uint64_t off = 0, last_nl = 0;
	ssize_t n;
	int fd;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	*events = 0;
	*idx = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n')
				continue;
			(*events)++;
			last_nl = off + (uint64_t)i + 1;
			if (last_nl <= upto_off)
				(*idx)++;
		}
		off += (uint64_t)n;
	}
	if (off != last_nl && ftruncate(fd, (off_t)last_nl) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	*bytes = last_nl;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int open_active(struct spool *sp, uint64_t seq)
{
	char *path = seg_path(sp, seq);
	int rc;

	if (!path)
		return -ENOMEM;
	if (sp->wfd >= 0)
		close(sp->wfd);
	sp->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	if (sp->wfd < 0)
		return -errno;
	rc = seg_push(sp, seq, 0, 0);
	return rc;
}

/* The segment files in dir ("<16 hex digits>.seg"), oldest first: 0 with
 * *seqs (caller frees) and *n, or -errno. */
static int list_segments(const char *dir, uint64_t **seqs, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t *v = NULL;
	size_t cap = 0;

	*seqs = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t seq;
		char tail[8];
		if (sscanf(de->d_name, "%16" SCNx64 "%7s", &seq, tail) != 2 || strcmp(tail, ".seg") != 0 ||
		    strlen(de->d_name) != 20)
			continue;
		if (*n == cap) {
			uint64_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*nv));
			if (!nv) {
				closedir(d);
				free(v);
				*n = 0;
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = seq;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_u64);
	*seqs = v;
	return 0;
}

/* Where the last porthole's cursor was; the start if it left none. */
static struct spool_pos saved_cursor(const struct spool *sp)
{
	struct spool_pos saved = { 0, 0, 0 };
	char text[128];

	if (read_small(sp, "cursor", text, sizeof(text)) == 0 &&
	    sscanf(text, "%" SCNu64 " %" SCNu64 " %" SCNu64, &saved.seg, &saved.off, &saved.idx) != 3)
		saved = (struct spool_pos){ 0, 0, 0 };
	return saved;
}

/* One segment left by an earlier porthole: kept if it holds records not
 * sent yet (the first one kept holds the cursor), else deleted.  0, or
 * -errno. */
static int load_segment(struct spool *sp, uint64_t seq, struct spool_pos saved)
{
	uint64_t bytes, events, idx;
	int rc;

	if (seq < saved.seg) {
		/* Fully sent before the last porthole stopped. */
		seg_unlink(sp, seq);
		return 0;
	}
	rc = scan_segment(sp, seq, &bytes, &events, seq == saved.seg ? saved.off : 0, &idx);
	if (rc < 0)
		return rc;
	if ((seq == saved.seg && saved.off >= bytes) || events == 0) {
		/* Sent up to its end, or empty: no longer needed. */
		seg_unlink(sp, seq);
		return 0;
	}
	rc = seg_push(sp, seq, bytes, events);
	if (rc == 0 && sp->nsegs == 1) {
		if (seq == saved.seg) {
			/* Records end on newlines: an offset inside one (a
			 * damaged cursor) would resend part of it; idx says
			 * how many whole records precede it. */
			sp->cur = (struct spool_pos){ seq, saved.off, idx };
		} else {
			sp->cur = (struct spool_pos){ seq, 0, 0 };
		}
	}
	return rc;
}

/* Load existing segments and the cursor. */
static int load(struct spool *sp)
{
	uint64_t *seqs, last;
	size_t n;
	int rc = list_segments(sp->dir, &seqs, &n);
	struct spool_pos saved;

	if (rc < 0)
		return rc;
	saved = saved_cursor(sp);
	last = n ? seqs[n - 1] : 0;
	sp->cur = (struct spool_pos){ 0, 0, 0 };
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = load_segment(sp, seqs[i], saved);
	free(seqs);
	if (rc < 0)
		return rc;
	/* A fresh segment for this porthole's appends. */
	rc = open_active(sp, last + 1);
	if (rc == 0 && sp->nsegs == 1)
		sp->cur = (struct spool_pos){ last + 1, 0, 0 };
	return rc < 0 ? rc : save_cursor(sp);
}

int spool_open(const char *dir, uint64_t max_bytes, struct spool **out)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	char *lock = NULL, text[64];
	int rc;

	if (!sp)
		return -ENOMEM;
	sp->lock_fd = sp->wfd = -1;
	sp->max_bytes = max_bytes;
	/* Segments small enough that the bound drops a small share at a time. */
	sp->seg_max = max_bytes / 8 < SEG_MAX_BYTES ? (max_bytes / 8 ? max_bytes / 8 : 1) : SEG_MAX_BYTES;
	sp->dir = strdup(dir);
	if (!sp->dir) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = mkdir_p(dir);
	if (rc < 0)
		goto fail;
	if (asprintf(&lock, "%s/lock", dir) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	sp->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (sp->lock_fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	if (read_small(sp, "epoch", text, sizeof(text)) < 0 || sscanf(text, "%" SCNu64, &sp->epoch) != 1) {
		sp->epoch = (uint64_t)time(NULL);
		snprintf(text, sizeof(text), "%" PRIu64 "\n", sp->epoch);
		rc = write_small(sp, "epoch", text);
		if (rc < 0)
			goto fail;
	}
	rc = load(sp);
	if (rc < 0)
		goto fail;
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return rc;
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->wfd >= 0)
		close(sp->wfd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	free(sp->segs);
	free(sp->rbuf);
	free(sp->recs);
	free(sp->dir);
	free(sp);
}

static uint64_t unsent_in(const struct spool *sp, const struct seg *s)
{
	if (s->seq < sp->cur.seg)
		return 0;
	if (s->seq == sp->cur.seg)
		return s->events > sp->cur.idx ? s->events - sp->cur.idx : 0;
	return s->events;
}

/* Keep within the bound by dropping the oldest segments (never the one
 * being appended to). */
static void enforce_bound(struct spool *sp)
{
	bool moved = false;

	while (sp->total > sp->max_bytes && sp->nsegs > 1) {
		sp->dropped += unsent_in(sp, &sp->segs[0]);
		if (sp->cur.seg <= sp->segs[0].seq) {
			sp->cur = (struct spool_pos){ sp->segs[1].seq, 0, 0 };
			moved = true;
		}
		seg_drop_first(sp);
	}
	if (moved)
		save_cursor(sp);
}

int spool_append(struct spool *sp, int64_t ts_ms, const char *msg, size_t len)
{
	struct seg *act = &sp->segs[sp->nsegs - 1];
	char head[32];
	int hl = snprintf(head, sizeof(head), "%" PRId64 " ", ts_ms);
	struct iovec iov[3] = { { head, (size_t)hl }, { (void *)msg, len }, { "\n", 1 } };
	size_t want = (size_t)hl + len + 1;
	ssize_t n;

	if (act->bytes && act->bytes + want > sp->seg_max) {
		int rc = open_active(sp, act->seq + 1);
		if (rc < 0)
			return rc;
		act = &sp->segs[sp->nsegs - 1];
	}
	/* One writev: a kill leaves at worst one torn record at the end. */
	n = writev(sp->wfd, iov, 3);
	if (n != (ssize_t)want) {
		int e = n < 0 ? errno : ENOSPC;
		/* Cut what a short write left, so the file stays whole records. */
		if (n > 0 && ftruncate(sp->wfd, (off_t)act->bytes) < 0)
			e = errno;
		return -e;
	}
	act->bytes += want;
	act->events++;
	sp->total += want;
	enforce_bound(sp);
	return 0;
}

static int ensure_cap(struct spool *sp, size_t bytes, size_t recs)
{
	if (bytes > sp->rbuf_cap) {
		char *nb = realloc(sp->rbuf, bytes);
		if (!nb)
			return -ENOMEM;
		sp->rbuf = nb;
		sp->rbuf_cap = bytes;
	}
	if (recs > sp->recs_cap) {
		struct spool_rec *nr = realloc(sp->recs, recs * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		sp->recs = nr;
		sp->recs_cap = recs;
	}
	return 0;
}

int spool_read(struct spool *sp, size_t max_bytes, size_t max_recs, const struct spool_rec **recs, size_t *n)
{
	size_t used = 0, nrec = 0;
	struct spool_pos pos = sp->cur;
	int rc = ensure_cap(sp, max_bytes + 1, max_recs);

	*n = 0;
	*recs = sp->recs;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sp->nsegs && nrec < max_recs && used < max_bytes; i++) {
		const struct seg *s = &sp->segs[i];
		if (s->seq < pos.seg)
			continue;
		if (s->seq > pos.seg)
			pos = (struct spool_pos){ s->seq, 0, 0 };
		if (pos.off >= s->bytes)
			continue;
		char *path = seg_path(sp, s->seq);
		int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		free(path);
		if (fd < 0)
			return -errno;
		size_t want = s->bytes - pos.off < max_bytes - used ? (size_t)(s->bytes - pos.off) : max_bytes - used;
		ssize_t got = pread(fd, sp->rbuf + used, want, (off_t)pos.off);
		close(fd);
		if (got < 0)
			return -errno;
		char *p = sp->rbuf + used, *end = p + got;
		used += (size_t)got;
		while (p < end && nrec < max_recs) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				goto done; /* cut by max_bytes: the rest next time */
			struct spool_rec *r = &sp->recs[nrec++];
			char *sp_ = memchr(p, ' ', (size_t)(nl - p)), *tail;
			long long ts = sp_ ? strtoll(p, &tail, 10) : 0;
			*nl = '\0';
			if (sp_ && tail == sp_ && sp_ + 1 < nl) {
				r->ts_ms = ts;
				r->msg = sp_ + 1;
				r->len = (size_t)(nl - sp_ - 1);
			} else {
				r->ts_ms = 0;
				r->msg = NULL;
				r->len = 0;
			}
			pos.off += (uint64_t)(nl + 1 - p);
			pos.idx++;
			r->end = pos;
			p = nl + 1;
		}
		if (p < end)
			break; /* max_recs reached */
	}
done:
	*n = nrec;
	return 0;
}

static bool pos_before(struct spool_pos a, struct spool_pos b)
{
	return a.seg < b.seg || (a.seg == b.seg && a.off < b.off);
}

int spool_commit(struct spool *sp, struct spool_pos end)
{
	if (!pos_before(sp->cur, end) || !seg_find(sp, end.seg))
		return 0;
	sp->cur = end;
	/* Whole segments behind the cursor are done with. */
	while (sp->nsegs > 1 && (sp->segs[0].seq < sp->cur.seg ||
				 (sp->segs[0].seq == sp->cur.seg && sp->cur.off >= sp->segs[0].bytes))) {
		seg_drop_first(sp);
		if (sp->cur.seg < sp->segs[0].seq)
			sp->cur = (struct spool_pos){ sp->segs[0].seq, 0, 0 };
	}
	return save_cursor(sp);
}

uint64_t spool_pending(const struct spool *sp)
{
	uint64_t n = 0;

	for (size_t i = 0; i < sp->nsegs; i++)
		n += unsent_in(sp, &sp->segs[i]);
	return n;
}

uint64_t spool_bytes(const struct spool *sp)
{
	return sp->total;
}

uint64_t spool_take_dropped(struct spool *sp)
{
	uint64_t d = sp->dropped;

	sp->dropped = 0;
	return d;
}

uint64_t spool_epoch(const struct spool *sp)
{
	return sp->epoch;
}

const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}
