/* SPDX-License-Identifier: Apache-2.0 */
/* relay_reader.h — PID 1's one reader of a forked helper's report pipe
 * (report.h writes the lines, relay.h parses and logs them): an sd-event
 * I/O source that splits what it reads into lines, hands each report to
 * its owner, logs the reports the owner does not take, and says when the
 * pipe ends.  Before the loop runs, relay_reader_wait reads the same way,
 * blocking, for a helper whose first answer startup needs (the SSH host
 * key, the cluster client key). */
#ifndef PORTHOLE_RELAY_READER_H
#define PORTHOLE_RELAY_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

struct relay_reader;

/* One report (relay_parse's): true if the owner took it, false to have it
 * logged as the helper meant it (relay_log).  Lines that are no report are
 * dropped. */
typedef bool (*relay_reader_take_fn)(void *ud, const cJSON *report);
/* The pipe ended (end of file, a read error, out of memory): called once;
 * the reader reads no more and has closed its fd. */
typedef void (*relay_reader_ended_fn)(void *ud);

/* Read fd, the pipe's read end, which is the reader's from now on (closed
 * at the pipe's end, by relay_reader_free, or here on failure).  A line
 * longer than max_line bytes is dropped, the lines after it still count.
 * take NULL: every report is logged; ended may be NULL.  Neither may free
 * the reader.  loop NULL: only relay_reader_wait reads.  0, or -errno. */
int relay_reader_new(sd_event *loop, int fd, size_t max_line, relay_reader_take_fn take,
		     relay_reader_ended_fn ended, void *ud, struct relay_reader **ret);

/* Read, blocking, until done(ud) holds (asked before every read; NULL:
 * never), the pipe ends, or the monotonic deadline (clock.h) passes: 1, 0,
 * or -ETIME.  For before the loop runs: the loop's source is not
 * dispatched meanwhile. */
int relay_reader_wait(struct relay_reader *r, uint64_t deadline_usec, bool (*done)(void *ud));

/* Stops reading (closing the fd) without calling ended.  NULL-safe. */
void relay_reader_free(struct relay_reader *r);

#endif
