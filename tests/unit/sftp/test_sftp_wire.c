/* SPDX-License-Identifier: Apache-2.0 */
/* test_sftp_wire.c — the SFTP wire format: bounds-checked reading, reply
 * building with overflow roll-back, attributes, status codes, `ls -l` lines. */
#include "testutil.h"

#include "sftp/sftp_wire.h"

/* ---- reading ------------------------------------------------------------ */

static void test_reader_integers(void **state)
{
	static const uint8_t p[] = { 0x7f, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44,
				     0x55, 0x66, 0x77, 0x88, 0xaa };
	struct sftp_reader r;
	(void)state;

	sftp_wire_reader_init(&r, p, sizeof(p));
	assert_int_equal(sftp_wire_get_u8(&r), 0x7f);
	assert_int_equal(sftp_wire_get_u32(&r), 0x01020304u);
	assert_true(sftp_wire_get_u64(&r) == UINT64_C(0x1122334455667788));
	assert_false(r.bad);
	assert_int_equal(sftp_wire_reader_left(&r), 1);
	/* One byte left: a u32 overruns, returns 0, and the reader stays bad. */
	assert_int_equal(sftp_wire_get_u32(&r), 0);
	assert_true(r.bad);
	assert_int_equal(sftp_wire_get_u8(&r), 0);
	assert_int_equal(sftp_wire_reader_left(&r), 0);
}

static void test_reader_strings(void **state)
{
	struct sftp_reader r;
	uint32_t len = 99;
	const uint8_t *s;
	char *c;
	(void)state;

	static const uint8_t ok[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0 };
	sftp_wire_reader_init(&r, ok, sizeof(ok));
	s = sftp_wire_get_string(&r, &len);
	assert_non_null(s);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "abc", 3);
	s = sftp_wire_get_string(&r, &len); /* empty string at the very end */
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_false(r.bad);

	/* A length past the end, including ones that would wrap a pointer. */
	static const uint32_t lens[] = { 4, 5, 0x7fffffffu, 0xfffffffcu, 0xffffffffu };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t p[7] = { (uint8_t)(lens[i] >> 24), (uint8_t)(lens[i] >> 16), (uint8_t)(lens[i] >> 8),
				 (uint8_t)lens[i], 'x', 'y', 'z' };

		sftp_wire_reader_init(&r, p, sizeof(p));
		len = 99;
		TU_CHECK(sftp_wire_get_string(&r, &len) == NULL, "length %u", lens[i]);
		TU_CHECK(r.bad && len == 0, "length %u: bad %d len %u", lens[i], r.bad, len);
	}
	/* A truncated length field. */
	static const uint8_t shortlen[] = { 0, 0, 1 };
	sftp_wire_reader_init(&r, shortlen, sizeof(shortlen));
	TU_CHECK(sftp_wire_get_string(&r, &len) == NULL && r.bad, "3-byte length");

	/* C strings: copied and terminated; an embedded NUL is refused. */
	sftp_wire_reader_init(&r, ok, sizeof(ok));
	c = sftp_wire_get_cstring(&r);
	TU_CHECK(c && strcmp(c, "abc") == 0, "cstring %s", tu_str(c));
	free(c);
	c = sftp_wire_get_cstring(&r);
	TU_CHECK(c && *c == '\0', "empty cstring");
	free(c);
	static const uint8_t nul[] = { 0, 0, 0, 3, 'a', 0, 'c' };
	sftp_wire_reader_init(&r, nul, sizeof(nul));
	TU_CHECK(sftp_wire_get_cstring(&r) == NULL && r.bad, "embedded NUL");
	TU_END();
}

/* Encoded attributes with every field, and the reader's view of each prefix. */
static void test_attrs(void **state)
{
	uint8_t data[256];
	struct sftp_buf b = { .data = data, .cap = sizeof(data) };
	struct sftp_attrs a = {
		.flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID | SSH_FILEXFER_ATTR_PERMISSIONS |
			 SSH_FILEXFER_ATTR_ACMODTIME,
		.size = UINT64_C(0x123456789a), .uid = 1000, .gid = 100, .perm = 0100644,
		.atime = 1700000000, .mtime = 1600000000,
	}, got;
	struct sftp_reader r;
	size_t len;
	(void)state;

	sftp_wire_put_attrs(&b, &a);
	len = b.tail;
	assert_int_equal(len, 4 + 8 + 8 + 4 + 8);
	sftp_wire_reader_init(&r, data, len);
	assert_true(sftp_wire_get_attrs(&r, &got));
	assert_true(got.flags == a.flags && got.size == a.size && got.uid == a.uid && got.gid == a.gid &&
		    got.perm == a.perm && got.atime == a.atime && got.mtime == a.mtime);
	assert_int_equal(sftp_wire_reader_left(&r), 0);
	for (size_t cut = 0; cut < len; cut++) {
		sftp_wire_reader_init(&r, data, cut);
		TU_CHECK(!sftp_wire_get_attrs(&r, &got) && r.bad, "cut at %zu", cut);
	}

	/* Extended pairs are skipped; what follows is still read. */
	static const uint8_t ext[] = { 0x80, 0, 0, 4, 0, 0, 1, 0xa4, 0, 0, 0, 2,
				       0, 0, 0, 1, 'k', 0, 0, 0, 1, 'v', 0, 0, 0, 0, 0, 0, 0, 0,
				       0xde, 0xad };
	sftp_wire_reader_init(&r, ext, sizeof(ext));
	TU_CHECK(sftp_wire_get_attrs(&r, &got), "extended pairs");
	TU_CHECK(got.perm == 0644 && !(got.flags & SSH_FILEXFER_ATTR_SIZE), "perm %o", got.perm);
	TU_CHECK(sftp_wire_get_u8(&r) == 0xde && !r.bad, "field after the attrs");

	/* A huge pair count ends at the first overrun. */
	static const uint8_t huge[] = { 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0 };
	sftp_wire_reader_init(&r, huge, sizeof(huge));
	TU_CHECK(!sftp_wire_get_attrs(&r, &got) && r.bad, "pair count 2^32-1");

	/* From stat: all four groups, the whole mode (type bits too). */
	struct stat st = { .st_size = 42, .st_uid = 7, .st_gid = 8, .st_mode = S_IFDIR | 0755,
			   .st_atime = 10, .st_mtime = 20 };
	sftp_wire_attrs_from_stat(&got, &st);
	TU_CHECK(got.flags == 0xf && got.size == 42 && got.uid == 7 && got.gid == 8 &&
		 got.perm == (S_IFDIR | 0755) && got.atime == 10 && got.mtime == 20, "from stat");
	TU_END();
}

/* ---- writing ------------------------------------------------------------ */

static void test_packet_building(void **state)
{
	uint8_t data[64];
	struct sftp_buf b = { .data = data, .cap = sizeof(data) };
	size_t at;
	(void)state;

	sftp_wire_begin(&b, SSH_FXP_HANDLE);
	sftp_wire_put_u32(&b, 0x01020304);
	sftp_wire_put_string(&b, "hd", 2);
	assert_int_equal(sftp_wire_end(&b), 0);
	static const uint8_t want[] = { 0, 0, 0, 11, 102, 1, 2, 3, 4, 0, 0, 0, 2, 'h', 'd' };
	assert_int_equal(b.tail, sizeof(want));
	assert_memory_equal(data, want, sizeof(want));

	/* A packet that does not fit is taken back whole. */
	sftp_wire_begin(&b, SSH_FXP_DATA);
	sftp_wire_put_u32(&b, 9);
	sftp_wire_put_string(&b, "0123456789012345678901234567890123456789012345678901234567890", 61);
	assert_true(b.overflow);
	assert_int_equal(sftp_wire_end(&b), -1);
	assert_int_equal(b.tail, sizeof(want));
	assert_false(b.overflow);

	/* Piecewise strings, patched counts, reserved room, abort. */
	sftp_wire_begin(&b, SSH_FXP_NAME);
	at = b.tail;
	sftp_wire_put_u32(&b, 0);
	sftp_wire_patch_u32(&b, at, 0xa0b0c0d0);
	size_t s = sftp_wire_put_string_begin(&b);
	sftp_wire_put_cstring(&b, "x");
	sftp_wire_put_cstring(&b, "yz");
	sftp_wire_put_string_end(&b, s);
	assert_int_equal(sftp_wire_end(&b), 0);
	static const uint8_t want2[] = { 0, 0, 0, 20, 104, 0xa0, 0xb0, 0xc0, 0xd0, 0, 0, 0, 11,
					 0, 0, 0, 1, 'x', 0, 0, 0, 2, 'y', 'z' };
	assert_memory_equal(data + sizeof(want), want2, sizeof(want2));
	size_t before = b.tail;
	sftp_wire_begin(&b, SSH_FXP_DATA);
	assert_non_null(sftp_wire_put_reserve(&b, 8));
	assert_null(sftp_wire_put_reserve(&b, 64));
	sftp_wire_abort(&b);
	assert_int_equal(b.tail, before);
}

static void test_status(void **state)
{
	uint8_t data[128];
	struct sftp_buf b = { .data = data, .cap = sizeof(data) };
	(void)state;

	sftp_wire_put_status(&b, 77, SSH_FX_NO_SUCH_FILE);
	static const uint8_t want[] = { 0, 0, 0, 29, 101, 0, 0, 0, 77, 0, 0, 0, 2, 0, 0, 0, 12,
					'N', 'o', ' ', 's', 'u', 'c', 'h', ' ', 'f', 'i', 'l', 'e', 0, 0, 0, 0 };
	assert_int_equal(b.tail, sizeof(want));
	assert_memory_equal(data, want, sizeof(want));
	assert_string_equal(sftp_wire_status_text(SSH_FX_OP_UNSUPPORTED), "Operation unsupported");
	assert_string_equal(sftp_wire_status_text(1000), "Unknown error");

	static const struct { int err; uint32_t want; } map[] = {
		{ 0, SSH_FX_OK }, { ENOENT, SSH_FX_NO_SUCH_FILE }, { ENOTDIR, SSH_FX_NO_SUCH_FILE },
		{ ELOOP, SSH_FX_NO_SUCH_FILE }, { EBADF, SSH_FX_NO_SUCH_FILE },
		{ EACCES, SSH_FX_PERMISSION_DENIED }, { EPERM, SSH_FX_PERMISSION_DENIED },
		{ EROFS, SSH_FX_PERMISSION_DENIED }, { EINVAL, SSH_FX_BAD_MESSAGE },
		{ ENAMETOOLONG, SSH_FX_BAD_MESSAGE }, { ENOSYS, SSH_FX_OP_UNSUPPORTED },
		{ EOPNOTSUPP, SSH_FX_OP_UNSUPPORTED }, { EEXIST, SSH_FX_FAILURE }, { EISDIR, SSH_FX_FAILURE },
		{ ENOTEMPTY, SSH_FX_FAILURE }, { ENOSPC, SSH_FX_FAILURE }, { EIO, SSH_FX_FAILURE },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		TU_CHECK(sftp_wire_status_from_errno(map[i].err) == map[i].want, "errno %d (%s)", map[i].err,
			 strerror(map[i].err));
	TU_END();
}

/* ---- ls -l -------------------------------------------------------------- */

static void test_strmode(void **state)
{
	static const struct { mode_t mode; const char *want; } cases[] = {
		{ S_IFREG | 0644, "-rw-r--r-- " },
		{ S_IFDIR | 0755, "drwxr-xr-x " },
		{ S_IFLNK | 0777, "lrwxrwxrwx " },
		{ S_IFREG | 04755, "-rwsr-xr-x " },
		{ S_IFREG | 04644, "-rwSr--r-- " },
		{ S_IFREG | 02750, "-rwxr-s--- " },
		{ S_IFREG | 02740, "-rwxr-S--- " },
		{ S_IFDIR | 01777, "drwxrwxrwt " },
		{ S_IFDIR | 01770, "drwxrwx--T " },
		{ S_IFCHR | 0620, "crw--w---- " },
		{ S_IFBLK | 0660, "brw-rw---- " },
		{ S_IFIFO | 0600, "prw------- " },
		{ S_IFSOCK | 0755, "srwxr-xr-x " },
		{ 0, "?--------- " },
	};
	char out[12];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sftp_wire_strmode(cases[i].mode, out);
		TU_CHECK(strcmp(out, cases[i].want) == 0, "mode %o: \"%s\", want \"%s\"", (unsigned)cases[i].mode,
			 out, cases[i].want);
	}
	TU_END();
}

static void test_longname(void **state)
{
	char buf[1024];
	const time_t now = 1700000000; /* 2023-11-14 22:13:20 UTC */
	struct stat st = { .st_mode = S_IFREG | 0640, .st_nlink = 1, .st_size = 1234 };
	(void)state;

	setenv("TZ", "UTC", 1);
	tzset();
	st.st_mtime = now - 3600;
	sftp_wire_longname(buf, sizeof(buf), "a.txt", &st, "root", "wheel", now);
	TU_CHECK(strcmp(buf, "-rw-r-----    1 root     wheel        1234 Nov 14 21:13 a.txt") == 0, "\"%s\"", buf);

	/* Older than half a year, or in the future: the year instead of the time. */
	st.st_mtime = 1577923200; /* 2020-01-02 */
	sftp_wire_longname(buf, sizeof(buf), "old", &st, "root", "wheel", now);
	TU_CHECK(strcmp(buf, "-rw-r-----    1 root     wheel        1234 Jan  2  2020 old") == 0, "\"%s\"", buf);
	st.st_mtime = now + 86400;
	sftp_wire_longname(buf, sizeof(buf), "new", &st, "root", "wheel", now);
	TU_CHECK(strcmp(buf, "-rw-r-----    1 root     wheel        1234 Nov 15  2023 new") == 0, "\"%s\"", buf);

	/* Long names are not cut; many links, a big size. */
	st.st_mode = S_IFDIR | 0755;
	st.st_nlink = 12345;
	st.st_size = INT64_C(123456789012);
	st.st_mtime = now;
	sftp_wire_longname(buf, sizeof(buf), "dir", &st, "a-rather-long-user", "1000", now);
	TU_CHECK(strcmp(buf, "drwxr-xr-x  12345 a-rather-long-user 1000     123456789012 Nov 14 22:13 dir") == 0,
		 "\"%s\"", buf);

	/* A small buffer is filled and terminated, never overrun. */
	char small[16];
	memset(small, 'Z', sizeof(small));
	sftp_wire_longname(small, 10, "x", &st, "u", "g", now);
	TU_CHECK(strlen(small) == 9 && small[10] == 'Z', "small buffer \"%s\"", small);
	unsetenv("TZ");
	tzset();
	TU_END();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reader_integers, tu_setup),
		cmocka_unit_test_setup(test_reader_strings, tu_setup),
		cmocka_unit_test_setup(test_attrs, tu_setup),
		cmocka_unit_test_setup(test_packet_building, tu_setup),
		cmocka_unit_test_setup(test_status, tu_setup),
		cmocka_unit_test_setup(test_strmode, tu_setup),
		cmocka_unit_test_setup(test_longname, tu_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
