/* SPDX-License-Identifier: Apache-2.0 */
/* penalty.h — per-source penalties, modelled on OpenSSH 9.8's
 * PerSourcePenalties: what a source did wrong adds time to its penalty (a
 * connection that failed to log in, one that let the login grace run out,
 * one whose process crashed before logging in); once a source has gathered
 * PENALTY_MIN_USEC it is penalised until the time runs out, PENALTY_MAX_USEC
 * at most.  Quiet sources are forgotten; the table is bounded, and a flood of
 * sources evicts the quietest.
 *
 * What a penalty does is the caller's (sshd.c): porthole never refuses a
 * penalised source before authentication, since behind NAT, and through
 * Session Manager where every connection comes from 127.0.0.1, the real
 * user shares the source with whoever fails; its failed attempts are
 * answered late instead, and the authorized key logs in at once. */
#ifndef PORTHOLE_PENALTY_H
#define PORTHOLE_PENALTY_H

#include <stdint.h>

#define PENALTY_SEC UINT64_C(1000000)
#define PENALTY_AUTHFAIL_USEC (5 * PENALTY_SEC)   /* ended without a login after failing */
#define PENALTY_GRACE_USEC (10 * PENALTY_SEC)     /* PORTHOLE_LOGIN_GRACE ran out */
#define PENALTY_CRASH_USEC (90 * PENALTY_SEC)     /* killed by a signal before logging in */
#define PENALTY_MIN_USEC (15 * PENALTY_SEC)
#define PENALTY_MAX_USEC (600 * PENALTY_SEC)
/* How late a penalised source's failures are answered, at most. */
#define PENALTY_TARPIT_USEC (5 * PENALTY_SEC)

enum penalty_kind { PENALTY_AUTHFAIL, PENALTY_GRACE, PENALTY_CRASH };

struct penalty;

/* 0, or -ENOMEM. */
int penalty_new(struct penalty **ret);
void penalty_free(struct penalty *b);

/* Microseconds of penalty source has left; 0 if it is not penalised. */
uint64_t penalty_wait(struct penalty *b, const char *source, uint64_t now);
/* A connection from source did what kind says. */
void penalty_add(struct penalty *b, const char *source, enum penalty_kind kind, uint64_t now);
/* The usec a kind adds. */
uint64_t penalty_usec(enum penalty_kind kind);

#endif
