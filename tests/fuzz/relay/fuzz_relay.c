/* SPDX-License-Identifier: Apache-2.0 */
/* What a connection process (possibly compromised) writes to PID 1: report
 * lines, split as they arrive, parsed and logged (their strings escaped),
 * and the escaping itself. */
#include "../fuzz.h"

#include "lib/log.h"
#include "lib/relay.h"
#include "lib/vis.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ud, enum plog_level lvl, const char *event, const cJSON *fields, const char *msg)
{
	(void)ud;
	(void)lvl;
	(void)event;
	(void)fields;
	/* Everything the log hands on is escaped: no control characters, C0,
	 * DEL or C1 (as UTF-8, U+0080-U+009F). */
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(PLOG_NONE);
	log_add_sink(sink, NULL);
	return 0;
}

static void on_line(void *ud, const char *line)
{
	cJSON *o = relay_parse(line);
	(void)ud;
	if (o) {
		relay_event(o);
		relay_field(o, "user");
		relay_log(o);
		cJSON_Delete(o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_lines l = { 0 };
	char *s = fuzz_str(data, size), small[16];
	size_t half = size / 2;

	if (!s)
		return 0;
	relay_lines_add(&l, (const char *)data, half, 64 * 1024, on_line, NULL);
	relay_lines_add(&l, (const char *)data + half, size - half, 64 * 1024, on_line, NULL);
	relay_lines_clear(&l);
	char *v = vis_dup(s);
	if (v && vis_needed(v) && strchr(v, '\\') == NULL)
		abort();
	free(v);
	vis_str(small, sizeof(small), s);
	if (strlen(small) >= sizeof(small))
		abort();
	free(s);
	return 0;
}
