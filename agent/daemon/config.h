/* SPDX-License-Identifier: Apache-2.0 */
/* config.h — porthole's settings and where each came from.
 *
 * Layers, highest first: command-line flags > environment PORTHOLE_* >
 * SageMaker hyperparameters porthole_* > the conf file (KEY=VALUE) > defaults.
 * A bad value is reported once, naming the setting, the layer, the value,
 * what was expected and the value used instead; it never stops porthole. */
#ifndef PORTHOLE_CONFIG_H
#define PORTHOLE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/log.h"

enum hold_policy { HOLD_NEVER, HOLD_ON_FAILURE, HOLD_ALWAYS };

/* auto: publish to CloudWatch inside a SageMaker training job or on a
 * HyperPod node only. */
enum cw_mode { CW_AUTO, CW_ON, CW_OFF };

enum ssh_mode { SSH_EMBEDDED, SSH_OPENSSH, SSH_OFF };

/* auto: stay out of SageMaker remote debug's way, else register when an
 * activation or role is configured. */
enum ssm_mode { SSM_OFF, SSM_AUTO, SSM_REGISTER };

/* How cluster logins are trusted: the peers' published client keys, or
 * (explicit opt-in, when CloudWatch cannot be read) their addresses. */
enum cluster_trust { TRUST_KEYS, TRUST_NETWORK };

/* OpenSSH's MaxStartups "start:rate:full": from `start` unauthenticated
 * connections on, refuse new ones with probability rising from rate% to
 * 100% at `full`. */
struct ssh_startups {
	unsigned start, rate, full;
};

enum config_layer { LAYER_DEFAULT, LAYER_CONF, LAYER_HYPER, LAYER_ENV, LAYER_FLAG, LAYER__COUNT };

enum setting_id {
	SET_HOLD,
	SET_WINDOW,
	SET_HOLD_BEFORE,
	SET_IDLE_GRACE,
	SET_MAX_HOLD,
	SET_CONTROL_SOCKET,
	SET_ML_ROOT,
	SET_JOB,
	SET_LOG_LEVEL,
	SET_SSH,
	SET_SSH_PORT,
	SET_SSH_LISTEN,
	SET_HOST_KEY,
	SET_AUTHORIZED_KEYS,
	SET_AUTHORIZED_KEYS_FILE,
	SET_AUTHORIZED_KEYS_S3,
	SET_SFTP_SERVER,
	SET_LOGIN_GRACE,
	SET_MAX_AUTH_TRIES,
	SET_MAX_STARTUPS,
	SET_SSH_IDLE_TIMEOUT,
	SET_SSH_KEEPALIVE,
	SET_SSH_GATEWAY_PORTS,
	SET_CLOUDWATCH,
	SET_LOG_GROUP,
	SET_LOG_STREAM,
	SET_CREATE_LOG_GROUP,
	SET_SPOOL_DIR,
	SET_SPOOL_MAX_MB,
	SET_FLUSH_TIMEOUT,
	SET_SSM,
	SET_SSM_AGENT,
	SET_SSM_ACTIVATION_CODE,
	SET_SSM_ACTIVATION_ID,
	SET_SSM_ROLE,
	SET_SSM_LOG_DIR,
	SET_CLUSTER_SSH,
	SET_RENDEZVOUS_TIMEOUT,
	SET_HOSTFILE,
	SET_CLUSTER_TRUST,
	SET__COUNT
};

#define CONFIG_DEFAULT_PATH "/etc/porthole/porthole.conf"
#define CONFIG_MAX_FLAGS 32

struct config {
	enum hold_policy hold;
	uint64_t window;     /* seconds */
	bool hold_before;
	uint64_t idle_grace; /* seconds */
	uint64_t max_hold;   /* seconds */
	char *control_socket;
	char *ml_root;
	char *job;           /* "" when not set */
	enum plog_level log_level;

	/* The SSH endpoint. */
	enum ssh_mode ssh;
	unsigned ssh_port;
	char *ssh_listen;           /* "all", or addresses separated by commas/spaces */
	char *host_key;             /* NULL: generate one at start */
	char *authorized_keys;      /* inline authorized_keys lines; NULL when unset */
	char *authorized_keys_file; /* NULL when unset */
	char *authorized_keys_s3;   /* s3://bucket/key; NULL when unset */
	char *sftp_server;          /* NULL: `porthole sftp-server` */
	uint64_t login_grace;       /* seconds */
	unsigned max_auth_tries;
	struct ssh_startups max_startups;
	uint64_t ssh_idle_timeout;  /* seconds; 0: none */
	uint64_t ssh_keepalive;     /* seconds; 0: none */
	bool ssh_gateway_ports;     /* ssh -R may bind non-loopback addresses */

	/* The CloudWatch publisher. */
	enum cw_mode cloudwatch;
	char *log_group;            /* NULL: the platform's (identity.h) */
	char *log_stream;           /* NULL: the platform's (identity.h) */
	bool create_log_group;
	char *spool_dir;
	unsigned spool_max_mb;
	uint64_t flush_timeout;     /* seconds */

	/* The SSM endpoint (amazon-ssm-agent). */
	enum ssm_mode ssm;
	char *ssm_agent;            /* NULL: amazon-ssm-agent on PATH */
	char *ssm_activation_code;  /* NULL when unset */
	char *ssm_activation_id;
	char *ssm_role;             /* for CreateActivation; NULL when unset */
	char *ssm_log_dir;

	/* SSH between the hosts of a job (docs/cluster.md). */
	bool cluster_ssh;
	uint64_t rendezvous_timeout; /* seconds */
	char *hostfile;             /* NULL: <ML_ROOT>/hostfile */
	enum cluster_trust cluster_trust;

	char *conf_path;
	enum config_layer layer[SET__COUNT]; /* where each effective value came from */
	unsigned errors;                     /* bad values reported while loading */
};

/* Flags collected from the command line before loading. */
struct config_flags {
	const char *conf_path;
	size_t n;
	struct { enum setting_id id; const char *value; } set[CONFIG_MAX_FLAGS];
};

/* Consume a setting flag at argv[*i] ("--window 30m", "--window=30m",
 * "--hold-before", "--config FILE").  1 if consumed (leaving *i on the last
 * argument it used: the value, when separate), 0 if argv[*i] is not a
 * setting flag, -1 (after printing why) for a flag missing its value. */
int config_take_flag(struct config_flags *flags, int argc, char **argv, int *i);

/* Fill cfg from every layer.  Never fails: bad input is logged and counted
 * in cfg->errors. */
void config_load(struct config *cfg, const struct config_flags *flags);
void config_free(struct config *cfg);

const char *config_layer_name(enum config_layer layer);
const char *config_hold_policy_name(enum hold_policy p);

/* "KEY=VALUE  # layer" lines, or one JSON object. */
void config_print(const struct config *cfg, FILE *out, bool json);

/* Usage lines for the setting flags. */
void config_print_flags(FILE *out);

#endif
