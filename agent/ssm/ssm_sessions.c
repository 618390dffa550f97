/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_sessions.c — see ssm_sessions.h. */
#include "ssm_sessions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/log.h"

#define WORKER_COMM "ssm-session-worker"
#define MAX_WORKERS 64
/* A burst of log lines makes one scan. */
#define RESCAN_DELAY_USEC 300000

struct worker {
	pid_t pid;
	int pidfd;
	sd_event_source *io;
	struct ssm_sessions *s;
};

struct ssm_sessions {
	sd_event *loop;
	struct session_hooks hooks;
	sd_event_source *timer;
	struct worker w[MAX_WORKERS];
	size_t n;
	bool pidfd_warned;
};

size_t ssm_sessions_proc_find(const char *comm, pid_t *out, size_t max)
{
	char want[16], path[64], name[32];
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	snprintf(want, sizeof(want), "%.15s", comm);
	while (n < max && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (len <= 0)
			continue;
		name[len] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, want) == 0)
			out[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

/* The parent of pid from /proc/PID/stat, or -1.  The name field may hold
 * spaces and parentheses: the fields after it follow the last ')'. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, ppid;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

bool ssm_sessions_proc_descends(pid_t pid, pid_t ancestor)
{
	/* Bounded: a chain longer than this is not an agent's worker. */
	for (int depth = 0; depth < 64 && pid > 0; depth++) {
		if (pid == ancestor)
			return true;
		pid = parent_of(pid);
	}
	return false;
}

static void drop(struct ssm_sessions *s, size_t i)
{
	struct worker *w = &s->w[i];

	sd_event_source_disable_unref(w->io);
	close(w->pidfd);
	s->hooks.closed(s->hooks.ud);
	s->w[i] = s->w[--s->n];
	if (i < s->n)
		sd_event_source_set_userdata(s->w[i].io, &s->w[i]);
}

static int on_worker_exit(sd_event_source *src, int fd, uint32_t revents, void *ud)
{
	struct worker *w = ud;
	struct ssm_sessions *s = w->s;
	pid_t pid = w->pid;
	(void)src;
	(void)fd;
	(void)revents;

	drop(s, (size_t)(w - s->w));
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "pid", pid);
	cJSON_AddNumberToObject(f, "sessions", s->n);
	log_event(PLOG_INFO, "ssm_session_end", f, "Session Manager session ended (ssm-session-worker %d)", (int)pid);
	return 0;
}

static void track(struct ssm_sessions *s, pid_t pid)
{
	struct worker *w;
	int fd;

	for (size_t i = 0; i < s->n; i++)
		if (s->w[i].pid == pid)
			return;
	if (s->n == MAX_WORKERS)
		return;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		/* ESRCH: gone already.  ENOSYS (kernel < 5.3): its end could
		 * only be seen by polling, so it is not counted at all. */
		if (errno != ESRCH && !s->pidfd_warned) {
			s->pidfd_warned = true;
			log_warn("cannot watch Session Manager sessions (pidfd_open: %s); they do not keep the hold",
				 strerror(errno));
		}
		return;
	}
	w = &s->w[s->n];
	*w = (struct worker){ .pid = pid, .pidfd = fd, .s = s };
	if (sd_event_add_io(s->loop, &w->io, fd, EPOLLIN, on_worker_exit, w) < 0) {
		close(fd);
		return;
	}
	s->n++;
	s->hooks.opened(s->hooks.ud);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "pid", pid);
	cJSON_AddNumberToObject(f, "sessions", s->n);
	log_event(PLOG_INFO, "ssm_session_start", f, "Session Manager session started (ssm-session-worker %d)", (int)pid);
}

static int on_rescan(sd_event_source *src, uint64_t usec, void *ud)
{
	struct ssm_sessions *s = ud;
	pid_t pids[MAX_WORKERS];
	size_t n = ssm_sessions_proc_find(WORKER_COMM, pids, MAX_WORKERS);
	(void)src;
	(void)usec;

	/* Only workers under porthole: the agent porthole runs, or its orphans
	 * that porthole (PID 1 or subreaper) inherited.  On a node another
	 * agent's sessions (HyperPod's own, a second job's) are not ours. */
	for (size_t i = 0; i < n; i++)
		if (ssm_sessions_proc_descends(pids[i], getpid()))
			track(s, pids[i]);
	return 0;
}

int ssm_sessions_new(sd_event *loop, const struct session_hooks *hooks, struct ssm_sessions **out)
{
	struct ssm_sessions *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->hooks = *hooks;
	rc = sd_event_add_time_relative(loop, &s->timer, CLOCK_MONOTONIC, RESCAN_DELAY_USEC, 0, on_rescan, s);
	if (rc < 0) {
		free(s);
		return rc;
	}
	/* The timer starts armed: one scan finds workers already running. */
	*out = s;
	return 0;
}

void ssm_sessions_rescan(struct ssm_sessions *s)
{
	int on = SD_EVENT_OFF;

	if (!s)
		return;
	sd_event_source_get_enabled(s->timer, &on);
	if (on != SD_EVENT_OFF)
		return;
	sd_event_source_set_time_relative(s->timer, RESCAN_DELAY_USEC);
	sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

unsigned ssm_sessions_count(const struct ssm_sessions *s)
{
	return s ? (unsigned)s->n : 0;
}

void ssm_sessions_free(struct ssm_sessions *s)
{
	if (!s)
		return;
	while (s->n)
		drop(s, s->n - 1);
	sd_event_source_disable_unref(s->timer);
	free(s);
}
