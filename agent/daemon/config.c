/* SPDX-License-Identifier: Apache-2.0 */
/* config.c — see config.h.  One table describes every setting; each layer
 * only supplies text, and the text is judged the same way whatever its layer. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "../aws/s3keys.h"
#include "../cluster/cluster_files.h"
#include "../lib/duration.h"
#include "../lib/passwd.h"
#include "../lib/strutil.h"

enum kind {
	K_ENUM, K_DURATION, K_BOOL, K_PATH, K_NAME, K_LEVEL,
	K_PORT,     /* 0-65535 (0: any free port), as unsigned */
	K_UINT,     /* 0-1000000, as unsigned */
	K_TEXT,     /* any text; empty: NULL */
	K_OPTPATH,  /* an absolute path; empty: NULL */
	K_ADDRS,    /* "all", or IP addresses / "localhost" separated by commas or spaces */
	K_STARTUPS, /* "N" or "start:rate:full", as struct ssh_startups */
	K_NETBLOCK, /* "v4" or "v4:v6" prefix lengths, as struct ssh_netblock */
};

#define L_ALL ((1u << LAYER__COUNT) - 1)
#define L_NO_HYPER (L_ALL & ~(1u << LAYER_HYPER))

static const char *const hold_choices[] = { "never", "on-failure", "always", NULL };
static const char *const level_choices[] = { "debug", "info", "warning", "error", NULL };
static const char *const ssh_choices[] = { "embedded", "openssh", "off", NULL };
static const char *const cw_choices[] = { "auto", "on", "off", NULL };
static const char *const ssm_choices[] = { "off", "auto", "register", NULL };
static const char *const trust_choices[] = { "keys", "network", NULL };

static const struct setting {
	const char *name; /* PORTHOLE_<name>, porthole_<name>, --<name> */
	enum kind kind;
	const char *def;
	size_t off;
	const char *const *choices;
	unsigned layers;
	const char *help;
} settings[SET__COUNT] = {
	[SET_HOLD] = { "HOLD", K_ENUM, "on-failure", offsetof(struct config, hold.policy), hold_choices, L_ALL,
		       "keep the container after the command ends: never, on-failure, always" },
	[SET_WINDOW] = { "WINDOW", K_DURATION, "30m", offsetof(struct config, hold.window), NULL, L_ALL,
			 "how long a hold lasts" },
	[SET_HOLD_BEFORE] = { "HOLD_BEFORE", K_BOOL, "0", offsetof(struct config, hold.before), NULL, L_ALL,
			      "wait for `porthole continue` before starting the command" },
	[SET_IDLE_GRACE] = { "IDLE_GRACE", K_DURATION, "10m", offsetof(struct config, hold.idle_grace), NULL, L_ALL,
			     "hold at least this long after the last session ends" },
	[SET_MAX_HOLD] = { "MAX_HOLD", K_DURATION, "4h", offsetof(struct config, hold.max_hold), NULL, L_ALL,
			   "no hold lasts longer than this in total" },
	[SET_CONTROL_SOCKET] = { "CONTROL_SOCKET", K_PATH, "/run/porthole/control.sock",
				 offsetof(struct config, control_socket), NULL, L_NO_HYPER,
				 "control socket for the porthole CLI" },
	[SET_ML_ROOT] = { "ML_ROOT", K_PATH, "/opt/ml", offsetof(struct config, ml_root), NULL, L_NO_HYPER,
			  "the SageMaker /opt/ml tree" },
	[SET_JOB] = { "JOB", K_NAME, "", offsetof(struct config, job), NULL, L_ALL,
		      "job name outside SageMaker (default: TRAINING_JOB_NAME, else local)" },
	[SET_LOG_LEVEL] = { "LOG_LEVEL", K_LEVEL, "info", offsetof(struct config, log_level), level_choices,
			    L_ALL, "debug, info, warning or error" },
	[SET_SSH] = { "SSH", K_ENUM, "embedded", offsetof(struct config, ssh.mode), ssh_choices, L_ALL,
		      "SSH endpoint: embedded, openssh (the image's sshd) or off" },
	[SET_SSH_PORT] = { "SSH_PORT", K_PORT, "22", offsetof(struct config, ssh.port), NULL, L_ALL,
			   "SSH port (0: any free port, announced in the ready record)" },
	[SET_SSH_LISTEN] = { "SSH_LISTEN", K_ADDRS, "all", offsetof(struct config, ssh.listen), NULL, L_ALL,
			     "SSH listen addresses (all, or a list of IP addresses)" },
	[SET_HOST_KEY] = { "HOST_KEY", K_OPTPATH, "", offsetof(struct config, ssh.host_key), NULL, L_NO_HYPER,
			   "SSH host key file (default: a new Ed25519 key at each start)" },
	[SET_AUTHORIZED_KEYS] = { "AUTHORIZED_KEYS", K_TEXT, "", offsetof(struct config, ssh.authorized_keys), NULL,
				  L_ALL, "authorized_keys lines, newline separated" },
	[SET_AUTHORIZED_KEYS_FILE] = { "AUTHORIZED_KEYS_FILE", K_OPTPATH, "",
				       offsetof(struct config, ssh.authorized_keys_file), NULL, L_NO_HYPER,
				       "an extra authorized_keys file" },
	[SET_AUTHORIZED_KEYS_S3] = { "AUTHORIZED_KEYS_S3", K_TEXT, "", offsetof(struct config, ssh.authorized_keys_s3),
				     NULL, L_ALL, "s3://bucket/key of an authorized_keys object, fetched at start" },
	[SET_SFTP_SERVER] = { "SFTP_SERVER", K_OPTPATH, "", offsetof(struct config, ssh.sftp_server), NULL, L_NO_HYPER,
			      "external SFTP server program (default: porthole's own)" },
	[SET_LOGIN_GRACE] = { "LOGIN_GRACE", K_DURATION, "30s", offsetof(struct config, ssh.login_grace), NULL, L_ALL,
			      "time an SSH client has to log in" },
	[SET_MAX_AUTH_TRIES] = { "MAX_AUTH_TRIES", K_UINT, "6", offsetof(struct config, ssh.max_auth_tries), NULL, L_ALL,
				 "SSH authentication attempts per connection" },
	[SET_MAX_STARTUPS] = { "MAX_STARTUPS", K_STARTUPS, "10:30:100", offsetof(struct config, ssh.max_startups), NULL,
			       L_ALL, "unauthenticated SSH connections at once (N or start:rate:full)" },
	[SET_PER_SOURCE_MAX_STARTUPS] = { "PER_SOURCE_MAX_STARTUPS", K_UINT, "8",
					  offsetof(struct config, ssh.per_source_max_startups), NULL, L_ALL,
					  "unauthenticated SSH connections at once from one source (0: no limit)" },
	[SET_PER_SOURCE_NETBLOCK_SIZE] = { "PER_SOURCE_NETBLOCK_SIZE", K_NETBLOCK, "32:128",
					   offsetof(struct config, ssh.per_source_netblock), NULL, L_ALL,
					   "address prefix lengths (IPv4:IPv6) that make one source for the per-source limits" },
	[SET_PER_SOURCE_PENALTY_EXEMPT] = { "PER_SOURCE_PENALTY_EXEMPT", K_TEXT, "loopback,cluster",
					    offsetof(struct config, ssh.per_source_penalty_exempt), NULL, L_ALL,
					    "sources never penalised for failed logins: addresses, CIDR blocks, loopback, "
					    "cluster (the job's hosts), or none" },
	[SET_SSH_IDLE_TIMEOUT] = { "SSH_IDLE_TIMEOUT", K_DURATION, "0", offsetof(struct config, ssh.idle_timeout),
				   NULL, L_ALL, "drop SSH connections without traffic this long (0: never)" },
	[SET_SSH_KEEPALIVE] = { "SSH_KEEPALIVE", K_DURATION, "60s", offsetof(struct config, ssh.keepalive), NULL,
				L_ALL, "SSH keepalive interval (0: none)" },
	[SET_SSH_GATEWAY_PORTS] = { "SSH_GATEWAY_PORTS", K_BOOL, "0", offsetof(struct config, ssh.gateway_ports),
				    NULL, L_ALL, "let ssh -R listen on other addresses than loopback" },
	[SET_SSH_AGENT_FORWARDING] = { "SSH_AGENT_FORWARDING", K_BOOL, "1",
				       offsetof(struct config, ssh.agent_forwarding), NULL, L_ALL,
				       "let ssh -A forward the client's agent into sessions (SSH_AUTH_SOCK)" },
	[SET_CLOUDWATCH] = { "CLOUDWATCH", K_ENUM, "auto", offsetof(struct config, cw.mode), cw_choices, L_ALL,
			     "publish events to CloudWatch Logs: auto (training jobs, HyperPod nodes), on, off" },
	[SET_LOG_GROUP] = { "LOG_GROUP", K_TEXT, "", offsetof(struct config, cw.log_group), NULL, L_ALL,
			    "CloudWatch log group (default /aws/sagemaker/TrainingJobs, on HyperPod the cluster's)" },
	[SET_LOG_STREAM] = { "LOG_STREAM", K_TEXT, "", offsetof(struct config, cw.log_stream), NULL, L_ALL,
			     "CloudWatch log stream (default <job>/<host>-<epoch>/ssm, on HyperPod <cluster>/<group>/<host>/porthole)" },
	[SET_CREATE_LOG_GROUP] = { "CREATE_LOG_GROUP", K_BOOL, "0", offsetof(struct config, cw.create_log_group), NULL,
				   L_ALL, "create the log group if it does not exist" },
	[SET_SPOOL_DIR] = { "SPOOL_DIR", K_PATH, "/run/porthole/spool", offsetof(struct config, cw.spool_dir), NULL,
			    L_NO_HYPER, "where events wait until CloudWatch has them" },
	[SET_SPOOL_MAX_MB] = { "SPOOL_MAX_MB", K_UINT, "64", offsetof(struct config, cw.spool_max_mb), NULL, L_ALL,
			       "spool size bound in MiB; the oldest events go past it" },
	[SET_FLUSH_TIMEOUT] = { "FLUSH_TIMEOUT", K_DURATION, "10s", offsetof(struct config, cw.flush_timeout), NULL,
				L_ALL, "at exit, how long to keep sending spooled events" },
	[SET_SSM] = { "SSM", K_ENUM, "off", offsetof(struct config, ssm.mode), ssm_choices, L_ALL,
		      "Session Manager endpoint: off, auto (remote debug, else register if configured), register" },
	[SET_SSM_AGENT] = { "SSM_AGENT", K_OPTPATH, "", offsetof(struct config, ssm.agent), NULL, L_NO_HYPER,
			    "the amazon-ssm-agent binary (default: found on PATH)" },
	/* Not from hyperparameters: DescribeTrainingJob shows those to anyone. */
	[SET_SSM_ACTIVATION_CODE] = { "SSM_ACTIVATION_CODE", K_TEXT, "",
				      offsetof(struct config, ssm.activation_code), NULL, L_NO_HYPER,
				      "hybrid activation code (with SSM_ACTIVATION_ID)" },
	[SET_SSM_ACTIVATION_ID] = { "SSM_ACTIVATION_ID", K_TEXT, "", offsetof(struct config, ssm.activation_id),
				    NULL, L_NO_HYPER, "hybrid activation id (with SSM_ACTIVATION_CODE)" },
	[SET_SSM_ROLE] = { "SSM_ROLE", K_TEXT, "", offsetof(struct config, ssm.role), NULL, L_ALL,
			   "IAM role for CreateActivation when no activation is given" },
	[SET_SSM_LOG_DIR] = { "SSM_LOG_DIR", K_PATH, "/var/log/amazon/ssm", offsetof(struct config, ssm.log_dir),
			      NULL, L_NO_HYPER, "where amazon-ssm-agent writes errors.log (its seelog.xml)" },
	[SET_CLUSTER_SSH] = { "CLUSTER_SSH", K_BOOL, "0", offsetof(struct config, cluster.enabled), NULL, L_ALL,
			      "SSH between the job's hosts with per-host keys (ssh algo-2 just works)" },
	[SET_RENDEZVOUS_TIMEOUT] = { "RENDEZVOUS_TIMEOUT", K_DURATION, "10m",
				     offsetof(struct config, cluster.rendezvous_timeout), NULL, L_ALL,
				     "how long to wait for every host to publish before the training starts" },
	[SET_HOSTFILE] = { "HOSTFILE", K_OPTPATH, "", offsetof(struct config, cluster.hostfile), NULL, L_ALL,
			   "where the MPI/DeepSpeed hostfile goes (default <ML_ROOT>/hostfile)" },
	[SET_CLUSTER_TRUST] = { "CLUSTER_TRUST", K_ENUM, "keys", offsetof(struct config, cluster.trust),
				trust_choices, L_ALL,
				"cluster logins: keys (published keys), network (any key from the job's hosts "
				"when CloudWatch cannot be read)" },
};

static const char *const layer_names[LAYER__COUNT] = {
	"default", "conf file", "hyperparameter", "environment", "command line",
};

const char *config_layer_name(enum config_layer layer)
{
	return layer_names[layer];
}

const char *config_hold_policy_name(enum hold_policy p)
{
	return hold_choices[p];
}

/* ---- judging one value ------------------------------------------------ */

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static bool valid_addrs(const char *s)
{
	char buf[1024], *save = NULL;
	int n = 0;

	if (strcmp(s, "all") == 0)
		return true;
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (char *a = strtok_r(buf, ", \t", &save); a; a = strtok_r(NULL, ", \t", &save), n++) {
		unsigned char bin[16];
		if (strcmp(a, "localhost") != 0 && inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1)
			return false;
	}
	return n > 0;
}

static int parse_startups(const char *s, struct ssh_startups *out)
{
	struct ssh_startups v;
	char rest;

	/* sscanf's %u takes "-1" as 4294967295: allow digits and colons only. */
	if (s[strspn(s, "0123456789:")] != '\0')
		return -EINVAL;
	if (sscanf(s, "%u:%u:%u%c", &v.start, &v.rate, &v.full, &rest) == 3) {
		if (!v.start || !v.rate || v.rate > 100 || v.full < v.start || !isdigit((unsigned char)*s))
			return -EINVAL;
	} else if (parse_uint(s, 100000, &v.start) == 0 && v.start) {
		v.full = v.start;
		v.rate = 100;
	} else {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_netblock(const char *s, struct ssh_netblock *out)
{
	struct ssh_netblock v;
	char rest;
	int n;

	if (s[strspn(s, "0123456789:")] != '\0' || !isdigit((unsigned char)*s))
		return -EINVAL;
	n = sscanf(s, "%u:%u%c", &v.v4, &v.v6, &rest);
	if (n == 1 && !strchr(s, ':'))
		v.v6 = 128;
	else if (n != 2)
		return -EINVAL;
	if (v.v4 > 32 || v.v6 > 128)
		return -EINVAL;
	*out = v;
	return 0;
}

static const char *expected(const struct setting *s, char *buf, size_t len)
{
	switch (s->kind) {
	case K_DURATION:
		return "a duration such as 90s, 30m, 1h30m or plain seconds (not negative)";
	case K_BOOL:
		return "1/0, true/false, yes/no or on/off";
	case K_PATH:
		return "an absolute path";
	case K_NAME:
		return "1 to 128 characters from A-Z a-z 0-9 . _ -";
	case K_PORT:
		return "a port number from 0 to 65535 (0: any free port)";
	case K_UINT:
		return "a whole number from 0 to 1000000";
	case K_TEXT:
		return "text";
	case K_OPTPATH:
		return "an absolute path, or nothing";
	case K_ADDRS:
		return "all, or IP addresses (or localhost) separated by commas";
	case K_STARTUPS:
		return "N or start:rate:full, such as 10:30:100";
	case K_NETBLOCK:
		return "IPv4 or IPv4:IPv6 prefix lengths, such as 24 or 32:128";
	case K_ENUM:
	case K_LEVEL: {
		size_t off = (size_t)snprintf(buf, len, "one of");
		for (size_t i = 0; s->choices[i] && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s %s", i ? "," : "", s->choices[i]);
		return buf;
	}
	}
	return "?";
}

/* Parse text into cfg's field for s; 0 or -EINVAL, leaving the field alone. */
static int apply(const struct setting *s, const char *text, struct config *cfg)
{
	void *field = (char *)cfg + s->off;

	switch (s->kind) {
	case K_ENUM:
		for (int i = 0; s->choices[i]; i++) {
			if (strcmp(text, s->choices[i]) == 0) {
				*(enum hold_policy *)field = (enum hold_policy)i;
				return 0;
			}
		}
		return -EINVAL;
	case K_LEVEL:
		return log_level_parse(text, (enum plog_level *)field);
	case K_DURATION:
		return duration_parse(text, (uint64_t *)field) ? -EINVAL : 0;
	case K_BOOL:
		return parse_bool(text, (bool *)field);
	case K_PATH:
	case K_NAME: {
		if (s->kind == K_PATH ? text[0] != '/' : (text[0] && !valid_name(text)))
			return -EINVAL;
		char *dup = strdup(text);
		if (!dup)
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case K_PORT:
	case K_UINT: {
		unsigned v;
		if (parse_uint(text, s->kind == K_PORT ? 65535 : 1000000, &v) < 0)
			return -EINVAL;
		*(unsigned *)field = v;
		return 0;
	}
	case K_STARTUPS:
		return parse_startups(text, (struct ssh_startups *)field);
	case K_NETBLOCK:
		return parse_netblock(text, (struct ssh_netblock *)field);
	case K_TEXT:
	case K_OPTPATH:
	case K_ADDRS: {
		char *dup = NULL;
		if (s->kind == K_OPTPATH && text[0] && text[0] != '/')
			return -EINVAL;
		if (s->kind == K_ADDRS && !valid_addrs(text))
			return -EINVAL;
		if (text[0] && !(dup = strdup(text)))
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	}
	return -EINVAL;
}

/* ---- gathering text from the layers ------------------------------------ */

struct source {
	const char *text[SET__COUNT];
	char *owned[SET__COUNT];
	unsigned line[SET__COUNT]; /* conf file line */
};

static int lookup(const char *name)
{
	for (int i = 0; i < SET__COUNT; i++)
		if (strcmp(settings[i].name, name) == 0)
			return i;
	return -1;
}

static void source_set(struct source *src, int id, const char *text, unsigned line)
{
	free(src->owned[id]);
	src->owned[id] = strdup(text);
	src->text[id] = src->owned[id];
	src->line[id] = line;
}

static void source_free(struct source *src)
{
	for (int i = 0; i < SET__COUNT; i++)
		free(src->owned[i]);
}

static void known_list(char *buf, size_t len, const char *prefix, bool lower, unsigned layer)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < SET__COUNT && off < len; i++) {
		if (!(settings[i].layers & (1u << layer)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", prefix);
		for (const char *c = settings[i].name; *c && off + 1 < len; c++)
			buf[off++] = lower ? (char)tolower((unsigned char)*c) : *c;
		buf[off < len ? off : len - 1] = '\0';
	}
}

static void read_conf(struct config *cfg, struct source *src, const char *path, bool explicit)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, known[1024];
	size_t cap = 0;
	unsigned lineno = 0;

	if (!f) {
		/* The default file is optional; one the user named is not. */
		if (explicit || errno != ENOENT) {
			log_error("cannot read conf file %s: %s; using the other layers", path, strerror(errno));
			cfg->errors++;
		}
		return;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *p = strutil_trim(line), *eq, *key, *val;
		lineno++;
		if (!*p || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			/* Not the line itself: it may be a secret without its name. */
			log_error("%s:%u: expected KEY=VALUE; line ignored", path, lineno);
			cfg->errors++;
			continue;
		}
		*eq = '\0';
		key = strutil_trim(p);
		val = strutil_trim(eq + 1);
		/* Allow shell-style quoting so the file doubles as an EnvironmentFile. */
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		int id = strncmp(key, "PORTHOLE_", 9) == 0 ? lookup(key + 9) : -1;
		if (id < 0 || !(settings[id].layers & (1u << LAYER_CONF))) {
			known_list(known, sizeof(known), "PORTHOLE_", false, LAYER_CONF);
			/* Never the value: a secret under a misspelt name would be
			 * printed, and shipped to CloudWatch. */
			log_error("%s:%u: unknown setting %s (known: %s); line ignored", path, lineno, key, known);
			cfg->errors++;
			continue;
		}
		source_set(src, id, val, lineno);
	}
	/* getline stops the same way at EOF and on a read error (a directory). */
	if (ferror(f)) {
		log_error("cannot read conf file %s: %s; using the other layers", path, strerror(errno));
		cfg->errors++;
	}
	free(line);
	fclose(f);
}

static void read_env(struct config *cfg, struct source *src)
{
	extern char **environ;
	char known[1024];

	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "PORTHOLE_", 9) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char key[128];
		size_t kl = (size_t)(eq - *e - 9);
		if (kl >= sizeof(key))
			kl = sizeof(key) - 1;
		memcpy(key, *e + 9, kl);
		key[kl] = '\0';
		/* Not settings: the conf file's own path, and the binary's path
		 * for lifecycle/porthole.sh. */
		if (strcmp(key, "CONFIG") == 0 || strcmp(key, "BIN") == 0)
			continue;
		int id = lookup(key);
		if (id < 0) {
			known_list(known, sizeof(known), "PORTHOLE_", false, LAYER_ENV);
			log_error("unknown setting PORTHOLE_%s in the environment (known: %s, PORTHOLE_CONFIG, PORTHOLE_BIN); "
				  "ignored", key, known);
			cfg->errors++;
			continue;
		}
		src->text[id] = eq + 1;
	}
}

/* SageMaker writes every hyperparameter as a string; the Python SDK also
 * JSON-encodes them ("\"30m\"").  Accept both, like the training toolkit. */
static char *hyper_text(const cJSON *v)
{
	if (cJSON_IsString(v)) {
		cJSON *inner = cJSON_Parse(v->valuestring);
		char *out = NULL;
		if (cJSON_IsString(inner))
			out = strdup(inner->valuestring);
		cJSON_Delete(inner);
		return out ? out : strdup(v->valuestring);
	}
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v)) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%.17g", v->valuedouble);
		return strdup(buf);
	}
	return NULL;
}

static char *slurp(const char *path, size_t max, int *err)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		*err = errno;
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		*err = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max, f);
	if (ferror(f)) {
		*err = errno ? errno : EIO;
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*err = 0;
	return buf;
}

static void read_hyper(struct config *cfg, struct source *src, const char *path)
{
	int err;
	char *text = slurp(path, 1 << 20, &err), known[1024];
	cJSON *root, *item;

	if (!text) {
		if (err != ENOENT) {
			log_error("cannot read hyperparameters %s: %s; porthole_* hyperparameters ignored", path,
				  strerror(err));
			cfg->errors++;
		}
		return;
	}
	root = cJSON_Parse(text);
	if (!cJSON_IsObject(root)) {
		log_error("%s: %s; expected a JSON object of strings; porthole_* hyperparameters ignored", path,
			  root ? "not a JSON object" : "malformed JSON");
		cfg->errors++;
		cJSON_Delete(root);
		free(text);
		return;
	}
	cJSON_ArrayForEach(item, root) {
		if (!item->string || strncasecmp(item->string, "porthole_", 9) != 0)
			continue;
		char upper[128];
		size_t i;
		for (i = 0; item->string[9 + i] && i + 1 < sizeof(upper); i++)
			upper[i] = (char)toupper((unsigned char)item->string[9 + i]);
		upper[i] = '\0';
		int id = lookup(upper);
		if (id < 0 || !(settings[id].layers & (1u << LAYER_HYPER))) {
			known_list(known, sizeof(known), "porthole_", true, LAYER_HYPER);
			/* Never the value: the activation code, for one, is not taken
			 * from hyperparameters, and must not be repeated in the log. */
			log_error("%s: unknown hyperparameter %s (known: %s); ignored", path, item->string, known);
			cfg->errors++;
			continue;
		}
		char *v = hyper_text(item);
		if (!v) {
			log_error("%s: hyperparameter %s is not a string; ignored", path, item->string);
			cfg->errors++;
			continue;
		}
		source_set(src, id, v, 0);
		free(v);
	}
	cJSON_Delete(root);
	free(text);
}

/* ---- resolving ----------------------------------------------------------- */

/* Names where a refused value came from, never the value itself: it may be
 * a secret given to the wrong setting, and this message goes to the log and
 * to CloudWatch. */
static void describe(const struct setting *s, enum config_layer layer, const struct source *src,
		     const char *hyper_path, const char *conf_path, char *buf, size_t len)
{
	char lower[64];
	size_t i;

	switch (layer) {
	case LAYER_FLAG:
		for (i = 0; s->name[i] && i + 1 < sizeof(lower); i++)
			lower[i] = s->name[i] == '_' ? '-' : (char)tolower((unsigned char)s->name[i]);
		lower[i] = '\0';
		snprintf(buf, len, "--%s (command line)", lower);
		break;
	case LAYER_ENV:
		snprintf(buf, len, "PORTHOLE_%s (environment)", s->name);
		break;
	case LAYER_HYPER:
		for (i = 0; s->name[i] && i + 1 < sizeof(lower); i++)
			lower[i] = (char)tolower((unsigned char)s->name[i]);
		lower[i] = '\0';
		snprintf(buf, len, "hyperparameter porthole_%s (%s)", lower, hyper_path);
		break;
	case LAYER_CONF:
		snprintf(buf, len, "PORTHOLE_%s (%s:%u)", s->name, conf_path, src[layer].line[s - settings]);
		break;
	default:
		snprintf(buf, len, "default");
	}
}

/* Would text be accepted for s?  Judged on a scratch config. */
static bool judge(const struct setting *s, const char *text)
{
	struct config scratch;
	bool ok;

	memset(&scratch, 0, sizeof(scratch));
	ok = apply(s, text, &scratch) == 0;
	config_free(&scratch);
	return ok;
}

static void resolve(struct config *cfg, int id, const struct source *src, const char *hyper_path)
{
	const struct setting *s = &settings[id];
	int winner = LAYER_DEFAULT;
	bool bad[LAYER__COUNT] = { false };

	for (int l = LAYER_FLAG; l > LAYER_DEFAULT; l--) {
		if (!src[l].text[id] || !(s->layers & (1u << l)))
			continue;
		if (winner == LAYER_DEFAULT && apply(s, src[l].text[id], cfg) == 0)
			winner = l;
		else if (winner == LAYER_DEFAULT || !judge(s, src[l].text[id]))
			bad[l] = true; /* overridden or not, bad input is reported */
	}
	if (winner == LAYER_DEFAULT)
		apply(s, s->def, cfg);
	cfg->layer[id] = (enum config_layer)winner;

	for (int l = LAYER_FLAG; l > LAYER_DEFAULT; l--) {
		char what[1024], exp[256];
		if (!bad[l])
			continue;
		describe(s, (enum config_layer)l, src, hyper_path, cfg->conf_path, what, sizeof(what));
		const char *used = src[winner].text[id] ? src[winner].text[id] : s->def;
		log_error("%s: expected %s; using \"%s\" (%s)", what, expected(s, exp, sizeof(exp)),
			  *used ? used : "(empty)", layer_names[winner]);
		cfg->errors++;
	}
}

/* ---- what other areas need from settings not theirs --------------------- */

/* dir/name, or NULL when out of memory (the reader then treats the file as
 * absent, as it would a missing one). */
static char *path_in(const char *dir, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* Names the inline keys in messages by where they came from. */
static const char *inline_keys_name(enum config_layer layer)
{
	switch (layer) {
	case LAYER_HYPER:
		return "hyperparameter porthole_authorized_keys";
	case LAYER_CONF:
		return "PORTHOLE_AUTHORIZED_KEYS (conf file)";
	case LAYER_FLAG:
		return "--authorized-keys";
	default:
		return "PORTHOLE_AUTHORIZED_KEYS";
	}
}

/* The areas are handed their own settings only; the few facts they need
 * from elsewhere (runtime paths, the code directory) are worked out here,
 * once, so that ssh/ need not know cluster/'s file names, for example. */
static void derive(struct config *cfg)
{
	const char *slash = strrchr(cfg->control_socket, '/');
	struct ssh_settings *ssh = &cfg->ssh;

	/* Next to the control socket: porthole's own runtime directory. */
	if (slash && slash != cfg->control_socket)
		cfg->runtime_dir = strndup(cfg->control_socket, (size_t)(slash - cfg->control_socket));
	else
		cfg->runtime_dir = strdup(slash ? "/" : ".");
	if (!cfg->runtime_dir)
		return;
	ssh->runtime_dir = strdup(cfg->runtime_dir);
	ssh->inline_keys_name = strdup(inline_keys_name(cfg->layer[SET_AUTHORIZED_KEYS]));
	ssh->code_dir = path_in(cfg->ml_root, "code");
	if (ssh->authorized_keys_s3)
		ssh->s3_keys_file = path_in(cfg->runtime_dir, S3KEYS_CACHE_NAME);
	if (cfg->cluster.enabled) {
		ssh->cluster_dir = strdup(cfg->runtime_dir);
		ssh->cluster_keys_file = path_in(cfg->runtime_dir, CLUSTER_KEYS_FILE);
		ssh->cluster_pending_file = path_in(cfg->runtime_dir, CLUSTER_PENDING_FILE);
		if (cfg->cluster.trust == TRUST_NETWORK)
			ssh->cluster_trust_file = path_in(cfg->runtime_dir, CLUSTER_TRUST_FILE);
		/* The job's hosts' addresses, for PORTHOLE_PER_SOURCE_PENALTY_EXEMPT's
		 * "cluster": the known hosts file the helper writes. */
		struct passwd_entry pw;
		if (passwd_by_uid(getuid(), &pw) == 0 &&
		    asprintf(&ssh->cluster_hosts_file, "%s/.ssh/%s", pw.dir, CLUSTER_KNOWN_HOSTS) < 0)
			ssh->cluster_hosts_file = NULL;
	}
	cfg->cluster.ml_root = strdup(cfg->ml_root);
	cfg->cluster.runtime_dir = strdup(cfg->runtime_dir);
}

static void underive(struct config *cfg)
{
	struct ssh_settings *ssh = &cfg->ssh;
	char **owned[] = { &cfg->runtime_dir, &ssh->runtime_dir, &ssh->inline_keys_name, &ssh->code_dir, &ssh->s3_keys_file,
			   &ssh->cluster_dir, &ssh->cluster_keys_file, &ssh->cluster_pending_file,
			   &ssh->cluster_trust_file, &ssh->cluster_hosts_file, &cfg->cluster.ml_root,
			   &cfg->cluster.runtime_dir };

	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		free(*owned[i]);
		*owned[i] = NULL;
	}
}

void config_load(struct config *cfg, const struct config_flags *flags)
{
	struct source src[LAYER__COUNT];
	const char *conf_env = getenv("PORTHOLE_CONFIG");
	char *hyper_path = NULL;

	memset(cfg, 0, sizeof(*cfg));
	memset(src, 0, sizeof(src));
	for (int i = 0; i < SET__COUNT; i++)
		src[LAYER_DEFAULT].text[i] = settings[i].def;
	for (size_t i = 0; flags && i < flags->n; i++)
		src[LAYER_FLAG].text[flags->set[i].id] = flags->set[i].value;

	if (flags && flags->conf_path)
		cfg->conf_path = strdup(flags->conf_path);
	else if (conf_env && *conf_env)
		cfg->conf_path = strdup(conf_env);
	else
		cfg->conf_path = strdup(CONFIG_DEFAULT_PATH);
	read_conf(cfg, &src[LAYER_CONF], cfg->conf_path,
		  (flags && flags->conf_path) || (conf_env && *conf_env));
	read_env(cfg, &src[LAYER_ENV]);

	/* The hyperparameters live under ML_ROOT, so it is settled first. */
	resolve(cfg, SET_ML_ROOT, src, "");
	if (asprintf(&hyper_path, "%s/input/config/hyperparameters.json", cfg->ml_root) < 0)
		hyper_path = NULL;
	if (hyper_path)
		read_hyper(cfg, &src[LAYER_HYPER], hyper_path);
	for (int i = 0; i < SET__COUNT; i++)
		if (i != SET_ML_ROOT)
			resolve(cfg, i, src, hyper_path ? hyper_path : "");
	for (int l = 0; l < LAYER__COUNT; l++)
		source_free(&src[l]);
	free(hyper_path);
	derive(cfg);
}

void config_free(struct config *cfg)
{
	underive(cfg);
	for (int i = 0; i < SET__COUNT; i++)
		if (settings[i].kind == K_PATH || settings[i].kind == K_NAME || settings[i].kind == K_TEXT ||
		    settings[i].kind == K_OPTPATH || settings[i].kind == K_ADDRS)
			free(*(char **)((char *)cfg + settings[i].off));
	free(cfg->conf_path);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- flags and printing -------------------------------------------------- */

static bool flag_matches(const char *arg, const char *name, const char **value)
{
	size_t i = 0;

	for (; name[i]; i++) {
		char want = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
		if (arg[i] != want)
			return false;
	}
	if (arg[i] == '\0') {
		*value = NULL;
		return true;
	}
	if (arg[i] == '=') {
		*value = arg + i + 1;
		return true;
	}
	return false;
}

int config_take_flag(struct config_flags *flags, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *value;

	if (strncmp(arg, "--", 2) != 0)
		return 0;
	arg += 2;
	if (flag_matches(arg, "CONFIG", &value)) {
		if (!value) {
			if (*i + 1 >= argc) {
				fprintf(stderr, "porthole: --config needs a file\n");
				return -1;
			}
			value = argv[++*i];
		}
		flags->conf_path = value;
		return 1;
	}
	for (int id = 0; id < SET__COUNT; id++) {
		if (!flag_matches(arg, settings[id].name, &value))
			continue;
		if (!value) {
			if (settings[id].kind == K_BOOL) {
				value = "1";
			} else if (*i + 1 >= argc) {
				fprintf(stderr, "porthole: --%s needs a value\n", arg);
				return -1;
			} else {
				value = argv[++*i];
			}
		}
		if (flags->n == CONFIG_MAX_FLAGS) {
			fprintf(stderr, "porthole: too many setting flags\n");
			return -1;
		}
		flags->set[flags->n].id = (enum setting_id)id;
		flags->set[flags->n].value = value;
		flags->n++;
		return 1;
	}
	return 0;
}

static void format_value(const struct config *cfg, int id, char *buf, size_t len)
{
	const struct setting *s = &settings[id];
	const void *field = (const char *)cfg + s->off;

	switch (s->kind) {
	case K_ENUM:
		snprintf(buf, len, "%s", s->choices[*(const enum hold_policy *)field]);
		break;
	case K_LEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const enum plog_level *)field));
		break;
	case K_DURATION:
		duration_format(*(const uint64_t *)field, buf, len);
		break;
	case K_BOOL:
		snprintf(buf, len, "%d", *(const bool *)field ? 1 : 0);
		break;
	case K_PORT:
	case K_UINT:
		snprintf(buf, len, "%u", *(const unsigned *)field);
		break;
	case K_STARTUPS: {
		const struct ssh_startups *st = field;
		snprintf(buf, len, "%u:%u:%u", st->start, st->rate, st->full);
		break;
	}
	case K_NETBLOCK: {
		const struct ssh_netblock *nb = field;
		snprintf(buf, len, "%u:%u", nb->v4, nb->v6);
		break;
	}
	default:
		/* The activation code registers machines: never shown. */
		if (id == SET_SSM_ACTIVATION_CODE && *(char *const *)field)
			snprintf(buf, len, "(set)");
		else
			snprintf(buf, len, "%s", *(char *const *)field ? *(char *const *)field : "");
	}
}

void config_print(const struct config *cfg, FILE *out, bool json)
{
	cJSON *root = json ? cJSON_CreateObject() : NULL;

	for (int i = 0; i < SET__COUNT; i++) {
		char val[512], key[64];
		format_value(cfg, i, val, sizeof(val));
		snprintf(key, sizeof(key), "PORTHOLE_%s", settings[i].name);
		if (root) {
			cJSON *o = cJSON_AddObjectToObject(root, key);
			cJSON_AddStringToObject(o, "value", val);
			cJSON_AddStringToObject(o, "source", layer_names[cfg->layer[i]]);
		} else {
			fprintf(out, "%s=%s\t# %s\n", key, val, layer_names[cfg->layer[i]]);
		}
	}
	if (root) {
		cJSON_AddStringToObject(root, "conf_file", cfg->conf_path);
		char *s = cJSON_PrintUnformatted(root);
		fprintf(out, "%s\n", s ? s : "{}");
		free(s);
		cJSON_Delete(root);
	} else {
		fprintf(out, "# conf file: %s\n", cfg->conf_path);
	}
}

void config_print_flags(FILE *out)
{
	for (int i = 0; i < SET__COUNT; i++) {
		char flag[64];
		size_t j;
		for (j = 0; settings[i].name[j] && j + 1 < sizeof(flag); j++)
			flag[j] = settings[i].name[j] == '_' ? '-' : (char)tolower((unsigned char)settings[i].name[j]);
		flag[j] = '\0';
		fprintf(out, "  --%-16s %s (PORTHOLE_%s, default %s)\n", flag, settings[i].help, settings[i].name,
			*settings[i].def ? settings[i].def : "unset");
	}
	fprintf(out, "  --%-16s conf file (PORTHOLE_CONFIG, default %s)\n", "config FILE", CONFIG_DEFAULT_PATH);
}
