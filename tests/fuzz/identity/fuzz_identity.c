/* SPDX-License-Identifier: Apache-2.0 */
/* The platform's JSON: a training job's resourceconfig.json and, separated
 * by "\n---\n", a HyperPod node's resource_config.json (read by
 * identity_load, and parsed directly against a few own addresses). */
#include "../fuzz.h"

#include <sys/stat.h>

#include "lib/log.h"
#include "platform/hyperpod.h"
#include "platform/identity.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256], rc_path[320], hp_path[320];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char d[300];
	(void)argc;
	(void)argv;
	clearenv();
	setenv("FUZZ", "1", 1); /* environ is never NULL in a real process */
	log_set_level(PLOG_NONE);
	log_discard_early();
	snprintf(root, sizeof(root), "%s/ml", fuzz_tmpdir());
	mkdir(root, 0700);
	snprintf(d, sizeof(d), "%s/input", root);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/input/config", root);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/config", root);
	mkdir(d, 0700);
	snprintf(rc_path, sizeof(rc_path), "%s/input/config/resourceconfig.json", root);
	snprintf(hp_path, sizeof(hp_path), "%s/config/resource_config.json", root);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hyperpod_addr own[] = { { "10.1.2.3", "eth0" }, { "127.0.0.1", "lo" }, { "fd00::1", "eth1" } };
	char *s = fuzz_str(data, size), *p[2];
	struct identity id;
	struct hyperpod hp;
	cJSON *o;

	if (!s)
		return 0;
	fuzz_parts(s, size, p, 2);
	memset(&hp, 0, sizeof(hp));
	if (hyperpod_parse(&hp, p[1], "fuzz", own, 3) != HYPERPOD_NONE) {
		free(hyperpod_log_group(&hp));
		free(hyperpod_log_stream(&hp, "algo-1"));
		hyperpod_free(&hp);
	}
	fuzz_write(rc_path, p[0], strlen(p[0]));
	fuzz_write(hp_path, p[1], strlen(p[1]));
	memset(&id, 0, sizeof(id));
	identity_load(&id, root, NULL);
	o = cJSON_CreateObject();
	identity_to_json(&id, o);
	cJSON_Delete(o);
	identity_free(&id);
	free(s);
	return 0;
}
