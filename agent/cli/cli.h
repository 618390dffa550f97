/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h — the client subcommands that talk to a running porthole. */
#ifndef PORTHOLE_CLI_H
#define PORTHOLE_CLI_H



/* argv[0] is the subcommand.  Returns the process exit code. */
int cli_main(const char *control_socket, int argc, char **argv);

#endif
