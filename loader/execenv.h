/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an event's action (sipka events --exec) is given, and whether it may
 * run at all. Pure: no BPF, no CLI globals, no log (the reasons go into a
 * buffer); unit-tested. The runner is action.c.
 */
#ifndef SIPKA_EXECENV_H
#define SIPKA_EXECENV_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>

/* The PATH an action gets: root's, nothing from sipka's own environment. */
#define EXEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The environment of an action for the event OBJ (a JSON object, as -j
 * events prints it): PATH=EXEC_PATH, then SIPKA_<KEY>=value for each key of
 * OBJ, the key upper-cased and any byte other than a letter or digit made
 * '_' (remote_addr: SIPKA_REMOTE_ADDR). A string is its text, a number as
 * JSON writes it, true/false 1/0, null empty, an object or array its
 * compact JSON. A NULL-terminated array for execve(), freed with
 * exec_env_free(); NULL when out of memory or OBJ is not an object. */
char **exec_env(const json_t *obj);
void exec_env_free(char **env);

/* Whether PROG may run as root, as sudo and cron trust their files: PROG
 * (symbolic links resolved) is a regular file, executable, owned by root and
 * writable by no one else, and so is every directory above it, up to /, and
 * above the link where PROG is one. Returns 0 with the resolved path in
 * REAL (PATH_MAX bytes), or -1 with WHY saying what is wrong and the fix. */
int exec_trusted(const char *prog, char *real, char *why, size_t len);

#endif
