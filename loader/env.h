/* SPDX-License-Identifier: GPL-2.0 */
/* What sipka needs of the host: the privileges, and a BPF filesystem. */
#ifndef SIPKA_ENV_H
#define SIPKA_ENV_H

#include <stdbool.h>

/* Root, or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON; the pin dir PIN_DIR (or
 * where it will be made) on bpffs. Says what is missing and how to get it. */
int env_check(const char *pin_dir);
/* Whether this process may enter other network namespaces. */
bool env_can_setns(void);

#endif
