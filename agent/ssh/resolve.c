/* SPDX-License-Identifier: Apache-2.0 */
/* resolve.c — see resolve.h. */
#include "resolve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the thread and the loop share; whoever lets go last frees it. */
struct lookup {
	int refs;                /* atomic: 2 while both hold it */
	int done;                /* atomic: set by the thread before it signals */
	int gai;
	struct addrinfo *res;
	int wfd;                 /* the thread's end */
	char host[256], service[16];
};

struct resolve {
	struct lookup *l;
	int rfd;                 /* the loop's end */
};

static void lookup_put(struct lookup *l)
{
	if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (l->res)
		freeaddrinfo(l->res);
	free(l);
}

static void *run(void *arg)
{
	struct lookup *l = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	char b = 1;

	l->gai = getaddrinfo(l->host, l->service, &hints, &l->res);
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	/* The loop may have let go already: no SIGPIPE for that. */
	send(l->wfd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(l->wfd);
	lookup_put(l);
	return NULL;
}

int resolve_new(const char *host, unsigned port, struct resolve **ret)
{
	struct resolve *r = calloc(1, sizeof(*r));
	struct lookup *l = calloc(1, sizeof(*l));
	struct addrinfo numeric = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int sv[2], rc;

	*ret = NULL;
	if (!r || !l || strlen(host) >= sizeof(l->host)) {
		free(r);
		free(l);
		return r && l ? -ENAMETOOLONG : -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		rc = -errno;
		free(r);
		free(l);
		return rc;
	}
	snprintf(l->host, sizeof(l->host), "%s", host);
	snprintf(l->service, sizeof(l->service), "%u", port);
	l->refs = 2;
	l->wfd = sv[1];
	r->l = l;
	r->rfd = sv[0];
	/* An address needs no resolver (and most forwards name one): no thread. */
	if (getaddrinfo(l->host, l->service, &numeric, &l->res) == 0) {
		l->refs = 1;
		l->done = 1;
		send(l->wfd, &(char){ 1 }, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(l->wfd);
		*ret = r;
		return 0;
	}
	l->res = NULL;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals stay the loop's (sd-event reads them from a signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&t, &attr, run, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc < 0) {
		close(sv[0]);
		close(sv[1]);
		free(r);
		free(l);
		return rc;
	}
	*ret = r;
	return 0;
}

int resolve_fd(const struct resolve *r)
{
	return r->rfd;
}

bool resolve_done(const struct resolve *r, const struct addrinfo **res, int *gai)
{
	if (!__atomic_load_n(&r->l->done, __ATOMIC_ACQUIRE))
		return false;
	*res = r->l->res;
	*gai = r->l->gai;
	return true;
}

void resolve_free(struct resolve *r)
{
	if (!r)
		return;
	close(r->rfd);
	lookup_put(r->l);
	free(r);
}
