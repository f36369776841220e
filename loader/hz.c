// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hz.h"

int hz_find(hz_roundtrip rt, void *ctx)
{
	struct timeval back;
	long tick, hz;
	int err;

	/* One microsecond is kept as one jiffy: its length comes back. */
	err = rt(ctx, 1, &back);
	if (err)
		return err;
	tick = back.tv_sec * 1000000L + back.tv_usec;
	if (tick < 1 || tick > 1000000)
		return -ERANGE;
	/* HZ is an H with 1000000 / H == tick: TICK * (H - 1) + 1 us is kept
	 * as H jiffies, which come back as 1 s only when H is HZ. */
	for (hz = 1000000 / tick; hz > 1000000 / (tick + 1); hz--) {
		err = rt(ctx, tick * (hz - 1) + 1, &back);
		if (err)
			return err;
		if (back.tv_sec == 1 && !back.tv_usec)
			return hz;
	}
	return -ERANGE;
}

static int socket_roundtrip(void *ctx, long usec, struct timeval *back)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = usec };
	socklen_t len = sizeof(*back);
	int fd = *(const int *)ctx;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, back, &len))
		return -errno;
	return len == sizeof(*back) ? 0 : -EINVAL;
}

int hz_measure(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int hz;

	if (fd < 0)
		return -errno;
	hz = hz_find(socket_roundtrip, &fd);
	close(fd);
	return hz;
}
