// xsk_gen.c -- the lab's load generator: 60-byte frames sent through an AF_XDP socket in copy mode,
// transmit only (no XDP program is attached; the socket's TX ring feeds the interface directly).
//
// usage: xsk_gen -i IFACE [-p udp|syn] [-r] [-x SEED] [-R PPS] [-t SECONDS] [-b BATCH] [-n FLOWS] [-q QUEUE]
//                [-k QUEUES] [-w] [-s SRC_MAC] [-d DST_MAC] [-S SRC_IP] [-D DST_IP] [-P DST_PORT]
//   -p udp   UDP datagrams to DST_IP:9 (default), source ports 1024 .. 1024+FLOWS-1 (FLOWS: -n, 4096)
//   -p syn   TCP SYNs to DST_IP:80, source ports as for UDP
//   -r       a random source address and source port for every frame (a SYN flood "from everywhere");
//            the checksums are patched per frame
//   -x SEED  seed of -r's random sequence (a non-zero integer; default a fixed one, so every run sends the
//            same sources in the same order): runs with different seeds open different flows
//   -R PPS   offered rate in frames/s; 0 (default) sends as fast as the socket takes frames
//   -t SECS  how long to run (default 10; 0: until SIGINT/SIGTERM)
//   -b N     descriptors posted per round (default 64)
//   -q QUEUE the interface's TX queue the socket binds (default 0); on a veth the frames arrive on the
//            peer's RX queue of that number
//   -k QUEUES receive-side scaling as a NIC would do it, for a receiver with QUEUES RX queues: of the FLOWS
//            source ports, send only those whose Toeplitz hash of (SRC_IP, DST_IP, port, DST_PORT) under
//            Microsoft's default key, looked up in the kernel's default indirection table (128 entries,
//            entry i -> queue i % QUEUES), picks queue QUEUE: about FLOWS / QUEUES flows. So QUEUES
//            instances, one per -q, send the FLOWS flows between them, each on the queue an RSS NIC
//            would deliver it to (veth has no RSS: its receiver takes the sender's queue). Not with -r
//   -w       bind with XDP_USE_NEED_WAKEUP: kick the kernel only when it asks
//   defaults: -s 02:00:00:00:01:02 -d 02:00:00:00:01:01 -S 10.210.1.2 -D 10.210.9.10 (the lab's client
//   and the gateway's client-side interface)
//
// Without -r the frames are written once into the UMEM and only descriptors move afterwards, so what is
// measured is the kernel's transmit path, not frame building. Copy-mode transmission happens inside the
// sendto() kick; a frame counts as sent when its descriptor comes back on the completion ring (on a veth
// whose receiver is full, the kernel still completes the descriptor, so the sent count can exceed what
// arrived: count at the receiver).
//
// Output: "READY xsk_gen ..." once bound; "<second> <frames/s> pps" every second; at the end
// "SUMMARY xsk_gen ... samples=N median_tx_pps=X min=.. max=.. total=.. kicks=.. kick_again=.. cpu_s=..",
// where the median leaves out the first second (start-up) and cpu_s is the CPU time the generator used,
// user and system (the copy-mode transmit runs inside its sendto(), so that includes the veth's
// transmit up to the receiver's queue).
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include "frames.h"
#include "labtool.h"

#define TOOL "xsk_gen"
#define NFRAMES 4096u            // UMEM frames, also the most descriptors in flight
#define FRAME_SIZE 2048u
#define RING_SIZE 4096u
#define RSS_TABLE_SIZE 128u      // entries of the kernel's default RSS indirection table (ethtool -x)
#define RSS_KEY_LEN 40
#define RSS_INPUT_LEN 12         // IPv4 with ports: source, destination address, source, destination port

// Microsoft's RSS verification key, the default of many NIC drivers and of Sluice (ToeplitzHash.swift).
static const uint8_t rss_key[RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

// The Toeplitz hash: for every set input bit, from the first byte's top bit on, xor in the 32 key bits
// that start at that bit's position.
static uint32_t toeplitz(const uint8_t *in, int len)
{
	uint32_t result = 0, window = (uint32_t)rss_key[0] << 24 | rss_key[1] << 16 | rss_key[2] << 8 | rss_key[3];

	for (int i = 0; i < len; i++)
		for (int bit = 7; bit >= 0; bit--) {
			if (in[i] >> bit & 1)
				result ^= window;
			window = window << 1 | (rss_key[i + 4] >> bit & 1);
		}
	return result;
}

// The RX queue an RSS NIC with `queues` queues and the default table delivers this IPv4 flow to.
static uint32_t rss_queue(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port, uint32_t queues)
{
	uint8_t in[RSS_INPUT_LEN];

	put32(in, src_ip);
	put32(in + 4, dst_ip);
	put16(in + 8, src_port);
	put16(in + 10, dst_port);
	return (toeplitz(in, RSS_INPUT_LEN) & (RSS_TABLE_SIZE - 1)) % queues;
}

// Frames not in flight, in the order they became free, so that without -r the flows take turns.
struct frame_queue {
	uint32_t slot[NFRAMES];
	uint32_t head, tail;  // free-running; count = tail - head
};

static inline void fq_push(struct frame_queue *q, uint32_t frame) { q->slot[q->tail++ % NFRAMES] = frame; }
static inline uint32_t fq_pop(struct frame_queue *q) { return q->slot[q->head++ % NFRAMES]; }
static inline uint32_t fq_count(const struct frame_queue *q) { return q->tail - q->head; }

static uint64_t xorshift_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t next_random(void)
{
	uint64_t x = xorshift_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	xorshift_state = x;
	return x;
}

static uint32_t parse_ip(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		lab_fail(TOOL, "bad IPv4 address '%s'", text);
	return ntohl(a.s_addr);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *proto = "udp";
	const char *src_mac_text = "02:00:00:00:01:02", *dst_mac_text = "02:00:00:00:01:01";
	const char *src_ip_text = "10.210.1.2", *dst_ip_text = "10.210.9.10";
	int seconds = 10, batch = 64, flows = (int)NFRAMES, queue = 0, need_wakeup = 0, random_source = 0, opt;
	int rss_queues = 0;
	int dst_port = -1;
	double rate = 0;

	while ((opt = getopt(argc, argv, "i:p:rx:R:t:b:n:q:k:ws:d:S:D:P:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'p': proto = optarg; break;
		case 'r': random_source = 1; break;
		case 'x':
			xorshift_state = strtoull(optarg, NULL, 0) * 0x9e3779b97f4a7c15ull;
			if (!xorshift_state)
				lab_fail(TOOL, "-x must be a non-zero integer");
			break;
		case 'R': rate = atof(optarg); break;
		case 't': seconds = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'n': flows = atoi(optarg); break;
		case 'q': queue = atoi(optarg); break;
		case 'k': rss_queues = atoi(optarg); break;
		case 'w': need_wakeup = 1; break;
		case 's': src_mac_text = optarg; break;
		case 'd': dst_mac_text = optarg; break;
		case 'S': src_ip_text = optarg; break;
		case 'D': dst_ip_text = optarg; break;
		case 'P': dst_port = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s -i IFACE [-p udp|syn] [-r] [-x SEED] [-R PPS] [-t SECS] [-b N] [-n FLOWS] [-q Q] [-k QUEUES] [-w]"
				" [-s MAC] [-d MAC] [-S IP] [-D IP] [-P PORT]\n", argv[0]);
			return 2;
		}
	}
	if (!ifname)
		lab_fail(TOOL, "-i IFACE is required");
	int syn = !strcmp(proto, "syn");
	if (!syn && strcmp(proto, "udp"))
		lab_fail(TOOL, "-p must be udp or syn");
	if (batch < 1 || batch > (int)RING_SIZE)
		lab_fail(TOOL, "-b must be 1..%u", RING_SIZE);
	if (flows < 1 || flows > (int)NFRAMES)
		lab_fail(TOOL, "-n must be 1..%u", NFRAMES);
	if (dst_port < 0)
		dst_port = syn ? 80 : 9;
	if (rss_queues < 0 || (rss_queues && (random_source || queue >= rss_queues)))
		lab_fail(TOOL, "-k QUEUES needs 0 <= -q < QUEUES and no -r");
	uint8_t src_mac[6], dst_mac[6];
	if (lab_parse_mac(src_mac_text, src_mac) || lab_parse_mac(dst_mac_text, dst_mac))
		lab_fail(TOOL, "bad MAC address");
	uint32_t src_ip = parse_ip(src_ip_text), dst_ip = parse_ip(dst_ip_text);

	struct frame_template tpl;
	frame_template_init(&tpl, src_mac, dst_mac, dst_ip, (uint16_t)dst_port, syn);

	size_t area_len = (size_t)NFRAMES * FRAME_SIZE;
	uint8_t *area = mmap(NULL, area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED)
		lab_fail(TOOL, "mmap: %s", strerror(errno));
	// The source ports sent: all FLOWS of them, or with -k those RSS puts on this queue.
	static uint16_t ports[NFRAMES];
	uint32_t nports = 0;
	for (uint32_t i = 0; i < (uint32_t)flows; i++) {
		uint16_t port = (uint16_t)(1024 + i);

		if (!rss_queues || rss_queue(src_ip, dst_ip, port, (uint16_t)dst_port, (uint32_t)rss_queues) == (uint32_t)queue)
			ports[nports++] = port;
	}
	if (!nports)
		lab_fail(TOOL, "-k %d: none of the %d flows hashes to queue %d", rss_queues, flows, queue);
	static struct frame_queue free_frames;
	for (uint32_t i = 0; i < NFRAMES; i++) {
		frame_stamp(&tpl, area + (size_t)i * FRAME_SIZE, src_ip, ports[i % nports]);
		fq_push(&free_frames, i);
	}

	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE, .frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,  // sending only: no XDP program wanted
		.bind_flags = XDP_COPY | (need_wakeup ? XDP_USE_NEED_WAKEUP : 0),
	};
	double give_up = lab_now() + LAB_BIND_RETRY_SECONDS;
	for (;;) {
		int err = xsk_umem__create(&umem, area, area_len, &fill, &comp, &ucfg);

		if (err)
			lab_fail(TOOL, "UMEM: %s", strerror(-err));
		err = xsk_socket__create(&xsk, ifname, (uint32_t)queue, umem, NULL, &tx, &scfg);
		if (!err)
			break;
		xsk_umem__delete(umem);
		if (err != -EBUSY || lab_now() > give_up)
			lab_fail(TOOL, "AF_XDP socket on %s queue %d (copy mode): %s", ifname, queue, strerror(-err));
		usleep(50000);  // the queue's previous socket is still being torn down
	}
	int fd = xsk_socket__fd(xsk);

	lab_catch_signals();
	printf("READY xsk_gen iface=%s queue=%d proto=%s random_source=%d rate=%.0f batch=%d flows=%u rss_queues=%d "
	       "need_wakeup=%d\n", ifname, queue, proto, random_source, rate, batch, nports, rss_queues,
	       need_wakeup);
	fflush(stdout);

	struct lab_series samples = {0};
	uint64_t posted = 0, completed = 0, kicks = 0, kick_again = 0, completed_at_report = 0;
	double start = lab_now(), last_report = start, last_credit = start, credit = 0;
	double credit_cap = rate > 0 ? (rate * 0.002 > batch ? rate * 0.002 : batch) : 0;
	int second = 0;

	while (!lab_stop) {
		uint32_t at, done = xsk_ring_cons__peek(&comp, RING_SIZE, &at);
		for (uint32_t i = 0; i < done; i++)
			fq_push(&free_frames, (uint32_t)(*xsk_ring_cons__comp_addr(&comp, at + i) / FRAME_SIZE));
		if (done) {
			xsk_ring_cons__release(&comp, done);
			completed += done;
		}

		double now = lab_now();
		if (now - last_report >= 1.0) {
			double pps = (double)(completed - completed_at_report) / (now - last_report);

			second++;
			printf("%d %.0f pps\n", second, pps);
			fflush(stdout);
			if (second > 1)
				series_add(&samples, pps);
			completed_at_report = completed;
			last_report = now;
			if (seconds > 0 && second >= seconds)
				break;
		}

		uint32_t want = (uint32_t)batch;
		if (rate > 0) {
			credit += (now - last_credit) * rate;
			last_credit = now;
			if (credit > credit_cap)
				credit = credit_cap;
			if (credit < 1 && posted == completed) {
				// Nothing owed and nothing in flight: give the CPU away until the next frame is due.
				double wait = (1 - credit) / rate;
				lab_sleep_until(now + (wait < 20e-6 ? 20e-6 : wait > 1e-3 ? 1e-3 : wait));
				continue;
			}
			if (credit < want)
				want = (uint32_t)credit;
		}
		if (want > fq_count(&free_frames))
			want = fq_count(&free_frames);
		if (want) {
			uint32_t slot;
			uint32_t got = xsk_ring_prod__reserve(&tx, want, &slot);  // all or nothing

			for (uint32_t i = 0; i < got; i++) {
				uint32_t frame = fq_pop(&free_frames);
				struct xdp_desc *d = xsk_ring_prod__tx_desc(&tx, slot + i);

				if (random_source) {
					uint64_t r = next_random();

					frame_stamp(&tpl, area + (size_t)frame * FRAME_SIZE, (uint32_t)r,
						    (uint16_t)(1024 + (r >> 32) % 64512));
				}
				d->addr = (uint64_t)frame * FRAME_SIZE;
				d->len = FRAME_LEN;
				d->options = 0;
			}
			if (got) {
				xsk_ring_prod__submit(&tx, got);
				posted += got;
				credit -= got;
			}
		}
		if (posted != completed && (!need_wakeup || xsk_ring_prod__needs_wakeup(&tx))) {
			kicks++;
			if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0)
				kick_again++;  // EAGAIN: the kernel sent its per-call share and more is left; EBUSY /
				               // ENOBUFS: the device queue was full. Either way: kick again.
		}
	}

	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	double cpu_s = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
		       usage.ru_stime.tv_usec / 1e6;
	printf("SUMMARY xsk_gen iface=%s queue=%d proto=%s random_source=%d rate=%.0f batch=%d need_wakeup=%d samples=%zu "
	       "median_tx_pps=%.0f min=%.0f max=%.0f total=%llu kicks=%llu kick_again=%llu cpu_s=%.3f\n",
	       ifname, queue, proto, random_source, rate, batch, need_wakeup, samples.n, series_median(&samples),
	       series_min(&samples), series_max(&samples), (unsigned long long)completed, (unsigned long long)kicks,
	       (unsigned long long)kick_again, cpu_s);
	fflush(stdout);
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, area_len);
	return 0;
}
