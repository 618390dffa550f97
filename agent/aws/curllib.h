/* SPDX-License-Identifier: Apache-2.0 */
/* curllib.h — libcurl, loaded when porthole first publishes to AWS.
 *
 * Linking libcurl would map it and its dependency tree (OpenSSL, GnuTLS,
 * Kerberos, LDAP ...) into every porthole process, about 7.5 MB of resident
 * memory in an idle PID 1 that may never talk to AWS, so it is dlopen()ed
 * instead (lib/dynlib.h), the way ssh/sshlib.h loads libssh.  Code includes
 * this header rather than <curl/curl.h> and calls libcurl by its usual
 * names; every function used must be listed here, or the binary links
 * libcurl again (`ldd porthole` shows it).
 *
 * curl.h turns curl_easy_setopt and friends into type-checking macros under
 * GCC, which would hide the names mapped below: hence CURL_DISABLE_TYPECHECK.
 * Even then it defines them as argument-counting macros of themselves,
 * which are #undef'd before the mapping.
 *
 * curllib_table is written once, by curllib_load(), and only read afterwards. */
#ifndef PORTHOLE_CURLLIB_H
#define PORTHOLE_CURLLIB_H

#include <stddef.h>
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "../lib/dynlib.h"

#define CURLLIB_FUNCTIONS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_global_cleanup) \
	X(curl_global_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_assign) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_remove_handle) \
	X(curl_multi_setopt) \
	X(curl_multi_socket_action) \
	X(curl_slist_append) \
	X(curl_slist_free_all) \
	X(curl_url) \
	X(curl_url_cleanup) \
	X(curl_url_get) \
	X(curl_url_set) \
	X(curl_version_info)

struct curllib {
	struct dynlib dl;
#define X(f) __typeof__(f) *f;
	CURLLIB_FUNCTIONS(X)
#undef X
};

extern struct curllib curllib_table;

/* Load libcurl (7.75 or later) if not loaded yet: 0, or -1 with why in err. */
int curllib_load(char *err, size_t len);

#ifndef CURLLIB_IMPL
#undef curl_easy_getinfo
#undef curl_easy_setopt
#undef curl_multi_setopt
#define curl_easy_cleanup (curllib_table.curl_easy_cleanup)
#define curl_easy_getinfo (curllib_table.curl_easy_getinfo)
#define curl_easy_init (curllib_table.curl_easy_init)
#define curl_easy_setopt (curllib_table.curl_easy_setopt)
#define curl_easy_strerror (curllib_table.curl_easy_strerror)
#define curl_free (curllib_table.curl_free)
#define curl_global_cleanup (curllib_table.curl_global_cleanup)
#define curl_global_init (curllib_table.curl_global_init)
#define curl_multi_add_handle (curllib_table.curl_multi_add_handle)
#define curl_multi_assign (curllib_table.curl_multi_assign)
#define curl_multi_cleanup (curllib_table.curl_multi_cleanup)
#define curl_multi_info_read (curllib_table.curl_multi_info_read)
#define curl_multi_init (curllib_table.curl_multi_init)
#define curl_multi_remove_handle (curllib_table.curl_multi_remove_handle)
#define curl_multi_setopt (curllib_table.curl_multi_setopt)
#define curl_multi_socket_action (curllib_table.curl_multi_socket_action)
#define curl_slist_append (curllib_table.curl_slist_append)
#define curl_slist_free_all (curllib_table.curl_slist_free_all)
#define curl_url (curllib_table.curl_url)
#define curl_url_cleanup (curllib_table.curl_url_cleanup)
#define curl_url_get (curllib_table.curl_url_get)
#define curl_url_set (curllib_table.curl_url_set)
#define curl_version_info (curllib_table.curl_version_info)
#endif

#endif
