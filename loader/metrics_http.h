/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sipka stats --listen: the metrics over HTTP, read from the maps at each
 * scrape, with libmicrohttpd. GET or HEAD /metrics: the Prometheus text
 * (prometheus.h) of the pin dir's sipka, sipka_up 0 when it is not loaded;
 * any other path 404, any other method 405. Bounded: a few threads, a
 * connection limit, a timeout and a memory limit per connection.
 */
#ifndef SIPKA_METRICS_HTTP_H
#define SIPKA_METRICS_HTTP_H

#include <sys/socket.h>

/* Serves PIN_DIR's metrics on ADDR (ADDRLEN; parse_listen) until SIGINT or
 * SIGTERM, phantoms those held CLOSE_WAIT_AFTER s: 0, or -errno (said:
 * cannot listen, cannot start). */
int metrics_serve(const char *pin_dir, unsigned int close_wait_after,
		  const struct sockaddr_storage *addr, socklen_t addrlen);

#endif
