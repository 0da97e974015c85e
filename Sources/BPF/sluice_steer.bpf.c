// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sluice_steer: the XDP program that decides, per frame, whether the Sluice data plane or the kernel
 * stack gets it (docs/design.md §1).
 *
 * The kernel stays the control plane for L2/L3, so the default is XDP_PASS. A frame is redirected to the
 * AF_XDP socket of its own rx queue (sluice_xsks[rx_queue_index]) only when it is
 *   (a) TCP/UDP to a configured virtual service {VIP, port, protocol}              -> sluice_vips
 *   (b) TCP/UDP to a local address (LIP) with a destination port inside the data
 *       plane's local port range (replies from real servers)                       -> sluice_lips + sluice_config
 *   (c) an ICMP/ICMPv6 error (v4 types 3, 4, 11; v6 types 1, 2, 3) about a packet the data plane sent:
 *       addressed to a LIP and quoting a source port inside the range, or quoting a VIP service as the
 *       source. The data plane translates these back (FULLNAT ICMP handling).
 * Everything else (ARP/ND, ping to the host, SSH, BGP, health checks sourced from a LIP with ports outside
 * the range) goes to the kernel. A socket can only receive from the queue it is bound to, so the program
 * never redirects across queues; ownership of LIP ports per queue is the runtime's job (docs/design.md §2).
 *
 * SYN proxy in XDP (sluice_synproxy.h): a pure SYN to a service whose sluice_vips value carries
 * SLUICE_VIP_SYNPROXY_XDP is answered here with the cookie SYN-ACK (XDP_TX), byte for byte what the data
 * plane would send, so a SYN flood never crosses into user space. Anything that SYN path is not sure
 * about goes to the data plane as before (counted in SLUICE_STAT_SYN_TO_DATAPLANE).
 *
 * TCP/UDP fragments go to the data plane too (docs/protocol.md §3 "Fragments"): a first fragment when its
 * ports match (a) or (b), never answered here; a later one, which has no ports, whenever its destination is
 * a VIP (sluice_vip_addrs) or a LIP at all. The workers forward it with the rewrite its first fragment got,
 * whichever queue it arrived on (Sources/SluiceCore/FragmentTable.swift). So a fragmented datagram the
 * kernel's own socket on a LIP would receive (a port outside the range) loses its later fragments to the
 * data plane; the kernel's traffic from LIPs is health checks over TCP, which does not fragment. Other
 * fragments are passed and counted. IPv6 atomic fragments (RFC 6946) are whole packets. Malformed headers
 * are passed too (the kernel drops them and counts them in its own MIBs); XDP never drops here (the one
 * XDP_DROP is for a SYN-ACK that could not be written after its frame was resized, which the bounds make
 * impossible; counted as malformed).
 *
 * Every loop is bounded and unrolled for the verifier. One 802.1Q/802.1ad tag and up to
 * SLUICE_MAX_EXT_HEADERS IPv6 extension headers are walked.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "../CXDP/sluice_shared.h"

#define SLUICE_MAX_EXT_HEADERS 4

#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1fff

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* The parts of an IPv6 extension header that say how to skip it (RFC 8200 §4). */
struct ext_header {
	__u8 next;
	__u8 length; /* in 8-octet units, not counting the first 8 */
};

/* The IPv6 fragment header (RFC 8200 §4.5): always 8 bytes. */
struct fragment_header {
	__u8 next;
	__u8 reserved;
	__be16 offset_flags; /* offset in 8-octet units (13 bits), 2 reserved bits, M */
	__be32 identification;
};

#define IPV6_FRAGMENT_OFFSET 0xfff8
#define IPV6_FRAGMENT_MORE 0x0001

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_MAX_VIPS);
	__type(key, struct sluice_vip_key);
	__type(value, struct sluice_vip_value);
} sluice_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_MAX_LIPS);
	__type(key, struct sluice_lip_key);
	__type(value, struct sluice_lip_value);
} sluice_lips SEC(".maps");

/* The VIP addresses of sluice_vips, by address alone: what a later fragment, without ports, is matched on. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLUICE_MAX_VIPS);
	__type(key, struct sluice_lip_key);
	__type(value, struct sluice_lip_value);
} sluice_vip_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sluice_config);
} sluice_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sluice_cookie_key);
} sluice_cookie_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SLUICE_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} sluice_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLUICE_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} sluice_stats SEC(".maps");

static __always_inline int count(__u32 stat, int action)
{
	__u64 *value = bpf_map_lookup_elem(&sluice_stats, &stat);

	if (value)
		*value += 1;
	return action;
}

static __always_inline int redirect(struct xdp_md *ctx, __u32 stat)
{
	/* The low bits of flags are the action when the XSKMAP slot is empty (no socket on this queue). */
	if (bpf_redirect_map(&sluice_xsks, ctx->rx_queue_index, XDP_PASS) != XDP_REDIRECT)
		return count(SLUICE_STAT_REDIRECT_FAILED, XDP_PASS);
	return count(stat, XDP_REDIRECT);
}

static __always_inline struct sluice_vip_value *find_vip(const void *addr, __u8 family, __u8 proto, __be16 port)
{
	struct sluice_vip_key key = {};

	__builtin_memcpy(key.addr, addr, 16);
	key.family = family;
	key.proto = proto;
	key.port = port;
	return bpf_map_lookup_elem(&sluice_vips, &key);
}

static __always_inline int is_vip(const void *addr, __u8 family, __u8 proto, __be16 port)
{
	return find_vip(addr, family, proto, port) != NULL;
}

static __always_inline int is_lip(const void *addr, __u8 family)
{
	struct sluice_lip_key key = {};

	__builtin_memcpy(key.addr, addr, 16);
	key.family = family;
	return bpf_map_lookup_elem(&sluice_lips, &key) != NULL;
}

static __always_inline int in_port_range(__be16 port)
{
	__u32 zero = 0;
	struct sluice_config *config = bpf_map_lookup_elem(&sluice_config, &zero);
	__u16 host = bpf_ntohs(port);

	return config && config->port_high != 0 && host >= config->port_low && host <= config->port_high;
}

/* Placed here because it uses the maps and counters above. */
#include "sluice_synproxy.h"

/*
 * TCP/UDP towards addr:port. For the SYN proxy: l3 is the IP header's offset in the frame, l4 the
 * transport header, direct true when l4 follows the fixed IP header.
 */
static __always_inline int steer_transport(struct xdp_md *ctx, const void *daddr, __u8 family,
					   __u8 proto, __be16 dport, __u32 l3, void *l4, int direct)
{
	struct sluice_vip_value *vip = find_vip(daddr, family, proto, dport);
	int syn;

	if (vip) {
		if (proto == IPPROTO_TCP && (vip->flags & SLUICE_VIP_SYNPROXY_XDP)) {
			syn = synproxy_answer(ctx, vip, l3, l4,
					      (family == SLUICE_FAMILY_V6 ? SYN_FRAME_V6 : 0) |
						      (direct ? SYN_FRAME_DIRECT : 0));
			if (syn == SYN_ANSWERED)
				return count(SLUICE_STAT_SYN_ANSWERED, XDP_TX);
			if (syn == SYN_TO_DATAPLANE)
				count(SLUICE_STAT_SYN_TO_DATAPLANE, 0); /* and redirected below */
			if (syn == SYN_BROKEN)
				return count(SLUICE_STAT_MALFORMED, XDP_DROP);
		}
		return redirect(ctx, SLUICE_STAT_REDIRECTED_VIP);
	}
	if (in_port_range(dport) && is_lip(daddr, family))
		return redirect(ctx, SLUICE_STAT_REDIRECTED_LIP);
	return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);
}

/*
 * An ICMP error whose quoted packet left from saddr:sport (proto). It concerns the data plane when the
 * quoted source is a VIP service, or when the error is addressed to a LIP and the quoted source port is
 * one of the data plane's local ports.
 */
static __always_inline int steer_icmp_error(struct xdp_md *ctx, int to_lip, const void *inner_saddr,
					    __u8 family, __u8 inner_proto, __be16 inner_sport)
{
	if (inner_proto != IPPROTO_TCP && inner_proto != IPPROTO_UDP)
		return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);
	if (to_lip && in_port_range(inner_sport))
		return redirect(ctx, SLUICE_STAT_REDIRECTED_ICMP);
	if (is_vip(inner_saddr, family, inner_proto, inner_sport))
		return redirect(ctx, SLUICE_STAT_REDIRECTED_ICMP);
	return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);
}

static __always_inline int is_vip_address(const void *addr, __u8 family)
{
	struct sluice_lip_key key = {};

	__builtin_memcpy(key.addr, addr, 16);
	key.family = family;
	return bpf_map_lookup_elem(&sluice_vip_addrs, &key) != NULL;
}

/*
 * A fragment of a datagram (proto) to daddr. ports points at the transport header of a first fragment and
 * is NULL for a later one. A first fragment is matched on its ports like a whole packet; a later one by its
 * destination address alone.
 */
static __always_inline int steer_fragment(struct xdp_md *ctx, const void *daddr, __u8 family, __u8 proto,
					  __be16 *ports, void *end)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return count(SLUICE_STAT_PASSED_FRAGMENT, XDP_PASS);
	if (ports) {
		if ((void *)(ports + 2) > end)
			return count(SLUICE_STAT_MALFORMED, XDP_PASS);
		if (is_vip(daddr, family, proto, ports[1]) || (in_port_range(ports[1]) && is_lip(daddr, family)))
			return redirect(ctx, SLUICE_STAT_REDIRECTED_FRAGMENT);
		return count(SLUICE_STAT_PASSED_FRAGMENT, XDP_PASS);
	}
	if (is_vip_address(daddr, family) || is_lip(daddr, family))
		return redirect(ctx, SLUICE_STAT_REDIRECTED_FRAGMENT);
	return count(SLUICE_STAT_PASSED_FRAGMENT, XDP_PASS);
}

static __always_inline int steer_ipv4(struct xdp_md *ctx, void *cursor, void *end, __u32 l3)
{
	struct iphdr *ip = cursor;
	struct iphdr *inner;
	__be16 *ports;
	__u8 *icmp;
	__u32 length;
	__u32 daddr[4] = {};
	__u32 saddr[4] = {};

	if ((void *)(ip + 1) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	if (ip->version != 4 || ip->ihl < 5)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	length = (ip->ihl & 0xf) * 4;
	cursor = (void *)ip + length;
	daddr[0] = ip->daddr;
	if (ip->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET))
		return steer_fragment(ctx, daddr, SLUICE_FAMILY_V4, ip->protocol,
				      (ip->frag_off & bpf_htons(IPV4_OFFSET)) ? NULL : cursor, end);

	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		ports = cursor;
		if ((void *)(ports + 2) > end)
			return count(SLUICE_STAT_MALFORMED, XDP_PASS);
		return steer_transport(ctx, daddr, SLUICE_FAMILY_V4, ip->protocol, ports[1], l3, ports,
				       length == 20);
	}
	if (ip->protocol != IPPROTO_ICMP)
		return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);

	icmp = cursor;
	if ((void *)(icmp + 8) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	/* RFC 792: destination unreachable, source quench, time exceeded. */
	if (icmp[0] != 3 && icmp[0] != 4 && icmp[0] != 11)
		return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);
	inner = (struct iphdr *)(icmp + 8);
	if ((void *)(inner + 1) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	if (inner->version != 4 || inner->ihl < 5)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	length = (inner->ihl & 0xf) * 4;
	ports = (__be16 *)((void *)inner + length);
	if ((void *)(ports + 2) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	saddr[0] = inner->saddr;
	return steer_icmp_error(ctx, is_lip(daddr, SLUICE_FAMILY_V4), saddr, SLUICE_FAMILY_V4,
				inner->protocol, ports[0]);
}

static __always_inline int is_ipv6_extension(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS;
}

static __always_inline int steer_ipv6(struct xdp_md *ctx, void *cursor, void *end, __u32 l3)
{
	struct ipv6hdr *ip = cursor;
	struct ipv6hdr *inner;
	struct ext_header *ext;
	struct fragment_header *fragment;
	__be16 *ports;
	__u8 *icmp;
	__u8 next;
	int i;

	if ((void *)(ip + 1) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	if (ip->version != 6)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	next = ip->nexthdr;
	cursor = ip + 1;

#pragma unroll
	for (i = 0; i < SLUICE_MAX_EXT_HEADERS; i++) {
		if (next == IPPROTO_FRAGMENT) {
			fragment = cursor;
			/* One register for the bound check and the loads, or the verifier loses the range. */
			barrier_var(fragment);
			if ((void *)(fragment + 1) > end)
				return count(SLUICE_STAT_MALFORMED, XDP_PASS);
			/* The transport header must follow a real fragment header directly (the data plane's rule). */
			if (fragment->offset_flags & bpf_htons(IPV6_FRAGMENT_OFFSET | IPV6_FRAGMENT_MORE))
				return steer_fragment(ctx, &ip->daddr, SLUICE_FAMILY_V6, fragment->next,
						      (fragment->offset_flags & bpf_htons(IPV6_FRAGMENT_OFFSET)) ?
							      NULL :
							      (__be16 *)(fragment + 1),
						      end);
			/* An atomic fragment (offset 0, M 0; RFC 6946): a whole packet behind an 8-byte header. */
			next = fragment->next;
			cursor = fragment + 1;
			continue;
		}
		if (!is_ipv6_extension(next))
			break;
		ext = cursor;
		if ((void *)(ext + 1) > end)
			return count(SLUICE_STAT_MALFORMED, XDP_PASS);
		next = ext->next;
		cursor += ((__u32)ext->length + 1) * 8;
	}
	if (next == IPPROTO_FRAGMENT)
		return count(SLUICE_STAT_PASSED_FRAGMENT, XDP_PASS);

	if (next == IPPROTO_TCP || next == IPPROTO_UDP) {
		ports = cursor;
		if ((void *)(ports + 2) > end)
			return count(SLUICE_STAT_MALFORMED, XDP_PASS);
		return steer_transport(ctx, &ip->daddr, SLUICE_FAMILY_V6, next, ports[1], l3, ports,
				       cursor == (void *)(ip + 1));
	}
	if (next != IPPROTO_ICMPV6)
		return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);

	icmp = cursor;
	if ((void *)(icmp + 8) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	/* RFC 4443: destination unreachable, packet too big, time exceeded. */
	if (icmp[0] != 1 && icmp[0] != 2 && icmp[0] != 3)
		return count(SLUICE_STAT_PASSED_NO_MATCH, XDP_PASS);
	inner = (struct ipv6hdr *)(icmp + 8);
	if ((void *)(inner + 1) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	ports = (__be16 *)(inner + 1);
	if ((void *)(ports + 2) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	return steer_icmp_error(ctx, is_lip(&ip->daddr, SLUICE_FAMILY_V6), &inner->saddr,
				SLUICE_FAMILY_V6, inner->nexthdr, ports[0]);
}

SEC("xdp")
int sluice_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_tag *tag;
	void *cursor;
	__be16 proto;
	__u32 l3 = sizeof(*eth);

	if ((void *)(eth + 1) > end)
		return count(SLUICE_STAT_MALFORMED, XDP_PASS);
	proto = eth->h_proto;
	cursor = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		tag = cursor;
		if ((void *)(tag + 1) > end)
			return count(SLUICE_STAT_MALFORMED, XDP_PASS);
		proto = tag->proto;
		cursor = tag + 1;
		l3 += sizeof(*tag);
	}
	if (proto == bpf_htons(ETH_P_IP))
		return steer_ipv4(ctx, cursor, end, l3);
	if (proto == bpf_htons(ETH_P_IPV6))
		return steer_ipv6(ctx, cursor, end, l3);
	return count(SLUICE_STAT_PASSED_NOT_IP, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
