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

#include "ours.h"
#include "pindir.h"

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
	int foreign;		  /* link-N pins that are not sipka's links */
	char (*foreign_pin)[256]; /* their names */
	struct ours ours;	  /* what made a program sipka's */
};

/* Every attachment of a program of sipka's in pin dir PD. A link-N pin
 * that is not a link of a sipka program is left alone and counted. */
int attachments_list(const struct pindir *pd, struct attachments *out);
/* Says on stderr which link-N pins of AS are not sipka's (left alone). */
void attachments_warn_foreign(const struct pindir *pd, const struct attachments *as);
void attachments_free(struct attachments *as);

/* Puts program NEW_FD in place of the one A runs. */
int attachment_replace(const struct attachment *a, int new_fd);
/* Detaches A, and unpins its link. */
int attachment_detach(const struct attachment *a);

/*
 * Other sock_ops programs whose runs on CGROUP's sockets meet sipka's: any
 * program attached to CGROUP or an ancestor that is not one of O's, as a
 * JSON array ({prog_id, name, cgroup, runs}). The kernel runs a
 * descendant's programs first, its ancestors' last, so the last one to set
 * a keepalive option wins. NESTED gets whether the same sipka runs twice on
 * these sockets (attached here and on an ancestor).
 */
json_t *attachments_others(const char *cgroup, const struct ours *o, bool *nested);
/* Says on stderr what each of OTHERS (from attachments_others) does to
 * sipka's settings on CGROUP's sockets. */
void attachments_warn_others(const char *cgroup, json_t *others);

#endif
