/* SPDX-License-Identifier: Apache-2.0 */
/* sshd_setup.c — see sshd_setup.h. */
#include "sshd_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
/* `porthole ssh-check-keys ...`: the check alone, as its own program. */
#define CHECK_COMMAND "ssh-check-keys"
/* The result line holds a host key (a few KiB for RSA); nothing is longer. */
#define MAX_SETUP_LINE (1024 * 1024)

/* ---- in the helper ------------------------------------------------------------ */

static void on_bad_line(void *ud, const char *where, const char *why)
{
	(void)ud;
	report_log(PLOG_ERROR, NULL, NULL, "authorized keys %s: %s; this line is ignored", where, why);
}

/* make_key false: only the authorized keys (the key was made in PID 1). */
static int helper(const struct ssh_settings *cfg, bool make_key, sshd_setup_extra_fn extra, void *ud)
{
	struct authkeys keys = { 0 };
	struct hostkey hk = { 0 };
	char err[512];

	if (sshlib_load(err, sizeof(err)) < 0) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: %s", err);
		return 1;
	}
	if (make_key && hostkey_make(cfg->host_key, &hk, err, sizeof(err)) < 0) {
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
	if (make_key) {
		cJSON_AddStringToObject(f, "priv", hk.priv);
		cJSON_AddStringToObject(f, "pub", hk.pub);
		cJSON_AddStringToObject(f, "fingerprint", hk.fingerprint);
	}
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
		_exit(helper(cfg, true, extra, ud));
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

/* ---- the check alone, answered through the loop ------------------------------- */

struct sshd_setup_check {
	struct reaper *reaper;
	pid_t pid;               /* 0 once reaped */
	int fd;                  /* -1 once at EOF */
	sd_event_source *io;
	struct relay_lines lines;
	int n_keys;              /* -1 until the result line */
	void (*done)(void *ud, int n_keys);
	void *ud;
};

static void check_line(void *ud, const char *line)
{
	struct sshd_setup_check *c = ud;
	cJSON *o = relay_parse(line);
	const char *ev = o ? relay_event(o) : NULL;

	if (ev && strcmp(ev, RESULT_EVENT) == 0) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fields"), "keys");
		if (cJSON_IsNumber(n))
			c->n_keys = (int)n->valuedouble;
	} else if (o) {
		relay_log(o);
	}
	cJSON_Delete(o);
}

static void check_finish(struct sshd_setup_check *c)
{
	void (*done)(void *ud, int n_keys) = c->done;

	c->io = sd_event_source_disable_unref(c->io);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	relay_lines_clear(&c->lines);
	c->done = NULL;
	if (done)
		done(c->ud, c->n_keys);
}

static int on_check_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct sshd_setup_check *c = ud;
	char chunk[4096];
	(void)s;
	(void)revents;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0 || relay_lines_add(&c->lines, chunk, (size_t)n, MAX_SETUP_LINE, check_line, c) < 0)
			break;
	}
	/* EOF: the helper has said everything. */
	check_finish(c);
	return 0;
}

static void on_check_exit(void *ud, pid_t pid, int wstatus)
{
	(void)pid;
	(void)wstatus;
	((struct sshd_setup_check *)ud)->pid = 0;
}

int sshd_setup_check_start(sd_event *loop, struct reaper *r, const struct ssh_settings *cfg,
			   void (*done)(void *ud, int n_keys), void *ud, struct sshd_setup_check **ret)
{
	struct sshd_setup_check *c = calloc(1, sizeof(*c));
	char self[4096];
	char *argv[] = { "porthole", CHECK_COMMAND, cfg->inline_keys_name ? cfg->inline_keys_name : "",
			 cfg->authorized_keys ? cfg->authorized_keys : "",
			 cfg->authorized_keys_file ? cfg->authorized_keys_file : "",
			 cfg->s3_keys_file ? cfg->s3_keys_file : "", cfg->cluster_keys_file ? cfg->cluster_keys_file : "",
			 NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	ssize_t len;
	int p[2], rc;

	*ret = NULL;
	if (!c)
		return -ENOMEM;
	c->reaper = r;
	c->n_keys = -1;
	c->done = done;
	c->ud = ud;
	c->fd = -1;
	/* porthole's own binary, by its path (valgrind answers for its
	 * client there); /proc/self/exe itself once the file is replaced. */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[len > 0 ? len : 0] = '\0';
	if (len <= 0 || strstr(self, " (deleted)"))
		snprintf(self, sizeof(self), "/proc/self/exe");
	if (pipe2(p, O_CLOEXEC) < 0) {
		rc = -errno;
		free(c);
		return rc;
	}
	/* Spawned, not forked: PID 1 pays microseconds, no page is copied
	 * and none of its pages becomes copy-on-write; the reports come on fd 3. */
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	rc = -posix_spawn(&c->pid, self, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	c->fd = p[0];
	/* Best effort, and second to the training. */
	if (rc == 0)
		setpriority(PRIO_PROCESS, (id_t)c->pid, 10);
	if (rc < 0) {
		c->pid = 0;
		c->done = NULL;
		sshd_setup_check_free(c);
		return rc;
	}
	if ((rc = reaper_watch(r, c->pid, on_check_exit, c)) < 0 ||
	    (rc = fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0) < 0 ||
	    (rc = sd_event_add_io(loop, &c->io, c->fd, EPOLLIN, on_check_io, c)) < 0) {
		c->done = NULL;
		sshd_setup_check_free(c);
		return rc;
	}
	*ret = c;
	return 0;
}

int sshd_setup_check_main(int argc, char **argv)
{
	struct ssh_settings cfg = { .mode = SSH_EMBEDDED };

	if (argc != 6) {
		fprintf(stderr, "porthole: %s is porthole's own (the SSH endpoint's first reading of the authorized "
				"keys)\n", CHECK_COMMAND);
		return 2;
	}
	cfg.inline_keys_name = argv[1][0] ? argv[1] : NULL;
	cfg.authorized_keys = argv[2][0] ? argv[2] : NULL;
	cfg.authorized_keys_file = argv[3][0] ? argv[3] : NULL;
	cfg.s3_keys_file = argv[4][0] ? argv[4] : NULL;
	cfg.cluster_keys_file = argv[5][0] ? argv[5] : NULL;
	report_init(3);
	return helper(&cfg, false, NULL, NULL);
}

void sshd_setup_check_free(struct sshd_setup_check *c)
{
	if (!c)
		return;
	c->done = NULL;
	check_finish(c);
	/* Still reading keys while porthole ends: it has nothing left to say. */
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		reaper_unwatch(c->reaper, c->pid);
	}
	free(c);
}
