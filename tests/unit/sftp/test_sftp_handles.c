/* SPDX-License-Identifier: Apache-2.0 */
/* test_sftp_handles.c — the handle table: adding, looking up by the string
 * on the wire, closing; malformed, unknown, stale and wrong-kind handles;
 * the bound on open handles; what limits@openssh.com is told. */
#include "testutil.h"

#include <dirent.h>
#include <sys/resource.h>

#include "sftp/sftp_handles.h"

/* The wire string of h: u32 length + 8 bytes, as a request carries it. */
struct wire_handle {
	uint8_t bytes[4 + SFTP_HANDLE_LEN];
};

static struct wire_handle wire_of(const struct sftp_handles *hs, const struct sftp_handle *h)
{
	struct wire_handle w;
	struct sftp_buf b = { .data = w.bytes, .cap = sizeof(w.bytes) };

	sftp_handles_put(hs, h, &b);
	assert_false(b.overflow);
	assert_int_equal(b.tail, sizeof(w.bytes));
	return w;
}

/* Look up the handle in the request bytes p (a string); *bad: the reader's
 * verdict on the string itself. */
static struct sftp_handle *lookup(struct sftp_handles *hs, const void *p, size_t len,
				  enum sftp_handle_kind kind, bool *bad)
{
	struct sftp_reader r;
	struct sftp_handle *h;

	sftp_wire_reader_init(&r, p, len);
	h = sftp_handles_get(hs, &r, kind);
	if (bad)
		*bad = r.bad;
	return h;
}

static struct sftp_handle *lookup_wire(struct sftp_handles *hs, struct wire_handle w, enum sftp_handle_kind kind)
{
	return lookup(hs, w.bytes, sizeof(w.bytes), kind, NULL);
}

static int open_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_add_get_close(void **state)
{
	struct sftp_handles *hs;
	struct sftp_handle *f, *d;
	struct wire_handle wf, wd;
	DIR *dir = opendir(".");
	int fd = open_null();
	(void)state;

	assert_non_null(dir);
	assert_int_equal(sftp_handles_new(8, &hs), 0);
	assert_int_equal(sftp_handles_count(hs), 0);
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, fd, NULL, "some/file", true, false, &f), 0);
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_DIR, -1, dir, ".", true, false, &d), 0);
	assert_int_equal(sftp_handles_count(hs), 2);
	assert_string_equal(f->path, "some/file");
	assert_true(f->readable && !f->writable && !f->stream);
	assert_int_equal(sftp_handles_fd(f), fd);
	assert_int_equal(sftp_handles_fd(d), dirfd(dir));

	/* The wire form: slot and generation, big-endian, behind the length. */
	wf = wire_of(hs, f);
	wd = wire_of(hs, d);
	assert_memory_equal(wf.bytes, "\0\0\0\x08\0\0\0\0\0\0\0\x01", 12);
	assert_memory_equal(wd.bytes, "\0\0\0\x08\0\0\0\x01\0\0\0\x02", 12);

	/* Found by string, of the kind asked for (ANY: either). */
	assert_ptr_equal(lookup_wire(hs, wf, SFTP_HANDLE_FILE), f);
	assert_ptr_equal(lookup_wire(hs, wf, SFTP_HANDLE_ANY), f);
	assert_ptr_equal(lookup_wire(hs, wd, SFTP_HANDLE_DIR), d);
	assert_ptr_equal(lookup_wire(hs, wd, SFTP_HANDLE_ANY), d);
	assert_null(lookup_wire(hs, wf, SFTP_HANDLE_DIR));
	assert_null(lookup_wire(hs, wd, SFTP_HANDLE_FILE));

	/* Closing frees the slot and the descriptor; the string is dead. */
	assert_int_equal(sftp_handles_close(hs, f), 0);
	assert_false(fd_is_open(fd));
	assert_int_equal(sftp_handles_count(hs), 1);
	assert_null(lookup_wire(hs, wf, SFTP_HANDLE_ANY));
	assert_int_equal(sftp_handles_close(hs, d), 0);
	assert_int_equal(sftp_handles_count(hs), 0);
	assert_null(lookup_wire(hs, wd, SFTP_HANDLE_ANY));
	sftp_handles_free(hs);
}

static void test_bad_handle_strings(void **state)
{
	static const struct {
		const char *what;
		uint8_t bytes[20];
		size_t len;
		bool bad; /* the string itself is malformed (runs past the request) */
	} cases[] = {
		{ "empty string", { 0, 0, 0, 0 }, 4, false },
		{ "4 bytes", { 0, 0, 0, 4, 0, 0, 0, 0 }, 8, false },
		{ "12 bytes", { 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 }, 16, false },
		{ "slot past the table", { 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0, 1 }, 12, false },
		{ "huge slot", { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1 }, 12, false },
		{ "free slot", { 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 1 }, 12, false },
		{ "wrong generation", { 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2 }, 12, false },
		{ "generation 0", { 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0 }, 12, false },
		{ "string past the request", { 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0 }, 11, true },
		{ "length cut short", { 0, 0, 0 }, 3, true },
		{ "no bytes at all", { 0 }, 0, true },
	};
	struct sftp_handles *hs;
	struct sftp_handle *h;
	(void)state;

	assert_int_equal(sftp_handles_new(8, &hs), 0);
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, open_null(), NULL, "f", true, true, &h), 0);
	/* The real one, for contrast. */
	assert_ptr_equal(lookup(hs, "\0\0\0\x08\0\0\0\0\0\0\0\x01", 12, SFTP_HANDLE_ANY, NULL), h);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool bad;
		struct sftp_handle *got = lookup(hs, cases[i].bytes, cases[i].len, SFTP_HANDLE_ANY, &bad);

		TU_CHECK(got == NULL, "%s: found a handle", cases[i].what);
		TU_CHECK(bad == cases[i].bad, "%s: reader bad %d, want %d", cases[i].what, bad, cases[i].bad);
	}
	sftp_handles_free(hs);
	TU_END();
}

static void test_stale_handle_after_reuse(void **state)
{
	struct sftp_handles *hs;
	struct sftp_handle *a, *b;
	struct wire_handle wa, wb;
	(void)state;

	assert_int_equal(sftp_handles_new(4, &hs), 0);
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, open_null(), NULL, "a", true, false, &a), 0);
	wa = wire_of(hs, a);
	assert_int_equal(sftp_handles_close(hs, a), 0);
	/* The slot is taken again by the next file ... */
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, open_null(), NULL, "b", false, true, &b), 0);
	assert_ptr_equal(a, b);
	wb = wire_of(hs, b);
	assert_memory_equal(wa.bytes, wb.bytes, 8); /* same slot */
	assert_memory_not_equal(wa.bytes, wb.bytes, sizeof(wa.bytes));
	/* ... but the old string does not reach it. */
	assert_null(lookup_wire(hs, wa, SFTP_HANDLE_ANY));
	assert_ptr_equal(lookup_wire(hs, wb, SFTP_HANDLE_FILE), b);
	assert_string_equal(b->path, "b");
	sftp_handles_free(hs);
}

static void test_table_is_bounded(void **state)
{
	enum { MAX = 5 };
	struct sftp_handles *hs;
	struct sftp_handle *h[MAX], *extra = NULL;
	int fds[MAX], fd;
	(void)state;

	assert_int_equal(sftp_handles_new(MAX, &hs), 0);
	for (int i = 0; i < MAX; i++) {
		assert_false(sftp_handles_full(hs));
		fds[i] = open_null();
		assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, fds[i], NULL, "f", true, false, &h[i]), 0);
	}
	assert_true(sftp_handles_full(hs));
	assert_int_equal(sftp_handles_count(hs), MAX);

	/* Full: refused, and the descriptor stays the caller's. */
	fd = open_null();
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, fd, NULL, "one more", true, false, &extra), -EMFILE);
	assert_null(extra);
	assert_true(fd_is_open(fd));

	/* One closed: room for one. */
	assert_int_equal(sftp_handles_close(hs, h[2]), 0);
	assert_false(sftp_handles_full(hs));
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, fd, NULL, "one more", true, false, &extra), 0);
	assert_ptr_equal(extra, h[2]);
	assert_true(sftp_handles_full(hs));

	/* Freeing the table closes what is still open. */
	sftp_handles_free(hs);
	for (int i = 0; i < MAX; i++)
		TU_CHECK(!fd_is_open(fds[i]) || i == 2, "fd %d still open", fds[i]);
	assert_false(fd_is_open(fd));
	TU_END();
}

static void test_close_error_still_frees(void **state)
{
	struct sftp_handles *hs;
	struct sftp_handle *h;
	(void)state;

	assert_int_equal(sftp_handles_new(2, &hs), 0);
	/* A descriptor that is not open: close fails, the slot is free anyway. */
	assert_int_equal(sftp_handles_add(hs, SFTP_HANDLE_FILE, -1, NULL, "gone", true, false, &h), 0);
	assert_int_equal(sftp_handles_close(hs, h), -EBADF);
	assert_int_equal(sftp_handles_count(hs), 0);
	assert_int_equal(h->kind, SFTP_HANDLE_ANY);
	assert_null(h->path);
	sftp_handles_free(hs);
	sftp_handles_free(NULL);
}

static void test_limit_follows_rlimit_nofile(void **state)
{
	struct sftp_handles *hs;
	struct rlimit saved, rl;
	(void)state;

	assert_int_equal(sftp_handles_new(SFTP_MAX_HANDLES, &hs), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < SFTP_MAX_HANDLES + 16) {
		sftp_handles_free(hs);
		skip();
	}
	rl = saved;
	rl.rlim_cur = SFTP_MAX_HANDLES + 16;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(sftp_handles_limit(hs), SFTP_MAX_HANDLES);
	/* Fewer descriptors than handles: keep 16 for ourselves ... */
	rl.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(sftp_handles_limit(hs), 84);
	/* ... but promise at least 16. */
	rl.rlim_cur = 20;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(sftp_handles_limit(hs), 16);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	sftp_handles_free(hs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_add_get_close, tu_setup),
		cmocka_unit_test_setup(test_bad_handle_strings, tu_setup),
		cmocka_unit_test_setup(test_stale_handle_after_reuse, tu_setup),
		cmocka_unit_test_setup(test_table_is_bounded, tu_setup),
		cmocka_unit_test_setup(test_close_error_still_frees, tu_setup),
		cmocka_unit_test_setup(test_limit_follows_rlimit_nofile, tu_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
