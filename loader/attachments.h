/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where sipka runs: its pinned links (link-<cgroup id>), and direct
 * attachments of its program made by bpftool or systemd's BPFProgram=.
 * The one enumerator every command uses.
 */
#ifndef SIPKA_ATTACHMENTS_H
#define SIPKA_ATTACHMENTS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

#include "pindir.h"
#include "state.h"

struct attachment {
	char cgroup[PATH_MAX]; /* its path, or "(cgroup id N is gone)" */
	__u64 cgroup_id;
	bool via_link;
	char pin[PATH_MAX]; /* the link's pin, "" if direct */
	__u32 link_id, prog_id;
	bool defunct; /* a link whose cgroup was removed */
};

struct attachments {
	struct attachment *a;
	int n;
	int foreign; /* link-N pins that are not sipka's links */
};

/* Every attachment of a program of O. A link-N pin that is not a link of
 * a sipka program is left alone and reported (unless QUIET). */
int attachments_list(const struct pindir *pd, const struct ours *o, struct attachments *out,
		     bool quiet);
void attachments_free(struct attachments *as);

/* Puts program NEW_FD in place of the one A runs. */
int attachment_replace(const struct attachment *a, int new_fd);
/* Detaches A, and unpins its link. */
int attachment_detach(const struct pindir *pd, const struct attachment *a);

/*
 * Other sock_ops programs whose runs on CGROUP's sockets meet sipka's: any
 * program attached to CGROUP or an ancestor that is not PROG_ID. The
 * kernel runs a descendant's programs first, its ancestors' last, so the
 * last one to set a keepalive option wins. Says so on stderr (unless
 * QUIET) and returns them as a JSON array. NESTED gets whether the same
 * sipka runs twice on these sockets (attached here and on an ancestor).
 */
json_t *attachments_others(const char *cgroup, const struct ours *o, bool *nested, bool quiet);

#endif
