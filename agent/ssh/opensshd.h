/* SPDX-License-Identifier: Apache-2.0 */
/* opensshd.h — PORTHOLE_SSH=openssh: the image's own sshd, supervised.
 *
 * porthole writes its configuration under the control socket's directory
 * (/run/porthole by default): porthole's host key, the authorized keys
 * (inline ones in a file, the others read from where they are), root login
 * with keys only, no passwords, and the training environment (SetEnv).  It
 * runs `sshd -D -e -f CONFIG` through the reaper, restarts it with backoff
 * when it dies, and relays its stderr into porthole's log, counting the
 * logins it reports as sessions for the hold. */
#ifndef PORTHOLE_OPENSSHD_H
#define PORTHOLE_OPENSSHD_H

#include <systemd/sd-event.h>

#include "hostkey.h"
#include "ssh_settings.h"
#include "sshd.h"

#include "../init/reaper.h"

struct opensshd;

/* 0 with *hk, *n_keys, *port and *ret set; -ENOENT (said so) when the image
 * has no sshd, so the caller can serve itself; another -errno (said why)
 * when SSH cannot start at all. */
int opensshd_new(sd_event *loop, struct reaper *reaper, const struct ssh_settings *cfg, const struct session_hooks *hooks,
		 struct hostkey *hk, unsigned *n_keys, unsigned *port, struct opensshd **ret);
void opensshd_free(struct opensshd *o);

#endif
