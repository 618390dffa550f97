/* SPDX-License-Identifier: Apache-2.0 */
/* hosts_cli.h — the user side: `porthole hosts`, `porthole ssh` and
 * `porthole ssh-config`, run on a laptop or notebook against CloudWatch. */
#ifndef PORTHOLE_HOSTS_CLI_H
#define PORTHOLE_HOSTS_CLI_H

/* argv[0] is the subcommand.  Returns the exit code (or does not return:
 * `porthole ssh` execs ssh). */
int hosts_cli_main(int argc, char **argv);

#endif
