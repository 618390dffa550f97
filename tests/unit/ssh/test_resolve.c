/* SPDX-License-Identifier: Apache-2.0 */
/* test_resolve.c — lookups in a thread of their own: the descriptor turns
 * readable when one is done, the answer or the resolver's error is there
 * then, and a lookup let go of while it runs cleans up after itself.  Only
 * names the machine answers itself (numeric, localhost): nothing is sent. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include "ssh/resolve.h"

static void wait_done(struct resolve *r)
{
	struct pollfd p = { .fd = resolve_fd(r), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10000), 1);
}

static void test_numeric(void **state)
{
	struct resolve *r;
	const struct addrinfo *ai;
	char buf[64];
	int gai;
	(void)state;

	assert_int_equal(resolve_new("127.0.0.1", 8888, &r), 0);
	wait_done(r);
	assert_true(resolve_done(r, &ai, &gai));
	assert_int_equal(gai, 0);
	assert_non_null(ai);
	assert_int_equal(ai->ai_family, AF_INET);
	assert_int_equal(ai->ai_socktype, SOCK_STREAM);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
	assert_int_equal(ntohs(sin->sin_port), 8888);
	assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)), "127.0.0.1");
	resolve_free(r);

	assert_int_equal(resolve_new("::1", 22, &r), 0);
	wait_done(r);
	assert_true(resolve_done(r, &ai, &gai));
	assert_int_equal(gai, 0);
	assert_int_equal(ai->ai_family, AF_INET6);
	resolve_free(r);
}

static void test_errors(void **state)
{
	struct resolve *r;
	const struct addrinfo *ai;
	char longname[300];
	int gai;
	(void)state;

	/* Not a name at all: the resolver says so without asking anyone. */
	assert_int_equal(resolve_new("bad name with spaces..", 80, &r), 0);
	wait_done(r);
	assert_true(resolve_done(r, &ai, &gai));
	assert_int_not_equal(gai, 0);
	assert_non_null(gai_strerror(gai));
	resolve_free(r);

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(resolve_new(longname, 80, &r), -ENAMETOOLONG);
	assert_null(r);
	resolve_free(NULL);
}

/* Let go before it is done, many times: the threads finish alone. */
static void test_let_go_early(void **state)
{
	(void)state;
	for (int i = 0; i < 50; i++) {
		struct resolve *r;
		assert_int_equal(resolve_new("localhost", 80, &r), 0);
		resolve_free(r);
	}
	/* One more, waited for, to see the process still resolves. */
	struct resolve *r;
	const struct addrinfo *ai;
	int gai;
	assert_int_equal(resolve_new("localhost", 80, &r), 0);
	wait_done(r);
	assert_true(resolve_done(r, &ai, &gai));
	assert_int_equal(gai, 0);
	resolve_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_let_go_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
