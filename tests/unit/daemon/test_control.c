/* SPDX-License-Identifier: Apache-2.0 */
/* test_control.c — the control socket: framing, errors, replies, the path.
 *
 * The server runs on an sd_event loop in this process.  Clients are plain
 * sockets driven step by step (write, run the loop, read), or control_call()
 * in a forked child while the parent runs the loop. */
#include "testutil.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "daemon/control.h"

#define MS (UINT64_C(1000))

struct srv {
	int requests;
	int closes;
	char last_cmd[64];
	struct control_conn *held; /* a request answered later */
};

static struct {
	char *dir;
	char *sock; /* dir/run/control.sock: run/ does not exist yet */
	sd_event *loop;
	struct control *ctl;
	struct srv srv;
	struct tu_log log;
} fx;

static void on_request(void *ud, struct control_conn *c, const cJSON *req)
{
	struct srv *s = ud;
	const char *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd")->valuestring;
	cJSON *r;

	s->requests++;
	snprintf(s->last_cmd, sizeof(s->last_cmd), "%s", cmd);
	if (strcmp(cmd, "hold") == 0) {
		s->held = c;
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 1);
	cJSON_AddStringToObject(r, "cmd", cmd);
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(req, "x");
	if (x)
		cJSON_AddItemToObject(r, "x", cJSON_Duplicate(x, 1));
	control_reply(c, r);
}

static void on_close(void *ud, struct control_conn *c)
{
	struct srv *s = ud;

	s->closes++;
	if (s->held == c)
		s->held = NULL;
}

static const struct control_handler handler = { .request = on_request, .on_close = on_close, .ud = &fx.srv };

static int setup(void **state)
{
	(void)state;
	tu_reset();
	log_set_level(PLOG_NONE);
	memset(&fx.srv, 0, sizeof(fx.srv));
	fx.dir = tu_tmpdir();
	fx.sock = tu_path("%s/run/control.sock", fx.dir);
	assert_int_equal(sd_event_new(&fx.loop), 0);
	tu_log_start(&fx.log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	control_free(fx.ctl);
	fx.ctl = NULL;
	sd_event_unref(fx.loop);
	tu_log_stop(&fx.log);
	tu_log_clear(&fx.log);
	tu_rm_rf(fx.dir);
	free(fx.dir);
	free(fx.sock);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static void start(void)
{
	assert_int_equal(control_new(fx.loop, fx.sock, &handler, &fx.ctl), 0);
	assert_non_null(fx.ctl);
}

static int client(void)
{
	int fd = control_connect(fx.sock);
	assert_true(fd >= 0);
	return fd;
}

static void send_text(int fd, const char *text)
{
	size_t len = strlen(text);
	ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
	assert_int_equal(n, (ssize_t)len);
}

/* One reply line as JSON, running the loop meanwhile; NULL on EOF or timeout. */
static cJSON *recv_reply(int fd, uint64_t timeout_usec)
{
	char buf[65536];
	size_t len = 0;
	uint64_t end = tu_now_usec() + timeout_usec;

	while (len + 1 < sizeof(buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1) {
			char ch;
			ssize_t n = recv(fd, &ch, 1, 0);
			if (n <= 0)
				return NULL;
			if (ch == '\n') {
				buf[len] = '\0';
				cJSON *r = cJSON_Parse(buf);
				if (!r)
					fail_msg("reply is not JSON: %s", buf);
				return r;
			}
			buf[len++] = ch;
			continue;
		}
		uint64_t now = tu_now_usec();
		if (now >= end)
			return NULL;
		sd_event_run(fx.loop, end - now < 10 * MS ? end - now : 10 * MS);
	}
	return NULL;
}

/* True if the peer closed fd (within the timeout, running the loop). */
static bool sees_eof(int fd, uint64_t timeout_usec)
{
	uint64_t end = tu_now_usec() + timeout_usec;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1) {
			char ch;
			ssize_t n = recv(fd, &ch, 1, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				return true;
			if (n > 0)
				continue;
		}
		uint64_t now = tu_now_usec();
		if (now >= end)
			return false;
		sd_event_run(fx.loop, end - now < 10 * MS ? end - now : 10 * MS);
	}
}

static bool reply_ok(const cJSON *r)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
}

static const char *reply_str(const cJSON *r, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- tests --------------------------------------------------------------- */

static void test_request_reply(void **state)
{
	(void)state;
	start();
	int fd = client();
	send_text(fd, "{\"cmd\": \"status\", \"x\": [1, \"two\"]}\n");
	cJSON *r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	assert_true(reply_ok(r));
	assert_string_equal(reply_str(r, "cmd"), "status");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "x")), 2);
	cJSON_Delete(r);
	assert_int_equal(fx.srv.requests, 1);
	close(fd);
	assert_true(tu_run_loop_until(fx.loop, &fx.srv.closes, 1, 2000 * MS));
}

static void test_malformed_lines(void **state)
{
	static const char *const bad[] = {
		"not json\n",
		"\n",
		"[1, 2]\n",
		"\"status\"\n",
		"{\"nocmd\": 1}\n",
		"{\"cmd\": 5}\n",
		"{\"cmd\": null}\n",
		"{\"cmd\": \"status\"\n",
	};
	(void)state;

	start();
	int fd = client();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_text(fd, bad[i]);
		cJSON *r = recv_reply(fd, 2000 * MS);
		TU_CHECK(r != NULL, "no reply to %s", bad[i]);
		if (!r)
			break;
		TU_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")), "ok is not false for %s", bad[i]);
		const char *err = reply_str(r, "error");
		TU_CHECK(err && strstr(err, "JSON object") && strstr(err, "cmd"), "error for %s: %s", bad[i],
			 tu_str(err));
		cJSON_Delete(r);
	}
	TU_CHECK(fx.srv.requests == 0, "the handler saw %d malformed requests", fx.srv.requests);
	/* The connection survives them. */
	send_text(fd, "{\"cmd\": \"after\"}\n");
	cJSON *r = recv_reply(fd, 2000 * MS);
	TU_CHECK(r && reply_ok(r) && tu_streq(reply_str(r, "cmd"), "after"), "no reply after the bad lines");
	cJSON_Delete(r);
	TU_CHECK(fx.srv.closes == 0, "connection closed");
	close(fd);
	TU_END();
}

/* "One JSON object per line": text after the object makes the line malformed
 * too, rather than being ignored (a second object on the line would be lost). */
static void test_trailing_garbage_rejected(void **state)
{
	static const char *const bad[] = {
		"{\"cmd\": \"status\"}}\n",
		"{\"cmd\": \"status\"} trailing words\n",
		"{\"cmd\": \"a\"}{\"cmd\": \"b\"}\n",
	};
	(void)state;

	start();
	int fd = client();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_text(fd, bad[i]);
		cJSON *r = recv_reply(fd, 2000 * MS);
		TU_CHECK(r != NULL, "no reply to %s", bad[i]);
		TU_CHECK(!r || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")),
			 "line %s was accepted as a request for \"%s\"", bad[i], fx.srv.last_cmd);
		cJSON_Delete(r);
	}
	TU_CHECK(fx.srv.requests == 0, "the handler saw %d malformed requests", fx.srv.requests);
	close(fd);
	TU_END();
}

static void test_pipelined_and_split(void **state)
{
	(void)state;
	start();
	int fd = client();

	/* Two requests in one write: two replies, in order. */
	send_text(fd, "{\"cmd\": \"a\"}\n{\"cmd\": \"b\"}\n");
	cJSON *r1 = recv_reply(fd, 2000 * MS), *r2 = recv_reply(fd, 2000 * MS);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_string_equal(reply_str(r1, "cmd"), "a");
	assert_string_equal(reply_str(r2, "cmd"), "b");
	cJSON_Delete(r1);
	cJSON_Delete(r2);

	/* One request in pieces: handled once the line is complete. */
	send_text(fd, "{\"cmd\":");
	tu_run_loop_for(fx.loop, 30 * MS);
	assert_int_equal(fx.srv.requests, 2);
	send_text(fd, " \"c\", \"x\": \"a\\nb\"}");
	tu_run_loop_for(fx.loop, 30 * MS);
	assert_int_equal(fx.srv.requests, 2);
	send_text(fd, "\n{\"cmd\": \"d\"}\n");
	cJSON *r3 = recv_reply(fd, 2000 * MS), *r4 = recv_reply(fd, 2000 * MS);
	assert_non_null(r3);
	assert_non_null(r4);
	assert_string_equal(reply_str(r3, "cmd"), "c");
	assert_string_equal(reply_str(r3, "x"), "a\nb");
	assert_string_equal(reply_str(r4, "cmd"), "d");
	cJSON_Delete(r3);
	cJSON_Delete(r4);
	close(fd);
}

static void test_deferred_reply_and_close(void **state)
{
	(void)state;
	start();
	int fd = client();
	send_text(fd, "{\"cmd\": \"hold\"}\n");
	assert_true(tu_run_loop_until(fx.loop, &fx.srv.requests, 1, 2000 * MS));
	assert_non_null(fx.srv.held);
	assert_null(recv_reply(fd, 50 * MS)); /* nothing yet */

	control_conn_set_data(fx.srv.held, &fx);
	assert_ptr_equal(control_conn_get_data(fx.srv.held), &fx);
	control_reply_error(fx.srv.held, "continued after %d %s", 3, "things");
	cJSON *r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	assert_string_equal(reply_str(r, "error"), "continued after 3 things");
	cJSON_Delete(r);

	/* The client goes away: on_close, so the handler can forget it. */
	close(fd);
	assert_true(tu_run_loop_until(fx.loop, &fx.srv.closes, 1, 2000 * MS));
	assert_null(fx.srv.held);
}

static void test_addr_in_use(void **state)
{
	struct control *second = NULL;
	struct srv other = { 0 };
	struct control_handler h2 = { .request = on_request, .on_close = on_close, .ud = &other };
	(void)state;

	start();
	assert_int_equal(control_new(fx.loop, fx.sock, &h2, &second), -EADDRINUSE);
	assert_null(second);

	/* The first one is untouched: its socket is still there and answers. */
	struct stat st;
	assert_int_equal(stat(fx.sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	int fd = client();
	send_text(fd, "{\"cmd\": \"still-here\"}\n");
	cJSON *r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	assert_string_equal(reply_str(r, "cmd"), "still-here");
	cJSON_Delete(r);
	close(fd);
	assert_int_equal(other.requests, 0);
}

static void test_stale_socket_replaced(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;
	(void)state;

	/* A socket file nobody listens on, as a porthole that died leaves it. */
	tu_mkdir_p(fx.dir);
	char *run = tu_path("%s/run", fx.dir);
	tu_mkdir_p(run);
	free(run);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	strcpy(sa.sun_path, fx.sock);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(control_connect(fx.sock), -ECONNREFUSED);

	start();
	int fd = client();
	send_text(fd, "{\"cmd\": \"fresh\"}\n");
	cJSON *r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	assert_string_equal(reply_str(r, "cmd"), "fresh");
	cJSON_Delete(r);
	close(fd);
}

/* Only a socket is fair game: a file at the path is somebody's data. */
static void test_regular_file_not_removed(void **state)
{
	struct control *ctl = NULL;
	(void)state;

	tu_write_file(fx.sock, "precious\n");
	int rc = control_new(fx.loop, fx.sock, &handler, &ctl);
	char *content = tu_read_file(fx.sock);
	if (rc == 0)
		control_free(ctl);
	bool intact = content && strcmp(content, "precious\n") == 0;
	free(content);
	if (!intact)
		print_error("control_new(%s) on a regular file returned %d and removed the file\n", fx.sock, rc);
	assert_true(intact);
	assert_true(rc < 0);
}

static void test_path_handling(void **state)
{
	struct stat st;
	char *parent = tu_path("%s/run", fx.dir);
	char longpath[200];
	struct control *ctl = NULL;
	(void)state;

	/* The missing parent directory is created 0700; the socket is ours only. */
	start();
	assert_int_equal(stat(parent, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(fx.sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0077, 0);

	/* control_free removes the socket. */
	control_free(fx.ctl);
	fx.ctl = NULL;
	assert_int_equal(access(fx.sock, F_OK), -1);
	assert_int_equal(control_connect(fx.sock), -ENOENT);

	/* Paths too long for sun_path. */
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(control_connect(longpath), -ENAMETOOLONG);
	assert_int_equal(control_new(fx.loop, longpath, &handler, &ctl), -ENAMETOOLONG);
	assert_null(ctl);
	free(parent);
}

static void test_overlong_line_dropped(void **state)
{
	char chunk[8192];
	size_t sent = 0;
	(void)state;

	start();
	int fd = client();
	memset(chunk, 'x', sizeof(chunk));
	/* Over 64 KiB without a newline: the client is dropped. */
	while (sent < 80 * 1024) {
		ssize_t n = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break; /* dropped already */
		sd_event_run(fx.loop, 1 * MS);
	}
	assert_true(sees_eof(fd, 2000 * MS));
	assert_int_equal(fx.srv.closes, 1);
	assert_int_equal(fx.srv.requests, 0);
	assert_non_null(tu_log_find(&fx.log, "line over"));
	close(fd);

	/* Others are still served. */
	fd = client();
	send_text(fd, "{\"cmd\": \"next\"}\n");
	cJSON *r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	cJSON_Delete(r);
	close(fd);
}

/* A line just under the limit is fine. */
static void test_long_line_accepted(void **state)
{
	size_t n = 60000;
	char *line = malloc(n + 64);
	(void)state;

	assert_non_null(line);
	start();
	int fd = client();
	strcpy(line, "{\"cmd\": \"big\", \"x\": \"");
	size_t off = strlen(line);
	memset(line + off, 'y', n);
	strcpy(line + off + n, "\"}\n");
	size_t len = strlen(line), sent = 0;
	cJSON *r = NULL;
	while (sent < len) {
		ssize_t k = send(fd, line + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0)
			sent += (size_t)k;
		else if (k < 0 && errno != EAGAIN)
			break;
		sd_event_run(fx.loop, 1 * MS);
	}
	free(line);
	assert_int_equal(sent, len);
	r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	assert_string_equal(reply_str(r, "cmd"), "big");
	assert_int_equal(strlen(reply_str(r, "x")), n);
	cJSON_Delete(r);
	close(fd);
}

/* A client that never reads its replies is dropped; porthole never blocks. */
static void test_slow_reader_dropped(void **state)
{
	char req[16384];
	uint64_t end;
	size_t pending = 0, off = 0;
	(void)state;

	start();
	int fd = client();
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	snprintf(req, sizeof(req), "{\"cmd\": \"echo\", \"x\": \"");
	off = strlen(req);
	memset(req + off, 'z', 16000 - off);
	strcpy(req + 16000, "\"}\n");
	end = tu_now_usec() + 5000 * MS;
	while (fx.srv.closes == 0 && tu_now_usec() < end) {
		size_t len = strlen(req);
		ssize_t k = send(fd, req + pending, len - pending, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0)
			pending = (pending + (size_t)k) % len;
		else if (k < 0 && errno != EAGAIN)
			break;
		sd_event_run(fx.loop, 1 * MS);
	}
	tu_run_loop_until(fx.loop, &fx.srv.closes, 1, 2000 * MS);
	if (fx.srv.closes != 1)
		print_error("after %d requests of 16 kB whose replies were never read: client still connected\n",
			    fx.srv.requests);
	assert_int_equal(fx.srv.closes, 1);
	assert_true(fx.srv.requests > 1);
	close(fd);
}

static void test_connection_limit(void **state)
{
	enum { N = 70 };
	int fds[N];
	int dropped = 0;
	(void)state;

	start();
	/* One at a time, letting the server accept each (the backlog is small
	 * and connect() would block on a full one). */
	for (int i = 0; i < N; i++) {
		fds[i] = client();
		tu_run_loop_for(fx.loop, 2 * MS);
	}
	for (int i = 0; i < N; i++)
		dropped += sees_eof(fds[i], 0);
	assert_int_equal(dropped, N - 64);
	for (int i = 0; i < 64; i++)
		assert_false(sees_eof(fds[i], 0));
	/* The ones kept are served. */
	send_text(fds[0], "{\"cmd\": \"first\"}\n");
	cJSON *r = recv_reply(fds[0], 2000 * MS);
	assert_non_null(r);
	cJSON_Delete(r);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	tu_run_loop_for(fx.loop, 50 * MS);

	/* Once they are gone there is room again. */
	int fd = client();
	send_text(fd, "{\"cmd\": \"again\"}\n");
	r = recv_reply(fd, 2000 * MS);
	assert_non_null(r);
	cJSON_Delete(r);
	close(fd);
}

/* Run the loop until the child exits; its exit status. */
static int wait_child(pid_t pid, uint64_t timeout_usec)
{
	uint64_t end = tu_now_usec() + timeout_usec;
	int st = 0;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		assert_int_equal(r, 0);
		if (tu_now_usec() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("client child timed out");
		}
		sd_event_run(fx.loop, 10 * MS);
	}
}

static void test_control_call(void **state)
{
	(void)state;
	start();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = -1, code = 0;
		int fd = control_connect(fx.sock);
		if (fd < 0)
			_exit(10);
		cJSON *req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "cmd", "echo");
		cJSON_AddNumberToObject(req, "x", 42);
		cJSON *r = control_call(fd, req, &err);
		if (!r || err != 0)
			code = 11;
		else if (!reply_ok(r) || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "x")) ||
			 cJSON_GetObjectItemCaseSensitive(r, "x")->valuedouble != 42)
			code = 12;
		cJSON_Delete(r);
		/* A second call on the same connection. */
		req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "cmd", "again");
		r = control_call(fd, req, &err);
		if (!code && (!r || !tu_streq(reply_str(r, "cmd"), "again")))
			code = 13;
		cJSON_Delete(r);
		close(fd);
		_exit(code);
	}
	int st = wait_child(pid, 5000 * 1000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(fx.srv.requests, 2);
}

static void test_control_call_server_gone(void **state)
{
	(void)state;
	start();
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = 0;
		int fd = control_connect(fx.sock);
		if (fd < 0)
			_exit(10);
		cJSON *req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "cmd", "hold");
		cJSON *r = control_call(fd, req, &err);
		int code = r ? 11 : err == ECONNRESET ? 0 : 12;
		cJSON_Delete(r);
		close(fd);
		_exit(code);
	}
	assert_true(tu_run_loop_until(fx.loop, &fx.srv.requests, 1, 5000 * MS));
	assert_non_null(fx.srv.held);
	control_free(fx.ctl); /* porthole exits without answering */
	fx.ctl = NULL;
	assert_int_equal(fx.srv.closes, 1);
	assert_null(fx.srv.held);
	int st = wait_child(pid, 5000 * 1000);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_garbage_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_reply_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regular_file_not_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_handling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong_line_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_call_server_gone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
