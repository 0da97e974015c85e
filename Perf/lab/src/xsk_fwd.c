// xsk_fwd.c -- the smallest AF_XDP gateway: frames received on IN leave on OUT with new MAC addresses and
// nothing else changed. It has the shape of Sluice's data path (copy mode, one UMEM for both directions,
// no copy in user space) and none of its work, so its rate is the ceiling of that path on this machine.
//
// usage: xsk_fwd -i IN -o OUT [-d DST_MAC] [-m native|generic] [-t SECONDS] [-b BATCH] [-q QUEUE] [-w] [-P]
//                [-O OBJECT]
//   -d      the next hop's MAC (default 02:00:00:00:02:02, the lab's backend); the source MAC is OUT's own
//   -m      how xdp_to_xsk is attached to IN (default native)
//   -t      how long to run (default 10; 0: until SIGINT/SIGTERM)
//   -w      XDP_USE_NEED_WAKEUP on both sockets: system calls only when the kernel asks for them
//   -P      wait in poll() while nothing arrives, instead of spinning
//   -O      the BPF object holding xdp_to_xsk and the map xsks (default: ../bpf/lab_xdp.o beside the binary)
//
// The frame cycle: IN's fill ring -> IN's RX ring -> (MAC rewrite) -> OUT's TX ring -> OUT's completion
// ring -> IN's fill ring. The two sockets share one UMEM (XDP_SHARED_UMEM across two devices). A frame that
// finds OUT's TX ring full goes straight back to the fill ring and counts as dropped.
//
// Output: "READY xsk_fwd ..." once the program is attached and the sockets are bound; "<second> rx <r> tx
// <t> pps" every second; at the end "SUMMARY xsk_fwd ... median_tx_pps=<median of the per-second transmit
// completions, the first second left out> rx=.. tx=.. dropped_tx_full=.. syscalls=..". Transmit
// completions on a veth overstate what arrived (the kernel completes descriptors it could not deliver):
// count at the receiver.
#include <getopt.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "labtool.h"

#define TOOL "xsk_fwd"
#define NFRAMES 8192u     // every frame fits in the fill ring at once, so returning one never waits
#define FRAME_SIZE 2048u
#define RX_TX_SIZE 4096u

static int interface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq req;
	int s = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (s < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	snprintf(req.ifr_name, sizeof(req.ifr_name), "%s", ifname);
	rc = ioctl(s, SIOCGIFHWADDR, &req);
	close(s);
	if (rc == 0)
		memcpy(mac, req.ifr_hwaddr.sa_data, 6);
	return rc;
}

// Hands frame addresses back to IN's fill ring. The ring holds all NFRAMES, so there is always room.
static void refill(struct xsk_ring_prod *fill, const uint64_t *addrs, uint32_t n)
{
	uint32_t slot;

	if (!n)
		return;
	while (xsk_ring_prod__reserve(fill, n, &slot) != n)
		;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(fill, slot + i) = addrs[i];
	xsk_ring_prod__submit(fill, n);
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *dst_mac_text = "02:00:00:00:02:02", *mode = "native", *object = NULL;
	int seconds = 10, batch = 64, queue = 0, need_wakeup = 0, use_poll = 0, opt;

	while ((opt = getopt(argc, argv, "i:o:d:m:t:b:q:wPO:")) != -1) {
		switch (opt) {
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'd': dst_mac_text = optarg; break;
		case 'm': mode = optarg; break;
		case 't': seconds = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'q': queue = atoi(optarg); break;
		case 'w': need_wakeup = 1; break;
		case 'P': use_poll = 1; break;
		case 'O': object = optarg; break;
		default:
			fprintf(stderr, "usage: %s -i IN -o OUT [-d MAC] [-m native|generic] [-t SECS] [-b N] [-q Q] [-w] [-P]"
				" [-O OBJECT]\n", argv[0]);
			return 2;
		}
	}
	if (!in || !out)
		lab_fail(TOOL, "-i IN and -o OUT are required");
	if (batch < 1 || batch > (int)RX_TX_SIZE)
		lab_fail(TOOL, "-b must be 1..%u", RX_TX_SIZE);
	uint8_t src_mac[6], dst_mac[6];
	if (lab_parse_mac(dst_mac_text, dst_mac))
		lab_fail(TOOL, "bad MAC address '%s'", dst_mac_text);
	if (interface_mac(out, src_mac))
		lab_fail(TOOL, "no MAC address for %s: %s", out, strerror(errno));
	unsigned int in_index = if_nametoindex(in);
	if (!in_index)
		lab_fail(TOOL, "no interface %s", in);
	__u32 xdp_flags = !strcmp(mode, "generic") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (!object)
		object = lab_object_path("lab_xdp.o");

	// Our own steering program rather than libxdp's default one: no bpffs or dispatcher needed.
	libbpf_set_print(NULL);
	struct bpf_object *obj = bpf_object__open_file(object, NULL);
	if (!obj || bpf_object__load(obj))
		lab_fail(TOOL, "cannot load %s", object);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "xdp_to_xsk");
	struct bpf_map *xsks = bpf_object__find_map_by_name(obj, "xsks");
	if (!prog || !xsks)
		lab_fail(TOOL, "%s lacks xdp_to_xsk or the map xsks", object);
	bpf_xdp_detach((int)in_index, XDP_FLAGS_DRV_MODE, NULL);  // whatever an earlier run left behind
	bpf_xdp_detach((int)in_index, XDP_FLAGS_SKB_MODE, NULL);
	int err = bpf_xdp_attach((int)in_index, bpf_program__fd(prog), xdp_flags, NULL);
	if (err)
		lab_fail(TOOL, "attaching xdp_to_xsk to %s (%s): %s", in, mode, strerror(-err));

	size_t area_len = (size_t)NFRAMES * FRAME_SIZE;
	uint8_t *area = mmap(NULL, area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct xsk_ring_prod in_fill, out_fill, tx;
	struct xsk_ring_cons in_comp, out_comp, rx;
	struct xsk_umem *umem = NULL;
	struct xsk_socket *rx_sock = NULL, *tx_sock = NULL;
	int rc = 1;

	if (area == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", TOOL, strerror(errno));
		goto detach;
	}
	struct xsk_umem_config ucfg = {
		.fill_size = NFRAMES, .comp_size = RX_TX_SIZE, .frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RX_TX_SIZE,
		.tx_size = RX_TX_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY | (need_wakeup ? XDP_USE_NEED_WAKEUP : 0),
	};
	double give_up = lab_now() + LAB_BIND_RETRY_SECONDS;
	for (;;) {
		const char *what = "UMEM";

		err = xsk_umem__create(&umem, area, area_len, &in_fill, &in_comp, &ucfg);
		if (!err) {
			what = "receiving socket";
			err = xsk_socket__create(&rx_sock, in, (uint32_t)queue, umem, &rx, NULL, &scfg);
		}
		if (!err) {
			what = "sending socket (shared UMEM)";
			err = xsk_socket__create_shared(&tx_sock, out, (uint32_t)queue, umem, NULL, &tx, &out_fill,
							&out_comp, &scfg);
		}
		if (!err)
			break;
		if (rx_sock)
			xsk_socket__delete(rx_sock);
		if (umem)
			xsk_umem__delete(umem);
		rx_sock = NULL;
		umem = NULL;
		if (err != -EBUSY || lab_now() > give_up) {
			fprintf(stderr, "%s: %s on %s -> %s: %s\n", TOOL, what, in, out, strerror(-err));
			goto detach;
		}
		usleep(50000);  // a previous socket on one of the queues is still being torn down
	}
	int rx_fd = xsk_socket__fd(rx_sock), tx_fd = xsk_socket__fd(tx_sock);
	__u32 key = (__u32)queue;
	if (bpf_map_update_elem(bpf_map__fd(xsks), &key, &rx_fd, 0)) {
		fprintf(stderr, "%s: xsks[%d]: %s\n", TOOL, queue, strerror(errno));
		goto detach;
	}
	static uint64_t addrs[NFRAMES];
	for (uint32_t i = 0; i < NFRAMES; i++)
		addrs[i] = (uint64_t)i * FRAME_SIZE;
	refill(&in_fill, addrs, NFRAMES);

	lab_catch_signals();
	printf("READY xsk_fwd %s->%s mode=%s need_wakeup=%d poll=%d batch=%d\n", in, out, mode, need_wakeup, use_poll,
	       batch);
	fflush(stdout);

	struct pollfd pfd = { .fd = rx_fd, .events = POLLIN };
	struct lab_series samples = {0};
	uint64_t received = 0, sent = 0, dropped = 0, syscalls = 0, in_tx = 0, rx_mark = 0, tx_mark = 0;
	double last_report = lab_now();
	int second = 0;

	while (!lab_stop) {
		uint32_t at, n;

		// 1. What OUT has sent goes back to IN's fill ring.
		n = xsk_ring_cons__peek(&out_comp, RX_TX_SIZE, &at);
		if (n) {
			for (uint32_t i = 0; i < n; i++)
				addrs[i] = *xsk_ring_cons__comp_addr(&out_comp, at + i);
			xsk_ring_cons__release(&out_comp, n);
			refill(&in_fill, addrs, n);
			sent += n;
			in_tx -= n;
		}

		// 2. What IN received moves to OUT's TX ring with its MACs rewritten.
		n = xsk_ring_cons__peek(&rx, (uint32_t)batch, &at);
		if (n) {
			uint32_t room = xsk_prod_nb_free(&tx, n), slot = 0, rejected = 0;

			if (room > n)
				room = n;
			if (room && xsk_ring_prod__reserve(&tx, room, &slot) != room)
				room = 0;
			for (uint32_t i = 0; i < n; i++) {
				const struct xdp_desc *d = xsk_ring_cons__rx_desc(&rx, at + i);

				if (i < room) {
					uint8_t *frame = xsk_umem__get_data(area, d->addr);
					struct xdp_desc *t = xsk_ring_prod__tx_desc(&tx, slot + i);

					memcpy(frame, dst_mac, 6);
					memcpy(frame + 6, src_mac, 6);
					t->addr = d->addr;
					t->len = d->len;
					t->options = 0;
				} else {
					addrs[rejected++] = d->addr;
				}
			}
			xsk_ring_cons__release(&rx, n);
			if (room) {
				xsk_ring_prod__submit(&tx, room);
				in_tx += room;
			}
			refill(&in_fill, addrs, rejected);
			dropped += rejected;
			received += n;
		} else if (use_poll) {
			syscalls++;
			poll(&pfd, 1, 100);
		} else if (need_wakeup && xsk_ring_prod__needs_wakeup(&in_fill)) {
			syscalls++;
			recvfrom(rx_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		}
		// (Spinning without need_wakeup: IN's NAPI fills the RX ring on its own in copy mode.)

		// 3. Copy mode transmits inside sendto(): kick while OUT has frames outstanding.
		if (in_tx && (!need_wakeup || xsk_ring_prod__needs_wakeup(&tx))) {
			syscalls++;
			sendto(tx_fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		}

		double now = lab_now();
		if (now - last_report >= 1.0) {
			double dt = now - last_report, tx_pps = (double)(sent - tx_mark) / dt;

			second++;
			printf("%d rx %.0f tx %.0f pps\n", second, (double)(received - rx_mark) / dt, tx_pps);
			fflush(stdout);
			if (second > 1)
				series_add(&samples, tx_pps);
			rx_mark = received;
			tx_mark = sent;
			last_report = now;
			if (seconds > 0 && second >= seconds)
				break;
		}
	}
	printf("SUMMARY xsk_fwd %s->%s mode=%s need_wakeup=%d poll=%d samples=%zu median_tx_pps=%.0f min=%.0f max=%.0f "
	       "rx=%llu tx=%llu dropped_tx_full=%llu syscalls=%llu\n",
	       in, out, mode, need_wakeup, use_poll, samples.n, series_median(&samples), series_min(&samples),
	       series_max(&samples), (unsigned long long)received, (unsigned long long)sent,
	       (unsigned long long)dropped, (unsigned long long)syscalls);
	fflush(stdout);
	rc = 0;
detach:
	if (tx_sock)
		xsk_socket__delete(tx_sock);
	if (rx_sock)
		xsk_socket__delete(rx_sock);
	if (umem)
		xsk_umem__delete(umem);
	bpf_xdp_detach((int)in_index, xdp_flags, NULL);
	bpf_object__close(obj);
	return rc;
}
