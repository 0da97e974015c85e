// lab_sinks.bpf.c -- two XDP programs for the flood tests of `make perf`, built for the lab's client
// address (Perf/lab/Makefile passes -DCLIENT_IP=0x..., host byte order, from its CLIENT_IP). Each drops and
// counts the IPv4 frames that are not the legitimate client's and passes everything else (the client's
// own traffic, ARP, IPv6) unchanged.
//
// xdp_client_sink, on the client's veth (CLIENT_XDP=sink): a random-source SYN flood makes every
//   SYN-answering peer send one SYN-ACK per flood SYN toward the spoofed source. On a real network those
//   replies leave toward addresses nobody on the client's machine owns; in the lab they come back through
//   the client's veth, where the client namespace's kernel would build an skb, look up a route and drop
//   each one on the client's CPU. This program drops frames not addressed to the client at XDP cost
//   instead, the same for every peer.
//
// xdp_flood_drop, on the gateway's client-side veth (the `bound` peer): drops every frame not sent by the
//   client, i.e. the whole flood, at the first instruction; the legitimate traffic is routed by the kernel
//   as in the `route` peer. A gateway cannot spend less on a flood than this, so its survival figure is
//   the best this machine lets any gateway show: what is left is what the flood costs the lab itself
//   (the generator's transmit path and the client's CPU, which the flooder shares).
//
// Both programs also give their veth a native XDP program: a veth delivers frames that its peer sends
// with XDP_TX only when it runs one itself. The counter map `pkt_count` (per-CPU; index 0 = frames,
// index 1 = bytes) is laid out as in lab_xdp.bpf.c, so xdpcnt loads and reads these programs too
// (`xdpcnt -o lab_sinks.o -p ...`).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef CLIENT_IP
#error "build with -DCLIENT_IP=<the client's IPv4 address as a host-order integer> (Perf/lab/Makefile does)"
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pkt_count SEC(".maps");

static __always_inline int drop_counted(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&pkt_count, &key);
	if (value)
		*value += 1;
	key = 1;
	value = bpf_map_lookup_elem(&pkt_count, &key);
	if (value)
		*value += ctx->data_end - ctx->data;
	return XDP_DROP;
}

/* Passes every frame but IPv4 ones whose source (by_source) or destination address is not the client's,
 * which it drops and counts. */
static __always_inline int keep_client(struct xdp_md *ctx, int by_source)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((by_source ? ip->saddr : ip->daddr) == bpf_htonl(CLIENT_IP))
		return XDP_PASS;
	return drop_counted(ctx);
}

SEC("xdp")
int xdp_client_sink(struct xdp_md *ctx)
{
	return keep_client(ctx, 0);
}

SEC("xdp")
int xdp_flood_drop(struct xdp_md *ctx)
{
	return keep_client(ctx, 1);
}

char _license[] SEC("license") = "GPL";
