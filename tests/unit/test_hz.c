// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "hz.h"
#include "unit.h"

/* The kernel's SO_RCVTIMEO at a given HZ (net/core/sock.c: sock_set_timeout,
 * sock_get_timeout), for a timeout of 0 s and USEC. */
static int model(void *ctx, long usec, struct timeval *back)
{
	const long hz = *(const long *)ctx;
	long jiffies;

	if (usec < 0 || usec >= 1000000)
		return -EDOM;
	jiffies = (usec + 1000000 / hz - 1) / (1000000 / hz);
	back->tv_sec = jiffies / hz;
	back->tv_usec = (jiffies % hz) * 1000000 / hz;
	return 0;
}

/* A socket that keeps nothing: no HZ explains it. */
static int forgetful(void *ctx, long usec, struct timeval *back)
{
	(void)ctx;
	(void)usec;
	back->tv_sec = 0;
	back->tv_usec = 0;
	return 0;
}

static int failing(void *ctx, long usec, struct timeval *back)
{
	(void)ctx;
	(void)usec;
	(void)back;
	return -ENOPROTOOPT;
}

TEST(hz_find_finds_every_hz_exactly)
{
	long hz, wrong = 0;

	for (hz = 1; hz <= 20000; hz++)
		if (hz_find(model, &hz) != hz && !wrong++)
			printf("    HZ %ld found as %d\n", hz, hz_find(model, &hz));
	CHECK(wrong == 0);
}

TEST(hz_find_refuses_what_no_hz_explains)
{
	CHECK(hz_find(forgetful, NULL) == -ERANGE);
	CHECK(hz_find(failing, NULL) == -ENOPROTOOPT);
}

/* CONFIG_HZ from the kernel's config file, or 0 when none can be read. */
static long config_hz(void)
{
	char path[300], line[256];
	struct utsname u;
	gzFile f = NULL;
	long hz = 0;

	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "r");
	}
	if (!f)
		f = gzopen("/proc/config.gz", "r");
	if (!f)
		return 0;
	while (!hz && gzgets(f, line, sizeof(line)))
		if (!strncmp(line, "CONFIG_HZ=", 10))
			hz = strtol(line + 10, NULL, 10);
	gzclose(f);
	return hz;
}

TEST(hz_measure_is_the_kernel_config_hz)
{
	long want = config_hz();
	int hz = hz_measure();

	if (want)
		CHECK(hz == want);
	else /* no config to compare with: one of the values Linux offers */
		CHECK(hz == 100 || hz == 250 || hz == 300 || hz == 1000);
}
