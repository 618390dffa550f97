/* SPDX-License-Identifier: Apache-2.0 */
/* main.c — porthole's command line: pick the subcommand, gather settings. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "cli/hosts_cli.h"
#include "lib/log.h"
#include "daemon/porthole.h"
#include "sftp/sftp_server.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: porthole run [SETTINGS] [--] CMD [ARGS...]   run CMD as the training command (ENTRYPOINT)\n"
		"       porthole serve [SETTINGS]                  run without a command (sourced from a train script, nodes)\n"
		"       porthole status [--json]                   state, deadline, sessions, breakpoints\n"
		"       porthole release                           end the hold now (and any later one)\n"
		"       porthole extend DURATION                   push the deadline of the active hold\n"
		"       porthole continue [NAME]                   go on from a before-start hold or breakpoint\n"
		"       porthole breakpoint [NAME] [--timeout D]   pause here until `porthole continue`\n"
		"       porthole hold [--window D]                 hold here until released (for sourced train scripts)\n"
		"       porthole attach                            count as a session until interrupted\n"
		"       porthole config [--json]                   every effective setting and where it came from\n"
		"       porthole sftp-server [-R] [-d DIR]         SFTP on stdin/stdout (the ssh \"sftp\" subsystem)\n"
		"       porthole hosts JOB [--json] [--watch]      a job's hosts, from CloudWatch (user side)\n"
		"       porthole ssh JOB [algo-N] [-- SSH-ARGS]    ssh to a job's host, verifying its published key\n"
		"       porthole ssh-config JOB                    ~/.ssh/config blocks for a job's hosts\n"
		"       porthole version\n"
		"\nSETTINGS (also PORTHOLE_* environment, porthole_* hyperparameters, the conf file):\n");
	config_print_flags(out);
}

int main(int argc, char **argv)
{
	struct config_flags flags = { 0 };
	struct config cfg;
	const char *sub;
	int i = 2, rc;

	log_init();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* Run by the SSH session for the "sftp" subsystem: no settings needed. */
	if (strcmp(sub, "sftp-server") == 0)
		return sftp_server_main(argc - 1, argv + 1);
	/* The user side (a laptop, a notebook) parses its own arguments. */
	if (hosts_cli_is_command(sub))
		return hosts_cli_main(argc - 1, argv + 1);
	if (strcmp(sub, "version") == 0 || strcmp(sub, "--version") == 0) {
		printf("porthole %s\n", PORTHOLE_VERSION);
		return 0;
	}
	bool is_cli = cli_is_command(sub);
	if (!is_cli && strcmp(sub, "run") != 0 && strcmp(sub, "serve") != 0 && strcmp(sub, "config") != 0) {
		fprintf(stderr, "porthole: unknown command \"%s\"\n", sub);
		usage(stderr);
		return 2;
	}

	/* For `run` the setting flags come first and the command follows (after
	 * an optional "--"); client commands may mix them with their own
	 * arguments, which are gathered into rest[]. */
	char *rest[argc + 1];
	int n_rest = 0;
	rest[n_rest++] = (char *)sub;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && !is_cli) {
			i++;
			break;
		}
		/* Client commands take only the flags that find the daemon, so
		 * their own options (hold --window) stay theirs. */
		if (is_cli && strncmp(argv[i], "--control-socket", 16) != 0 && strncmp(argv[i], "--config", 8) != 0) {
			rest[n_rest++] = argv[i];
			continue;
		}
		rc = config_take_flag(&flags, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc == 0 && !is_cli)
			break;
		if (rc == 0)
			rest[n_rest++] = argv[i];
	}
	rest[n_rest] = NULL;

	/* Client commands need only the socket path: stay quiet about the rest. */
	if (is_cli)
		log_set_level(PLOG_NONE);
	config_load(&cfg, &flags);
	/* Only run and serve ship their log anywhere. */
	if (strcmp(sub, "run") != 0 && strcmp(sub, "serve") != 0)
		log_discard_early();
	if (is_cli) {
		rc = cli_main(&cfg, n_rest, rest);
		config_free(&cfg);
		return rc;
	}
	log_set_level(cfg.log_level);

	if (strcmp(sub, "config") == 0) {
		bool json = i < argc && strcmp(argv[i], "--json") == 0;
		config_print(&cfg, stdout, json);
		config_free(&cfg);
		return 0;
	}
	if (strcmp(sub, "serve") == 0) {
		if (i < argc) {
			fprintf(stderr, "porthole: serve takes no command; did you mean `porthole run -- %s`?\n", argv[i]);
			config_free(&cfg);
			return 2;
		}
		return run_main(&cfg, NULL);
	}
	if (i >= argc) {
		fprintf(stderr, "porthole: run: no training command given\n");
		usage(stderr);
		config_free(&cfg);
		return 2;
	}
	return run_main(&cfg, argv + i);
}
