/* SPDX-License-Identifier: Apache-2.0 */
/* spool.h — the on-disk queue of events not yet sent to CloudWatch.
 *
 * Every event is appended here before any attempt to send it, and removed
 * (by moving a persisted cursor and deleting whole segment files) only
 * after CloudWatch took it, so a porthole killed at any moment loses
 * nothing: the next one in the same container sends the backlog first.
 * Records are "<timestamp ms> <message>\n" in append-only segment files; a
 * record torn by a kill is cut off at the next open.  When the spool would
 * grow past its bound, the oldest segments go, and the count of unsent
 * events lost that way is kept for the caller to report.
 *
 * One porthole per spool directory: the directory is locked. */
#ifndef PORTHOLE_SPOOL_H
#define PORTHOLE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_pos {
	uint64_t seg, off, idx; /* segment, byte offset, records before off */
};

struct spool_rec {
	int64_t ts_ms;
	const char *msg;        /* NULL for an unreadable record: skip it */
	size_t len;
	struct spool_pos end;   /* where the record after it starts */
};

/* Open (creating it 0700) and lock dir.  -EBUSY if another porthole holds it. */
int spool_open(const char *dir, uint64_t max_bytes, struct spool **out);
void spool_close(struct spool *sp);

/* Append one record (msg must not contain '\n').  -errno on a write error. */
int spool_append(struct spool *sp, int64_t ts_ms, const char *msg, size_t len);

/* Up to max_recs records from the cursor, reading at most max_bytes of the
 * files.  The array stays valid until the next spool_read or spool_close. */
int spool_read(struct spool *sp, size_t max_bytes, size_t max_recs, const struct spool_rec **recs, size_t *n);

/* Everything before end was delivered (or given up): move the cursor there
 * and delete what is no longer needed.  Stale positions are ignored. */
int spool_commit(struct spool *sp, struct spool_pos end);

uint64_t spool_pending(const struct spool *sp);   /* records after the cursor */
uint64_t spool_bytes(const struct spool *sp);     /* bytes on disk */
/* Unsent records dropped by the size bound since the last call. */
uint64_t spool_take_dropped(struct spool *sp);
/* Seconds since the epoch when this spool was created: the first porthole
 * of the container started then. */
uint64_t spool_epoch(const struct spool *sp);
const char *spool_dir(const struct spool *sp);

#endif
