/* SPDX-License-Identifier: Apache-2.0 */
/* main.c — porthole's command line: a table of subcommands.
 *
 * Three kinds: the daemon (run, serve, config), which loads every setting
 * layer; clients of a running daemon's control socket (status, release …),
 * which take only the flags that find it; and self-contained commands
 * (sftp-server, the user side on a laptop, version), which parse their own
 * arguments and need no settings at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef PORTHOLE_STATIC
#include <nss.h>
#include <openssl/crypto.h>
#endif

#include "cli/cli.h"
#include "cli/hosts_cli.h"
#include "daemon/config.h"
#include "daemon/run.h"
#include "lib/log.h"
#include "lib/version.h"
#include "sftp/sftp_server.h"
#include "ssh/sshd.h"
#include "ssh/connproc.h"

enum kind {
	K_SELF,   /* parses its own arguments; no settings */
	K_CLIENT, /* talks to the daemon over the control socket */
	K_DAEMON, /* run, serve, config: every setting layer */
};

/* A daemon command gets the loaded settings, its own options and what
 * follows them. */
typedef int (*daemon_fn)(struct config *cfg, const struct run_options *opt, int argc, char **argv);

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_run(struct config *cfg, const struct run_options *opt, int argc, char **argv);
static int cmd_serve(struct config *cfg, const struct run_options *opt, int argc, char **argv);
static int cmd_config(struct config *cfg, const struct run_options *opt, int argc, char **argv);

static const struct subcommand {
	const char *name;
	enum kind kind;
	int (*self)(int argc, char **argv); /* K_SELF: argv[0] is the subcommand */
	daemon_fn daemon;                   /* K_DAEMON */
	const char *usage;                  /* NULL: not listed */
} subcommands[] = {
	{ "run", K_DAEMON, NULL, cmd_run,
	  "run [SETTINGS] [--] CMD [ARGS...]   run CMD as the training command (ENTRYPOINT)" },
	{ "serve", K_DAEMON, NULL, cmd_serve,
	  "serve [SETTINGS]                  run without a command (sourced from a train script, nodes)" },
	{ "status", K_CLIENT, NULL, NULL, "status [--json]                   state, deadline, sessions, breakpoints" },
	{ "release", K_CLIENT, NULL, NULL, "release                           end the hold now (and any later one)" },
	{ "extend", K_CLIENT, NULL, NULL, "extend DURATION                   push the deadline of the active hold" },
	{ "continue", K_CLIENT, NULL, NULL,
	  "continue [NAME]                   go on from a before-start hold or breakpoint" },
	{ "breakpoint", K_CLIENT, NULL, NULL,
	  "breakpoint [NAME] [--timeout D]   pause here until `porthole continue`" },
	{ "hold", K_CLIENT, NULL, NULL,
	  "hold [--window D]                 hold here until released (for sourced train scripts)" },
	{ "attach", K_CLIENT, NULL, NULL, "attach                            count as a session until interrupted" },
	{ "config", K_DAEMON, NULL, cmd_config,
	  "config [--json]                   every effective setting and where it came from" },
	/* Run by the SSH session for the "sftp" subsystem: no settings needed. */
	{ "sftp-server", K_SELF, sftp_server_main, NULL,
	  "sftp-server [-R] [-d DIR]         SFTP on stdin/stdout (the ssh \"sftp\" subsystem)" },
	/* Hidden: PID 1 execs a fresh porthole for each SSH connection
	 * (ssh/connproc.h), its descriptors set up; not for people. */
	{ "ssh-connection", K_SELF, connproc_main, NULL, NULL },
	/* The user side (a laptop, a notebook). */
	{ "hosts", K_SELF, hosts_cli_main, NULL, "hosts JOB [--json] [--watch]      a job's hosts, from CloudWatch (user side)" },
	{ "ssh", K_SELF, hosts_cli_main, NULL, "ssh JOB [algo-N] [-- SSH-ARGS]    ssh to a job's host (its IP or --via ssm), verifying its key" },
	{ "ssh-config", K_SELF, hosts_cli_main, NULL, "ssh-config JOB [--via ssm]        ~/.ssh/config blocks for a job's hosts" },
	{ "version", K_SELF, cmd_version, NULL, "version" },
	/* porthole's own: the SSH endpoint's first reading of the authorized keys. */
	{ "ssh-check-keys", K_SELF, sshd_check_keys_main, NULL, NULL },
	{ "--version", K_SELF, cmd_version, NULL, NULL },
	{ "help", K_SELF, cmd_help, NULL, NULL },
	{ "--help", K_SELF, cmd_help, NULL, NULL },
	{ "-h", K_SELF, cmd_help, NULL, NULL },
};
#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *out)
{
	bool first = true;

	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		if (!subcommands[i].usage)
			continue;
		fprintf(out, "%s porthole %s\n", first ? "usage:" : "      ", subcommands[i].usage);
		first = false;
	}
	fprintf(out, "\nrun and serve also take --ready-fd N: the JSON ready record (docs/ready-record.md) is written to\n"
		     "file descriptor N too, for tools; porthole's own lines, the record among them, go to stderr.\n");
	fprintf(out, "\nSETTINGS (also PORTHOLE_* environment, porthole_* hyperparameters, the conf file):\n");
	config_print_flags(out);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("porthole %s\n", PORTHOLE_VERSION);
	return 0;
}

static int cmd_run(struct config *cfg, const struct run_options *opt, int argc, char **argv)
{
	if (argc == 0) {
		fprintf(stderr, "porthole: run: no training command given\n");
		usage(stderr);
		config_free(cfg);
		return 2;
	}
	return run_main(cfg, opt, argv);
}

static int cmd_serve(struct config *cfg, const struct run_options *opt, int argc, char **argv)
{
	if (argc > 0) {
		fprintf(stderr, "porthole: serve takes no command; did you mean `porthole run -- %s`?\n", argv[0]);
		config_free(cfg);
		return 2;
	}
	return run_main(cfg, opt, NULL);
}

static int cmd_config(struct config *cfg, const struct run_options *opt, int argc, char **argv)
{
	(void)opt;
	config_print(cfg, stdout, argc > 0 && strcmp(argv[0], "--json") == 0);
	config_free(cfg);
	return 0;
}

static const struct subcommand *find(const char *name)
{
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		if (strcmp(subcommands[i].name, name) == 0)
			return &subcommands[i];
	return NULL;
}

/* A client command: the flags that find the daemon (--control-socket,
 * --config) are settings; every other argument is the command's own, so
 * its options (hold --window) stay its. */
static int client_main(int argc, char **argv)
{
	struct config_flags flags = { 0 };
	struct config cfg;
	char *rest[argc + 1];
	int n_rest = 0, rc;

	rest[n_rest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--control-socket", 16) != 0 && strncmp(argv[i], "--config", 8) != 0) {
			rest[n_rest++] = argv[i];
			continue;
		}
		rc = config_take_flag(&flags, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc == 0)
			rest[n_rest++] = argv[i];
	}
	rest[n_rest] = NULL;
	/* Only the socket path matters: stay quiet about the rest. */
	log_set_level(PLOG_NONE);
	config_load(&cfg, &flags);
	log_discard_early();
	rc = cli_main(cfg.control_socket, n_rest, rest);
	config_free(&cfg);
	return rc;
}

/* --ready-fd N (or --ready-fd=N) at argv[*i]: 1 taken (*i moved past its
 * value), 0 not this option, -1 after saying what is wrong. */
static int take_ready_fd(int argc, char **argv, int *i, int *fd)
{
	const char *v;
	char *end;
	long n;

	if (strcmp(argv[*i], "--ready-fd") == 0) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "porthole: --ready-fd needs a file descriptor number\n");
			return -1;
		}
		v = argv[++*i];
	} else if (strncmp(argv[*i], "--ready-fd=", 11) == 0) {
		v = argv[*i] + 11;
	} else {
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < 0 || n > 65535) {
		fprintf(stderr, "porthole: --ready-fd \"%s\": expected a file descriptor number\n", v);
		return -1;
	}
	if (n == 0 || fcntl((int)n, F_GETFD) < 0) {
		fprintf(stderr, "porthole: --ready-fd %ld: not a file descriptor open for writing here\n", n);
		return -1;
	}
	*fd = (int)n;
	return 1;
}

/* run, serve, config: setting flags (and run's and serve's --ready-fd) come
 * first; what follows them (after an optional "--") is the command's. */
static int daemon_main(const struct subcommand *sc, int argc, char **argv)
{
	struct config_flags flags = { 0 };
	struct run_options opt = { .ready_fd = -1 };
	struct config cfg;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (sc->daemon != cmd_config && (rc = take_ready_fd(argc, argv, &i, &opt.ready_fd)) != 0) {
			if (rc < 0)
				return 2;
			continue;
		}
		rc = config_take_flag(&flags, argc, argv, &i);
		if (rc < 0)
			return 2;
		if (rc == 0)
			break;
	}
	/* The record's fd is porthole's, not the command's. */
	if (opt.ready_fd > 2)
		fcntl(opt.ready_fd, F_SETFD, FD_CLOEXEC);
	config_load(&cfg, &flags);
	/* Only run and serve ship their log anywhere. */
	if (sc->daemon == cmd_config)
		log_discard_early();
	log_set_level(cfg.log_level);
	return sc->daemon(&cfg, &opt, argc - i, argv + i);
}

#ifdef PORTHOLE_STATIC
/* The static binary must never load the image's libnss_* modules: they
 * belong to the image's glibc, not to the one linked in, and an
 * nsswitch.conf naming myhostname, sss or mdns would have glibc dlopen()
 * them.  glibc's own files and dns modules are built in, and are what a
 * container has anyway: every database porthole or its libraries consult
 * uses only them, whatever the image's nsswitch.conf says. */
static void nss_builtin_only(void)
{
	static const char *const files_only[] = { "passwd", "group", "shadow", "services", "protocols", "networks" };

	__nss_configure_lookup("hosts", "files dns");
	for (size_t i = 0; i < sizeof(files_only) / sizeof(files_only[0]); i++)
		__nss_configure_lookup(files_only[i], "files");
}

/* Likewise the image's openssl.cnf belongs to the image's OpenSSL: it may
 * name engines or providers (shared objects) the linked-in one cannot
 * load.  Initialise OpenSSL without it, before libssh or libcurl do. */
static void openssl_without_image_config(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
}
#endif

int main(int argc, char **argv)
{
	const struct subcommand *sc;

#ifdef PORTHOLE_STATIC
	nss_builtin_only();
	openssl_without_image_config();
#endif
	log_init();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sc = find(argv[1]);
	if (!sc) {
		fprintf(stderr, "porthole: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		return 2;
	}
	switch (sc->kind) {
	case K_SELF:
		return sc->self(argc - 1, argv + 1);
	case K_CLIENT:
		return client_main(argc - 1, argv + 1);
	case K_DAEMON:
		return daemon_main(sc, argc - 1, argv + 1);
	}
	return 2;
}
