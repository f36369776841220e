// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "log.h"
#include "metrics_http.h"
#include "prometheus.h"
#include "signals.h"
#include "stats_read.h"

/* The bounds: threads answering, connections at once (new ones wait in the
 * listen backlog), seconds a connection may stay idle, and the memory each
 * may use for its request (a larger request line or header is refused).
 * libmicrohttpd counts a connection idle while its request waits for a
 * thread busy with other scrapes: at 10 s, fifty clients at once on a
 * starved machine (10 % of a CPU; an emulated arm64) had requests closed
 * without an answer. A scraper gives up by its own timeout first. */
#define HTTP_THREADS	  2
#define HTTP_CONNECTIONS  64
#define HTTP_TIMEOUT	  60
#define HTTP_CONN_MEMORY  (32 * 1024)
#define HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The sockets are walked for the phantoms gauge at most every this many
 * seconds, however often it is scraped: a walk costs a BPF iterator's load
 * and a pass over every socket (bench/RESULTS.md). */
#define HTTP_WALK_EVERY 10

struct server {
	const char *pin_dir;
	/* One scrape reads the maps at a time: attachments_list walks the cgroup
	 * tree with state of its own, and the reading is a few milliseconds. */
	pthread_mutex_t lock;
	bool said; /* "not loaded" said (metrics_read) */
	struct metrics m;
};

/* The metrics now, as text (free() it), or NULL when out of memory. */
static char *scrape(struct server *srv, size_t *len)
{
	char *text;

	pthread_mutex_lock(&srv->lock);
	metrics_read(srv->pin_dir, &srv->m, &srv->said); /* what is known, said why not more */
	text = prometheus_text(srv->m.rows, srv->m.n, &srv->m.h, len);
	pthread_mutex_unlock(&srv->lock);
	return text;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO; /* closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status, const char *text)
{
	return reply(c, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8");
}

/* MHD calls this when the request's headers are in, then with each piece of
 * its body, then once more at its end. A refusal is answered at once (MHD
 * then closes the connection, the body unread); a scrape at the end, so the
 * connection can be kept alive. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static int started;
	size_t len = 0;
	char *text;

	(void)version;
	(void)upload_data;
	if (strcmp(url, "/metrics"))
		return answer(c, MHD_HTTP_NOT_FOUND, "Not found: sipka serves /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed: GET or HEAD\n");
	if (!*con_cls) {
		*con_cls = &started;
		return MHD_YES;
	}
	if (*upload_data_size) { /* a body to a GET means nothing: dropped as it comes */
		*upload_data_size = 0;
		return MHD_YES;
	}
	text = scrape(cls, &len);
	if (!text)
		return answer(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n");
	return reply(c, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE, HTTP_CONTENT_TYPE);
}

/* ADDR as people write it: 127.0.0.1:9560, [::1]:9560. */
static void addr_name(const struct sockaddr_storage *addr, char *buf, size_t len)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;
	char ip[INET6_ADDRSTRLEN];

	if (addr->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a6->sin6_port));
	} else {
		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a4->sin_port));
	}
}

/* The listening socket, made here so that a failure says why: an fd, or -errno (said). */
static int listen_on(const struct sockaddr_storage *addr, socklen_t addrlen, char *name, size_t len)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, one = 1, err;

	addr_name(addr, name, len);
	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)addr, addrlen) || listen(fd, SOMAXCONN) ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen)) {
		err = errno;
		p_err("cannot listen on %s: %s%s", name, strerror(err),
		      err == EADDRINUSE	   ? " (another process has the port: pick another)" :
		      err == EADDRNOTAVAIL ? " (no interface has that address)" :
					     "");
		if (fd >= 0)
			close(fd);
		return -err;
	}
	addr_name(&bound, name, len); /* port 0: the one the kernel chose */
	return fd;
}

int metrics_serve(const char *pin_dir, unsigned int close_wait_after,
		  const struct sockaddr_storage *addr, socklen_t addrlen)
{
	struct server *srv = calloc(1, sizeof(*srv));
	struct MHD_Daemon *d = NULL;
	char name[INET6_ADDRSTRLEN + 16];
	sigset_t old;
	int fd, err = 0;

	if (!srv) {
		p_err("out of memory");
		return -ENOMEM;
	}
	srv->pin_dir = pin_dir;
	srv->m.close_wait_after = close_wait_after;
	srv->m.walk_every = HTTP_WALK_EVERY;
	srv->m.nphantoms = -1;
	pthread_mutex_init(&srv->lock, NULL);
	/* Without the privileges no scrape could ever read the maps: say so now. */
	err = env_check(pin_dir);
	if (err)
		goto out;
	fd = listen_on(addr, addrlen, name, sizeof(name));
	if (fd < 0) {
		err = fd;
		goto out;
	}
	stop_on_signals();
	block_stop_signals(&old); /* MHD's threads inherit the mask */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
			     on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
			     MHD_OPTION_END);
	if (!d) {
		err = errno ? -errno : -EIO;
		p_err("cannot start the HTTP server (libmicrohttpd) on %s: %s", name,
		      strerror(-err));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		close(fd);
		goto out;
	}
	p_info("serving the metrics on http://%s/metrics until SIGINT or SIGTERM", name);
	wait_for_stop(&old);
	MHD_stop_daemon(d); /* closes the connections and the listening socket */
out:
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return err;
}
