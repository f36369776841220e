// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "env.h"
#include "log.h"
#include "where.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static int caps(struct __user_cap_data_struct *d)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, sizeof(*d) * _LINUX_CAPABILITY_U32S_3);
	return syscall(SYS_capget, &h, d);
}

bool env_can_setns(void)
{
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	return !caps(d) && has_cap(d, CAP_SYS_ADMIN);
}

/* The fix in a container: the host's bpffs, not one of its own. */
static const char *in_container(void)
{
	return where_cgroupns() == WHERE_PRIVATE || where_pidns() == WHERE_PRIVATE ||
			       where_mntns() == WHERE_PRIVATE ?
		       "; in a container, " WHERE_FIX_BPFFS :
		       "";
}

int env_check(const char *pin_dir)
{
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	char parent[PATH_MAX], *slash;
	const char *missing = NULL;
	struct statfs fs;
	int err;

	if (caps(d))
		missing = "root";
	else if (!has_cap(d, CAP_SYS_ADMIN) && !has_cap(d, CAP_BPF))
		missing = "CAP_BPF";
	else if (!has_cap(d, CAP_SYS_ADMIN) && !has_cap(d, CAP_NET_ADMIN))
		missing = "CAP_NET_ADMIN";
	else if (!has_cap(d, CAP_SYS_ADMIN) && !has_cap(d, CAP_PERFMON))
		missing = "CAP_PERFMON (the program reads the socket's TCP state)";
	if (missing) {
		p_err("sipka needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON; this process lacks %s. Run it with sudo",
		      missing);
		return -EPERM;
	}
	/* The pin dir itself, or the directory it will be made in. */
	if (statfs(pin_dir, &fs)) {
		snprintf(parent, sizeof(parent), "%s", pin_dir);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		if (statfs(parent, &fs)) {
			err = -errno;
			p_err("%s: %s: the pin dir must be inside a BPF filesystem; mount one with 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf'%s",
			      parent, strerror(-err), in_container());
			return err;
		}
	}
	if (fs.f_type != BPF_FS_MAGIC) {
		p_err("%s is not on a BPF filesystem (bpffs is not mounted there); mount it with 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf', or choose another --pin-dir%s",
		      pin_dir, in_container());
		return -EMEDIUMTYPE;
	}
	return 0;
}
