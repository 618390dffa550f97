/* SPDX-License-Identifier: Apache-2.0 */
/* sshd_setup.c — see sshd_setup.h. */
#include "sshd_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authkeys.h"
#include "sshlib.h"

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/relay.h"
#include "../lib/relay_reader.h"
#include "../lib/report.h"

#define SETUP_TIMEOUT_MS 10000
#define RESULT_EVENT "ssh_setup_result"
/* The result line holds a host key (a few KiB for RSA); nothing is longer. */
#define MAX_SETUP_LINE (1024 * 1024)

/* ---- in the helper ------------------------------------------------------------ */

static void on_bad_line(void *ud, const char *where, const char *why)
{
	(void)ud;
	report_log(PLOG_ERROR, NULL, NULL, "authorized keys %s: %s; this line is ignored", where, why);
}

static int helper(const struct ssh_settings *cfg, sshd_setup_extra_fn extra, void *ud)
{
	struct authkeys keys = { 0 };
	struct hostkey hk;
	char err[512];

	if (sshlib_load(err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: %s", err);
		return 1;
	}
	if (hostkey_make(cfg->host_key, &hk, err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: %s", err);
		return 1;
	}
	authkeys_load_all(&keys, cfg, on_bad_line, NULL);
	if (extra && extra(cfg, &hk, ud) < 0) {
		authkeys_free(&keys);
		hostkey_free(&hk);
		return 1;
	}
	/* The private key travels on the pipe only, never into a log. */
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "priv", hk.priv);
	cJSON_AddStringToObject(f, "pub", hk.pub);
	cJSON_AddStringToObject(f, "fingerprint", hk.fingerprint);
	cJSON_AddNumberToObject(f, "keys", (double)keys.n);
	report_log(PLOG_DEBUG, RESULT_EVENT, f, "setup done");
	authkeys_free(&keys);
	hostkey_free(&hk);
	return 0;
}

/* ---- in porthole ----------------------------------------------------------------- */

static void on_helper_exit(void *ud, pid_t pid, int wstatus)
{
	(void)ud;
	(void)pid;
	(void)wstatus;
}

static bool take_result(const cJSON *o, struct hostkey *hk, unsigned *n_keys)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fields");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "keys");
	const char *priv = relay_field(o, "priv"), *pub = relay_field(o, "pub"), *fp = relay_field(o, "fingerprint");

	if (!priv || !pub || !fp || !cJSON_IsNumber(n))
		return false;
	hk->priv = strdup(priv);
	hk->pub = strdup(pub);
	hk->fingerprint = strdup(fp);
	*n_keys = (unsigned)n->valuedouble;
	if (!hk->priv || !hk->pub || !hk->fingerprint) {
		hostkey_free(hk);
		return false;
	}
	return true;
}

/* What the helper's lines have told so far. */
struct setup_read {
	struct hostkey *hk;
	unsigned *n_keys;
	bool got;
};

static bool take_report(void *ud, const cJSON *o)
{
	struct setup_read *sr = ud;
	const char *ev = relay_event(o);

	if (!ev || strcmp(ev, RESULT_EVENT) != 0)
		return false;
	sr->got = take_result(o, sr->hk, sr->n_keys) || sr->got;
	return true;
}

int sshd_setup(struct reaper *r, const struct ssh_settings *cfg, sshd_setup_extra_fn extra, void *ud, struct hostkey *hk,
	       unsigned *n_keys)
{
	uint64_t deadline = clock_mono_usec() + SETUP_TIMEOUT_MS * UINT64_C(1000);
	struct setup_read sr = { .hk = hk, .n_keys = n_keys };
	struct relay_reader *reader = NULL;
	int p[2];
	pid_t pid;

	memset(hk, 0, sizeof(*hk));
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		log_error("ssh: cannot start the setup process: %s; no SSH endpoint", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		report_init(p[1]);
		_exit(helper(cfg, extra, ud));
	}
	close(p[1]);
	reaper_watch(r, pid, on_helper_exit, NULL);
	/* Read its lines until it closes the pipe.  Blocking is fine here:
	 * this runs once, before the loop, and takes milliseconds. */
	if (relay_reader_new(NULL, p[0], MAX_SETUP_LINE, take_report, NULL, &sr, &reader) == 0 &&
	    relay_reader_wait(reader, deadline, NULL) == -ETIME) {
		log_error("ssh: the setup process did not answer within %ds; no SSH endpoint", SETUP_TIMEOUT_MS / 1000);
		kill(pid, SIGKILL);
	}
	relay_reader_free(reader);
	if (!sr.got) {
		log_error("ssh: no host key (see above); no SSH endpoint");
		return -1;
	}
	return 0;
}
