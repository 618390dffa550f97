/* SPDX-License-Identifier: Apache-2.0 */
/* sigfwd.c — see sigfwd.h. */
#include "sigfwd.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct sigfwd {
	int fd;
	sd_event_source *io;
	sigfwd_fn fn;
	void *ud;
};

void sigfwd_fill(sigset_t *set)
{
	for (int sig = 1; sig <= 31; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			sigaddset(set, sig);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct sigfwd *f = ud;
	struct signalfd_siginfo si[8];
	(void)s;
	(void)revents;

	for (;;) {
		ssize_t n = read(fd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			f->fn(f->ud, &si[i]);
	}
}

int sigfwd_new(sd_event *loop, sigfwd_fn fn, void *ud, struct sigfwd **ret)
{
	struct sigfwd *f;
	sigset_t set;
	int rc;

	*ret = NULL;
	sigemptyset(&set);
	sigfwd_fill(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->ud = ud;
	f->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (f->fd < 0) {
		rc = -errno;
		free(f);
		return rc;
	}
	rc = sd_event_add_io(loop, &f->io, f->fd, EPOLLIN, on_readable, f);
	if (rc < 0) {
		sigfwd_free(f);
		return rc;
	}
	*ret = f;
	return 0;
}

void sigfwd_free(struct sigfwd *f)
{
	if (!f)
		return;
	sd_event_source_disable_unref(f->io);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

bool sigfwd_own(const struct signalfd_siginfo *si)
{
	return si->ssi_code == SI_USER && (pid_t)si->ssi_pid == getpid();
}

static int send_group(pid_t pgid, int sig)
{
	if (kill(-pgid, sig) == 0)
		return 0;
	/* Not a group (yet): the process itself. */
	if (errno == ESRCH && kill(pgid, sig) == 0)
		return 0;
	return -errno;
}

int sigfwd_deliver(pid_t pgid, int sig)
{
	int rc;

	if (pgid <= 0)
		return -ESRCH;
	switch (sig) {
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		/* A stopped porthole could neither serve SSH nor keep its
		 * timers; the command stops instead, as dumb-init does. */
		return send_group(pgid, SIGSTOP);
	case SIGTERM:
	case SIGINT:
	case SIGHUP:
	case SIGQUIT:
		rc = send_group(pgid, sig);
		/* A stopped process acts on these only once continued. */
		if (rc == 0)
			rc = send_group(pgid, SIGCONT);
		return rc;
	default:
		return send_group(pgid, sig);
	}
}
