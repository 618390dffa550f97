/* SPDX-License-Identifier: Apache-2.0 */
/* run.h — `porthole run -- CMD` and `porthole serve`: the daemon's life
 * (PID 1 duties, the command, the endpoints, when porthole may end). */
#ifndef PORTHOLE_RUN_H
#define PORTHOLE_RUN_H

#include "config.h"
#include "porthole.h"

/* What `porthole run|serve` takes besides the settings. */
struct run_options {
	int ready_fd;  /* --ready-fd N: the JSON ready record is also written to fd N
			* (closed after, unless it is 1 or 2), for tools; -1 */
};

/* Takes over cfg's contents.  argv NULL: serve without a command.  Returns
 * porthole's exit status (the command's). */
int run_main(struct config *cfg, const struct run_options *opt, char **argv);
/* Begin exiting with code: drain SSH, deregister SSM, flush events. */
void run_exit(struct porthole *p, int code);
/* The daemon's one AWS client, made on first use (libcurl is loaded then,
 * not before) and freed when porthole ends; the publisher, the S3 keys
 * fetch and SSM borrow it.  NULL, said once, when it cannot be made. */
struct aws *run_aws(struct porthole *p);

#endif
