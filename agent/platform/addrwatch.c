/* SPDX-License-Identifier: Apache-2.0 */
/* addrwatch.c — see addrwatch.h. */
#include "addrwatch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct addrwatch {
	int fd;
	sd_event_source *io;
	void (*changed)(void *ud);
	void *ud;
};

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct addrwatch *w = ud;
	char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
	bool any = false;
	(void)s;
	(void)revents;

	/* Drain everything queued, then report once: one change of address
	 * arrives as several messages. */
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			any = true; /* messages were lost: assume a change */
			continue;
		}
		if (n <= 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR)
				any = true;
	}
	if (any)
		w->changed(w->ud);
	return 0;
}

int addrwatch_new(sd_event *loop, void (*changed)(void *ud), void *ud, struct addrwatch **out)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	struct addrwatch *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->changed = changed;
	w->ud = ud;
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		addrwatch_free(w);
		return rc;
	}
	rc = sd_event_add_io(loop, &w->io, w->fd, EPOLLIN, on_readable, w);
	if (rc < 0) {
		addrwatch_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void addrwatch_free(struct addrwatch *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->io);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
