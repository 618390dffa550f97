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

#include "../cluster/cluster_settings.h"
#include "../lib/log.h"
#include "../ssh/ssh_settings.h"
#include "../ssm/ssm_settings.h"

enum hold_policy { HOLD_NEVER, HOLD_ON_FAILURE, HOLD_ALWAYS };

/* auto: publish to CloudWatch inside a SageMaker training job or on a
 * HyperPod node only. */
enum cw_mode { CW_AUTO, CW_ON, CW_OFF };

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
	SET_PER_SOURCE_MAX_STARTUPS,
	SET_PER_SOURCE_NETBLOCK_SIZE,
	SET_PER_SOURCE_PENALTY_EXEMPT,
	SET_SSH_IDLE_TIMEOUT,
	SET_SSH_KEEPALIVE,
	SET_SSH_GATEWAY_PORTS,
	SET_SSH_AGENT_FORWARDING,
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

/* The holds (daemon/hold.h applies them). */
struct hold_settings {
	enum hold_policy policy;
	uint64_t window;     /* seconds */
	bool before;
	uint64_t idle_grace; /* seconds */
	uint64_t max_hold;   /* seconds */
};

/* The CloudWatch publisher (daemon/publish.c turns it into a cwpub_config). */
struct cw_settings {
	enum cw_mode mode;
	char *log_group;            /* NULL: the platform's (identity.h) */
	char *log_stream;           /* NULL: the platform's (identity.h) */
	bool create_log_group;
	char *spool_dir;
	unsigned spool_max_mb;
	uint64_t flush_timeout;     /* seconds */
};

/* Every setting, grouped by the area that receives it: an area is handed
 * its own part (ssh, ssm, cluster), never the whole. */
struct config {
	struct hold_settings hold;
	char *control_socket;
	char *ml_root;
	char *job;           /* "" when not set */
	enum plog_level log_level;
	struct ssh_settings ssh;
	struct cw_settings cw;
	struct ssm_settings ssm;
	struct cluster_settings cluster;

	char *runtime_dir;   /* the control socket's directory: porthole's runtime files */
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
