/* config.c — see config.h.  One table describes every setting; each layer
 * only supplies text, and the text is judged the same way whatever its layer. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "duration.h"

enum kind { K_ENUM, K_DURATION, K_BOOL, K_PATH, K_NAME, K_LEVEL };

#define L_ALL ((1u << LAYER__COUNT) - 1)
#define L_NO_HYPER (L_ALL & ~(1u << LAYER_HYPER))

static const char *const hold_choices[] = { "never", "on-failure", "always", NULL };
static const char *const level_choices[] = { "debug", "info", "warning", "error", NULL };

static const struct setting {
	const char *name; /* PORTHOLE_<name>, porthole_<name>, --<name> */
	enum kind kind;
	const char *def;
	size_t off;
	const char *const *choices;
	unsigned layers;
	const char *help;
} settings[SET__COUNT] = {
	[SET_HOLD] = { "HOLD", K_ENUM, "on-failure", offsetof(struct config, hold), hold_choices, L_ALL,
		       "keep the container after the command ends: never, on-failure, always" },
	[SET_WINDOW] = { "WINDOW", K_DURATION, "30m", offsetof(struct config, window), NULL, L_ALL,
			 "how long a hold lasts" },
	[SET_HOLD_BEFORE] = { "HOLD_BEFORE", K_BOOL, "0", offsetof(struct config, hold_before), NULL, L_ALL,
			      "wait for `porthole continue` before starting the command" },
	[SET_IDLE_GRACE] = { "IDLE_GRACE", K_DURATION, "10m", offsetof(struct config, idle_grace), NULL, L_ALL,
			     "hold at least this long after the last session ends" },
	[SET_MAX_HOLD] = { "MAX_HOLD", K_DURATION, "4h", offsetof(struct config, max_hold), NULL, L_ALL,
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
};

static const char *const layer_names[LAYER__COUNT] = {
	"default", "conf file", "hyperparameter", "environment", "command line",
};

const char *config_layer_name(enum config_layer layer)
{
	return layer_names[layer];
}

const char *hold_policy_name(enum hold_policy p)
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

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
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
	char line[4096], known[1024];
	unsigned lineno = 0;

	if (!f) {
		/* The default file is optional; one the user named is not. */
		if (explicit || errno != ENOENT) {
			log_error("cannot read conf file %s: %s; using the other layers", path, strerror(errno));
			cfg->errors++;
		}
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = trim(line), *eq, *key, *val;
		lineno++;
		if (!*p || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			log_error("%s:%u: expected KEY=VALUE, got \"%s\"; line ignored", path, lineno, p);
			cfg->errors++;
			continue;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		/* Allow shell-style quoting so the file doubles as an EnvironmentFile. */
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		int id = strncmp(key, "PORTHOLE_", 9) == 0 ? lookup(key + 9) : -1;
		if (id < 0 || !(settings[id].layers & (1u << LAYER_CONF))) {
			known_list(known, sizeof(known), "PORTHOLE_", false, LAYER_CONF);
			log_error("%s:%u: unknown setting %s (known: %s); line ignored", path, lineno, key, known);
			cfg->errors++;
			continue;
		}
		source_set(src, id, val, lineno);
	}
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
		if (strcmp(key, "CONFIG") == 0)
			continue;
		int id = lookup(key);
		if (id < 0) {
			known_list(known, sizeof(known), "PORTHOLE_", false, LAYER_ENV);
			log_error("unknown setting PORTHOLE_%s in the environment (known: %s, PORTHOLE_CONFIG); ignored",
				  key, known);
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

static void describe(const struct setting *s, enum config_layer layer, const struct source *src,
		     const char *hyper_path, const char *conf_path, char *buf, size_t len)
{
	const char *text = src[layer].text[s - settings];
	char lower[64];
	size_t i;

	switch (layer) {
	case LAYER_FLAG:
		for (i = 0; s->name[i] && i + 1 < sizeof(lower); i++)
			lower[i] = s->name[i] == '_' ? '-' : (char)tolower((unsigned char)s->name[i]);
		lower[i] = '\0';
		snprintf(buf, len, "--%s=\"%s\" (command line)", lower, text);
		break;
	case LAYER_ENV:
		snprintf(buf, len, "PORTHOLE_%s=\"%s\" (environment)", s->name, text);
		break;
	case LAYER_HYPER:
		for (i = 0; s->name[i] && i + 1 < sizeof(lower); i++)
			lower[i] = (char)tolower((unsigned char)s->name[i]);
		lower[i] = '\0';
		snprintf(buf, len, "hyperparameter porthole_%s=\"%s\" (%s)", lower, text, hyper_path);
		break;
	case LAYER_CONF:
		snprintf(buf, len, "PORTHOLE_%s=\"%s\" (%s:%u)", s->name, text, conf_path,
			 src[layer].line[s - settings]);
		break;
	default:
		snprintf(buf, len, "default %s", text);
	}
}

static void resolve(struct config *cfg, int id, const struct source *src, const char *hyper_path)
{
	const struct setting *s = &settings[id];
	int winner = LAYER_DEFAULT;
	bool bad[LAYER__COUNT] = { false };

	for (int l = LAYER_FLAG; l > LAYER_DEFAULT; l--) {
		if (!src[l].text[id] || !(s->layers & (1u << l)))
			continue;
		if (apply(s, src[l].text[id], cfg) == 0) {
			winner = l;
			break;
		}
		bad[l] = true;
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
}

void config_free(struct config *cfg)
{
	for (int i = 0; i < SET__COUNT; i++)
		if (settings[i].kind == K_PATH || settings[i].kind == K_NAME)
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
	default:
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
