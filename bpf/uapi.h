/* SPDX-License-Identifier: GPL-2.0 */
/* The UAPI constants BPF programs need that vmlinux.h (types only) lacks. */
#ifndef SIPKA_BPF_UAPI_H
#define SIPKA_BPF_UAPI_H

#define SOL_SOCKET	 1
#define SOL_TCP		 6
#define SO_KEEPALIVE	 9
#define TCP_KEEPIDLE	 4
#define TCP_KEEPINTVL	 5
#define TCP_KEEPCNT	 6
#define TCP_USER_TIMEOUT 18
#define ENOSPC		 28
#define EPIPE		 32
#define ECONNRESET	 104
#define AF_INET		 2
#define AF_INET6	 10

#endif
