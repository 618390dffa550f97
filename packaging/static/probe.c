/* SPDX-License-Identifier: Apache-2.0 */
/* probe.c — proof that build/static/prefix links into one static-pie program
 * and works in a root without libc (not shipped; see probe-check.sh).
 *
 *   probe URL CAFILE [SSH_PORT]
 *
 * 1. sd-event: a timer, and sd_notify("READY=1") received on our own
 *    NOTIFY_SOCKET through an sd-event io source;
 * 2. cJSON: builds and prints an object;
 * 3. libssh: ed25519 host key from ssh_pki_generate, its SHA256 fingerprint,
 *    an ssh_bind listening on 127.0.0.1:SSH_PORT (0: any); with a port, it
 *    accepts one connection and runs the key exchange (with OpenSSH's ssh);
 * 4. libcurl: GET URL over HTTPS, CURLOPT_AWS_SIGV4, CAINFO=CAFILE, the name
 *    resolved by c-ares; prints the server's answer (the request headers).
 * Exit 0 only if every step worked.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ares.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>
#include <unistd.h>
#include <zlib.h>

static int failed;

#define CHECK(cond, ...)                                          \
	do {                                                      \
		if (!(cond)) {                                    \
			fprintf(stderr, "probe: FAIL: " __VA_ARGS__); \
			fputc('\n', stderr);                      \
			failed = 1;                               \
		}                                                 \
	} while (0)

static int got_ready, timer_fired;

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *u)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	(void)s, (void)revents, (void)u;
	if (n > 0) {
		buf[n] = 0;
		printf("sd-event: notify socket got \"%s\"\n", buf);
		got_ready = strcmp(buf, "READY=1") == 0;
	}
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *u)
{
	(void)usec, (void)u;
	timer_fired = 1;
	printf("sd-event: timer fired\n");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void step_sd_event(void)
{
	sd_event *ev = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[64];
	int fd, r;

	/* an abstract socket of our own stands in for the service manager */
	snprintf(name, sizeof(name), "@porthole-probe-%d", (int)getpid());
	memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CHECK(fd >= 0, "socket: %s", strerror(errno));
	r = bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name)));
	CHECK(r == 0, "bind notify socket: %s", strerror(errno));
	setenv("NOTIFY_SOCKET", name, 1);

	r = sd_event_default(&ev);
	CHECK(r >= 0, "sd_event_default: %s", strerror(-r));
	r = sd_event_add_io(ev, NULL, fd, EPOLLIN, on_notify, NULL);
	CHECK(r >= 0, "sd_event_add_io: %s", strerror(-r));
	r = sd_event_add_time_relative(ev, NULL, CLOCK_MONOTONIC, 100 * 1000, 0, on_timer, NULL);
	CHECK(r >= 0, "sd_event_add_time_relative: %s", strerror(-r));
	r = sd_notify(0, "READY=1");
	printf("sd_notify: %d\n", r);
	CHECK(r > 0, "sd_notify returned %d", r);
	r = sd_event_loop(ev);
	CHECK(r >= 0 && timer_fired && got_ready, "sd_event_loop %d timer %d ready %d", r, timer_fired, got_ready);
	r = sd_journal_print(LOG_INFO, "porthole probe");
	printf("sd_journal_print: %d (%s)\n", r, r < 0 ? strerror(-r) : "sent");
	sd_event_unref(ev);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void step_cjson(void)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	cJSON_AddStringToObject(o, "probe", "static");
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	s = cJSON_PrintUnformatted(o);
	CHECK(s != NULL, "cJSON_PrintUnformatted");
	printf("cjson %s: %s\n", cJSON_Version(), s ? s : "");
	free(s);
	cJSON_Delete(o);
}

static void step_libssh(int port)
{
	ssh_key key = NULL;
	ssh_bind b;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;
	int r;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	printf("libssh %s\n", ssh_version(0));
	r = ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key);
	CHECK(r == SSH_OK, "ssh_pki_generate ed25519");
	if (r != SSH_OK)
		return;
	r = ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen);
	CHECK(r == 0, "ssh_get_publickey_hash");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	printf("libssh: ed25519 host key %s\n", fp ? fp : "?");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);

	b = ssh_bind_new();
	CHECK(b != NULL, "ssh_bind_new");
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, "127.0.0.1");
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port);
	r = ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key);
	CHECK(r == SSH_OK, "SSH_BIND_OPTIONS_IMPORT_KEY");
	r = ssh_bind_listen(b);
	CHECK(r == SSH_OK, "ssh_bind_listen: %s", ssh_get_error(b));
	if (r == SSH_OK && getsockname(ssh_bind_get_fd(b), (struct sockaddr *)&sin, &sl) == 0)
		printf("libssh: ssh_bind listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	if (r == SSH_OK && port != 0) {
		ssh_session s = ssh_new();
		r = ssh_bind_accept(b, s);
		CHECK(r == SSH_OK, "ssh_bind_accept: %s", ssh_get_error(b));
		if (r == SSH_OK) {
			r = ssh_handle_key_exchange(s);
			CHECK(r == SSH_OK, "key exchange: %s", ssh_get_error(s));
			if (r == SSH_OK)
				printf("libssh: key exchange done, cipher %s, kex %s\n",
				       ssh_get_cipher_out(s), ssh_get_kex_algo(s));
		}
		ssh_disconnect(s);
		ssh_free(s);
	}
	ssh_bind_free(b);
	/* IMPORT_KEY hands the key to the bind, which frees it */
}

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
	(void)u;
	fwrite(p, sz, n, stdout);
	return sz * n;
}

static void step_curl(const char *url, const char *cafile)
{
	curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	char err[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	long code = 0;
	char *ip = NULL;

	printf("libcurl %s, %s, zlib %s, c-ares %s (built %s), AsynchDNS %s, protocols:",
	       vi->version, vi->ssl_version, vi->libz_version ? vi->libz_version : "-",
	       vi->ares ? vi->ares : "-", ARES_VERSION_STR,
	       (vi->features & CURL_VERSION_ASYNCHDNS) ? "yes" : "no");
	for (const char *const *p = vi->protocols; *p; p++)
		printf(" %s", *p);
	printf("\n");
	CHECK(vi->ares != NULL && (vi->features & CURL_VERSION_ASYNCHDNS), "libcurl without c-ares");

	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:sts");
	curl_easy_setopt(c, CURLOPT_USERNAME, "AKIDEXAMPLE");
	curl_easy_setopt(c, CURLOPT_PASSWORD, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, curl_slist_append(NULL, "X-Amz-Security-Token: probe-session-token"));
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip);
	printf("libcurl: %s -> %s, HTTP %ld, %s\n", url, ip ? ip : "-", code,
	       rc == CURLE_OK ? "ok" : (err[0] ? err : curl_easy_strerror(rc)));
	CHECK(rc == CURLE_OK && code == 200, "curl request");
	curl_easy_cleanup(c);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: probe URL CAFILE [SSH_PORT]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("probe: pid %d, main at %p, %s, zlib %s\n", (int)getpid(), (void *)main,
	       OpenSSL_version(OPENSSL_VERSION), zlibVersion());
	step_sd_event();
	step_cjson();
	CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init");
	CHECK(ssh_init() == 0, "ssh_init");
	step_libssh(argc > 3 ? atoi(argv[3]) : 0);
	step_curl(argv[1], argv[2]);
	ssh_finalize();
	curl_global_cleanup();
	printf("probe: %s\n", failed ? "FAILED" : "all steps ok");
	return failed;
}
