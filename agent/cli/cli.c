/* SPDX-License-Identifier: Apache-2.0 */
/* cli.c — status, release, extend, continue, breakpoint, hold, attach. */
#include "cli.h"

#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "../daemon/control.h"
#include "../lib/duration.h"

static int connect_or_explain(const char *path)
{
	int fd = control_connect(path);

	if (fd < 0)
		fprintf(stderr,
			"porthole: error: no porthole is running here (cannot connect to %s: %s); start one with "
			"`porthole run -- CMD` or `porthole serve`, or set PORTHOLE_CONTROL_SOCKET\n",
			path, strerror(-fd));
	return fd;
}

/* One request, one reply; prints the error and returns NULL on failure. */
static cJSON *call(const char *path, cJSON *req)
{
	int fd = connect_or_explain(path), err;
	cJSON *reply;

	if (fd < 0) {
		cJSON_Delete(req);
		return NULL;
	}
	reply = control_call(fd, req, &err);
	close(fd);
	if (!reply) {
		fprintf(stderr, "porthole: error: lost the connection to porthole at %s: %s\n", path, strerror(err));
		return NULL;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok"))) {
		const cJSON *e = cJSON_GetObjectItem(reply, "error");
		fprintf(stderr, "porthole: error: %s\n", cJSON_IsString(e) ? e->valuestring : "request failed");
		cJSON_Delete(reply);
		return NULL;
	}
	return reply;
}

static cJSON *request(const char *cmd)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "cmd", cmd);
	return r;
}

static const char *str(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static void print_status(const cJSON *s)
{
	const cJSON *cmd = cJSON_GetObjectItem(s, "command"), *a, *w;
	char win[32];

	printf("state:    %s\n", str(s, "state", "?"));
	printf("job:      %s  host: %s  ip: %s\n", str(s, "job", "?"), str(s, "host", "?"), str(s, "ip", "unknown"));
	if (cJSON_GetArraySize(cmd) > 0) {
		printf("command: ");
		cJSON_ArrayForEach(a, cmd) printf(" %s", a->valuestring);
		if (cJSON_GetObjectItem(s, "command_pid"))
			printf("  (pid %d)", cJSON_GetObjectItem(s, "command_pid")->valueint);
		if (cJSON_GetObjectItem(s, "exit"))
			printf("  (%s)", str(s, "exit", ""));
		printf("\n");
	}
	duration_format((uint64_t)cJSON_GetObjectItem(s, "window_s")->valuedouble, win, sizeof(win));
	printf("hold:     %s, window %s%s\n", str(s, "hold", "?"), win,
	       cJSON_IsTrue(cJSON_GetObjectItem(s, "released")) ? " (released)" : "");
	printf("sessions: %d\n", cJSON_GetObjectItem(s, "sessions")->valueint);
	cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "waits")) {
		char rem[32];
		duration_format((uint64_t)cJSON_GetObjectItem(w, "remaining_s")->valuedouble, rem, sizeof(rem));
		printf("waiting:  %s%s%s until %s (%s left%s)\n", str(w, "kind", "?"),
		       str(w, "name", NULL) ? " " : "", str(w, "name", ""), str(w, "deadline", "?"), rem,
		       cJSON_IsTrue(cJSON_GetObjectItem(w, "held_by_sessions")) ? ", kept open by sessions" : "");
	}
}

static int parse_duration_arg(const char *what, const char *s, uint64_t *sec)
{
	if (duration_parse(s, sec) == 0)
		return 0;
	fprintf(stderr, "porthole: error: %s: \"%s\" is not a duration; expected e.g. 90s, 30m, 1h30m or plain seconds\n",
		what, s);
	return -1;
}

/* Blocking commands: the reply comes when the wait ends. */
static int wait_command(const char *path, cJSON *req, const char *what)
{
	cJSON *reply = call(path, req);

	if (!reply)
		return 1;
	fprintf(stderr, "porthole: %s ended (%s)\n", what, str(reply, "ended", "?"));
	cJSON_Delete(reply);
	return 0;
}

static int cmd_breakpoint(const char *path, int argc, char **argv)
{
	const char *name = NULL;
	uint64_t timeout = 0;
	bool have_timeout = false;
	char what[256];

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--timeout", 9) == 0) {
			const char *v = argv[i][9] == '=' ? argv[i] + 10 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || parse_duration_arg("--timeout", v, &timeout) < 0)
				return 2;
			have_timeout = true;
		} else if (!name && argv[i][0] != '-') {
			name = argv[i];
		} else {
			fprintf(stderr, "usage: porthole breakpoint [NAME] [--timeout DURATION]\n");
			return 2;
		}
	}
	cJSON *req = request("breakpoint");
	if (name)
		cJSON_AddStringToObject(req, "name", name);
	if (have_timeout)
		cJSON_AddNumberToObject(req, "timeout", (double)timeout);
	snprintf(what, sizeof(what), "breakpoint%s%s", name ? " " : "", name ? name : "");
	fprintf(stderr, "porthole: %s: paused; `porthole continue%s%s` to go on\n", what, name ? " " : "",
		name ? name : "");
	return wait_command(path, req, what);
}

static int cmd_hold(const char *path, int argc, char **argv)
{
	uint64_t window = 0;
	cJSON *req = request("hold");

	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		if (strncmp(argv[i], "--window", 8) == 0)
			v = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v || parse_duration_arg("--window", v, &window) < 0) {
			if (!v)
				fprintf(stderr, "usage: porthole hold [--window DURATION]\n");
			cJSON_Delete(req);
			return 2;
		}
		cJSON_AddNumberToObject(req, "window", (double)window);
	}
	fprintf(stderr, "porthole: holding; `porthole release` ends the hold\n");
	return wait_command(path, req, "hold");
}

static int cmd_attach(const char *path)
{
	int fd = connect_or_explain(path), err;
	cJSON *reply;
	char buf[256];

	if (fd < 0)
		return 1;
	reply = control_call(fd, request("attach"), &err);
	if (!reply || !cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok"))) {
		fprintf(stderr, "porthole: error: attach failed: %s\n", reply ? str(reply, "error", "?") : strerror(err));
		cJSON_Delete(reply);
		close(fd);
		return 1;
	}
	cJSON_Delete(reply);
	fprintf(stderr, "porthole: attached; this counts as a session and keeps the hold open until you detach "
			"(Ctrl-C)\n");
	/* Block until porthole goes away or we are interrupted. */
	while (read(fd, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
	close(fd);
	return 0;
}

int cli_main(const char *control_socket, int argc, char **argv)
{
	const char *cmd = argv[0], *path = control_socket;
	cJSON *reply;

	if (strcmp(cmd, "status") == 0) {
		bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
		if (argc > 1 + json) {
			fprintf(stderr, "usage: porthole status [--json]\n");
			return 2;
		}
		reply = call(path, request("status"));
		if (!reply)
			return 1;
		if (json) {
			char *s = cJSON_PrintUnformatted(reply);
			printf("%s\n", s);
			free(s);
		} else {
			print_status(reply);
		}
		cJSON_Delete(reply);
		return 0;
	}
	if (strcmp(cmd, "release") == 0 || strcmp(cmd, "continue") == 0) {
		cJSON *req = request(cmd);
		if (argc > 2 || (argc == 2 && strcmp(cmd, "release") == 0)) {
			fprintf(stderr, "usage: porthole release | porthole continue [NAME]\n");
			cJSON_Delete(req);
			return 2;
		}
		if (argc == 2)
			cJSON_AddStringToObject(req, "name", argv[1]);
		/* A release may end porthole, which hangs up the SSH session
		 * this runs in (sshd_drain): its success must still be its exit
		 * status, not a death by SIGHUP. */
		if (strcmp(cmd, "release") == 0)
			signal(SIGHUP, SIG_IGN);
		reply = call(path, req);
		if (!reply)
			return 1;
		const cJSON *note = cJSON_GetObjectItem(reply, "note");
		printf("porthole: %s: %d wait%s ended%s%s\n", cmd, cJSON_GetObjectItem(reply, "ended")->valueint,
		       cJSON_GetObjectItem(reply, "ended")->valueint == 1 ? "" : "s", cJSON_IsString(note) ? "; " : "",
		       cJSON_IsString(note) ? note->valuestring : "");
		cJSON_Delete(reply);
		return 0;
	}
	if (strcmp(cmd, "extend") == 0) {
		uint64_t sec;
		if (argc != 2) {
			fprintf(stderr, "usage: porthole extend DURATION\n");
			return 2;
		}
		if (parse_duration_arg("extend", argv[1], &sec) < 0)
			return 2;
		cJSON *req = request("extend");
		cJSON_AddNumberToObject(req, "duration", (double)sec);
		reply = call(path, req);
		if (!reply)
			return 1;
		print_status(reply);
		cJSON_Delete(reply);
		return 0;
	}
	if (strcmp(cmd, "breakpoint") == 0)
		return cmd_breakpoint(path, argc, argv);
	if (strcmp(cmd, "hold") == 0)
		return cmd_hold(path, argc, argv);
	if (strcmp(cmd, "attach") == 0)
		return cmd_attach(path);
	return 2;
}
