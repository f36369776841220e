// SPDX-License-Identifier: GPL-2.0
/*
 * What a connection costs a PBX: serial request/response churn on loopback.
 * Per connection: connect; the server accepts and closes first; the client
 * reads EOF and closes. Every arm is a process of its own, in its own cgroup
 * and network namespace (with its own TCP hash table, so one arm's TIME_WAIT
 * sockets do not lengthen another's lookups), and the arms take turns in
 * batches of BATCH connections, in a new random order every round, so all
 * see the same machine.
 *
 * Per batch an arm measures its own CPU time (CLOCK_PROCESS_CPUTIME_ID: the
 * system calls and, on a kernel without CONFIG_IRQ_TIME_ACCOUNTING, the
 * loopback softirq work done on its behalf), its wall time, and the run time the
 * kernel's BPF statistics give the sock_ops programs in effect on its
 * listener's cgroup. Rounds run first with BPF statistics off (CPU and rate:
 * the statistics add two clock reads to every program run), then with
 * them on (the programs' run time).
 *
 * Usage: churn [-r ROUNDS] [-s STATS_ROUNDS] [-b BATCH] [-w WARMUP] [-c CPU]
 *              [-o RAW_FILE] ARM...
 *   -c CPU  every arm on that CPU only; -o every round's figures to RAW_FILE
 *   ARM = NAME:CGROUP:CLIENT_CGROUP:PORT:SETSOCKOPT:DELAY_NS
 *   CGROUP         where the listener (so every accepted socket) is made
 *   CLIENT_CGROUP  where the client sockets are made: CGROUP for both ends
 *                  in it, another one for "server end only"
 *   SETSOCKOPT     none | both | server: the process sets keepalive itself
 *                  (SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT, TCP_USER_TIMEOUT)
 *   DELAY_NS       a busy-wait added to every connection (the check that
 *                  the benchmark sees a known cost); 0 for none
 * Arms named none, user, user-srv, bare, sipka, sipka-srv, return, norule,
 * delay2 and delay5 feed the summary: the targets of issue 12. An arm named
 * ref (another build of sipka, bench/run's SIPKA_BENCH_REF) is set beside sipka.
 */
#include "common.h" /* first: it asks for _GNU_SOURCE */

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define MAX_ARMS  16
#define MAX_PROGS 64
#define BOOT	  2000 /* bootstrap resamples */

struct arm {
	char name[32];
	const char *cg, *client_cg;
	int port, user; /* user: 0 none, 1 both ends, 2 server end */
	long delay_ns;
	pid_t pid;
	int cmd, res;			       /* pipes to and from its process */
	double *cpu, *rate, *bpf, *runs, *csw; /* per round: us/conn, conn/s, ns/conn, runs/conn,
						   context switches/conn */
	int nprogs;
};

/* One batch's figures, from an arm's process. */
struct batch {
	double cpu_ns, wall_ns, bpf_ns, bpf_cnt, csw;
	int nprogs;
};

static int batch = 200;

static double ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void write_sysctl(const char *path, long v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%ld\n", v) < 0 || fclose(f))
		die(path);
}

/* A network namespace with its own TCP hash table (sized by the parent
 * namespace's tcp_child_ehash_entries, so through a throwaway one), room for
 * every TIME_WAIT socket of the run, and loopback up. */
static void own_netns(void)
{
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
	write_sysctl("/proc/sys/net/ipv4/tcp_child_ehash_entries", 1 << 18);
	private_loopback(); /* the namespace the arm keeps */
	write_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets", 1 << 19);
}

/* The sock_ops programs in effect on cgroup CG (attached there or above). */
static int effective_progs(const char *cg, int *fds)
{
	__u32 ids[MAX_PROGS], cnt = MAX_PROGS, flags = 0, i;
	int cgfd = open(cg, O_RDONLY | O_DIRECTORY);

	if (cgfd < 0 ||
	    bpf_prog_query(cgfd, BPF_CGROUP_SOCK_OPS, BPF_F_QUERY_EFFECTIVE, &flags, ids, &cnt))
		die("querying the cgroup's sock_ops programs");
	close(cgfd);
	for (i = 0; i < cnt; i++)
		if ((fds[i] = bpf_prog_get_fd_by_id(ids[i])) < 0)
			die("bpf_prog_get_fd_by_id");
	return cnt;
}

static void prog_stats(const int *fds, int n, double *ns, double *cnt)
{
	struct bpf_prog_info info;
	__u32 len;
	int i;

	*ns = *cnt = 0;
	for (i = 0; i < n; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			die("prog info");
		*ns += info.run_time_ns;
		*cnt += info.run_cnt;
	}
}

static void keepalive(int fd)
{
	int one = 1, idle = 60, intvl = 10, cnt = 3, ut = 90000;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)))
		die("setsockopt");
}

/* An arm's process: waits for 'r', runs a batch, sends its figures. */
static void arm_main(const struct arm *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(a->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double cpu0, wall0, ns0, cnt0, ns1, cnt1, t;
	int lst, c, s, i, one = 1, fds[MAX_PROGS], nfds;
	struct rusage ru0, ru1;
	struct batch b;
	char cmd, x;

	join_cgroup(a->cg);
	own_netns();
	lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lst < 0 || bind(lst, (void *)&sa, sizeof(sa)) || listen(lst, 128))
		die("listen");
	/* Sockets belong to the cgroup of the process that makes them; an
	 * accepted one to its listener's. */
	if (strcmp(a->cg, a->client_cg))
		join_cgroup(a->client_cg);
	nfds = effective_progs(a->cg, fds);
	while (read(a->cmd, &cmd, 1) == 1 && cmd == 'r') {
		prog_stats(fds, nfds, &ns0, &cnt0);
		getrusage(RUSAGE_SELF, &ru0);
		cpu0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
		wall0 = ns_of(CLOCK_MONOTONIC);
		for (i = 0; i < batch; i++) {
			c = socket(AF_INET, SOCK_STREAM, 0);
			if (c < 0 || connect(c, (void *)&sa, sizeof(sa)))
				die("connect");
			if (a->user == 1)
				keepalive(c);
			s = accept(lst, NULL, NULL);
			if (s < 0)
				die("accept");
			if (a->user)
				keepalive(s);
			close(s);
			if (read(c, &x, 1) != 0) /* the server's FIN */
				die("reading EOF");
			close(c);
			if (a->delay_ns)
				for (t = ns_of(CLOCK_MONOTONIC);
				     ns_of(CLOCK_MONOTONIC) - t < a->delay_ns;)
					;
		}
		b.wall_ns = ns_of(CLOCK_MONOTONIC) - wall0;
		b.cpu_ns = ns_of(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
		getrusage(RUSAGE_SELF, &ru1);
		b.csw = ru1.ru_nvcsw + ru1.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw;
		prog_stats(fds, nfds, &ns1, &cnt1);
		b.bpf_ns = ns1 - ns0;
		b.bpf_cnt = cnt1 - cnt0;
		b.nprogs = nfds;
		if (write(a->res, &b, sizeof(b)) != sizeof(b))
			die("pipe");
	}
	exit(0);
}

static void parse_arm(struct arm *a, char *spec)
{
	char *f[6], *save = NULL;
	int i;

	for (i = 0; i < 6; i++)
		if (!(f[i] = strtok_r(i ? NULL : spec, ":", &save)))
			break;
	if (i != 6 || strlen(f[0]) >= sizeof(a->name)) {
		fprintf(stderr,
			"churn: bad arm (NAME:CGROUP:CLIENT_CGROUP:PORT:SETSOCKOPT:DELAY_NS)\n");
		exit(2);
	}
	strcpy(a->name, f[0]);
	a->cg = f[1];
	a->client_cg = f[2];
	a->port = atoi(f[3]);
	a->user = !strcmp(f[4], "both") ? 1 : !strcmp(f[4], "server") ? 2 : 0;
	a->delay_ns = atol(f[5]);
}

static void start(struct arm *a, int rounds)
{
	int cmd[2], res[2];

	if (pipe(cmd) || pipe(res))
		die("pipe");
	a->cpu = calloc(rounds, sizeof(double));
	a->rate = calloc(rounds, sizeof(double));
	a->bpf = calloc(rounds, sizeof(double));
	a->runs = calloc(rounds, sizeof(double));
	a->csw = calloc(rounds, sizeof(double));
	a->pid = fork();
	if (a->pid < 0)
		die("fork");
	if (!a->pid) {
		close(cmd[1]);
		close(res[0]);
		a->cmd = cmd[0];
		a->res = res[1];
		arm_main(a);
	}
	close(cmd[0]);
	close(res[1]);
	a->cmd = cmd[1];
	a->res = res[0];
}

static struct batch run_batch(struct arm *a)
{
	struct batch b;

	if (write(a->cmd, "r", 1) != 1 || read(a->res, &b, sizeof(b)) != sizeof(b)) {
		fprintf(stderr, "churn: arm %s failed\n", a->name);
		exit(2);
	}
	return b;
}

/* Runs ROUNDS rounds, every arm once a round in a random order. STATS: the
 * BPF run time goes to bpf/runs, else CPU time and rate to cpu/rate. */
static void rounds_of(struct arm *arms, int n, int rounds, int warmup, bool stats)
{
	int r, i, j, k, order[MAX_ARMS];
	struct batch b;

	for (r = -warmup; r < rounds; r++) {
		for (i = 0; i < n; i++)
			order[i] = i;
		for (i = n - 1; i > 0; i--) {
			j = random() % (i + 1);
			k = order[i], order[i] = order[j], order[j] = k;
		}
		for (i = 0; i < n; i++) {
			struct arm *a = &arms[order[i]];

			b = run_batch(a);
			a->nprogs = b.nprogs;
			if (r < 0)
				continue;
			if (stats) {
				a->bpf[r] = b.bpf_ns / batch;
				a->runs[r] = b.bpf_cnt / batch;
			} else {
				a->cpu[r] = b.cpu_ns / 1e3 / batch;
				a->rate[r] = batch / (b.wall_ns / 1e9);
				a->csw[r] = b.csw / batch;
			}
		}
	}
}

/* Quantile Q of N values, leaving V as it was. */
static double q_of(const double *v, int n, double q)
{
	double *w = malloc(n * sizeof(*w)), x;

	memcpy(w, v, n * sizeof(*w));
	x = quantile(w, n, q);
	free(w);
	return x;
}

static struct arm *find(struct arm *arms, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(arms[i].name, name))
			return &arms[i];
	return NULL;
}

/* Per round, A's value minus B's (B NULL: A's own) or A's over B's (RATIO). */
static void paired(const double *a, const double *b, int n, bool ratio, double *out)
{
	int i;

	for (i = 0; i < n; i++)
		out[i] = !b ? a[i] : ratio ? a[i] / b[i] : a[i] - b[i];
}

/*
 * median(X - BASE) / median(Y - BASE) over rounds (BASE NULL: of X and Y
 * themselves), with a 95 % bootstrap interval that resamples whole rounds
 * (keeping each round's arms together).
 */
static double ratio_ci(const double *x, const double *y, const double *base, int n, double *lo,
		       double *hi)
{
	double *dx = malloc(n * sizeof(double)), *dy = malloc(n * sizeof(double));
	double *sx = malloc(n * sizeof(double)), *sy = malloc(n * sizeof(double));
	double boot[BOOT], r;
	int i, k, j;

	paired(x, base, n, false, dx);
	paired(y, base, n, false, dy);
	r = q_of(dx, n, 0.5) / q_of(dy, n, 0.5);
	for (k = 0; k < BOOT; k++) {
		for (i = 0; i < n; i++) {
			j = random() % n;
			sx[i] = dx[j];
			sy[i] = dy[j];
		}
		boot[k] = quantile(sx, n, 0.5) / quantile(sy, n, 0.5);
	}
	*lo = quantile(boot, BOOT, 0.025);
	*hi = quantile(boot, BOOT, 0.975);
	free(dx), free(dy), free(sx), free(sy);
	return r;
}

static void target(const char *what, double r, double lo, double hi, bool at_most, double bound)
{
	bool pass = at_most ? r <= bound : r >= bound;

	printf("  %-58s %6.2fx  (95%% CI %.2f-%.2f)  target %s %.2fx: %s\n", what, r, lo, hi,
	       at_most ? "<=" : ">=", bound, pass ? "PASS" : "MISS");
}

static void no_target(const char *what, double r, double lo, double hi)
{
	printf("  %-58s %6.2fx  (95%% CI %.2f-%.2f)  (no target)\n", what, r, lo, hi);
}

static const char *label(const char *name)
{
	static const char *const l[][2] = {
		{ "none", "no program, no keepalive" },
		{ "none2", "the same again (A/A: the resolution)" },
		{ "delay2", "none + 2 us busy-wait per connection" },
		{ "delay5", "none + 5 us busy-wait per connection" },
		{ "user", "user space: 5 setsockopt, both ends" },
		{ "user-srv", "user space: 5 setsockopt, server end" },
		{ "bare", "bare program (bare.bpf.c), both ends" },
		{ "bare-srv", "bare program, server end only" },
		{ "sipka", "sipka, both ends armed" },
		{ "sipka-srv", "sipka, server end only armed" },
		{ "return", "program that only returns, both ends" },
		{ "norule", "sipka, port without a rule, both ends" },
		{ "ref", "reference build, both ends armed" },
	};
	size_t i;

	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if (!strcmp(l[i][0], name))
			return l[i][1];
	return name;
}

int main(int argc, char **argv)
{
	int rounds = 300, stats_rounds = 100, warmup = 3, n = 0, i, o, stats_fd;
	struct arm arms[MAX_ARMS], *none, *a, *b;
	double *d, lo, hi, r;
	bool none_progs = false;
	const char *raw = NULL;
	int cpu = -1;
	FILE *f;

	while ((o = getopt(argc, argv, "r:s:b:w:c:o:")) != -1) {
		switch (o) {
		case 'c': cpu = atoi(optarg); break;
		case 'o': raw = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		case 's': stats_rounds = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (optind >= argc || argc - optind > MAX_ARMS || rounds < 2 || stats_rounds < 2 ||
	    batch < 1)
		goto usage;
	for (i = optind; i < argc; i++)
		parse_arm(&arms[n++], argv[i]);
	if (!(none = find(arms, n, "none"))) {
		fprintf(stderr, "churn: an arm named none is the baseline\n");
		return 2;
	}
	srandom(12);
	signal(SIGPIPE, SIG_IGN);
	if (cpu >= 0) { /* the arms inherit it */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("sched_setaffinity");
	}
	for (i = 0; i < n; i++)
		start(&arms[i], rounds > stats_rounds ? rounds : stats_rounds);

	/* CPU and rate with BPF statistics off: someone else's stats fd would
	 * add their cost to every program run. */
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	if (f && fscanf(f, "%d", &o) == 1 && o)
		printf("WARNING: BPF statistics were already on: CPU figures include their cost\n");
	if (f)
		fclose(f);
	rounds_of(arms, n, rounds, warmup, false);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		die("BPF_ENABLE_STATS");
	rounds_of(arms, n, stats_rounds, 1, true);
	close(stats_fd);
	for (i = 0; i < n; i++) {
		if (write(arms[i].cmd, "q", 1) != 1)
			die("pipe");
		waitpid(arms[i].pid, NULL, 0);
	}

	if (raw) { /* every round's figures, for a closer look */
		f = fopen(raw, "w");
		if (!f)
			die(raw);
		fprintf(f, "arm round cpu_us rate csw bpf_ns runs\n");
		for (i = 0; i < n; i++)
			for (o = 0; o < (rounds > stats_rounds ? rounds : stats_rounds); o++)
				fprintf(f, "%s %d %.4f %.1f %.3f %.1f %.2f\n", arms[i].name, o,
					o < rounds ? arms[i].cpu[o] : NAN,
					o < rounds ? arms[i].rate[o] : NAN,
					o < rounds ? arms[i].csw[o] : NAN,
					o < stats_rounds ? arms[i].bpf[o] : NAN,
					o < stats_rounds ? arms[i].runs[o] : NAN);
		fclose(f);
	}
	d = malloc((rounds > stats_rounds ? rounds : stats_rounds) * sizeof(double));
	printf("%-40s %16s %18s %16s %8s\n", "arm", "CPU us/conn", "added us/conn", "conn/s",
	       "vs none");
	printf("%-40s %16s %18s %16s %8s\n", "", "median (p25-p75)", "median (p25-p75)",
	       "median (p25-p75)", "rate");
	for (i = 0; i < n; i++) {
		a = &arms[i];
		printf("%-40s %5.2f (%.2f-%.2f)", label(a->name), q_of(a->cpu, rounds, 0.5),
		       q_of(a->cpu, rounds, 0.25), q_of(a->cpu, rounds, 0.75));
		paired(a->cpu, none->cpu, rounds, false, d);
		printf(" %+6.2f (%+.2f..%+.2f)", q_of(d, rounds, 0.5), q_of(d, rounds, 0.25),
		       q_of(d, rounds, 0.75));
		paired(a->rate, none->rate, rounds, true, d);
		printf(" %6.0f (%.0f-%.0f) %8.3f\n", q_of(a->rate, rounds, 0.5),
		       q_of(a->rate, rounds, 0.25), q_of(a->rate, rounds, 0.75),
		       q_of(d, rounds, 0.5));
		if (a == none && a->nprogs)
			none_progs = true;
	}
	for (i = 0, r = 0; i < n; i++)
		if (q_of(arms[i].csw, rounds, 0.5) > r)
			r = q_of(arms[i].csw, rounds, 0.5);
	printf("(context switches per connection, the largest median of any arm: %.3f; the two waits for\n"
	       " the driver alone make %.3f: above that, connections sleep and CPU time misses work)\n",
	       r, 2.0 / batch);
	if (none_progs)
		printf("WARNING: sock_ops programs are in effect on the baseline's cgroup (attached above it)\n");
	printf("(added: per round, the arm's CPU per connection minus none's in the same round; "
	       "vs none: the per-round ratio of rates)\n\n");

	printf("BPF run time (BPF_STATS_RUN_TIME on, %d rounds):\n", stats_rounds);
	printf("%-40s %8s %10s %22s\n", "arm", "progs", "runs/conn", "ns/conn median (p25-p75)");
	for (i = 0; i < n; i++) {
		a = &arms[i];
		if (!a->nprogs)
			continue;
		printf("%-40s %8d %10.2f %6.0f (%.0f-%.0f)   %.1f ns per run\n", label(a->name),
		       a->nprogs, q_of(a->runs, stats_rounds, 0.5), q_of(a->bpf, stats_rounds, 0.5),
		       q_of(a->bpf, stats_rounds, 0.25), q_of(a->bpf, stats_rounds, 0.75),
		       q_of(a->bpf, stats_rounds, 0.5) / q_of(a->runs, stats_rounds, 0.5));
	}
	printf("\n");

	printf("Can it see a known cost? (busy-wait per connection against its added CPU)\n");
	for (i = 0; i < n; i++) {
		a = &arms[i];
		if (!a->delay_ns)
			continue;
		paired(a->cpu, none->cpu, rounds, false, d);
		printf("  busy-wait %.1f us: added %+.2f us/conn (p25-p75 %+.2f..%+.2f)\n",
		       a->delay_ns / 1e3, q_of(d, rounds, 0.5), q_of(d, rounds, 0.25),
		       q_of(d, rounds, 0.75));
	}
	printf("\n");

	printf("Targets (issue 12; ratios of medians, interval: bootstrap over rounds):\n");
	a = find(arms, n, "sipka");
	if (a && (b = find(arms, n, "user"))) {
		r = ratio_ci(a->cpu, b->cpu, none->cpu, rounds, &lo, &hi);
		target("sipka's added CPU vs user space's (both ends armed)", r, lo, hi, true, 0.6);
	}
	if (a && (b = find(arms, n, "bare"))) {
		r = ratio_ci(a->cpu, b->cpu, none->cpu, rounds, &lo, &hi);
		target("sipka's added CPU vs the bare program's (both ends)", r, lo, hi, true, 2.5);
	}
	if (a) {
		r = ratio_ci(a->rate, none->rate, NULL, rounds, &lo, &hi);
		target("serial churn rate, sipka both ends armed vs none", r, lo, hi, false, 0.95);
	}
	a = find(arms, n, "sipka-srv");
	if (a && (b = find(arms, n, "user-srv"))) {
		r = ratio_ci(a->cpu, b->cpu, none->cpu, rounds, &lo, &hi);
		no_target("sipka's added CPU vs user space's (server end only)", r, lo, hi);
	}
	a = find(arms, n, "norule");
	if (a && (b = find(arms, n, "return"))) {
		r = ratio_ci(a->bpf, b->bpf, NULL, stats_rounds, &lo, &hi);
		target("no-rule connection: sipka's BPF ns/conn vs return-only", r, lo, hi, true,
		       1.15);
		r = ratio_ci(a->cpu, b->cpu, none->cpu, rounds, &lo, &hi);
		no_target("no-rule connection: sipka's added CPU vs return-only's", r, lo, hi);
	}
	a = find(arms, n, "sipka");
	if (a && (b = find(arms, n, "ref"))) {
		printf("\nThis build against the reference (SIPKA_BENCH_REF), both ends armed:\n");
		r = ratio_ci(a->cpu, b->cpu, none->cpu, rounds, &lo, &hi);
		no_target("sipka's added CPU vs the reference's", r, lo, hi);
		r = ratio_ci(a->bpf, b->bpf, NULL, stats_rounds, &lo, &hi);
		no_target("sipka's BPF ns/conn vs the reference's", r, lo, hi);
		r = ratio_ci(a->rate, b->rate, NULL, rounds, &lo, &hi);
		no_target("serial churn rate, sipka vs the reference", r, lo, hi);
	}
	return 0;
usage:
	fprintf(stderr,
		"usage: churn [-r ROUNDS] [-s STATS_ROUNDS] [-b BATCH] [-w WARMUP] [-c CPU] [-o RAW] "
		"NAME:CGROUP:CLIENT_CGROUP:PORT:none|both|server:DELAY_NS...\n");
	return 2;
}
