/* SPDX-License-Identifier: Apache-2.0 */
/* clock.h — monotonic time for deadlines, wall time for people. */
#ifndef PORTHOLE_CLOCK_H
#define PORTHOLE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC UINT64_C(1000000)

uint64_t clock_mono_usec(void);
uint64_t clock_real_usec(void);
/* The wall-clock time of a monotonic instant, as "2026-11-23T10:50:48Z". */
void clock_mono_iso(uint64_t mono_usec, char *buf, size_t len);
void clock_real_iso(uint64_t real_usec, char *buf, size_t len);

#endif
