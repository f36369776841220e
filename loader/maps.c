// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"

int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

__u32 obj_id(int fd)
{
	struct bpf_map_info info; /* every info starts with type, then id */

	return map_info(fd, &info) ? 0 : info.id;
}

__u32 map_value_size(int fd)
{
	struct bpf_map_info info;

	return map_info(fd, &info) ? 0 : info.value_size;
}

int array_read(int fd, __u32 entries, size_t vsize, void *out)
{
	enum { CHUNK = 4096 };
	__u32 keys[CHUNK], pos, n, done = 0;
	void *from = NULL;
	int err;

	/* An array walks its keys in order: batch after batch fills OUT. */
	while (done < entries) {
		n = entries - done < CHUNK ? entries - done : CHUNK;
		err = bpf_map_lookup_batch(fd, from, &pos, keys, (char *)out + (size_t)done * vsize,
					   &n, NULL);
		done += n;
		if (err && errno != ENOENT)
			return -errno;
		if (err || !n) /* ENOENT: that was the last batch */
			break;
		from = &pos; /* on from where this batch left off */
	}
	return done < entries ? -EIO : 0;
}

void fds_close(int *const *each, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (*each[i] >= 0)
			(void)close(*each[i]);
		*each[i] = -1;
	}
}
