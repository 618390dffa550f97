/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_child.c — see ssm_child.h. */
#include "ssm_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssm_log.h"

struct ssm_child {
	struct reaper *reaper;
	pid_t pid;              /* 0 once reaped */
	int fd;
	sd_event_source *io;
	struct ssm_lines lines;
	ssm_child_line_fn line;
	ssm_child_exit_fn done;
	void *ud;
};

static void drain(struct ssm_child *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof(buf))) > 0)
		ssm_log_lines_feed(&c->lines, buf, (size_t)n, c->line, c->ud);
	/* End of file, or broken: nothing more will come. */
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	(void)s;
	(void)fd;
	(void)revents;
	drain(ud);
	return 0;
}

static void on_exit_status(void *ud, pid_t pid, int wstatus)
{
	struct ssm_child *c = ud;
	(void)pid;

	c->pid = 0;
	/* Workers the agent left behind may keep the pipe open: take what is
	 * there now rather than wait for end of file. */
	drain(c);
	if (c->lines.len)
		ssm_log_lines_feed(&c->lines, "\n", 1, c->line, c->ud);
	c->done(c->ud, wstatus);
}

int ssm_child_start(sd_event *loop, struct reaper *r, char *const argv[], ssm_child_line_fn line,
		    ssm_child_exit_fn done, void *ud, struct ssm_child **out)
{
	struct ssm_child *c = calloc(1, sizeof(*c));
	int p[2], rc;
	pid_t pid;

	if (!c)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		rc = -errno;
		free(c);
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		free(c);
		return rc;
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	/* Set on both sides, so a signal sent right away finds the group. */
	setpgid(pid, pid);
	c->reaper = r;
	c->pid = pid;
	c->fd = p[0];
	c->line = line;
	c->done = done;
	c->ud = ud;
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	rc = reaper_watch(r, pid, on_exit_status, c);
	if (rc >= 0)
		rc = sd_event_add_io(loop, &c->io, c->fd, EPOLLIN, on_output, c);
	if (rc < 0) {
		ssm_child_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void ssm_child_signal(struct ssm_child *c, int sig)
{
	if (c && c->pid > 0 && kill(-c->pid, sig) < 0)
		kill(c->pid, sig);
}

void ssm_child_free(struct ssm_child *c)
{
	if (!c)
		return;
	if (c->pid > 0) {
		ssm_child_signal(c, SIGKILL);
		reaper_unwatch(c->reaper, c->pid);
	}
	sd_event_source_disable_unref(c->io);
	close(c->fd);
	free(c);
}
