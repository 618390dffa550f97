/* SPDX-License-Identifier: Apache-2.0 */
/* connproc.c — see connproc.h. */
#include "connproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "session.h"

#include "../lib/clock.h"
#include "../lib/report.h"

/* The descriptors the fresh image finds. */
#define FD_SOCKET 3
#define FD_REPORT 4
#define FD_PARAMS 5
#define MAX_PARAMS (8u << 20)  /* inline authorized keys are bounded by the config's 1 MiB files */
#define MAX_ENV (64u << 20)

/* What of PID 1's environment the connection process starts with: finding
 * libraries and programs, the locale, the sanitizers' options.  Nothing
 * else (AWS_*, tokens, the training's own variables) until the login. */
static bool env_allowed(const char *entry)
{
	static const char *const names[] = { "PATH", "LD_LIBRARY_PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
					     "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH" };
	size_t n = strcspn(entry, "=");

	if (!entry[n])
		return false;
	if (strncmp(entry, "LC_", 3) == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(entry, names[i], n) == 0)
			return true;
	return false;
}

/* ---- the parameters, as JSON in a sealed memfd ---------------------------------- */

#define STR_FIELDS(X) \
	X(listen) X(host_key) X(authorized_keys) X(authorized_keys_file) X(authorized_keys_s3) X(sftp_server) \
	X(per_source_penalty_exempt) X(runtime_dir) X(inline_keys_name) X(code_dir) X(s3_keys_file) X(cluster_dir) \
	X(cluster_keys_file) X(cluster_pending_file) X(cluster_trust_file) X(cluster_hosts_file)
#define NUM_FIELDS(X) \
	X(mode) X(port) X(login_grace) X(max_auth_tries) X(max_startups.start) X(max_startups.rate) \
	X(max_startups.full) X(per_source_max_startups) X(per_source_netblock.v4) X(per_source_netblock.v6) \
	X(idle_timeout) X(keepalive) X(gateway_ports) X(agent_forwarding)

static cJSON *encode(const struct session_params *sp)
{
	const struct ssh_settings *cfg = sp->cfg;
	cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "cfg");

#define X(f) \
	if (cfg->f) \
		cJSON_AddStringToObject(c, #f, cfg->f);
	STR_FIELDS(X)
#undef X
#define X(f) cJSON_AddNumberToObject(c, #f, (double)cfg->f);
	NUM_FIELDS(X)
#undef X
	cJSON_AddStringToObject(o, "host_key", sp->host_key);
	cJSON_AddStringToObject(o, "peer", sp->peer);
	cJSON_AddNumberToObject(o, "peer_port", sp->peer_port);
	cJSON_AddStringToObject(o, "local", sp->local);
	cJSON_AddNumberToObject(o, "local_port", sp->local_port);
	cJSON_AddNumberToObject(o, "penalty_usec", (double)sp->penalty_usec);
	return o;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e18 ? v->valuedouble : 0;
}

/* Fills cfg and sp from o (strings copied); false if it is not complete. */
static bool decode(const cJSON *o, struct ssh_settings *cfg, struct session_params *sp, char **host_key)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cfg");
	const char *hk = str_of(o, "host_key"), *peer = str_of(o, "peer"), *local = str_of(o, "local");

	if (!cJSON_IsObject(c) || !hk || !peer || !local)
		return false;
#define X(f) \
	if (str_of(c, #f) && !(cfg->f = strdup(str_of(c, #f)))) \
		return false;
	STR_FIELDS(X)
#undef X
#define X(f) cfg->f = (__typeof__(cfg->f))num_of(c, #f);
	NUM_FIELDS(X)
#undef X
	if (!(*host_key = strdup(hk)))
		return false;
	sp->cfg = cfg;
	sp->host_key = *host_key;
	snprintf(sp->peer, sizeof(sp->peer), "%s", peer);
	snprintf(sp->local, sizeof(sp->local), "%s", local);
	sp->peer_port = (unsigned)num_of(o, "peer_port");
	sp->local_port = (unsigned)num_of(o, "local_port");
	sp->penalty_usec = (uint64_t)num_of(o, "penalty_usec");
	return true;
}

static void free_cfg(struct ssh_settings *cfg)
{
#define X(f) free(cfg->f);
	STR_FIELDS(X)
#undef X
}

/* A sealed memfd holding n bytes of data, at offset 0: or -errno. */
static int sealed(const char *name, const void *data, size_t n)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	const char *p = data;
	size_t left = n;

	if (fd < 0)
		return -errno;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return -e;
		}
		p += w;
		left -= (size_t)w;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* All of fd (at most max bytes), NUL-terminated; NULL on failure. */
static char *slurp_fd(int fd, size_t max, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > max)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* ---- PID 1 ------------------------------------------------------------------------- */

/* In the forked child: nothing returns. */
static void child(const struct session_params *sp, pid_t parent, int fd, int report, int params)
{
	extern char **environ;
	char *argv[] = { "porthole", "ssh-connection", NULL };
	char **envp;
	size_t n = 0, k = 0;
	int hi[3];

	/* Die with PID 1: a connection process cannot work without it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Above every fixed number first, so that no dup2 overwrites another. */
	hi[0] = fcntl(fd, F_DUPFD, 10);
	hi[1] = fcntl(report, F_DUPFD, 10);
	hi[2] = fcntl(params, F_DUPFD, 10);
	if (hi[0] < 0 || hi[1] < 0 || hi[2] < 0 || dup2(hi[0], FD_SOCKET) < 0 || dup2(hi[1], FD_REPORT) < 0 ||
	    dup2(hi[2], FD_PARAMS) < 0)
		_exit(1);
	close_range(FD_PARAMS + 1, ~0U, 0);
	/* The signal mask stays as PID 1 has it (exec keeps it): the
	 * connection's loop reads SIGTERM and SIGCHLD through sd-event. */
	while (environ[n])
		n++;
	envp = calloc(n + 1, sizeof(*envp));
	if (envp) {
		for (size_t i = 0; i < n; i++)
			if (env_allowed(environ[i]))
				envp[k++] = environ[i];
		execve("/proc/self/exe", argv, envp);
	}
	/* No fresh image (no /proc?): serve it from this fork, as before. */
	{
		struct session_params copy = *sp;
		int e = errno;
		copy.report_fd = FD_REPORT;
		report_init(FD_REPORT);
		report_log(PLOG_WARN, NULL, NULL, "ssh %s:%u: cannot exec /proc/self/exe for the connection (%s); "
			   "serving it from a fork of porthole", sp->peer, sp->peer_port, strerror(e));
		_exit(session_main(FD_SOCKET, &copy));
	}
}

int connproc_start(const struct session_params *sp, int fd, int report, pid_t *pid)
{
	cJSON *o = encode(sp);
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	int params = text ? sealed("porthole-connection", text, strlen(text)) : -ENOMEM;
	pid_t parent = getpid();
	int rc = 0;

	cJSON_Delete(o);
	if (text) {
		/* It holds the host key: not left in PID 1's heap. */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (params < 0) {
		close(fd);
		close(report);
		return params;
	}
	*pid = fork();
	if (*pid == 0)
		child(sp, parent, fd, report, params);
	if (*pid < 0)
		rc = -errno;
	close(params);
	close(fd);
	close(report);
	return rc;
}

int connproc_send_env(int report)
{
	extern char **environ;
	size_t total = 0;
	char *blob, *p;
	int fd, rc = 0;

	for (char **e = environ; *e; e++)
		total += strlen(*e) + 1;
	blob = p = malloc(total ? total : 1);
	if (!blob)
		return -ENOMEM;
	for (char **e = environ; *e; e++) {
		size_t n = strlen(*e) + 1;
		memcpy(p, *e, n);
		p += n;
	}
	fd = sealed("porthole-environment", blob, total);
	free(blob);
	if (fd < 0)
		return fd;

	char byte = 'E';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(report, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* ---- the connection process --------------------------------------------------------- */

static int receive_fd(int report, uint64_t timeout_usec)
{
	uint64_t until = clock_mono_usec() + timeout_usec;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;

	for (;;) {
		uint64_t now = clock_mono_usec();
		struct pollfd p = { .fd = report, .events = POLLIN };
		if (now >= until)
			return -ETIME;
		int r = poll(&p, 1, (int)((until - now) / 1000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIME;
		char byte;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(report, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			return fd;
		}
	}
}

int connproc_take_env(int report, uint64_t timeout_usec)
{
	int fd = receive_fd(report, timeout_usec);
	size_t len = 0;
	char *blob;

	/* Logged in: a core file or a debugger may see this process now. */
	prctl(PR_SET_DUMPABLE, 1);
	if (fd < 0)
		return fd;
	blob = slurp_fd(fd, MAX_ENV, &len);
	close(fd);
	if (!blob)
		return -ENOMEM;
	clearenv();
	for (size_t off = 0; off < len;) {
		char *entry = blob + off;
		size_t n = strlen(entry);
		/* putenv keeps the string: the blob lives as long as the process. */
		if (n && strchr(entry, '='))
			putenv(entry);
		off += n + 1;
	}
	return 0;
}

int connproc_main(int argc, char **argv)
{
	struct ssh_settings cfg = { 0 };
	struct session_params sp = { 0 };
	char *text, *host_key = NULL;
	size_t len = 0;
	cJSON *o;
	int rc;
	(void)argc;
	(void)argv;

	report_init(FD_REPORT);
	/* Not dumpable before the login: no core file holding the host key,
	 * and no ptrace by other processes of the user. */
	prctl(PR_SET_DUMPABLE, 0);
	/* As root, exec can give this process nothing more, and a session
	 * loses nothing by it; for another user it would break sudo in the
	 * sessions, which inherit it, so it is not set then. */
	if (geteuid() == 0)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	text = slurp_fd(FD_PARAMS, MAX_PARAMS, &len);
	close(FD_PARAMS);
	o = text ? cJSON_Parse(text) : NULL;
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	if (!o || !decode(o, &cfg, &sp, &host_key)) {
		report_log(PLOG_ERROR, NULL, NULL, "ssh: the connection process got no usable parameters from porthole");
		cJSON_Delete(o);
		free_cfg(&cfg);
		free(host_key);
		close(FD_SOCKET);
		return 1;
	}
	cJSON_Delete(o);
	sp.report_fd = FD_REPORT;
	sp.fresh = true;
	rc = session_main(FD_SOCKET, &sp);
	free_cfg(&cfg);
	if (host_key) {
		explicit_bzero(host_key, strlen(host_key));
		free(host_key);
	}
	return rc;
}
