/* SPDX-License-Identifier: Apache-2.0 */
/* test_sftp_dispatch.c — requests encoded with sftp_wire fed to the
 * dispatcher, replies read back, against a temporary directory: the INIT
 * rules, a file written, read and closed, errors as clients see them,
 * unknown request types and extensions, read-only mode, a listing. */
#include "testutil.h"

#include "sftp/sftp_conn.h"
#include "sftp/sftp_dispatch.h"
#include "sftp/sftp_wire.h"

struct fixture {
	char *dir;
	int saved_cwd;
	struct sftp_buf out;
	struct sftp_conn *conn;
	uint8_t req_data[4096];
	struct sftp_buf req;
	uint32_t next_id;
};

/* A reply taken off the queue, with a reader positioned after its id (after
 * the type for VERSION). */
struct reply {
	uint8_t type;
	uint32_t id;
	struct sftp_reader r;
	uint8_t body[SFTP_REPLY_ROOM];
};

static struct fixture *fixture_new(bool read_only)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sftp_options opt = { .read_only = read_only };

	assert_non_null(f);
	f->dir = tu_tmpdir();
	f->saved_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->saved_cwd >= 0);
	assert_int_equal(chdir(f->dir), 0); /* relative paths resolve here */
	f->out.cap = 2 * SFTP_REPLY_ROOM;
	f->out.data = malloc(f->out.cap);
	assert_non_null(f->out.data);
	assert_int_equal(sftp_conn_new(&opt, &f->out, &f->conn), 0);
	f->req.data = f->req_data;
	f->req.cap = sizeof(f->req_data);
	f->next_id = 1;
	return f;
}

static void fixture_free(struct fixture *f)
{
	sftp_conn_free(f->conn);
	free(f->out.data);
	assert_int_equal(fchdir(f->saved_cwd), 0);
	close(f->saved_cwd);
	tu_rm_rf(f->dir);
	free(f->dir);
	free(f);
}

/* Start a request of type; returns its id (requests after INIT carry one). */
static uint32_t req_begin(struct fixture *f, uint8_t type)
{
	uint32_t id = f->next_id++;

	f->req.head = f->req.tail = 0;
	sftp_wire_begin(&f->req, type);
	if (type != SSH_FXP_INIT)
		sftp_wire_put_u32(&f->req, id);
	return id;
}

/* Hand the request to the dispatcher; its return value. */
static int req_send(struct fixture *f)
{
	assert_int_equal(sftp_wire_end(&f->req), 0);
	return sftp_dispatch_packet(f->conn, f->req.data + 4, (uint32_t)(f->req.tail - 4));
}

/* The one reply the last request produced. */
static void take_reply(struct fixture *f, struct reply *rep)
{
	struct sftp_reader r;
	uint32_t len;

	sftp_wire_reader_init(&r, f->out.data + f->out.head, f->out.tail - f->out.head);
	len = sftp_wire_get_u32(&r);
	assert_false(r.bad);
	assert_int_equal(len + 4, f->out.tail - f->out.head); /* exactly one reply */
	assert_true(len <= sizeof(rep->body));
	memcpy(rep->body, f->out.data + f->out.head + 4, len);
	f->out.head = f->out.tail = 0;
	sftp_wire_reader_init(&rep->r, rep->body, len);
	rep->type = sftp_wire_get_u8(&rep->r);
	rep->id = rep->type == SSH_FXP_VERSION ? 0 : sftp_wire_get_u32(&rep->r);
}

/* The status code of a STATUS reply to request id. */
static uint32_t status_of(struct fixture *f, uint32_t id)
{
	struct reply rep;
	uint32_t code;

	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_STATUS);
	assert_int_equal(rep.id, id);
	code = sftp_wire_get_u32(&rep.r);
	assert_false(rep.r.bad);
	return code;
}

static void send_init(struct fixture *f)
{
	struct reply rep;

	req_begin(f, SSH_FXP_INIT);
	sftp_wire_put_u32(&f->req, 3);
	assert_int_equal(req_send(f), 0);
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_VERSION);
}

/* OPEN path with pflags; the handle string (8 bytes) into handle. */
static void open_file(struct fixture *f, const char *path, uint32_t pflags, uint8_t handle[SFTP_HANDLE_LEN])
{
	struct reply rep;
	uint32_t id = req_begin(f, SSH_FXP_OPEN), len;
	const uint8_t *h;

	sftp_wire_put_cstring(&f->req, path);
	sftp_wire_put_u32(&f->req, pflags);
	sftp_wire_put_u32(&f->req, 0); /* no attributes */
	assert_int_equal(req_send(f), 0);
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_HANDLE);
	assert_int_equal(rep.id, id);
	h = sftp_wire_get_string(&rep.r, &len);
	assert_non_null(h);
	assert_int_equal(len, SFTP_HANDLE_LEN);
	memcpy(handle, h, SFTP_HANDLE_LEN);
}

/* A request whose only field is one string. */
static uint32_t send_string_req(struct fixture *f, uint8_t type, const void *s, size_t len)
{
	uint32_t id = req_begin(f, type);

	sftp_wire_put_string(&f->req, s, len);
	assert_int_equal(req_send(f), 0);
	return id;
}

/* ---- INIT ---------------------------------------------------------------- */

static void test_init_and_version(void **state)
{
	struct fixture *f = fixture_new(false);
	struct reply rep;
	bool posix_rename = false, limits = false, copy_data = false;
	unsigned n = 0;
	(void)state;

	req_begin(f, SSH_FXP_INIT);
	sftp_wire_put_u32(&f->req, 6); /* a newer client still gets v3 */
	assert_int_equal(req_send(f), 0);
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_VERSION);
	assert_int_equal(sftp_wire_get_u32(&rep.r), SFTP_PROTOCOL_VERSION);
	while (sftp_wire_reader_left(&rep.r) > 0) {
		char *name = sftp_wire_get_cstring(&rep.r), *version = sftp_wire_get_cstring(&rep.r);

		assert_non_null(name);
		assert_non_null(version);
		posix_rename |= strcmp(name, "posix-rename@openssh.com") == 0 && strcmp(version, "1") == 0;
		limits |= strcmp(name, "limits@openssh.com") == 0 && strcmp(version, "1") == 0;
		copy_data |= strcmp(name, "copy-data") == 0 && strcmp(version, "1") == 0;
		n++;
		free(name);
		free(version);
	}
	assert_false(rep.r.bad);
	assert_true(posix_rename && limits && copy_data);
	assert_int_equal(n, 11);

	/* A second INIT breaks the protocol: no reply, the session ends. */
	req_begin(f, SSH_FXP_INIT);
	sftp_wire_put_u32(&f->req, 3);
	assert_int_equal(req_send(f), -EPROTO);
	assert_int_equal(f->out.tail, 0);
	fixture_free(f);
}

static void test_request_before_init(void **state)
{
	struct fixture *f = fixture_new(false);
	(void)state;

	/* Anything but INIT first breaks the protocol: no reply, the session ends. */
	req_begin(f, SSH_FXP_STAT);
	sftp_wire_put_cstring(&f->req, ".");
	assert_int_equal(req_send(f), -EPROTO);
	assert_int_equal(f->out.tail, 0);
	fixture_free(f);
}

/* ---- a file: open, write, read, close -------------------------------------- */

static void test_open_write_read_close(void **state)
{
	struct fixture *f = fixture_new(false);
	uint8_t h[SFTP_HANDLE_LEN];
	struct reply rep;
	uint32_t id, len;
	const uint8_t *data;
	char *content;
	(void)state;

	send_init(f);
	open_file(f, "hello.txt", SSH_FXF_READ | SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC, h);

	id = req_begin(f, SSH_FXP_WRITE);
	sftp_wire_put_string(&f->req, h, sizeof(h));
	sftp_wire_put_u64(&f->req, 0);
	sftp_wire_put_cstring(&f->req, "hello, world\n");
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_OK);

	/* Read back from offset 7, asking for more than there is. */
	id = req_begin(f, SSH_FXP_READ);
	sftp_wire_put_string(&f->req, h, sizeof(h));
	sftp_wire_put_u64(&f->req, 7);
	sftp_wire_put_u32(&f->req, 4096);
	assert_int_equal(req_send(f), 0);
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_DATA);
	assert_int_equal(rep.id, id);
	data = sftp_wire_get_string(&rep.r, &len);
	assert_non_null(data);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "world\n", 6);

	/* At the end of the file: EOF. */
	id = req_begin(f, SSH_FXP_READ);
	sftp_wire_put_string(&f->req, h, sizeof(h));
	sftp_wire_put_u64(&f->req, 13);
	sftp_wire_put_u32(&f->req, 10);
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_EOF);

	/* FSTAT sees the size. */
	id = send_string_req(f, SSH_FXP_FSTAT, h, sizeof(h));
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_ATTRS);
	assert_int_equal(rep.id, id);
	{
		struct sftp_attrs a;

		assert_true(sftp_wire_get_attrs(&rep.r, &a));
		assert_true(a.flags & SSH_FILEXFER_ATTR_SIZE);
		assert_int_equal(a.size, 13);
	}

	id = send_string_req(f, SSH_FXP_CLOSE, h, sizeof(h));
	assert_int_equal(status_of(f, id), SSH_FX_OK);
	content = tu_read_file("hello.txt");
	assert_string_equal(content, "hello, world\n");
	free(content);

	/* The handle is dead now: FAILURE, for CLOSE and READ alike. */
	id = send_string_req(f, SSH_FXP_CLOSE, h, sizeof(h));
	assert_int_equal(status_of(f, id), SSH_FX_FAILURE);
	id = req_begin(f, SSH_FXP_READ);
	sftp_wire_put_string(&f->req, h, sizeof(h));
	sftp_wire_put_u64(&f->req, 0);
	sftp_wire_put_u32(&f->req, 10);
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_FAILURE);
	fixture_free(f);
}

/* ---- errors as the client sees them ----------------------------------------- */

static void test_errors(void **state)
{
	struct fixture *f = fixture_new(false);
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t id;
	(void)state;

	send_init(f);
	id = send_string_req(f, SSH_FXP_STAT, "missing", 7);
	assert_int_equal(status_of(f, id), SSH_FX_NO_SUCH_FILE);
	id = send_string_req(f, SSH_FXP_OPENDIR, "missing", 7);
	assert_int_equal(status_of(f, id), SSH_FX_NO_SUCH_FILE);
	id = send_string_req(f, SSH_FXP_REMOVE, "missing", 7);
	assert_int_equal(status_of(f, id), SSH_FX_NO_SUCH_FILE);

	/* A request cut short: BAD_MESSAGE, with its id. */
	id = req_begin(f, SSH_FXP_STAT);
	sftp_wire_put_u32(&f->req, 100); /* a string of 100 bytes that is not there */
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_BAD_MESSAGE);

	/* A read-only handle refuses WRITE. */
	tu_write_file("ro.txt", "x");
	open_file(f, "ro.txt", SSH_FXF_READ, h);
	id = req_begin(f, SSH_FXP_WRITE);
	sftp_wire_put_string(&f->req, h, sizeof(h));
	sftp_wire_put_u64(&f->req, 0);
	sftp_wire_put_cstring(&f->req, "y");
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_PERMISSION_DENIED);

	/* A file handle is not a directory handle. */
	id = send_string_req(f, SSH_FXP_READDIR, h, sizeof(h));
	assert_int_equal(status_of(f, id), SSH_FX_FAILURE);
	fixture_free(f);
}

static void test_unknown_types_and_extensions(void **state)
{
	static const uint8_t types[] = { 0, SSH_FXP_VERSION, 21, 99, SSH_FXP_STATUS, SSH_FXP_EXTENDED_REPLY, 255 };
	struct fixture *f = fixture_new(false);
	struct reply rep;
	uint32_t id;
	(void)state;

	send_init(f);
	for (size_t i = 0; i < sizeof(types); i++) {
		id = req_begin(f, types[i]);
		sftp_wire_put_cstring(&f->req, "whatever");
		assert_int_equal(req_send(f), 0);
		TU_CHECK(status_of(f, id) == SSH_FX_OP_UNSUPPORTED, "type %u", types[i]);
	}

	id = send_string_req(f, SSH_FXP_EXTENDED, "no-such@example.com", 19);
	assert_int_equal(status_of(f, id), SSH_FX_OP_UNSUPPORTED);
	/* A prefix of a real name is not that extension. */
	id = send_string_req(f, SSH_FXP_EXTENDED, "limits", 6);
	assert_int_equal(status_of(f, id), SSH_FX_OP_UNSUPPORTED);
	/* No name at all. */
	id = req_begin(f, SSH_FXP_EXTENDED);
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_BAD_MESSAGE);

	/* A known one answers. */
	id = send_string_req(f, SSH_FXP_EXTENDED, "limits@openssh.com", 18);
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_EXTENDED_REPLY);
	assert_int_equal(rep.id, id);
	assert_int_equal(sftp_wire_get_u64(&rep.r), SFTP_MAX_PACKET);
	assert_int_equal(sftp_wire_get_u64(&rep.r), SFTP_MAX_IO);
	assert_int_equal(sftp_wire_get_u64(&rep.r), SFTP_MAX_IO);
	assert_true(sftp_wire_get_u64(&rep.r) > 0);
	assert_int_equal(sftp_wire_reader_left(&rep.r), 0);
	fixture_free(f);
	TU_END();
}

static void test_read_only(void **state)
{
	struct fixture *f = fixture_new(true);
	uint8_t h[SFTP_HANDLE_LEN];
	uint32_t id;
	(void)state;

	send_init(f);
	tu_write_file("keep.txt", "keep");
	id = req_begin(f, SSH_FXP_OPEN);
	sftp_wire_put_cstring(&f->req, "new.txt");
	sftp_wire_put_u32(&f->req, SSH_FXF_WRITE | SSH_FXF_CREAT);
	sftp_wire_put_u32(&f->req, 0);
	assert_int_equal(req_send(f), 0);
	assert_int_equal(status_of(f, id), SSH_FX_PERMISSION_DENIED);
	assert_int_equal(access("new.txt", F_OK), -1);
	id = send_string_req(f, SSH_FXP_REMOVE, "keep.txt", 8);
	assert_int_equal(status_of(f, id), SSH_FX_PERMISSION_DENIED);
	assert_int_equal(access("keep.txt", F_OK), 0);
	/* Reading is fine. */
	open_file(f, "keep.txt", SSH_FXF_READ, h);
	fixture_free(f);
}

static void test_listing(void **state)
{
	struct fixture *f = fixture_new(false);
	uint8_t h[SFTP_HANDLE_LEN];
	struct reply rep;
	uint32_t id, count, len;
	const uint8_t *hp;
	bool seen_a = false, seen_b = false;
	(void)state;

	send_init(f);
	tu_write_file("a", "1");
	tu_write_file("b", "22");
	id = send_string_req(f, SSH_FXP_OPENDIR, ".", 1);
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_HANDLE);
	assert_int_equal(rep.id, id);
	hp = sftp_wire_get_string(&rep.r, &len);
	assert_int_equal(len, SFTP_HANDLE_LEN);
	memcpy(h, hp, sizeof(h));

	id = send_string_req(f, SSH_FXP_READDIR, h, sizeof(h));
	take_reply(f, &rep);
	assert_int_equal(rep.type, SSH_FXP_NAME);
	assert_int_equal(rep.id, id);
	count = sftp_wire_get_u32(&rep.r);
	assert_int_equal(count, 4); /* ".", "..", "a", "b" */
	for (uint32_t i = 0; i < count; i++) {
		char *name = sftp_wire_get_cstring(&rep.r), *longname = sftp_wire_get_cstring(&rep.r);
		struct sftp_attrs a;

		assert_true(sftp_wire_get_attrs(&rep.r, &a));
		assert_non_null(name);
		assert_non_null(longname);
		if (strcmp(name, "b") == 0) {
			seen_b = true;
			assert_int_equal(a.size, 2);
			TU_CHECK(strncmp(longname, "-rw", 3) == 0 && strstr(longname, " b") != NULL, "\"%s\"", longname);
		}
		seen_a |= strcmp(name, "a") == 0;
		free(name);
		free(longname);
	}
	assert_int_equal(sftp_wire_reader_left(&rep.r), 0);
	assert_true(seen_a && seen_b);

	id = send_string_req(f, SSH_FXP_READDIR, h, sizeof(h));
	assert_int_equal(status_of(f, id), SSH_FX_EOF);
	id = send_string_req(f, SSH_FXP_CLOSE, h, sizeof(h));
	assert_int_equal(status_of(f, id), SSH_FX_OK);
	fixture_free(f);
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init_and_version, tu_setup),
		cmocka_unit_test_setup(test_request_before_init, tu_setup),
		cmocka_unit_test_setup(test_open_write_read_close, tu_setup),
		cmocka_unit_test_setup(test_errors, tu_setup),
		cmocka_unit_test_setup(test_unknown_types_and_extensions, tu_setup),
		cmocka_unit_test_setup(test_read_only, tu_setup),
		cmocka_unit_test_setup(test_listing, tu_setup),
	};

	log_set_level(PLOG_ERROR); /* the protocol errors provoked here warn */
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
