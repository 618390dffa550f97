/* SPDX-License-Identifier: Apache-2.0 */
/* sshd_setup.h — what the SSH endpoint needs before it starts, made by a
 * short-lived forked process so that PID 1 never loads libssh or OpenSSL:
 * the host key, and a first reading of the authorized keys, whose mistakes
 * are reported now (one error per unusable line, naming file and line). */
#ifndef PORTHOLE_SSHD_SETUP_H
#define PORTHOLE_SSHD_SETUP_H

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

#endif
