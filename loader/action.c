// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addclosefrom_np, _addchdir_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "clock.h"
#include "event.h"
#include "execenv.h"
#include "log.h"

#define KEPT_MAX 4096 /* bytes of an action's stdout, and of its stderr, kept for the log */
#define WHO_LEN	 96

/* An event waiting for its action. */
struct job {
	struct job *next;
	char *input; /* the event's JSON, a line */
	char **env;
	char who[WHO_LEN]; /* "peer ADDR:PORT", for the log */
};

/* What an action prints on one of its pipes. */
struct kept {
	int fd; /* -1 once at its end */
	size_t n;
	bool cut; /* more than KEPT_MAX: the rest was read and left out */
	char buf[KEPT_MAX + 1];
};

/* An action that runs. */
struct running {
	pid_t pid; /* and its process group */
	int pidfd;
	__u64 deadline_ns; /* CLOCK_MONOTONIC */
	unsigned int timeout_s;
	bool killed, termed;
	char prog[PATH_MAX];
	char who[WHO_LEN];
	struct kept out, err;
};

struct actions {
	pthread_t thread;
	pthread_mutex_t lock;
	int wake; /* eventfd: an event was queued, or stop */
	/* Under lock: */
	struct conf_events c;
	struct job *head, **tail;
	unsigned int queued;
	unsigned long long dropped, dropped_said;
	__u64 said_ns; /* CLOCK_MONOTONIC of the last count said */
	bool stopping;
	/* The thread's own: */
	struct running *run[SIPKA_EXEC_JOBS_MAX];
	unsigned int nrun;
};

static void job_free(struct job *j)
{
	free(j->input);
	exec_env_free(j->env);
	free(j);
}

static void wake(struct actions *a)
{
	__u64 one = 1;

	if (write(a->wake, &one, sizeof(one)) < 0) {
		/* The counter is full: the thread has been woken already. */
	}
}

/* "peer ADDR:PORT" of event E, for the log. */
static void who_of(const json_t *e, char *who)
{
	const char *addr = json_string_value(json_object_get(e, "remote_addr"));
	json_int_t port = json_integer_value(json_object_get(e, "remote_port"));

	if (!addr)
		addr = "?";
	snprintf(who, WHO_LEN, strchr(addr, ':') ? "peer [%s]:%lld" : "peer %s:%lld", addr,
		 (long long)port);
}

int actions_submit(struct actions *a, json_t *event)
{
	struct job *j = calloc(1, sizeof(*j));
	int ret = 0;

	if (j) {
		j->input = json_dumps(event, SIPKA_JSON_FLAGS);
		j->env = exec_env(event);
		who_of(event, j->who);
	}
	pthread_mutex_lock(&a->lock);
	if (!a->c.exec[0]) { /* no action (any more) */
		pthread_mutex_unlock(&a->lock);
		if (j)
			job_free(j);
		return 0;
	}
	if (!j || !j->input || !j->env || a->queued >= a->c.queue) {
		a->dropped++; /* out of memory counts too: said the same way */
		ret = 1;
	} else {
		*a->tail = j;
		a->tail = &j->next;
		a->queued++;
		j = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	if (j)
		job_free(j);
	if (!ret)
		wake(a);
	return ret;
}

/* The drops are said at most this often (a storm is one line per period in
 * the journal, not one per event), and once more at the end. */
#define DROPS_SAID_EVERY_NS (10 * 1000000000ULL)

/* Says how many events were dropped so far, if that grew: when ALWAYS, or
 * DROPS_SAID_EVERY_NS after the last time it was said. */
static void report(struct actions *a, bool always)
{
	__u64 now = clock_ns(CLOCK_MONOTONIC);
	unsigned long long dropped = 0;
	unsigned int queue;

	pthread_mutex_lock(&a->lock);
	if (a->dropped > a->dropped_said &&
	    (always || !a->said_ns || now - a->said_ns >= DROPS_SAID_EVERY_NS)) {
		dropped = a->dropped;
		a->dropped_said = a->dropped;
		a->said_ns = now;
	}
	queue = a->c.queue;
	pthread_mutex_unlock(&a->lock);
	if (dropped)
		p_info("warning: %llu events dropped so far without their action: the queue of %u events waiting for one was full (each event was printed all the same); raise --exec-queue (exec_queue), or --exec-jobs (exec_jobs) for a slow action",
		       dropped, queue);
}

void actions_report(struct actions *a)
{
	report(a, false);
}

/* Empties the queue (under lock): how many it held. */
static unsigned int queue_drop(struct actions *a)
{
	unsigned int n = a->queued;
	struct job *j;

	while ((j = a->head)) {
		a->head = j->next;
		job_free(j);
	}
	a->tail = &a->head;
	a->queued = 0;
	return n;
}

void actions_set(struct actions *a, const struct conf_events *c)
{
	unsigned int n = 0;

	pthread_mutex_lock(&a->lock);
	a->c = *c;
	if (!c->exec[0])
		n = queue_drop(a);
	pthread_mutex_unlock(&a->lock);
	if (n)
		p_info("warning: %u events queued for the action were not acted on: the action was removed",
		       n);
	wake(a);
}

/* Starts PROG for job J; NULL (said why) when it could not. */
static struct running *spawn(const char *prog, unsigned int timeout_s, const struct job *j)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, e;
	char *argv[] = { (char *)prog, NULL };
	posix_spawn_file_actions_t fa;
	struct running *r = NULL;
	size_t len = strlen(j->input);
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		p_info("warning: action %s (%s) not run: cannot make its pipes: %s", prog, j->who,
		       strerror(errno));
		goto out;
	}
	/* The event is written whole before the action starts (a pipe holds
	 * 64 KiB; an event is far less), so the action is never waited for. */
	if (fcntl(in[1], F_SETFL, O_NONBLOCK) || write(in[1], j->input, len) != (ssize_t)len ||
	    write(in[1], "\n", 1) != 1) {
		p_info("warning: action %s (%s) not run: cannot write its input: %s", prog, j->who,
		       strerror(errno));
		goto out;
	}
	close(in[1]);
	in[1] = -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawn_file_actions_addchdir_np(&fa, "/");
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	/* Its own process group (killed whole at its time limit), every
	 * signal at its default and none blocked. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	e = posix_spawn(&pid, prog, &fa, &attr, argv, j->env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e) {
		p_info("warning: action %s (%s) not run: %s", prog, j->who, strerror(e));
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (!r || r->pidfd < 0) {
		p_info("warning: action %s (%s) killed: %s", prog, j->who,
		       r ? strerror(errno) : "out of memory");
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		free(r);
		r = NULL;
		goto out;
	}
	r->pid = pid;
	r->timeout_s = timeout_s;
	r->deadline_ns = clock_ns(CLOCK_MONOTONIC) + timeout_s * 1000000000ULL;
	snprintf(r->prog, sizeof(r->prog), "%s", prog);
	snprintf(r->who, sizeof(r->who), "%s", j->who);
	r->out.fd = out[0];
	r->err.fd = err[0];
	out[0] = err[0] = -1;
	fcntl(r->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(r->err.fd, F_SETFL, O_NONBLOCK);
out:
	for (e = 0; e < 2; e++) {
		if (in[e] >= 0)
			close(in[e]);
		if (out[e] >= 0)
			close(out[e]);
		if (err[e] >= 0)
			close(err[e]);
	}
	return r;
}

/* Reads what K's pipe holds now, keeping the first KEPT_MAX bytes. */
static void kept_read(struct kept *k)
{
	char buf[4096];
	ssize_t n;
	size_t room;

	while (k->fd >= 0) {
		n = read(k->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* its end (or an error: the same for the log) */
			close(k->fd);
			k->fd = -1;
			return;
		}
		room = KEPT_MAX - k->n;
		if ((size_t)n > room)
			k->cut = true;
		memcpy(k->buf + k->n, buf, (size_t)n < room ? (size_t)n : room);
		k->n += (size_t)n < room ? (size_t)n : room;
	}
}

/* K's text on one line, into LINE (3 x KEPT_MAX + 1 bytes): its lines
 * joined with " | ". */
static const char *kept_line(struct kept *k, char *line)
{
	size_t i, n = 0;

	while (k->n && (k->buf[k->n - 1] == '\n' || k->buf[k->n - 1] == '\r'))
		k->n--;
	for (i = 0; i < k->n; i++) {
		if (k->buf[i] == '\n') {
			memcpy(line + n, " | ", 3);
			n += 3;
		} else if (k->buf[i] != '\r') {
			line[n++] = k->buf[i] ? k->buf[i] : ' ';
		}
	}
	line[n] = '\0';
	return line;
}

/* The action R ended (its pidfd is readable): reaped and logged. */
static void finish(struct running *r)
{
	char *line, *save = NULL, how[96], joined[3 * KEPT_MAX + 1];
	const char *err;
	int status = 0;

	kept_read(&r->out); /* what it wrote before it ended */
	kept_read(&r->err);
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Its standard output, line by line: what it did, for the journal. */
	r->out.buf[r->out.n] = '\0';
	for (line = strtok_r(r->out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		p_info("action %s (%s): %s", r->prog, r->who, line);
	if (r->out.cut)
		p_info("action %s (%s): (its output was longer than %d bytes: the rest is left out)",
		       r->prog, r->who, KEPT_MAX);
	if (r->killed)
		snprintf(
			how, sizeof(how),
			"did not end within %u s and was killed (raise --exec-timeout, exec_timeout)",
			r->timeout_s);
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		how[0] = '\0';
	if (how[0]) {
		err = kept_line(&r->err, joined);
		p_info("warning: action %s (%s) %s; its stderr: %s%s", r->prog, r->who, how,
		       *err ? err : "(empty)", r->err.cut ? " (cut)" : "");
	}
	if (r->out.fd >= 0)
		close(r->out.fd);
	if (r->err.fd >= 0)
		close(r->err.fd);
	close(r->pidfd);
	free(r);
}

/* Starts what the queue and the bound allow; false once stopped and idle. */
static bool start_jobs(struct actions *a)
{
	char prog[PATH_MAX];
	unsigned int timeout_s, dropped;
	struct job *j;
	bool go;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		if (a->stopping && a->head) {
			dropped = queue_drop(a);
			pthread_mutex_unlock(&a->lock);
			p_info("warning: %u events queued for the action were not acted on: sipka events is stopping",
			       dropped);
			continue;
		}
		go = !a->stopping || a->nrun;
		j = a->nrun < a->c.jobs && a->nrun < SIPKA_EXEC_JOBS_MAX ? a->head : NULL;
		if (j) {
			a->head = j->next;
			if (!a->head)
				a->tail = &a->head;
			a->queued--;
			snprintf(prog, sizeof(prog), "%s", a->c.exec);
			timeout_s = a->c.timeout_s;
		}
		pthread_mutex_unlock(&a->lock);
		if (!j)
			return go;
		a->run[a->nrun] = spawn(prog, timeout_s, j);
		if (a->run[a->nrun])
			a->nrun++;
		job_free(j);
	}
}

static void *worker(void *arg)
{
	struct pollfd pfd[1 + 3 * SIPKA_EXEC_JOBS_MAX];
	struct actions *a = arg;
	struct running *r;
	unsigned int i, n;
	__u64 now, next;
	bool stopping;
	int timeout;

	while (start_jobs(a)) {
		pthread_mutex_lock(&a->lock);
		stopping = a->stopping;
		pthread_mutex_unlock(&a->lock);
		for (i = 0; stopping && i < a->nrun; i++)
			if (!a->run[i]->termed) { /* as systemd stops a unit: SIGTERM first */
				kill(-a->run[i]->pid, SIGTERM);
				a->run[i]->termed = true;
			}
		pfd[0] = (struct pollfd){ .fd = a->wake, .events = POLLIN };
		n = 1;
		next = 0;
		for (i = 0; i < a->nrun; i++) {
			r = a->run[i];
			pfd[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = r->out.fd, .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = r->err.fd, .events = POLLIN };
			if (!r->killed && (!next || r->deadline_ns < next))
				next = r->deadline_ns;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		timeout = !next ? -1 : next <= now ? 0 : (int)((next - now) / 1000000 + 1);
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break; /* cannot happen with valid fds */
		if (pfd[0].revents) {
			__u64 count;

			if (read(a->wake, &count, sizeof(count)) < 0) {
				/* nothing to read: woken already */
			}
		}
		now = clock_ns(CLOCK_MONOTONIC);
		for (i = 0; i < a->nrun;) {
			r = a->run[i];
			kept_read(&r->out);
			kept_read(&r->err);
			if (pfd[1 + 3 * i].revents) {
				finish(r);
				/* Keep the pollfd indices of the rest: shift both. */
				memmove(&a->run[i], &a->run[i + 1],
					(a->nrun - i - 1) * sizeof(a->run[0]));
				memmove(&pfd[1 + 3 * i], &pfd[1 + 3 * (i + 1)],
					3 * (a->nrun - i - 1) * sizeof(pfd[0]));
				a->nrun--;
				continue;
			}
			if (!r->killed && now >= r->deadline_ns) {
				kill(-r->pid, SIGKILL); /* the whole group: what it started too */
				r->killed = true;
			}
			i++;
		}
	}
	return NULL;
}

struct actions *actions_start(const struct conf_events *c)
{
	struct actions *a = calloc(1, sizeof(*a));
	sigset_t block, old;
	int e;

	if (!a) {
		p_err("out of memory");
		return NULL;
	}
	a->c = *c;
	a->tail = &a->head;
	pthread_mutex_init(&a->lock, NULL);
	a->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->wake < 0) {
		p_err("cannot start the actions: eventfd: %s", strerror(errno));
		free(a);
		return NULL;
	}
	/* The signals stay the reader's: its thread is the one they stop. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	e = pthread_create(&a->thread, NULL, worker, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		p_err("cannot start the actions' thread: %s", strerror(e));
		close(a->wake);
		free(a);
		return NULL;
	}
	return a;
}

void actions_stop(struct actions *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_mutex_unlock(&a->lock);
	wake(a);
	pthread_join(a->thread, NULL);
	report(a, true);
	close(a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
