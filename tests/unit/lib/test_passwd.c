/* SPDX-License-Identifier: Apache-2.0 */
/* test_passwd.c — users and groups read from passwd(5)/group(5) files
 * directly (no NSS), as the static binary must. */
#include "testutil.h"

#include "lib/passwd.h"

static const char passwd_text[] =
	"root:x:0:0:root:/root:/bin/bash\n"
	"# a comment line is not an entry\n"
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	"trainer:x:1000:1000:ML engineer,,,:/home/trainer:/bin/zsh\n"
	"nohome:x:1001:1001:::\n";

static const char group_text[] = "root:x:0:\nusers:x:100:trainer\nml:x:1000:\n";

static void test_users(void **state)
{
	char *dir = tu_tmpdir(), *file = tu_path("%s/passwd", dir);
	struct passwd_entry e;
	(void)state;

	tu_write_file(file, passwd_text);
	assert_int_equal(passwd_find(file, NULL, 1000, &e), 0);
	assert_string_equal(e.name, "trainer");
	assert_string_equal(e.dir, "/home/trainer");
	assert_string_equal(e.shell, "/bin/zsh");
	assert_int_equal(e.gid, 1000);
	assert_int_equal(passwd_find(file, "root", 0, &e), 0);
	assert_int_equal(e.uid, 0);
	assert_string_equal(e.dir, "/root");
	assert_int_equal(passwd_find(file, NULL, 1001, &e), 0);
	assert_string_equal(e.dir, "");
	assert_int_equal(passwd_find(file, NULL, 4242, &e), -ENOENT);
	assert_int_equal(passwd_find(file, "nobody-here", 0, &e), -ENOENT);
	/* A name is matched whole, not as a prefix. */
	assert_int_equal(passwd_find(file, "train", 0, &e), -ENOENT);
	free(file);
	file = tu_path("%s/missing", dir);
	assert_int_equal(passwd_find(file, NULL, 0, &e), -ENOENT);
	tu_rm_rf(dir);
	free(file);
	free(dir);
}

static void test_groups(void **state)
{
	char *dir = tu_tmpdir(), *file = tu_path("%s/group", dir), name[256];
	(void)state;

	tu_write_file(file, group_text);
	assert_int_equal(passwd_group_find(file, 100, name, sizeof(name)), 0);
	assert_string_equal(name, "users");
	assert_int_equal(passwd_group_find(file, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "ml");
	assert_int_equal(passwd_group_find(file, 7, name, sizeof(name)), -ENOENT);
	tu_rm_rf(dir);
	free(file);
	free(dir);
}

/* The process's own user resolves (every test machine has root in
 * /etc/passwd); uid and name agree. */
static void test_own_user(void **state)
{
	struct passwd_entry by_uid, by_name;
	(void)state;

	assert_int_equal(passwd_by_uid(getuid(), &by_uid), 0);
	assert_int_equal(passwd_by_name(by_uid.name, &by_name), 0);
	assert_int_equal(by_name.uid, getuid());
	assert_string_equal(by_name.dir, by_uid.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_own_user),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
