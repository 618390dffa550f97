/* SPDX-License-Identifier: Apache-2.0 */
/* The settings' layers from the input: a conf file, hyperparameters.json
 * (parts separated by "\n---\n"), then `porthole config` both ways. */
#include "../fuzz.h"

#include <sys/stat.h>

#include "daemon/config.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char conf[256], hyper[256], root[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	clearenv();
	setenv("FUZZ", "1", 1); /* environ is never NULL in a real process */
	log_set_level(PLOG_NONE);
	log_discard_early();
	snprintf(root, sizeof(root), "%s/ml", fuzz_tmpdir());
	snprintf(conf, sizeof(conf), "%s/porthole.conf", fuzz_tmpdir());
	snprintf(hyper, sizeof(hyper), "%s/input/config", root);
	mkdir(root, 0700);
	snprintf(hyper, sizeof(hyper), "%s/input", root);
	mkdir(hyper, 0700);
	snprintf(hyper, sizeof(hyper), "%s/input/config", root);
	mkdir(hyper, 0700);
	snprintf(hyper, sizeof(hyper), "%s/input/config/hyperparameters.json", root);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *p[2];
	struct config_flags flags = { 0 };
	struct config cfg;
	FILE *null;

	if (!s)
		return 0;
	fuzz_parts(s, size, p, 2);
	fuzz_write(conf, p[0], strlen(p[0]));
	fuzz_write(hyper, p[1], strlen(p[1]));
	flags.conf_path = conf;
	flags.set[0].id = SET_ML_ROOT;
	flags.set[0].value = root;
	flags.n = 1;
	config_load(&cfg, &flags);
	null = fopen("/dev/null", "we");
	if (null) {
		config_print(&cfg, null, false);
		config_print(&cfg, null, true);
		fclose(null);
	}
	config_free(&cfg);
	free(s);
	return 0;
}
