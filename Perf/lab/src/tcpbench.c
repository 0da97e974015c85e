// tcpbench.c -- closed-loop HTTP/1.1 client whose latency includes the TCP handshake. wrk starts its
// clock after connect(), so it cannot see what a SYN proxy adds to a handshake nor a lost SYN (a SYN
// retransmitted after 1 s); this client starts it before connect().
//
// usage: tcpbench -a ADDRESS [-p PORT] [-c CONNECTIONS] [-d SECONDS] [-n MAX_RESPONSES] [-k REQUESTS]
//                 [-T TIMEOUT_MS]
//   -c  connections kept busy at once (default 1)
//   -k  requests per connection (default 1: a new connection per request, "Connection: close"); with
//       -k N > 1 the connection is kept for N requests and each latency after the first is one request's
//   -d  stop after this many seconds (default 10), -n or after this many responses (default 1000000)
//   -T  give up on a connection whose current request has waited this long (default 3000 ms): an error
//       of its own (err_timeout), and the slot starts a new connection
// Every connection is closed with a reset (SO_LINGER 0), so the client keeps no TIME_WAIT and never runs
// out of ports. A response counts when its headers and Content-Length body (or, without Content-Length,
// everything until the server closes) have arrived with a 2xx status.
//
// Output, one line: "SUMMARY tcpbench target=A:P conc=C keep=K secs=S ok=N rate=<responses/s>
// err_conn=<refused, reset or unreachable while connecting> err_timeout=.. err_io=<failed or cut short
// after connecting> err_status=<non-2xx> p50_us=.. p90_us=.. p99_us=.. max_us=.. slow_ge_1s=<responses
// that took 1 s or more>".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "labtool.h"

#define TOOL "tcpbench"
#define HEADER_MAX 4096

enum phase { IDLE, CONNECTING, WAITING };

struct slot {
	int fd;
	enum phase phase;
	int requests_done;     // on this connection
	double started;        // when the current request (and, for the first, its connect) began
	char head[HEADER_MAX + 1];
	size_t head_len;       // bytes of the response kept while looking for the end of the headers
	long body_expected;    // -1: no Content-Length yet / none
	long body_got;
	int headers_done, status;
};

static struct sockaddr_in target;
static int epfd, requests_per_conn = 1, timeout_ms = 3000;
static char request_close[256], request_keep[256];
static struct lab_series latencies;
static long responses, err_conn, err_timeout, err_io, err_status;

static void drop_connection(struct slot *s)
{
	if (s->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	s->phase = IDLE;
}

static void reset_response(struct slot *s)
{
	s->head_len = 0;
	s->body_expected = -1;
	s->body_got = 0;
	s->headers_done = 0;
	s->status = 0;
}

static void open_connection(struct slot *s, double now)
{
	struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
	int one = 1;

	s->requests_done = 0;
	s->started = now;
	reset_response(s);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		err_conn++;
		s->phase = IDLE;
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
	if (connect(s->fd, (struct sockaddr *)&target, sizeof(target)) < 0 && errno != EINPROGRESS) {
		err_conn++;
		drop_connection(s);
		return;
	}
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = s };
	epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev);
	s->phase = CONNECTING;
}

static void send_request(struct slot *s)
{
	const char *req = s->requests_done + 1 < requests_per_conn ? request_keep : request_close;
	size_t len = strlen(req);

	reset_response(s);
	if (write(s->fd, req, len) != (ssize_t)len) {  // a few dozen bytes into an empty socket: all or error
		err_io++;
		drop_connection(s);
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
	s->phase = WAITING;
}

// Looks for the end of the headers in what was kept; on finding it, reads the status and Content-Length
// and counts the bytes after the headers as body.
static void parse_headers(struct slot *s)
{
	char *end;

	s->head[s->head_len] = 0;
	end = strstr(s->head, "\r\n\r\n");
	if (!end)
		return;
	s->headers_done = 1;
	if (strncmp(s->head, "HTTP/1.", 7) == 0 && strlen(s->head) > 12)
		s->status = atoi(s->head + 9);
	for (char *line = strstr(s->head, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
			s->body_expected = atol(line + 17);
			break;
		}
	}
	s->body_got = (long)(s->head_len - (size_t)(end + 4 - s->head));
}

static void response_complete(struct slot *s, double now)
{
	if (s->status >= 200 && s->status < 300) {
		series_add(&latencies, (now - s->started) * 1e6);
		responses++;
	} else {
		err_status++;
	}
	s->requests_done++;
	if (s->requests_done < requests_per_conn) {
		s->started = now;
		send_request(s);
	} else {
		drop_connection(s);
	}
}

static void on_readable(struct slot *s, double now)
{
	char scratch[16384];
	ssize_t n;

	if (!s->headers_done) {
		n = read(s->fd, s->head + s->head_len, HEADER_MAX - s->head_len);
		if (n > 0) {
			s->head_len += (size_t)n;
			parse_headers(s);
			if (!s->headers_done && s->head_len == HEADER_MAX) {
				err_io++;  // headers larger than we keep: not the lab's server
				drop_connection(s);
				return;
			}
		}
	} else {
		n = read(s->fd, scratch, sizeof(scratch));
		if (n > 0)
			s->body_got += n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0 && s->headers_done && s->body_expected < 0) {
		// No Content-Length: the body ended where the server closed, and so did the connection.
		s->requests_done = requests_per_conn - 1;
		response_complete(s, now);
		return;
	}
	if (n <= 0) {
		err_io++;
		drop_connection(s);
		return;
	}
	if (s->headers_done && s->body_expected >= 0 && s->body_got >= s->body_expected)
		response_complete(s, now);
}

int main(int argc, char **argv)
{
	const char *address = NULL;
	int port = 80, concurrency = 1, seconds = 10, opt;
	long max_responses = 1000000;

	while ((opt = getopt(argc, argv, "a:p:c:d:n:k:T:")) != -1) {
		switch (opt) {
		case 'a': address = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': concurrency = atoi(optarg); break;
		case 'd': seconds = atoi(optarg); break;
		case 'n': max_responses = atol(optarg); break;
		case 'k': requests_per_conn = atoi(optarg); break;
		case 'T': timeout_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s -a ADDRESS [-p PORT] [-c N] [-d SECS] [-n MAX] [-k REQUESTS] [-T MS]\n",
				argv[0]);
			return 2;
		}
	}
	if (!address)
		lab_fail(TOOL, "-a ADDRESS is required");
	if (concurrency < 1 || requests_per_conn < 1 || seconds < 1 || timeout_ms < 1)
		lab_fail(TOOL, "-c, -k, -d and -T must be positive");
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, address, &target.sin_addr) != 1)
		lab_fail(TOOL, "bad IPv4 address '%s'", address);
	snprintf(request_close, sizeof(request_close), "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", address);
	snprintf(request_keep, sizeof(request_keep), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", address);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		lab_fail(TOOL, "epoll: %s", strerror(errno));
	struct slot *slots = calloc((size_t)concurrency, sizeof(*slots));
	if (!slots)
		lab_fail(TOOL, "out of memory");
	lab_catch_signals();

	double start = lab_now(), deadline = start + seconds, timeout = timeout_ms / 1000.0, now = start;
	for (int i = 0; i < concurrency; i++) {
		slots[i].fd = -1;
		open_connection(&slots[i], now);
	}
	struct epoll_event events[64];
	while (!lab_stop && now < deadline && responses < max_responses) {
		int idle = 0;

		for (int i = 0; i < concurrency; i++)
			idle += slots[i].phase == IDLE;
		int n = epoll_wait(epfd, events, 64, idle ? 1 : 20);
		now = lab_now();
		for (int i = 0; i < n; i++) {
			struct slot *s = events[i].data.ptr;

			if (s->phase == CONNECTING) {
				int so_error = 0;
				socklen_t len = sizeof(so_error);

				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
				if (so_error || (events[i].events & (EPOLLERR | EPOLLHUP))) {
					err_conn++;
					drop_connection(s);
				} else {
					send_request(s);
				}
			} else if (s->phase == WAITING) {
				on_readable(s, now);
			}
		}
		for (int i = 0; i < concurrency; i++) {
			struct slot *s = &slots[i];

			if (s->phase != IDLE && now - s->started > timeout) {
				err_timeout++;
				drop_connection(s);
			}
			if (s->phase == IDLE && now < deadline && responses < max_responses)
				open_connection(s, now);
		}
	}
	double elapsed = lab_now() - start;
	for (int i = 0; i < concurrency; i++)
		drop_connection(&slots[i]);

	long slow = 0;
	for (size_t i = 0; i < latencies.n; i++)
		slow += latencies.v[i] >= 1e6;
	printf("SUMMARY tcpbench target=%s:%d conc=%d keep=%d secs=%.1f ok=%ld rate=%.0f err_conn=%ld err_timeout=%ld "
	       "err_io=%ld err_status=%ld p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f slow_ge_1s=%ld\n",
	       address, port, concurrency, requests_per_conn, elapsed, responses, responses / elapsed, err_conn,
	       err_timeout, err_io, err_status, series_quantile(&latencies, 0.5), series_quantile(&latencies, 0.9),
	       series_quantile(&latencies, 0.99), series_max(&latencies), slow);
	return 0;
}
