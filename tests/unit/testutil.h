/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h — shared helpers for porthole's cmocka unit tests (header only).
 *
 *   TU_CHECK(cond, fmt, ...)   a soft check for table rows: reports the row
 *                              and carries on; TU_END() fails the test if any
 *                              check failed.
 *   tu_log_*                   a log sink that keeps every warning, error and
 *                              event porthole reports.
 *   tu_capture_*               stderr redirected into a string.
 *   tu_tmpdir / tu_rm_rf / tu_write_file / tu_read_file / tu_path
 *   tu_clear_env_prefix        unset every NAME=... starting with a prefix.
 *   tu_run_loop_until          drive an sd_event loop until a flag is set.
 */
#ifndef PORTHOLE_TESTUTIL_H
#define PORTHOLE_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <systemd/sd-event.h>

#include "lib/log.h"

/* ---- soft checks -------------------------------------------------------- */

static inline unsigned *tu_failures(void)
{
	static unsigned n;
	return &n;
}

static inline void tu_report(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline void tu_report(const char *file, int line, const char *cond, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("%s:%d: check failed: %s\n    %s\n", file, line, cond, msg);
	(*tu_failures())++;
}

#define TU_CHECK(cond, ...)                                                 \
	do {                                                                \
		if (!(cond))                                                \
			tu_report(__FILE__, __LINE__, #cond, __VA_ARGS__);  \
	} while (0)

/* Fail the running test if any TU_CHECK failed since the last TU_END/reset. */
#define TU_END()                                                                     \
	do {                                                                         \
		unsigned tu_n_ = *tu_failures();                                     \
		*tu_failures() = 0;                                                  \
		if (tu_n_)                                                           \
			fail_msg("%u check(s) failed, see above", tu_n_);            \
	} while (0)

static inline void tu_reset(void)
{
	*tu_failures() = 0;
}

/* A cmocka setup that starts each test with no failed checks:
 * cmocka_unit_test_setup(test_x, tu_setup). */
static inline int tu_setup(void **state)
{
	(void)state;
	tu_reset();
	return 0;
}

static inline const char *tu_str(const char *s)
{
	return s ? s : "(null)";
}

static inline bool tu_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ---- log capture -------------------------------------------------------- */

#define TU_LOG_MAX 512

struct tu_log_entry {
	enum plog_level lvl;
	char *event; /* NULL for a plain message */
	char *msg;
	cJSON *fields; /* a copy, or NULL */
};

struct tu_log {
	struct tu_log_entry e[TU_LOG_MAX];
	size_t n;
	bool active;
};

static inline void tu_log_sink(void *ud, enum plog_level lvl, const char *event, const cJSON *fields,
			       const char *msg)
{
	struct tu_log *l = ud;

	if (l->n == TU_LOG_MAX)
		return;
	l->e[l->n].lvl = lvl;
	l->e[l->n].event = event ? strdup(event) : NULL;
	l->e[l->n].msg = strdup(msg ? msg : "");
	l->e[l->n].fields = fields ? cJSON_Duplicate(fields, 1) : NULL;
	l->n++;
}

static inline void tu_log_clear(struct tu_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].event);
		free(l->e[i].msg);
		cJSON_Delete(l->e[i].fields);
	}
	l->n = 0;
}

static inline void tu_log_start(struct tu_log *l)
{
	tu_log_clear(l);
	if (!l->active && log_add_sink(tu_log_sink, l) == 0)
		l->active = true;
}

/* Stop listening; the entries stay until tu_log_clear. */
static inline void tu_log_stop(struct tu_log *l)
{
	if (l->active)
		log_remove_sink(tu_log_sink, l);
	l->active = false;
}

/* Plain messages (no event name) at exactly lvl. */
static inline size_t tu_log_count(const struct tu_log *l, enum plog_level lvl)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += !l->e[i].event && l->e[i].lvl == lvl;
	return n;
}

/* The first message containing needle, or NULL. */
static inline const char *tu_log_find(const struct tu_log *l, const char *needle)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->e[i].msg, needle))
			return l->e[i].msg;
	return NULL;
}

/* The first message containing both needles (b may be NULL), or NULL. */
static inline const char *tu_log_find2(const struct tu_log *l, const char *a, const char *b)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->e[i].msg, a) && (!b || strstr(l->e[i].msg, b)))
			return l->e[i].msg;
	return NULL;
}

/* The first entry for event (after skip of them), or NULL. */
static inline const struct tu_log_entry *tu_log_event(const struct tu_log *l, const char *event, size_t skip)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].event && strcmp(l->e[i].event, event) == 0 && skip-- == 0)
			return &l->e[i];
	return NULL;
}

static inline void tu_log_dump(const struct tu_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		print_error("    log[%zu] %s%s%s: %s\n", i, log_level_name(l->e[i].lvl), l->e[i].event ? " " : "",
			    l->e[i].event ? l->e[i].event : "", l->e[i].msg);
}

/* ---- stderr capture ----------------------------------------------------- */

struct tu_capture {
	int saved;
	FILE *tmp;
};

static inline void tu_capture_begin(struct tu_capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Restore stderr; returns what was written to it (free it). */
static inline char *tu_capture_end(struct tu_capture *c)
{
	char *buf;
	long n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	fseek(c->tmp, 0, SEEK_END);
	n = ftell(c->tmp);
	if (n < 0)
		n = 0;
	rewind(c->tmp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	if (n > 0 && fread(buf, 1, (size_t)n, c->tmp) != (size_t)n)
		buf[0] = '\0';
	fclose(c->tmp);
	c->tmp = NULL;
	return buf;
}

/* ---- files -------------------------------------------------------------- */

static inline char *tu_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *tu_path(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		p = NULL;
	va_end(ap);
	assert_non_null(p);
	return p;
}

/* A fresh directory under $TMPDIR (or /tmp), kept short for socket paths. */
static inline char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (!base || !*base || strlen(base) > 40)
		base = "/tmp";
	p = tu_path("%s/ph-unit-XXXXXX", base);
	assert_non_null(mkdtemp(p));
	return p;
}

static inline int tu_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	chmod(path, 0700); /* a test may have made a directory unwritable */
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static inline void tu_rm_rf(const char *path)
{
	if (path)
		nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void tu_mkdir_p(const char *path)
{
	char *p = strdup(path);

	assert_non_null(p);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
	free(p);
}

/* Write content to path, creating its parent directories. */
static inline void tu_write_file(const char *path, const char *content)
{
	char *dir = strdup(path), *slash;
	FILE *f;

	assert_non_null(dir);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		tu_mkdir_p(dir);
	}
	free(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(content, f) >= 0 || !*content);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, or NULL if it cannot be read. */
static inline char *tu_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap += 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* ---- environment -------------------------------------------------------- */

static inline void tu_clear_env_prefix(const char *prefix)
{
	extern char **environ;
	size_t pl = strlen(prefix);

	for (;;) {
		char **e;
		for (e = environ; e && *e; e++)
			if (strncmp(*e, prefix, pl) == 0)
				break;
		if (!e || !*e)
			return;
		const char *eq = strchr(*e, '=');
		size_t nl = eq ? (size_t)(eq - *e) : strlen(*e);
		char *name = strndup(*e, nl);
		assert_non_null(name);
		unsetenv(name);
		free(name);
	}
}

/* ---- time and loops ----------------------------------------------------- */

static inline uint64_t tu_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Run loop until *counter reaches want or max_usec passes; true if reached. */
static inline bool tu_run_loop_until(sd_event *loop, const int *counter, int want, uint64_t max_usec)
{
	uint64_t end = tu_now_usec() + max_usec;

	while (*counter < want) {
		uint64_t now = tu_now_usec();
		if (now >= end)
			break;
		if (sd_event_run(loop, end - now) < 0)
			break;
	}
	return *counter >= want;
}

/* Run loop for usec, whatever happens. */
static inline void tu_run_loop_for(sd_event *loop, uint64_t usec)
{
	uint64_t end = tu_now_usec() + usec;

	for (uint64_t now = tu_now_usec(); now < end; now = tu_now_usec())
		if (sd_event_run(loop, end - now) < 0)
			break;
}

#endif
