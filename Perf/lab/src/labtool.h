// labtool.h -- what the lab's C tools share: a monotonic clock, a stop flag raised by SIGINT/SIGTERM,
// a series of per-second rates with its median, MAC parsing, and where the lab's BPF objects lie.
// Header-only: each tool is one .c file that includes it.
#pragma once
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t lab_stop;

static void lab_on_signal(int sig)
{
	(void)sig;
	lab_stop = 1;
}

// Without SA_RESTART, so that a tool blocked in poll(), epoll_wait() or a sleep wakes up at once.
static inline void lab_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lab_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static inline double lab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// An AF_XDP socket's buffer pool is released by deferred kernel work after the socket closes, so a tool
// started right after another on the same interface queue can find it still taken (bind: EBUSY) for a
// moment. The tools retry for this long before giving up.
#define LAB_BIND_RETRY_SECONDS 3.0

// Sleeps until the monotonic time `when` (seconds) or a signal, whichever comes first.
static inline void lab_sleep_until(double when)
{
	struct timespec ts;

	ts.tv_sec = (time_t)when;
	ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec += 1;
		ts.tv_nsec -= 1000000000L;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static inline void lab_fail(const char *tool, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

// A growing list of numbers (per-second rates, latencies) and its order statistics.
struct lab_series {
	double *v;
	size_t n, cap;
	int sorted;
};

static inline void series_add(struct lab_series *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return;  // out of memory: the sample is lost, the run goes on
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	s->sorted = 0;
}

static int lab_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline void series_sort(struct lab_series *s)
{
	if (!s->sorted && s->n)
		qsort(s->v, s->n, sizeof(*s->v), lab_cmp_double);
	s->sorted = 1;
}

static inline double series_median(struct lab_series *s)
{
	if (!s->n)
		return 0;
	series_sort(s);
	return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

// Nearest-rank percentile, q in (0, 1].
static inline double series_quantile(struct lab_series *s, double q)
{
	size_t rank;

	if (!s->n)
		return 0;
	series_sort(s);
	rank = (size_t)(q * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

static inline double series_min(struct lab_series *s) { series_sort(s); return s->n ? s->v[0] : 0; }
static inline double series_max(struct lab_series *s) { series_sort(s); return s->n ? s->v[s->n - 1] : 0; }

// "02:00:00:00:01:02" -> 6 bytes; 0 on success.
static inline int lab_parse_mac(const char *text, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(text, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

// The build puts the tools in OUT/bin and the BPF objects in OUT/bpf: OUT/bpf/NAME, found from the
// running binary's own path.
static inline const char *lab_object_path(const char *name)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return name;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (slash)
		*slash = 0;
	if (strlen(path) + strlen(name) + 16 >= sizeof(path))
		return name;
	strcat(path, "/../bpf/");
	strcat(path, name);
	return path;
}
