// lab_xdp.bpf.c -- the XDP programs the lab's tools attach (Perf/lab/src).
//
// Every program adds the frame to the per-CPU counter map `pkt_count` (index 0: frames, index 1: bytes),
// which xdpcnt sums over the CPUs and reads once a second.
//
//   xdp_drop_cnt  count, then drop: a receiver that costs next to nothing (the sink of a rate test)
//   xdp_pass_cnt  count, then hand the frame to the kernel: gives a veth a native XDP program (which a
//                 veth needs before frames sent to it with XDP_TX arrive) without changing what it does
//   xdp_to_xsk    IPv4 frames to the AF_XDP socket of the receive queue (map `xsks`, filled by xsk_fwd);
//                 everything else, ARP and IPv6 among it, to the kernel
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pkt_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

static __always_inline void tally(const struct xdp_md *ctx)
{
	__u32 index = 0;
	__u64 *slot = bpf_map_lookup_elem(&pkt_count, &index);

	if (slot)
		*slot += 1;
	index = 1;
	slot = bpf_map_lookup_elem(&pkt_count, &index);
	if (slot)
		*slot += ctx->data_end - ctx->data;
}

SEC("xdp")
int xdp_drop_cnt(struct xdp_md *ctx)
{
	tally(ctx);
	return XDP_DROP;
}

SEC("xdp")
int xdp_pass_cnt(struct xdp_md *ctx)
{
	tally(ctx);
	return XDP_PASS;
}

SEC("xdp")
int xdp_to_xsk(struct xdp_md *ctx)
{
	const void *start = (const void *)(long)ctx->data;
	const void *end = (const void *)(long)ctx->data_end;
	const struct ethhdr *eth = start;

	if ((const void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	tally(ctx);
	// No socket on this queue: the kernel gets the frame (the flags argument is the fallback action).
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
