/* SPDX-License-Identifier: Apache-2.0 */
/* sshd_setup.h — what the SSH endpoint needs from libssh, done by a
 * short-lived process so that PID 1 never loads libssh or OpenSSL: the host
 * key when it is read from PORTHOLE_HOST_KEY (or made for the image's sshd),
 * and a first reading of the authorized keys, whose mistakes are reported
 * at start (one error per unusable line, naming file and line).
 *
 * The static binary, which has libssh linked in, makes a new embedded host
 * key in PID 1 itself (sshd.c).  The check alone then runs as porthole's
 * own program, `porthole ssh-check-keys`, spawned (not forked) a second
 * later and answering through the loop, so nothing that loads libssh
 * stands between porthole's start and the command's. */
#ifndef PORTHOLE_SSHD_SETUP_H
#define PORTHOLE_SSHD_SETUP_H

#include <systemd/sd-event.h>

#include "hostkey.h"
#include "ssh_settings.h"

#include "../init/reaper.h"

/* Optional extra work for the helper, done after the key is made (the
 * openssh mode writes sshd's files there): 0, or -1 after reporting why. */
typedef int (*sshd_setup_extra_fn)(const struct ssh_settings *cfg, const struct hostkey *hk, void *ud);

/* Run the helper and wait for it (it takes milliseconds).  0 with *hk and
 * *n_keys (usable authorized keys) set, or -1 after logging why. */
int sshd_setup(struct reaper *r, const struct ssh_settings *cfg, sshd_setup_extra_fn extra, void *ud, struct hostkey *hk,
	       unsigned *n_keys);

/* The authorized keys' first reading alone, in the background (porthole's
 * own binary spawned, so PID 1 neither forks nor waits): its errors
 * are logged as they come, then done(ud, n_keys) runs from the loop, with
 * the number of usable keys, or -1 if the helper could not tell (it said
 * why: libssh missing).  -errno if it cannot start. */
struct sshd_setup_check;
int sshd_setup_check_start(sd_event *loop, struct reaper *r, const struct ssh_settings *cfg,
			   void (*done)(void *ud, int n_keys), void *ud, struct sshd_setup_check **ret);
/* Stops a helper still at work (porthole is ending); done is not called. */
void sshd_setup_check_free(struct sshd_setup_check *c);
/* That helper's own main: porthole runs itself as
 * `porthole ssh-check-keys NAME INLINE FILE S3_FILE CLUSTER_FILE` ("" for
 * none), the reports going to fd 3. */
int sshd_setup_check_main(int argc, char **argv);

#endif
