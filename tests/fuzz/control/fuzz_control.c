/* SPDX-License-Identifier: Apache-2.0 */
/* Control requests as a client sends them: the input is one line on a
 * fresh connection to a real control socket (control.c), answered by the
 * daemon's request handlers (requests.c) against a real hold; the loop runs
 * until the answer, or until a wait (breakpoint, hold) is pending, and the
 * connection is closed (which cancels the wait). */
#include "../fuzz.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/control.h"
#include "daemon/porthole.h"
#include "daemon/requests.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* requests.c's status names the cluster's state: none here. */
void cluster_to_json(const struct cluster *c, cJSON *obj);
void cluster_to_json(const struct cluster *c, cJSON *obj)
{
	(void)c;
	(void)obj;
}

static struct porthole p;
static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct control_handler h;
	(void)argc;
	(void)argv;
	log_set_level(PLOG_NONE);
	log_discard_early();
	snprintf(path, sizeof(path), "%s/control.sock", fuzz_tmpdir());
	if (sd_event_new(&p.loop) < 0 || hold_new(p.loop, 600 * UINT64_C(1000000), 3600 * UINT64_C(1000000), &p.hold) < 0)
		abort();
	p.cfg.hold.window = 60;
	p.id.job = (char *)"job";
	p.id.host = (char *)"algo-1";
	p.phase = PHASE_TRAINING;
	requests_handler(&p, &h);
	if (control_new(p.loop, path, &h, &p.control) < 0)
		abort();
	return 0;
}

static void pump(int ms_idle)
{
	/* Until nothing more is ready within ms_idle. */
	for (int i = 0; i < 1000; i++)
		if (sd_event_run(p.loop, (uint64_t)ms_idle * 1000) <= 0)
			break;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = control_connect(path);
	char *line;
	char buf[4096];

	if (fd < 0)
		abort();
	line = malloc(size + 1);
	if (!line) {
		close(fd);
		return 0;
	}
	/* One line: what the client sends (newlines would be more requests). */
	for (size_t i = 0; i < size; i++)
		line[i] = data[i] == '\n' ? ' ' : (char)data[i];
	line[size] = '\n';
	if (write(fd, line, size + 1) < 0) {
		/* a line longer than the socket takes: the server drops it */
	}
	free(line);
	pump(5);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	close(fd);
	pump(1);
	return 0;
}
