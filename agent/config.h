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

#include "log.h"

enum hold_policy { HOLD_NEVER, HOLD_ON_FAILURE, HOLD_ALWAYS };

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
 * "--hold-before", "--config FILE").  1 if consumed (advancing *i past its
 * value), 0 if argv[*i] is not a setting flag, -1 (after printing why) for a
 * flag missing its value. */
int config_take_flag(struct config_flags *flags, int argc, char **argv, int *i);

/* Fill cfg from every layer.  Never fails: bad input is logged and counted
 * in cfg->errors. */
void config_load(struct config *cfg, const struct config_flags *flags);
void config_free(struct config *cfg);

const char *config_layer_name(enum config_layer layer);
const char *hold_policy_name(enum hold_policy p);

/* "KEY=VALUE  # layer" lines, or one JSON object. */
void config_print(const struct config *cfg, FILE *out, bool json);

/* Usage lines for the setting flags. */
void config_print_flags(FILE *out);

#endif
