/* SPDX-License-Identifier: Apache-2.0 */
/* test_config.c — config_load's layers, bad values and messages; config_take_flag.
 *
 * Every load runs with the PORTHOLE_* environment cleared, a conf file of the
 * test's own (passed as --config) and ML_ROOT pointing at a temporary tree, so
 * neither the runner's environment nor /etc or /opt/ml can influence it. */
#include "testutil.h"

#include <ctype.h>
#include <inttypes.h>

#include "daemon/config.h"
#include "lib/duration.h"

/* ---- the fixture ----------------------------------------------------------- */

static struct {
	char *dir;
	char *ml;    /* dir/ml: ML_ROOT unless a test sets it */
	char *conf;  /* dir/porthole.conf, passed as --config */
	char *hyper; /* ml/input/config/hyperparameters.json */
	struct tu_log log;
	char *err; /* stderr of the last load */
} fx;

static const char *const names[SET__COUNT] = {
	[SET_HOLD] = "HOLD",
	[SET_WINDOW] = "WINDOW",
	[SET_HOLD_BEFORE] = "HOLD_BEFORE",
	[SET_IDLE_GRACE] = "IDLE_GRACE",
	[SET_MAX_HOLD] = "MAX_HOLD",
	[SET_CONTROL_SOCKET] = "CONTROL_SOCKET",
	[SET_ML_ROOT] = "ML_ROOT",
	[SET_JOB] = "JOB",
	[SET_LOG_LEVEL] = "LOG_LEVEL",
	[SET_SSH] = "SSH",
	[SET_SSH_PORT] = "SSH_PORT",
	[SET_SSH_LISTEN] = "SSH_LISTEN",
	[SET_HOST_KEY] = "HOST_KEY",
	[SET_AUTHORIZED_KEYS] = "AUTHORIZED_KEYS",
	[SET_AUTHORIZED_KEYS_FILE] = "AUTHORIZED_KEYS_FILE",
	[SET_SFTP_SERVER] = "SFTP_SERVER",
	[SET_LOGIN_GRACE] = "LOGIN_GRACE",
	[SET_MAX_AUTH_TRIES] = "MAX_AUTH_TRIES",
	[SET_MAX_STARTUPS] = "MAX_STARTUPS",
	[SET_SSH_IDLE_TIMEOUT] = "SSH_IDLE_TIMEOUT",
	[SET_SSH_KEEPALIVE] = "SSH_KEEPALIVE",
	[SET_SSH_GATEWAY_PORTS] = "SSH_GATEWAY_PORTS",
	[SET_SSH_AGENT_FORWARDING] = "SSH_AGENT_FORWARDING",
	[SET_CLOUDWATCH] = "CLOUDWATCH",
	[SET_LOG_GROUP] = "LOG_GROUP",
	[SET_LOG_STREAM] = "LOG_STREAM",
	[SET_CREATE_LOG_GROUP] = "CREATE_LOG_GROUP",
	[SET_SPOOL_DIR] = "SPOOL_DIR",
	[SET_SPOOL_MAX_MB] = "SPOOL_MAX_MB",
	[SET_FLUSH_TIMEOUT] = "FLUSH_TIMEOUT",
	[SET_CLUSTER_SSH] = "CLUSTER_SSH",
	[SET_RENDEZVOUS_TIMEOUT] = "RENDEZVOUS_TIMEOUT",
	[SET_HOSTFILE] = "HOSTFILE",
	[SET_CLUSTER_TRUST] = "CLUSTER_TRUST",
};

static int setup(void **state)
{
	(void)state;
	tu_reset();
	tu_clear_env_prefix("PORTHOLE_");
	fx.dir = tu_tmpdir();
	fx.ml = tu_path("%s/ml", fx.dir);
	fx.conf = tu_path("%s/porthole.conf", fx.dir);
	fx.hyper = tu_path("%s/input/config/hyperparameters.json", fx.ml);
	tu_mkdir_p(fx.ml);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_log_stop(&fx.log);
	tu_log_clear(&fx.log);
	tu_clear_env_prefix("PORTHOLE_");
	tu_rm_rf(fx.dir);
	free(fx.dir);
	free(fx.ml);
	free(fx.conf);
	free(fx.hyper);
	free(fx.err);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/* ---- describing a load --------------------------------------------------- */

struct spec {
	const char *v[LAYER__COUNT][SET__COUNT]; /* text per layer; [LAYER_DEFAULT] unused */
	const char *conf_text;                   /* raw lines appended to the conf file */
	const char *hyper_json;                  /* raw hyperparameters.json (replaces v[LAYER_HYPER]) */
	bool no_conf_flag;                       /* do not pass --config */
	bool no_ml_root;                         /* do not point ML_ROOT at the fixture */
};

static void lower_name(enum setting_id id, char sep, char *buf, size_t len)
{
	size_t i;

	for (i = 0; names[id][i] && i + 1 < len; i++)
		buf[i] = names[id][i] == '_' ? sep : (char)tolower((unsigned char)names[id][i]);
	buf[i] = '\0';
}

static void load(const struct spec *sp, struct config *cfg)
{
	struct config_flags flags = { 0 };
	struct tu_capture cap;
	char *conf = NULL;
	size_t conf_len = 0;
	FILE *cf = open_memstream(&conf, &conf_len);
	cJSON *hyper = NULL;
	bool ml_set = false;

	assert_non_null(cf);
	tu_clear_env_prefix("PORTHOLE_");
	for (int id = 0; id < SET__COUNT; id++) {
		char key[64];
		for (int l = LAYER_CONF; l < LAYER__COUNT; l++)
			ml_set |= id == SET_ML_ROOT && sp->v[l][id];
		if (sp->v[LAYER_CONF][id])
			fprintf(cf, "PORTHOLE_%s=%s\n", names[id], sp->v[LAYER_CONF][id]);
		if (sp->v[LAYER_HYPER][id]) {
			if (!hyper)
				hyper = cJSON_CreateObject();
			strcpy(key, "porthole_");
			lower_name((enum setting_id)id, '_', key + 9, sizeof(key) - 9);
			cJSON_AddStringToObject(hyper, key, sp->v[LAYER_HYPER][id]);
		}
		if (sp->v[LAYER_ENV][id]) {
			snprintf(key, sizeof(key), "PORTHOLE_%s", names[id]);
			setenv(key, sp->v[LAYER_ENV][id], 1);
		}
		if (sp->v[LAYER_FLAG][id]) {
			flags.set[flags.n].id = (enum setting_id)id;
			flags.set[flags.n].value = sp->v[LAYER_FLAG][id];
			flags.n++;
		}
	}
	if (sp->conf_text)
		fputs(sp->conf_text, cf);
	fclose(cf);
	tu_write_file(fx.conf, conf);
	free(conf);

	if (sp->hyper_json) {
		tu_write_file(fx.hyper, sp->hyper_json);
	} else if (hyper) {
		char *text = cJSON_Print(hyper);
		tu_write_file(fx.hyper, text);
		free(text);
	} else {
		unlink(fx.hyper);
	}
	cJSON_Delete(hyper);

	if (!sp->no_conf_flag)
		flags.conf_path = fx.conf;
	if (!sp->no_ml_root && !ml_set) {
		flags.set[flags.n].id = SET_ML_ROOT;
		flags.set[flags.n].value = fx.ml;
		flags.n++;
	}

	free(fx.err);
	tu_log_start(&fx.log);
	tu_capture_begin(&cap);
	config_load(cfg, &flags);
	fx.err = tu_capture_end(&cap);
	tu_log_stop(&fx.log);
	tu_clear_env_prefix("PORTHOLE_");
}

/* The effective value of one setting, as text that is easy to compare. */
static void value_of(const struct config *cfg, enum setting_id id, char *buf, size_t len)
{
	switch (id) {
	case SET_HOLD:
		snprintf(buf, len, "%s", config_hold_policy_name(cfg->hold.policy));
		break;
	case SET_WINDOW:
		snprintf(buf, len, "%" PRIu64, cfg->hold.window);
		break;
	case SET_HOLD_BEFORE:
		snprintf(buf, len, "%d", cfg->hold.before ? 1 : 0);
		break;
	case SET_IDLE_GRACE:
		snprintf(buf, len, "%" PRIu64, cfg->hold.idle_grace);
		break;
	case SET_MAX_HOLD:
		snprintf(buf, len, "%" PRIu64, cfg->hold.max_hold);
		break;
	case SET_CONTROL_SOCKET:
		snprintf(buf, len, "%s", tu_str(cfg->control_socket));
		break;
	case SET_ML_ROOT:
		snprintf(buf, len, "%s", tu_str(cfg->ml_root));
		break;
	case SET_JOB:
		snprintf(buf, len, "%s", tu_str(cfg->job));
		break;
	case SET_LOG_LEVEL:
		snprintf(buf, len, "%s", cfg->log_level <= PLOG_ERROR ? log_level_name(cfg->log_level) : "?");
		break;
	case SET_SSH: {
		static const char *const n[] = { "embedded", "openssh", "off" };
		snprintf(buf, len, "%s", (unsigned)cfg->ssh.mode < 3 ? n[cfg->ssh.mode] : "?");
		break;
	}
	case SET_CLOUDWATCH: {
		static const char *const n[] = { "auto", "on", "off" };
		snprintf(buf, len, "%s", (unsigned)cfg->cw.mode < 3 ? n[cfg->cw.mode] : "?");
		break;
	}
	case SET_SSH_PORT:
		snprintf(buf, len, "%u", cfg->ssh.port);
		break;
	case SET_MAX_AUTH_TRIES:
		snprintf(buf, len, "%u", cfg->ssh.max_auth_tries);
		break;
	case SET_SPOOL_MAX_MB:
		snprintf(buf, len, "%u", cfg->cw.spool_max_mb);
		break;
	case SET_MAX_STARTUPS:
		snprintf(buf, len, "%u:%u:%u", cfg->ssh.max_startups.start, cfg->ssh.max_startups.rate, cfg->ssh.max_startups.full);
		break;
	case SET_SSH_GATEWAY_PORTS:
		snprintf(buf, len, "%d", cfg->ssh.gateway_ports ? 1 : 0);
		break;
	case SET_SSH_AGENT_FORWARDING:
		snprintf(buf, len, "%d", cfg->ssh.agent_forwarding ? 1 : 0);
		break;
	case SET_CREATE_LOG_GROUP:
		snprintf(buf, len, "%d", cfg->cw.create_log_group ? 1 : 0);
		break;
	case SET_LOGIN_GRACE:
		snprintf(buf, len, "%" PRIu64, cfg->ssh.login_grace);
		break;
	case SET_SSH_IDLE_TIMEOUT:
		snprintf(buf, len, "%" PRIu64, cfg->ssh.idle_timeout);
		break;
	case SET_SSH_KEEPALIVE:
		snprintf(buf, len, "%" PRIu64, cfg->ssh.keepalive);
		break;
	case SET_FLUSH_TIMEOUT:
		snprintf(buf, len, "%" PRIu64, cfg->cw.flush_timeout);
		break;
	case SET_SSH_LISTEN:
		snprintf(buf, len, "%s", tu_str(cfg->ssh.listen));
		break;
	case SET_HOST_KEY:
		snprintf(buf, len, "%s", tu_str(cfg->ssh.host_key));
		break;
	case SET_AUTHORIZED_KEYS:
		snprintf(buf, len, "%s", tu_str(cfg->ssh.authorized_keys));
		break;
	case SET_AUTHORIZED_KEYS_FILE:
		snprintf(buf, len, "%s", tu_str(cfg->ssh.authorized_keys_file));
		break;
	case SET_SFTP_SERVER:
		snprintf(buf, len, "%s", tu_str(cfg->ssh.sftp_server));
		break;
	case SET_LOG_GROUP:
		snprintf(buf, len, "%s", tu_str(cfg->cw.log_group));
		break;
	case SET_LOG_STREAM:
		snprintf(buf, len, "%s", tu_str(cfg->cw.log_stream));
		break;
	case SET_SPOOL_DIR:
		snprintf(buf, len, "%s", tu_str(cfg->cw.spool_dir));
		break;
	case SET_CLUSTER_SSH:
		snprintf(buf, len, "%d", cfg->cluster.enabled ? 1 : 0);
		break;
	case SET_RENDEZVOUS_TIMEOUT:
		snprintf(buf, len, "%" PRIu64, cfg->cluster.rendezvous_timeout);
		break;
	case SET_HOSTFILE:
		snprintf(buf, len, "%s", tu_str(cfg->cluster.hostfile));
		break;
	case SET_CLUSTER_TRUST: {
		static const char *const n[] = { "keys", "network" };
		snprintf(buf, len, "%s", (unsigned)cfg->cluster.trust < 2 ? n[cfg->cluster.trust] : "?");
		break;
	}
	default:
		snprintf(buf, len, "?");
	}
}

/* ---- the settings under test -------------------------------------------- */

static const struct scase {
	enum setting_id id;
	bool hyper;          /* may be set as a hyperparameter */
	const char *a, *a_canon;
	const char *b, *b_canon;
	const char *def_canon;
	const char *def_text; /* as named in "using \"...\" (default)" */
	const char *bad;
	const char *expect;   /* part of "expected ..." */
} scases[] = {
	{ SET_HOLD, true, "always", "always", "never", "never", "on-failure", "on-failure", "sometimes",
	  "expected one of never, on-failure, always" },
	{ SET_WINDOW, true, "1h30m", "5400", "90s", "90", "1800", "30m", "1.5h",
	  "expected a duration such as 90s, 30m, 1h30m or plain seconds" },
	{ SET_HOLD_BEFORE, true, "yes", "1", "off", "0", "0", "0", "maybe",
	  "expected 1/0, true/false, yes/no or on/off" },
	{ SET_IDLE_GRACE, true, "5m", "300", "45", "45", "600", "10m", "-5m", "expected a duration" },
	{ SET_MAX_HOLD, true, "2h", "7200", "1d", "86400", "14400", "4h", "4hours", "expected a duration" },
	{ SET_CONTROL_SOCKET, false, "/tmp/ph-a.sock", "/tmp/ph-a.sock", "/tmp/ph-b.sock", "/tmp/ph-b.sock",
	  "/run/porthole/control.sock", "/run/porthole/control.sock", "control.sock", "expected an absolute path" },
	{ SET_ML_ROOT, false, "/nonexistent/ph-a", "/nonexistent/ph-a", "/nonexistent/ph-b", "/nonexistent/ph-b",
	  "/opt/ml", "/opt/ml", "opt/ml", "expected an absolute path" },
	{ SET_JOB, true, "job-A_1.x", "job-A_1.x", "other", "other", "", "(empty)", "bad job!",
	  "expected 1 to 128 characters from A-Z a-z 0-9 . _ -" },
	{ SET_LOG_LEVEL, true, "debug", "debug", "error", "error", "info", "info", "verbose",
	  "expected one of debug, info, warning, error" },
	/* The SSH endpoint and the CloudWatch publisher. */
	{ SET_SSH, true, "openssh", "openssh", "off", "off", "embedded", "embedded", "dropbear",
	  "expected one of embedded, openssh, off" },
	{ SET_SSH_PORT, true, "2222", "2222", "0", "0", "22", "22", "65536", "expected a port number from 0 to 65535" },
	{ SET_SSH_LISTEN, true, "127.0.0.1", "127.0.0.1", "::1, 10.0.0.1", "::1, 10.0.0.1", "all", "all",
	  "example.com", "expected all, or IP addresses" },
	{ SET_HOST_KEY, false, "/etc/ph/k1", "/etc/ph/k1", "/etc/ph/k2", "/etc/ph/k2", "(null)", "(empty)", "k1",
	  "expected an absolute path, or nothing" },
	{ SET_AUTHORIZED_KEYS_FILE, false, "/etc/ph/ak1", "/etc/ph/ak1", "/etc/ph/ak2", "/etc/ph/ak2", "(null)",
	  "(empty)", "ak", "expected an absolute path, or nothing" },
	{ SET_SFTP_SERVER, false, "/usr/lib/sftp-server", "/usr/lib/sftp-server", "/bin/sftp", "/bin/sftp", "(null)",
	  "(empty)", "sftp-server", "expected an absolute path, or nothing" },
	{ SET_LOGIN_GRACE, true, "1m", "60", "45", "45", "30", "30s", "1m1m", "expected a duration" },
	{ SET_MAX_AUTH_TRIES, true, "3", "3", "10", "10", "6", "6", "-1", "expected a whole number from 0 to 1000000" },
	{ SET_MAX_STARTUPS, true, "5:50:20", "5:50:20", "8", "8:100:8", "10:30:100", "10:30:100", "20:30:10",
	  "expected N or start:rate:full" },
	{ SET_SSH_IDLE_TIMEOUT, true, "1h", "3600", "90", "90", "0", "0", "1hour", "expected a duration" },
	{ SET_SSH_KEEPALIVE, true, "30s", "30", "0", "0", "60", "60s", "30 s", "expected a duration" },
	{ SET_SSH_GATEWAY_PORTS, true, "true", "1", "no", "0", "0", "0", "2", "expected 1/0, true/false" },
	{ SET_SSH_AGENT_FORWARDING, true, "false", "0", "yes", "1", "1", "1", "2", "expected 1/0, true/false" },
	{ SET_CLOUDWATCH, true, "on", "on", "off", "off", "auto", "auto", "yes", "expected one of auto, on, off" },
	{ SET_LOG_GROUP, true, "/my/group", "/my/group", "other", "other", "(null)", "(empty)", NULL, NULL },
	{ SET_LOG_STREAM, true, "s/1", "s/1", "s2", "s2", "(null)", "(empty)", NULL, NULL },
	{ SET_CREATE_LOG_GROUP, true, "on", "1", "false", "0", "0", "0", "sure", "expected 1/0, true/false" },
	{ SET_SPOOL_DIR, false, "/var/spool/a", "/var/spool/a", "/var/spool/b", "/var/spool/b", "/run/porthole/spool",
	  "/run/porthole/spool", "spool", "expected an absolute path" },
	{ SET_SPOOL_MAX_MB, true, "128", "128", "0", "0", "64", "64", "1000001", "expected a whole number" },
	{ SET_FLUSH_TIMEOUT, true, "30s", "30", "0", "0", "10", "10s", "-1s", "expected a duration" },
	{ SET_CLUSTER_SSH, true, "1", "1", "no", "0", "0", "0", "cluster", "expected 1/0, true/false" },
	{ SET_RENDEZVOUS_TIMEOUT, true, "2m", "120", "30", "30", "600", "10m", "ten minutes", "expected a duration" },
	{ SET_HOSTFILE, true, "/opt/ml/a/hostfile", "/opt/ml/a/hostfile", "/tmp/hf", "/tmp/hf", "(null)", "(empty)",
	  "hostfile", "expected an absolute path, or nothing" },
	{ SET_CLUSTER_TRUST, true, "network", "network", "keys", "keys", "keys", "keys", "ip",
	  "expected one of keys, network" },
};
#define N_SCASES (sizeof(scases) / sizeof(scases[0]))

static const char *const layer_label[LAYER__COUNT] = { "default", "conf", "hyper", "env", "flag" };

static bool layer_ok(const struct scase *sc, int layer)
{
	return layer != LAYER_HYPER || sc->hyper;
}

/* How the message names a value at a layer (conf values are on line 1). */
static void named_as(const struct scase *sc, int layer, char *buf, size_t len)
{
	char lower[64];

	switch (layer) {
	case LAYER_FLAG:
		lower_name(sc->id, '-', lower, sizeof(lower));
		snprintf(buf, len, "--%s (command line)", lower);
		break;
	case LAYER_ENV:
		snprintf(buf, len, "PORTHOLE_%s (environment)", names[sc->id]);
		break;
	case LAYER_HYPER:
		lower_name(sc->id, '_', lower, sizeof(lower));
		snprintf(buf, len, "hyperparameter porthole_%s (%s)", lower, fx.hyper);
		break;
	default:
		snprintf(buf, len, "PORTHOLE_%s (%s:1)", names[sc->id], fx.conf);
	}
}

/* ---- tests --------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct spec sp = { 0 };
	struct config cfg;
	char val[512];
	(void)state;

	load(&sp, &cfg);
	for (size_t i = 0; i < N_SCASES; i++) {
		const struct scase *sc = &scases[i];
		if (sc->id == SET_ML_ROOT)
			continue;
		value_of(&cfg, sc->id, val, sizeof(val));
		TU_CHECK(strcmp(val, sc->def_canon) == 0, "%s default is \"%s\", want \"%s\"", names[sc->id], val,
			 sc->def_canon);
		TU_CHECK(cfg.layer[sc->id] == LAYER_DEFAULT, "%s layer %d, want default", names[sc->id],
			 cfg.layer[sc->id]);
	}
	TU_CHECK(cfg.layer[SET_ML_ROOT] == LAYER_FLAG, "ML_ROOT came from --ml-root");
	TU_CHECK(tu_streq(cfg.ml_root, fx.ml), "ml_root %s", tu_str(cfg.ml_root));
	TU_CHECK(tu_streq(cfg.conf_path, fx.conf), "conf_path %s", tu_str(cfg.conf_path));
	TU_CHECK(cfg.errors == 0, "errors %u", cfg.errors);
	TU_CHECK(fx.log.n == 0, "%zu log entries", fx.log.n);
	TU_CHECK(fx.err[0] == '\0', "stderr: %s", fx.err);
	config_free(&cfg);
	TU_END();
}

static void test_ml_root_default(void **state)
{
	struct spec sp = { .no_ml_root = true };
	struct config cfg;
	(void)state;

	load(&sp, &cfg);
	assert_string_equal(cfg.ml_root, "/opt/ml");
	assert_int_equal(cfg.layer[SET_ML_ROOT], LAYER_DEFAULT);
	if (access("/opt/ml/input/config/hyperparameters.json", F_OK) != 0)
		assert_int_equal(cfg.errors, 0);
	config_free(&cfg);
}

/* Each pair of layers: the higher one wins and is recorded in cfg->layer[]. */
static void test_precedence_pairs(void **state)
{
	char val[512];
	unsigned runs = 0;
	(void)state;

	for (size_t i = 0; i < N_SCASES; i++) {
		const struct scase *sc = &scases[i];
		for (int hi = LAYER_FLAG; hi > LAYER_DEFAULT; hi--) {
			for (int lo = hi - 1; lo >= LAYER_DEFAULT; lo--) {
				struct spec sp = { 0 };
				struct config cfg;
				if (!layer_ok(sc, hi) || !layer_ok(sc, lo))
					continue;
				sp.v[hi][sc->id] = sc->a;
				if (lo != LAYER_DEFAULT)
					sp.v[lo][sc->id] = sc->b;
				load(&sp, &cfg);
				runs++;
				value_of(&cfg, sc->id, val, sizeof(val));
				TU_CHECK(strcmp(val, sc->a_canon) == 0, "%s: %s=\"%s\" over %s=\"%s\" gave \"%s\"",
					 names[sc->id], layer_label[hi], sc->a, layer_label[lo], lo ? sc->b : "-", val);
				TU_CHECK(cfg.layer[sc->id] == (enum config_layer)hi,
					 "%s: %s over %s recorded layer %s", names[sc->id], layer_label[hi],
					 layer_label[lo], layer_label[cfg.layer[sc->id]]);
				TU_CHECK(cfg.errors == 0, "%s: %s over %s: %u errors: %s", names[sc->id],
					 layer_label[hi], layer_label[lo], cfg.errors, fx.err);
				config_free(&cfg);
			}
		}
		/* Every layer on its own. */
		for (int l = LAYER_CONF; l <= LAYER_FLAG; l++) {
			struct spec sp = { 0 };
			struct config cfg;
			if (!layer_ok(sc, l))
				continue;
			sp.v[l][sc->id] = sc->b;
			load(&sp, &cfg);
			value_of(&cfg, sc->id, val, sizeof(val));
			TU_CHECK(strcmp(val, sc->b_canon) == 0 && cfg.layer[sc->id] == (enum config_layer)l,
				 "%s only at %s: \"%s\" from layer %s", names[sc->id], layer_label[l], val,
				 layer_label[cfg.layer[sc->id]]);
			config_free(&cfg);
		}
	}
	assert_true(runs >= 200);
	TU_END();
}

/* All four layers at once, then peel them off from the top. */
static void test_precedence_cascade(void **state)
{
	static const char *const windows[LAYER__COUNT] = { "30m", "1m", "2m", "3m", "4m" };
	static const uint64_t secs[LAYER__COUNT] = { 1800, 60, 120, 180, 240 };
	(void)state;

	for (int top = LAYER_FLAG; top >= LAYER_DEFAULT; top--) {
		struct spec sp = { 0 };
		struct config cfg;
		for (int l = LAYER_CONF; l <= top; l++)
			sp.v[l][SET_WINDOW] = windows[l];
		load(&sp, &cfg);
		TU_CHECK(cfg.hold.window == secs[top], "top layer %s: window %" PRIu64 ", want %" PRIu64, layer_label[top],
			 cfg.hold.window, secs[top]);
		TU_CHECK(cfg.layer[SET_WINDOW] == (enum config_layer)top, "top layer %s: recorded %s",
			 layer_label[top], layer_label[cfg.layer[SET_WINDOW]]);
		TU_CHECK(cfg.errors == 0, "errors %u", cfg.errors);
		config_free(&cfg);
	}
	TU_END();
}

/* A bad value costs exactly one error and the next lower valid layer wins. */
static void test_bad_values(void **state)
{
	char val[512], what[1024], used[256], line[2048];
	(void)state;

	for (size_t i = 0; i < N_SCASES; i++) {
		const struct scase *sc = &scases[i];
		for (int l = LAYER_FLAG; l >= LAYER_CONF; l--) {
			struct spec sp = { 0 };
			struct config cfg;
			int lower = l - 1;
			if (!layer_ok(sc, l) || !sc->bad)
				continue;
			while (lower > LAYER_DEFAULT && !layer_ok(sc, lower))
				lower--;
			sp.v[l][sc->id] = sc->bad;
			if (lower != LAYER_DEFAULT)
				sp.v[lower][sc->id] = sc->a;
			load(&sp, &cfg);

			const char *want = lower == LAYER_DEFAULT ? sc->def_canon : sc->a_canon;
			value_of(&cfg, sc->id, val, sizeof(val));
			TU_CHECK(cfg.errors == 1, "%s bad at %s: %u errors, want 1; stderr:\n%s", names[sc->id],
				 layer_label[l], cfg.errors, fx.err);
			TU_CHECK(strcmp(val, want) == 0, "%s bad at %s: value \"%s\", want \"%s\" from %s",
				 names[sc->id], layer_label[l], val, want, layer_label[lower]);
			TU_CHECK(cfg.layer[sc->id] == (enum config_layer)lower, "%s bad at %s: recorded layer %s, want %s",
				 names[sc->id], layer_label[l], layer_label[cfg.layer[sc->id]], layer_label[lower]);

			/* The one message names setting+layer+value, the expectation and the fallback. */
			named_as(sc, l, what, sizeof(what));
			snprintf(used, sizeof(used), "using \"%s\" (%s)", lower == LAYER_DEFAULT ? sc->def_text : sc->a,
				 config_layer_name((enum config_layer)lower));
			TU_CHECK(tu_log_count(&fx.log, PLOG_ERROR) == 1, "%s bad at %s: %zu error messages",
				 names[sc->id], layer_label[l], tu_log_count(&fx.log, PLOG_ERROR));
			const char *msg = fx.log.n ? fx.log.e[0].msg : "";
			TU_CHECK(strstr(msg, what), "%s bad at %s: message does not name %s:\n    %s", names[sc->id],
				 layer_label[l], what, msg);
			TU_CHECK(strstr(msg, sc->expect), "%s bad at %s: message lacks \"%s\":\n    %s", names[sc->id],
				 layer_label[l], sc->expect, msg);
			TU_CHECK(strstr(msg, used), "%s bad at %s: message lacks \"%s\":\n    %s", names[sc->id],
				 layer_label[l], used, msg);
			snprintf(line, sizeof(line), "porthole: error: %s\n", msg);
			TU_CHECK(strcmp(fx.err, line) == 0, "%s bad at %s: stderr is\n%s\nwant\n%s", names[sc->id],
				 layer_label[l], fx.err, line);
			config_free(&cfg);
		}
	}
	TU_END();
}

/* The parsers of the newer kinds (port, counts, MaxStartups, addresses,
 * optional paths, text), one value at a time from the environment. */
static void test_value_syntax(void **state)
{
	static const struct {
		enum setting_id id;
		const char *text;
		const char *canon; /* NULL: rejected, the default stays */
	} cases[] = {
		{ SET_SSH_PORT, "1", "1" },
		{ SET_SSH_PORT, "65535", "65535" },
		{ SET_SSH_PORT, "65536", NULL },
		{ SET_SSH_PORT, "0", "0" }, /* any free port */
		{ SET_SSH_PORT, "-1", NULL },
		{ SET_SSH_PORT, "+22", NULL },
		{ SET_SSH_PORT, "22 ", NULL },
		{ SET_SSH_PORT, "0x16", NULL },
		{ SET_SSH_PORT, "", NULL },
		{ SET_SSH_PORT, "99999999999999999999999", NULL },
		{ SET_MAX_AUTH_TRIES, "0", "0" },
		{ SET_MAX_AUTH_TRIES, "1000000", "1000000" },
		{ SET_MAX_AUTH_TRIES, "1000001", NULL },
		{ SET_MAX_AUTH_TRIES, "4294967297", NULL },
		{ SET_MAX_STARTUPS, "10:30:100", "10:30:100" },
		{ SET_MAX_STARTUPS, "1", "1:100:1" },
		{ SET_MAX_STARTUPS, "5:100:5", "5:100:5" },
		{ SET_MAX_STARTUPS, "0", NULL },
		{ SET_MAX_STARTUPS, "0:30:100", NULL },
		{ SET_MAX_STARTUPS, "10:0:100", NULL },
		{ SET_MAX_STARTUPS, "10:101:100", NULL },
		{ SET_MAX_STARTUPS, "10:30:9", NULL },
		{ SET_MAX_STARTUPS, "10:30", NULL },
		{ SET_MAX_STARTUPS, "10:30:100:5", NULL },
		{ SET_MAX_STARTUPS, "10:30:100x", NULL },
		{ SET_MAX_STARTUPS, "a:b:c", NULL },
		{ SET_MAX_STARTUPS, " 10:30:100", NULL },
		{ SET_MAX_STARTUPS, "10:-30:100", NULL },
		{ SET_MAX_STARTUPS, "10:30:-1", NULL },
		{ SET_SSH_LISTEN, "all", "all" },
		{ SET_SSH_LISTEN, "0.0.0.0", "0.0.0.0" },
		{ SET_SSH_LISTEN, "::", "::" },
		{ SET_SSH_LISTEN, "localhost", "localhost" },
		{ SET_SSH_LISTEN, "127.0.0.1 ::1", "127.0.0.1 ::1" },
		{ SET_SSH_LISTEN, "127.0.0.1,,::1", "127.0.0.1,,::1" },
		{ SET_SSH_LISTEN, ",", NULL },
		{ SET_SSH_LISTEN, "", NULL },
		{ SET_SSH_LISTEN, "10.0.0.256", NULL },
		{ SET_SSH_LISTEN, "all, 127.0.0.1", NULL },
		{ SET_HOST_KEY, "", "(null)" },
		{ SET_HOST_KEY, "/k", "/k" },
		{ SET_HOST_KEY, "k", NULL },
		{ SET_LOG_GROUP, "", "(null)" },
		{ SET_LOG_GROUP, "any text at all", "any text at all" },
		{ SET_AUTHORIZED_KEYS, "ssh-ed25519 AAAA a@b\nssh-rsa BBBB c@d", "ssh-ed25519 AAAA a@b\nssh-rsa BBBB c@d" },
		{ SET_CLOUDWATCH, "ON", NULL },
		{ SET_SSH, "openssh", "openssh" },
	};
	char val[512], def[512];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec sp = { 0 };
		struct config cfg;
		enum setting_id id = cases[i].id;

		load(&sp, &cfg); /* the default, for comparison */
		value_of(&cfg, id, def, sizeof(def));
		config_free(&cfg);

		sp.v[LAYER_ENV][id] = cases[i].text;
		load(&sp, &cfg);
		value_of(&cfg, id, val, sizeof(val));
		if (cases[i].canon) {
			TU_CHECK(cfg.errors == 0 && cfg.layer[id] == LAYER_ENV && strcmp(val, cases[i].canon) == 0,
				 "PORTHOLE_%s=\"%s\": %u errors, layer %s, value \"%s\"; want \"%s\" from env", names[id],
				 cases[i].text, cfg.errors, layer_label[cfg.layer[id]], val, cases[i].canon);
		} else {
			TU_CHECK(cfg.errors == 1 && cfg.layer[id] == LAYER_DEFAULT && strcmp(val, def) == 0,
				 "PORTHOLE_%s=\"%s\" should be rejected: %u errors, layer %s, value \"%s\"", names[id],
				 cases[i].text, cfg.errors, layer_label[cfg.layer[id]], val);
		}
		config_free(&cfg);
	}
	TU_END();
}

/* Bad values at several layers: one error each, the valid conf value wins. */
static void test_bad_values_stacked(void **state)
{
	struct spec sp = { 0 };
	struct config cfg;
	(void)state;

	sp.v[LAYER_FLAG][SET_WINDOW] = "soon";
	sp.v[LAYER_ENV][SET_WINDOW] = "-1";
	sp.v[LAYER_HYPER][SET_WINDOW] = "1.5h";
	sp.v[LAYER_CONF][SET_WINDOW] = "90s";
	load(&sp, &cfg);
	assert_int_equal(cfg.hold.window, 90);
	assert_int_equal(cfg.layer[SET_WINDOW], LAYER_CONF);
	assert_int_equal(cfg.errors, 3);
	assert_int_equal(tu_log_count(&fx.log, PLOG_ERROR), 3);
	assert_non_null(tu_log_find(&fx.log, "--window (command line)"));
	assert_non_null(tu_log_find(&fx.log, "PORTHOLE_WINDOW (environment)"));
	assert_non_null(tu_log_find(&fx.log, "porthole_window ("));
	/* Refused values are never repeated (config.c: they may be secrets). */
	assert_null(tu_log_find(&fx.log, "soon"));
	assert_null(tu_log_find(&fx.log, "1.5h"));
	for (size_t i = 0; i < fx.log.n; i++)
		assert_non_null(strstr(fx.log.e[i].msg, "using \"90s\" (conf file)"));
	config_free(&cfg);

	/* Nothing valid anywhere: the default, one error per layer. */
	memset(&sp, 0, sizeof(sp));
	sp.v[LAYER_FLAG][SET_HOLD] = "Always";
	sp.v[LAYER_ENV][SET_HOLD] = "ALWAYS";
	sp.v[LAYER_HYPER][SET_HOLD] = "";
	sp.v[LAYER_CONF][SET_HOLD] = "on_failure";
	load(&sp, &cfg);
	assert_int_equal(cfg.hold.policy, HOLD_ON_FAILURE);
	assert_int_equal(cfg.layer[SET_HOLD], LAYER_DEFAULT);
	assert_int_equal(cfg.errors, 4);
	for (size_t i = 0; i < fx.log.n; i++)
		assert_non_null(strstr(fx.log.e[i].msg, "using \"on-failure\" (default)"));
	config_free(&cfg);
}

/* config.h: "A bad value is reported once" -- also when a higher layer
 * overrides it, or a typo in the conf file hides until the override goes. */
static void test_shadowed_bad_value_is_reported(void **state)
{
	struct spec sp = { 0 };
	struct config cfg;
	(void)state;

	sp.v[LAYER_FLAG][SET_WINDOW] = "1h";
	sp.v[LAYER_CONF][SET_WINDOW] = "30mins";
	load(&sp, &cfg);
	uint64_t window = cfg.hold.window;
	enum config_layer layer = cfg.layer[SET_WINDOW];
	unsigned errors = cfg.errors;
	config_free(&cfg);
	assert_int_equal(window, 3600);
	assert_int_equal(layer, LAYER_FLAG);
	if (errors != 1 || !tu_log_find(&fx.log, "PORTHOLE_WINDOW ("))
		print_error("bad conf value PORTHOLE_WINDOW=30mins shadowed by --window=1h: %u errors, stderr \"%s\"\n",
			    errors, fx.err);
	assert_int_equal(errors, 1);
	assert_non_null(tu_log_find(&fx.log, "PORTHOLE_WINDOW ("));
}

/* Hyperparameters as SageMaker and the Python SDK write them. */
static void test_hyper_encodings(void **state)
{
	static const struct {
		const char *json;
		enum setting_id id;
		const char *canon;
	} cases[] = {
		{ "{\"porthole_window\": \"30m\"}", SET_WINDOW, "1800" },
		{ "{\"porthole_window\": \"\\\"45m\\\"\"}", SET_WINDOW, "2700" },
		{ "{\"porthole_window\": 1800}", SET_WINDOW, "1800" },
		{ "{\"porthole_window\": 60.0}", SET_WINDOW, "60" },
		{ "{\"porthole_window\": \"90\"}", SET_WINDOW, "90" },
		{ "{\"porthole_window\": \"\\\"90\\\"\"}", SET_WINDOW, "90" },
		{ "{\"porthole_hold_before\": true}", SET_HOLD_BEFORE, "1" },
		{ "{\"porthole_hold_before\": \"\\\"true\\\"\"}", SET_HOLD_BEFORE, "1" },
		{ "{\"porthole_hold_before\": 1}", SET_HOLD_BEFORE, "1" },
		{ "{\"porthole_hold_before\": \"on\"}", SET_HOLD_BEFORE, "1" },
		{ "{\"porthole_hold\": \"\\\"always\\\"\"}", SET_HOLD, "always" },
		{ "{\"porthole_hold\": \"never\"}", SET_HOLD, "never" },
		{ "{\"porthole_job\": \"\\\"my-job\\\"\"}", SET_JOB, "my-job" },
		{ "{\"porthole_job\": \"my-job\"}", SET_JOB, "my-job" },
		{ "{\"porthole_log_level\": \"\\\"warning\\\"\"}", SET_LOG_LEVEL, "warning" },
		{ "{\"porthole_idle_grace\": \"\\\"1h30m\\\"\"}", SET_IDLE_GRACE, "5400" },
		{ "{\"porthole_max_hold\": 7200}", SET_MAX_HOLD, "7200" },
		{ "{\"epochs\": \"10\", \"lr\": \"\\\"0.1\\\"\", \"porthole_window\": \"\\\"5m\\\"\", \"x\": {}}",
		  SET_WINDOW, "300" },
	};
	char val[512];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec sp = { .hyper_json = cases[i].json };
		struct config cfg;
		load(&sp, &cfg);
		value_of(&cfg, cases[i].id, val, sizeof(val));
		TU_CHECK(strcmp(val, cases[i].canon) == 0, "%s: %s = \"%s\", want \"%s\"", cases[i].json,
			 names[cases[i].id], val, cases[i].canon);
		TU_CHECK(cfg.layer[cases[i].id] == LAYER_HYPER, "%s: layer %s", cases[i].json,
			 layer_label[cfg.layer[cases[i].id]]);
		TU_CHECK(cfg.errors == 0, "%s: %u errors: %s", cases[i].json, cfg.errors, fx.err);
		config_free(&cfg);
	}
	TU_END();
}

/* Problems with the hyperparameters file: one error each, the conf value stays. */
static void test_hyper_file_problems(void **state)
{
	static const struct {
		const char *json; /* NULL: make the file a directory */
		unsigned errors;
		const char *msg;     /* in the error message */
		const char *msg2;    /* and this too */
		const char *not_msg; /* not in it */
		uint64_t window;
	} cases[] = {
		{ "{not json", 1, "malformed JSON", NULL, NULL, 90 },
		{ "", 1, "malformed JSON", NULL, NULL, 90 },
		{ "[1, 2]", 1, "not a JSON object", NULL, NULL, 90 },
		{ "\"porthole_window=5m\"", 1, "not a JSON object", NULL, NULL, 90 },
		{ "42", 1, "not a JSON object", NULL, NULL, 90 },
		{ "{}", 0, NULL, NULL, NULL, 90 },
		{ "{\"epochs\": \"3\", \"learning_rate\": 0.1}", 0, NULL, NULL, NULL, 90 },
		{ "{\"porthole_bogus\": \"1\"}", 1, "unknown hyperparameter porthole_bogus",
		  "(known: porthole_hold, porthole_window", "porthole_control_socket", 90 },
		{ "{\"porthole_control_socket\": \"/x.sock\"}", 1, "unknown hyperparameter porthole_control_socket", NULL, NULL,
		  90 },
		{ "{\"porthole_ml_root\": \"/x\"}", 1, "unknown hyperparameter porthole_ml_root", NULL, NULL, 90 },
		{ "{\"porthole_config\": \"/x.conf\"}", 1, "unknown hyperparameter porthole_config", NULL, NULL, 90 },
		{ "{\"porthole_window\": null}", 1, "hyperparameter porthole_window is not a string", NULL, NULL, 90 },
		{ "{\"porthole_window\": {\"a\": 1}}", 1, "porthole_window is not a string", NULL, NULL, 90 },
		{ "{\"porthole_window\": [\"5m\"]}", 1, "porthole_window is not a string", NULL, NULL, 90 },
		{ "{\"porthole_window\": 1.5}", 1, "porthole_window (", "expected a duration", NULL, 90 },
		{ "{\"porthole_window\": -300}", 1, "porthole_window (", "expected a duration", NULL, 90 },
		{ "{\"porthole_window\": \"\\\"\\\"\"}", 1, "porthole_window (", "expected a duration", NULL, 90 },
		{ "{\"porthole_bogus\": 1, \"porthole_window\": \"2m\"}", 1, "porthole_bogus", NULL, NULL, 120 },
		{ NULL, 1, "cannot read hyperparameters", NULL, NULL, 90 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec sp = { .hyper_json = cases[i].json };
		struct config cfg;
		const char *label = cases[i].json ? cases[i].json : "(a directory)";
		sp.v[LAYER_CONF][SET_WINDOW] = "90s";
		if (!cases[i].json) {
			sp.hyper_json = NULL;
			unlink(fx.hyper);
			tu_mkdir_p(fx.hyper);
		}
		load(&sp, &cfg);
		if (!cases[i].json) {
			/* load() tried to unlink the file: make sure it still is a directory. */
			struct stat st;
			TU_CHECK(stat(fx.hyper, &st) == 0 && S_ISDIR(st.st_mode), "hyperparameters.json not a directory");
		}
		TU_CHECK(cfg.errors == cases[i].errors, "%s: %u errors, want %u; stderr:\n%s", label, cfg.errors,
			 cases[i].errors, fx.err);
		TU_CHECK(cfg.hold.window == cases[i].window, "%s: window %" PRIu64 ", want %" PRIu64, label, cfg.hold.window,
			 cases[i].window);
		if (cases[i].msg) {
			const char *m = tu_log_find2(&fx.log, cases[i].msg, cases[i].msg2);
			TU_CHECK(m != NULL, "%s: no message with \"%s\" and \"%s\"; stderr:\n%s", label, cases[i].msg,
				 tu_str(cases[i].msg2), fx.err);
			TU_CHECK(m == NULL || strstr(m, fx.hyper) != NULL, "%s: message does not name the file: %s",
				 label, tu_str(m));
			if (m && cases[i].not_msg)
				TU_CHECK(!strstr(m, cases[i].not_msg), "%s: message lists \"%s\": %s", label,
					 cases[i].not_msg, m);
		}
		config_free(&cfg);
		if (!cases[i].json)
			rmdir(fx.hyper);
	}
	TU_END();
}

/* True if msg lists word as a whole item of a "(known: a, b, c)" list. */
static bool lists(const char *msg, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = strstr(msg, word); p; p = strstr(p + 1, word)) {
		bool start = p > msg && (p[-1] == ' ' || p[-1] == '(');
		bool end = p[wl] == ',' || p[wl] == ')';
		if (start && end)
			return true;
	}
	return false;
}

/* Every "unknown setting" message lists every setting its layer accepts,
 * and none it does not, however many settings there are. */
static void test_unknown_lists_every_setting(void **state)
{
	struct spec sp = { .conf_text = "PORTHOLE_BOGUS=1\n", .hyper_json = "{\"porthole_bogus\": \"1\"}" };
	struct config cfg;
	char word[96], lower[64];
	(void)state;

	load(&sp, &cfg);
	config_free(&cfg);
	const char *conf = tu_log_find(&fx.log, "unknown setting PORTHOLE_BOGUS");
	const char *hyper = tu_log_find(&fx.log, "unknown hyperparameter porthole_bogus");
	assert_non_null(conf);
	assert_non_null(hyper);
	TU_CHECK(strstr(conf, "line ignored") != NULL, "conf message cut short: %s", conf);
	TU_CHECK(strstr(hyper, "ignored") != NULL, "hyperparameter message cut short: %s", hyper);
	for (int id = 0; id < SET__COUNT; id++) {
		if (!names[id])
			continue;
		snprintf(word, sizeof(word), "PORTHOLE_%s", names[id]);
		TU_CHECK(lists(conf, word), "conf message does not list %s", word);
		lower_name((enum setting_id)id, '_', lower, sizeof(lower));
		snprintf(word, sizeof(word), "porthole_%s", lower);
		for (size_t i = 0; i < N_SCASES; i++)
			if (scases[i].id == (enum setting_id)id)
				TU_CHECK(lists(hyper, word) == scases[i].hyper, "hyperparameter message %s %s",
					 scases[i].hyper ? "does not list" : "lists", word);
	}

	/* The environment's list. */
	{
		struct config_flags flags = { 0 };
		struct tu_capture cap;
		tu_write_file(fx.conf, "");
		setenv("PORTHOLE_BOGUS", "1", 1);
		flags.conf_path = fx.conf;
		tu_log_start(&fx.log);
		tu_capture_begin(&cap);
		config_load(&cfg, &flags);
		free(fx.err);
		fx.err = tu_capture_end(&cap);
		tu_log_stop(&fx.log);
		tu_clear_env_prefix("PORTHOLE_");
		config_free(&cfg);
	}
	const char *env = tu_log_find(&fx.log, "unknown setting PORTHOLE_BOGUS");
	assert_non_null(env);
	TU_CHECK(strstr(env, "ignored") != NULL, "environment message cut short: %s", env);
	for (int id = 0; id < SET__COUNT; id++) {
		if (!names[id])
			continue;
		snprintf(word, sizeof(word), "PORTHOLE_%s", names[id]);
		TU_CHECK(lists(env, word), "environment message does not list %s", word);
	}
	TU_CHECK(lists(env, "PORTHOLE_CONFIG"), "environment message does not list PORTHOLE_CONFIG");
	TU_END();
}

/* The conf file's syntax. */
static void test_conf_file(void **state)
{
	static const struct {
		const char *text;
		unsigned errors;
		uint64_t window;
		const char *msg, *msg2; /* in an error message */
	} cases[] = {
		{ "# comment\n\n   \n\t# indented comment\nPORTHOLE_WINDOW=5m\n", 0, 300, NULL, NULL },
		{ "  PORTHOLE_WINDOW  =  5m  \n", 0, 300, NULL, NULL },
		{ "PORTHOLE_WINDOW=\"5m\"\n", 0, 300, NULL, NULL },
		{ "PORTHOLE_WINDOW='5m'\n", 0, 300, NULL, NULL },
		{ "PORTHOLE_WINDOW=5m\r\n", 0, 300, NULL, NULL },
		{ "PORTHOLE_WINDOW=5m", 0, 300, NULL, NULL }, /* no final newline */
		{ "PORTHOLE_WINDOW=5m\nPORTHOLE_WINDOW=7m\n", 0, 420, NULL, NULL },
		{ "PORTHOLE_BOGUS=1\n", 1, 1800, ":1: unknown setting PORTHOLE_BOGUS", "(known: PORTHOLE_HOLD, PORTHOLE_WINDOW" },
		{ "WINDOW=5m\n", 1, 1800, ":1: unknown setting WINDOW", NULL },
		{ "porthole_window=5m\n", 1, 1800, "unknown setting porthole_window", NULL },
		{ "PORTHOLE_CONFIG=/etc/other.conf\n", 1, 1800, "unknown setting PORTHOLE_CONFIG", NULL },
		{ "=5m\n", 1, 1800, "unknown setting", NULL },
		{ "just some words\n", 1, 1800, ":1: expected KEY=VALUE; line ignored", NULL },
		{ "PORTHOLE_WINDOW=5m\nno equals here\nPORTHOLE_HOLD=always\n", 1, 300, ":2: expected KEY=VALUE", NULL },
		{ "# c\nPORTHOLE_WINDOW=5mm\n", 1, 1800, "PORTHOLE_WINDOW (", ".conf:2)" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec sp = { .conf_text = cases[i].text };
		struct config cfg;
		load(&sp, &cfg);
		TU_CHECK(cfg.errors == cases[i].errors, "conf \"%s\": %u errors, want %u; stderr:\n%s", cases[i].text,
			 cfg.errors, cases[i].errors, fx.err);
		TU_CHECK(cfg.hold.window == cases[i].window, "conf \"%s\": window %" PRIu64 ", want %" PRIu64,
			 cases[i].text, cfg.hold.window, cases[i].window);
		TU_CHECK(cfg.layer[SET_WINDOW] == (cases[i].window != 1800 ? LAYER_CONF : LAYER_DEFAULT),
			 "conf \"%s\": layer %s", cases[i].text, layer_label[cfg.layer[SET_WINDOW]]);
		if (cases[i].msg) {
			const char *m = tu_log_find2(&fx.log, cases[i].msg, cases[i].msg2);
			TU_CHECK(m != NULL, "conf \"%s\": no message with \"%s\" and \"%s\"; stderr:\n%s", cases[i].text,
				 cases[i].msg, tu_str(cases[i].msg2), fx.err);
			TU_CHECK(m == NULL || strstr(m, fx.conf), "conf message does not name the file: %s", tu_str(m));
		}
		config_free(&cfg);
	}
	TU_END();
}

/* Lines longer than the read buffer: a long comment is still one comment,
 * and the line numbers after it stay right. */
static void test_conf_long_lines(void **state)
{
	size_t n = 6000;
	char *text = malloc(n + 256);
	struct spec sp = { 0 };
	struct config cfg;
	(void)state;

	assert_non_null(text);
	text[0] = '#';
	memset(text + 1, 'c', n - 1);
	strcpy(text + n, "\nPORTHOLE_WINDOW=5m\nPORTHOLE_HOLD=sometimes\n");
	sp.conf_text = text;
	load(&sp, &cfg);
	uint64_t window = cfg.hold.window;
	unsigned errors = cfg.errors;
	config_free(&cfg);
	free(text);
	if (errors != 1)
		print_error("conf with a %zu-character comment line: %u errors; stderr:\n%.300s...\n", n, errors, fx.err);
	assert_int_equal(window, 300);
	assert_int_equal(errors, 1);
	assert_non_null(tu_log_find(&fx.log, ":3)")); /* PORTHOLE_HOLD is on line 3 */
}

static void test_conf_path_choice(void **state)
{
	struct spec sp = { 0 };
	struct config cfg;
	char *missing = tu_path("%s/missing.conf", fx.dir);
	char *other = tu_path("%s/other.conf", fx.dir);
	struct config_flags flags = { 0 };
	struct tu_capture cap;
	(void)state;

	/* --config naming a missing file: one error, the other layers still apply. */
	flags.conf_path = missing;
	flags.set[0].id = SET_ML_ROOT;
	flags.set[0].value = fx.ml;
	flags.n = 1;
	setenv("PORTHOLE_WINDOW", "2m", 1);
	tu_log_start(&fx.log);
	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	tu_log_stop(&fx.log);
	unsetenv("PORTHOLE_WINDOW");
	assert_int_equal(cfg.errors, 1);
	assert_int_equal(cfg.hold.window, 120);
	assert_string_equal(cfg.conf_path, missing);
	assert_non_null(tu_log_find(&fx.log, "cannot read conf file"));
	assert_non_null(tu_log_find(&fx.log, missing));
	assert_non_null(tu_log_find(&fx.log, strerror(ENOENT)));
	assert_non_null(strstr(fx.err, "porthole: error: cannot read conf file"));
	config_free(&cfg);

	/* PORTHOLE_CONFIG names the file when there is no --config ... */
	tu_write_file(other, "PORTHOLE_WINDOW=1m\n");
	tu_write_file(fx.conf, "PORTHOLE_WINDOW=3m\n");
	setenv("PORTHOLE_CONFIG", other, 1);
	flags.conf_path = NULL;
	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	assert_int_equal(cfg.errors, 0);
	assert_int_equal(cfg.hold.window, 60);
	assert_string_equal(cfg.conf_path, other);
	config_free(&cfg);

	/* ... and --config beats PORTHOLE_CONFIG. */
	flags.conf_path = fx.conf;
	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	assert_int_equal(cfg.errors, 0);
	assert_int_equal(cfg.hold.window, 180);
	assert_string_equal(cfg.conf_path, fx.conf);
	config_free(&cfg);

	/* PORTHOLE_CONFIG naming a missing file is an error too. */
	setenv("PORTHOLE_CONFIG", missing, 1);
	flags.conf_path = NULL;
	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	unsetenv("PORTHOLE_CONFIG");
	assert_int_equal(cfg.errors, 1);
	assert_int_equal(cfg.hold.window, 1800);
	config_free(&cfg);

	/* Without either, the default path; missing is fine there. */
	if (access(CONFIG_DEFAULT_PATH, F_OK) != 0) {
		sp.no_conf_flag = true;
		load(&sp, &cfg);
		assert_string_equal(cfg.conf_path, CONFIG_DEFAULT_PATH);
		assert_int_equal(cfg.errors, 0);
		config_free(&cfg);
	}
	free(missing);
	free(other);
}

/* --config naming something that is not a readable file is reported. */
static void test_conf_path_is_directory(void **state)
{
	struct config_flags flags = { 0 };
	struct config cfg;
	struct tu_capture cap;
	(void)state;

	flags.conf_path = fx.dir; /* a directory */
	flags.set[0].id = SET_ML_ROOT;
	flags.set[0].value = fx.ml;
	flags.n = 1;
	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	unsigned errors = cfg.errors;
	config_free(&cfg);
	if (errors != 1)
		print_error("--config %s (a directory): %u errors, stderr \"%s\"\n", fx.dir, errors, fx.err);
	assert_int_equal(errors, 1);
}

static void test_env(void **state)
{
	struct config_flags flags = { 0 };
	struct tu_capture cap;
	struct config cfg;
	(void)state;

	/* An unknown PORTHOLE_* variable is one error; PORTHOLE_CONFIG is known. */
	tu_write_file(fx.conf, "");
	setenv("PORTHOLE_WINDOW", "2m", 1);
	setenv("PORTHOLE_BOGUS", "1", 1);
	setenv("PORTHOLE_CONFIG", fx.conf, 1);
	flags.set[0].id = SET_ML_ROOT;
	flags.set[0].value = fx.ml;
	flags.n = 1;
	tu_log_start(&fx.log);
	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	tu_log_stop(&fx.log);
	tu_clear_env_prefix("PORTHOLE_");
	assert_int_equal(cfg.hold.window, 120);
	assert_int_equal(cfg.layer[SET_WINDOW], LAYER_ENV);
	assert_string_equal(cfg.conf_path, fx.conf);
	assert_int_equal(cfg.errors, 1);
	assert_non_null(tu_log_find2(&fx.log, "unknown setting PORTHOLE_BOGUS", "in the environment"));
	assert_non_null(tu_log_find(&fx.log, "PORTHOLE_CONFIG"));
	config_free(&cfg);
}

/* config_take_flag on its own. */
static void test_take_flag(void **state)
{
	static const struct {
		const char *argv[4];
		int rc;
		int i_after;           /* index of the last argument consumed */
		const char *conf_path; /* expected flags.conf_path */
		int id;                /* expected flags.set[0].id, -1 for none */
		const char *value;
		const char *stderr_has;
	} cases[] = {
		{ { "--window", "30m" }, 1, 1, NULL, SET_WINDOW, "30m", NULL },
		{ { "--window=30m" }, 1, 0, NULL, SET_WINDOW, "30m", NULL },
		{ { "--window=" }, 1, 0, NULL, SET_WINDOW, "", NULL },
		{ { "--window=a=b" }, 1, 0, NULL, SET_WINDOW, "a=b", NULL },
		{ { "--hold-before" }, 1, 0, NULL, SET_HOLD_BEFORE, "1", NULL },
		{ { "--hold-before", "cmd" }, 1, 0, NULL, SET_HOLD_BEFORE, "1", NULL },
		{ { "--hold-before=no" }, 1, 0, NULL, SET_HOLD_BEFORE, "no", NULL },
		{ { "--hold", "always" }, 1, 1, NULL, SET_HOLD, "always", NULL },
		{ { "--idle-grace", "5m" }, 1, 1, NULL, SET_IDLE_GRACE, "5m", NULL },
		{ { "--max-hold=2h" }, 1, 0, NULL, SET_MAX_HOLD, "2h", NULL },
		{ { "--control-socket", "/s" }, 1, 1, NULL, SET_CONTROL_SOCKET, "/s", NULL },
		{ { "--ml-root", "/ml" }, 1, 1, NULL, SET_ML_ROOT, "/ml", NULL },
		{ { "--job", "j" }, 1, 1, NULL, SET_JOB, "j", NULL },
		{ { "--log-level", "debug" }, 1, 1, NULL, SET_LOG_LEVEL, "debug", NULL },
		{ { "--config", "f" }, 1, 1, "f", -1, NULL, NULL },
		{ { "--config=f" }, 1, 0, "f", -1, NULL, NULL },
		{ { "--bogus" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--bogus", "x" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--windows", "5m" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--Window", "5m" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--hold_before" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--ml_root", "/x" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "-w", "5m" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "window", "5m" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "python" }, 0, 0, NULL, -1, NULL, NULL },
		{ { "--window" }, -1, 0, NULL, -1, NULL, "porthole: --window needs a value" },
		{ { "--hold" }, -1, 0, NULL, -1, NULL, "porthole: --hold needs a value" },
		{ { "--config" }, -1, 0, NULL, -1, NULL, "porthole: --config needs a file" },
	};
	(void)state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct config_flags flags = { 0 };
		char *argv[5] = { NULL };
		int argc = 0, i = 0, rc;
		struct tu_capture cap;
		char *err;

		for (; cases[c].argv[argc]; argc++)
			argv[argc] = (char *)cases[c].argv[argc];
		tu_capture_begin(&cap);
		rc = config_take_flag(&flags, argc, argv, &i);
		err = tu_capture_end(&cap);

		const char *a0 = cases[c].argv[0];
		TU_CHECK(rc == cases[c].rc, "%s: rc %d, want %d", a0, rc, cases[c].rc);
		TU_CHECK(i == cases[c].i_after, "%s: *i = %d, want %d", a0, i, cases[c].i_after);
		TU_CHECK(tu_streq(flags.conf_path, cases[c].conf_path), "%s: conf_path %s, want %s", a0,
			 tu_str(flags.conf_path), tu_str(cases[c].conf_path));
		if (cases[c].id < 0) {
			TU_CHECK(flags.n == 0, "%s: %zu settings taken, want none", a0, flags.n);
		} else {
			TU_CHECK(flags.n == 1, "%s: %zu settings taken, want 1", a0, flags.n);
			TU_CHECK(flags.n == 0 || flags.set[0].id == (enum setting_id)cases[c].id, "%s: id %d, want %d",
				 a0, flags.set[0].id, cases[c].id);
			TU_CHECK(flags.n == 0 || tu_streq(flags.set[0].value, cases[c].value), "%s: value %s, want %s",
				 a0, tu_str(flags.set[0].value), cases[c].value);
		}
		if (cases[c].stderr_has)
			TU_CHECK(strstr(err, cases[c].stderr_has), "%s: stderr \"%s\" lacks \"%s\"", a0, err,
				 cases[c].stderr_has);
		else
			TU_CHECK(err[0] == '\0', "%s: unexpected stderr \"%s\"", a0, err);
		free(err);
	}
	TU_END();
}

/* A command line gathered like main() does, then loaded. */
static void test_take_flag_then_load(void **state)
{
	char *ml = fx.ml;
	char *argv[] = { "--window", "45m", "--hold-before", "--config", fx.conf, "--job=job-7",
			 "--ml-root", ml, "--hold=always", "--log-level", "warn", "python", "train.py", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	struct config_flags flags = { 0 };
	struct config cfg;
	struct tu_capture cap;
	int i, rc = 0;
	(void)state;

	tu_write_file(fx.conf, "PORTHOLE_WINDOW=1m\nPORTHOLE_IDLE_GRACE=2m\n");
	setenv("PORTHOLE_WINDOW", "2m", 1);
	setenv("PORTHOLE_HOLD_BEFORE", "0", 1);
	for (i = 0; i < argc; i++) {
		rc = config_take_flag(&flags, argc, argv, &i);
		assert_true(rc >= 0);
		if (rc == 0)
			break;
	}
	assert_int_equal(i, 11);
	assert_string_equal(argv[i], "python");
	assert_string_equal(flags.conf_path, fx.conf);

	tu_capture_begin(&cap);
	config_load(&cfg, &flags);
	free(fx.err);
	fx.err = tu_capture_end(&cap);
	tu_clear_env_prefix("PORTHOLE_");
	assert_int_equal(cfg.errors, 0);
	assert_int_equal(cfg.hold.window, 45 * 60);
	assert_int_equal(cfg.layer[SET_WINDOW], LAYER_FLAG);
	assert_true(cfg.hold.before);
	assert_int_equal(cfg.layer[SET_HOLD_BEFORE], LAYER_FLAG);
	assert_string_equal(cfg.job, "job-7");
	assert_int_equal(cfg.hold.policy, HOLD_ALWAYS);
	assert_int_equal(cfg.log_level, PLOG_WARN);
	assert_int_equal(cfg.hold.idle_grace, 120);
	assert_int_equal(cfg.layer[SET_IDLE_GRACE], LAYER_CONF);
	assert_string_equal(cfg.ml_root, fx.ml);
	config_free(&cfg);
}

static void test_take_flag_too_many(void **state)
{
	struct config_flags flags = { 0 };
	char *argv[] = { "--window=1m" };
	struct tu_capture cap;
	char *err;
	int i = 0, rc = 0;
	(void)state;

	for (int n = 0; n < CONFIG_MAX_FLAGS; n++) {
		i = 0;
		assert_int_equal(config_take_flag(&flags, 1, argv, &i), 1);
	}
	assert_int_equal(flags.n, CONFIG_MAX_FLAGS);
	i = 0;
	tu_capture_begin(&cap);
	rc = config_take_flag(&flags, 1, argv, &i);
	err = tu_capture_end(&cap);
	assert_int_equal(rc, -1);
	assert_int_equal(flags.n, CONFIG_MAX_FLAGS);
	assert_non_null(strstr(err, "too many"));
	free(err);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(config_layer_name(LAYER_DEFAULT), "default");
	assert_string_equal(config_layer_name(LAYER_CONF), "conf file");
	assert_string_equal(config_layer_name(LAYER_HYPER), "hyperparameter");
	assert_string_equal(config_layer_name(LAYER_ENV), "environment");
	assert_string_equal(config_layer_name(LAYER_FLAG), "command line");
	assert_string_equal(config_hold_policy_name(HOLD_NEVER), "never");
	assert_string_equal(config_hold_policy_name(HOLD_ON_FAILURE), "on-failure");
	assert_string_equal(config_hold_policy_name(HOLD_ALWAYS), "always");
}

static void test_print(void **state)
{
	struct spec sp = { 0 };
	struct config cfg;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;

	sp.v[LAYER_ENV][SET_WINDOW] = "90m";
	load(&sp, &cfg);

	f = open_memstream(&text, &len);
	assert_non_null(f);
	config_print(&cfg, f, false);
	fclose(f);
	assert_non_null(strstr(text, "PORTHOLE_WINDOW=1h30m\t# environment\n"));
	assert_non_null(strstr(text, "PORTHOLE_HOLD=on-failure\t# default\n"));
	assert_non_null(strstr(text, "PORTHOLE_HOLD_BEFORE=0\t# default\n"));
	assert_non_null(strstr(text, "PORTHOLE_ML_ROOT="));
	assert_non_null(strstr(text, "# command line\n"));
	free(text);

	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	config_print(&cfg, f, true);
	fclose(f);
	cJSON *root = cJSON_Parse(text);
	assert_non_null(root);
	cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "PORTHOLE_WINDOW");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(w, "value")->valuestring, "1h30m");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(w, "source")->valuestring, "environment");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "conf_file")->valuestring, fx.conf);
	cJSON *job = cJSON_GetObjectItemCaseSensitive(root, "PORTHOLE_JOB");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(job, "value")->valuestring, "");
	cJSON_Delete(root);
	free(text);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ml_root_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence_cascade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values_stacked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadowed_bad_value_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyper_encodings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyper_file_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_lists_every_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_path_choice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_path_is_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_flag_then_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_flag_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
