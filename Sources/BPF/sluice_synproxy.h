/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN proxy, first step, in XDP: a client's pure SYN to a SYN-proxied service is turned into the cookie
 * SYN-ACK in place and sent back out of the interface it came in on (XDP_TX), so a SYN flood costs one
 * XDP run per SYN and never crosses into user space. Included by sluice_steer.bpf.c, which owns the maps.
 *
 * The answer must be byte for byte what the Swift data plane sends (SluiceCore Dataplane.synProxyAnswerSYN,
 * SluicePacket SynAck.answer, SluiceCore SynCookie.make), because the data plane checks the cookie when the
 * client's ACK arrives and maps the SYN-ACK's TSval onto its own clock. So this code mirrors those files:
 *   - options are scanned exactly as SluicePacket TCPOptions.scan does (first occurrence wins; a bad length
 *     of MSS/WS/SACK-permitted/SACK/TS, a length below 2 or past the header is malformed);
 *   - the cookie is SipHash-2-4 over the same message words (IPv4: 3 words, IPv6: 6), with the minute
 *     counter taken from bpf_ktime_get_ns(), which is CLOCK_MONOTONIC like the workers' clock
 *     (MonotonicClock), so both sides agree to the millisecond; the key is the current slot of
 *     sluice_cookie_keys, the one the workers make their cookies with;
 *   - the SYN-ACK: MACs swapped (the VLAN tag stays), a plain IPv4 header (TOS 0, ID 0, DF, TTL 64) or IPv6
 *     header (class 0, flow 0, hop limit 64), ports and addresses swapped, seq = cookie, ack = ISN + 1, the
 *     client's window echoed, options in Linux's order, any SYN payload and padding cut off, both checksums
 *     computed from scratch.
 * The data plane still answers whatever this code is not sure about (SYN_TO_DATAPLANE): IPv4 options or
 * IPv6 extension headers (the SYN-ACK drops them, which needs moving the TCP header), a bad IPv4 header
 * checksum or malformed TCP options (the data plane drops those, counted), a service without a real server
 * of weight > 0 (dropped there, counted), no key yet, no tailroom for a longer frame.
 *
 * Known differences. The answer goes back to the MAC address the SYN came from, out of the interface it came
 * in on; the data plane sends it to the next hop of its route to the client, which is the same thing unless
 * routing is asymmetric. The program keeps no connection state, so a SYN on a 4-tuple the data plane still has
 * as an established connection gets a cookie SYN-ACK here, where the data plane would have forwarded it to
 * the real server (whose challenge ACK then resets the client's stale view). A SYN on a tuple in TIME_WAIT
 * or CLOSE is answered here as the data plane would; its ACK then replaces the old entry there.
 *
 * Verifier notes (kernel 5.18 or later: bpf_loop, bpf_xdp_load_bytes): headers are built in a per-CPU
 * scratch map value (the BPF stack is too small for them next to SipHash's spills) and copied to the frame
 * 4 bytes at a time, each copy with its own bound check at a constant offset; the option bytes are copied
 * with bpf_xdp_load_bytes to a 64-byte buffer whose indexes are masked with 63, and walked one option per
 * bpf_loop round.
 */
#ifndef SLUICE_SYNPROXY_H
#define SLUICE_SYNPROXY_H

enum syn_outcome {
	SYN_NOT_SYN = 0,  /* not a pure SYN: the ordinary path */
	SYN_TO_DATAPLANE, /* a pure SYN the data plane answers (or drops) */
	SYN_ANSWERED,     /* rewritten into the SYN-ACK: XDP_TX */
	SYN_BROKEN,       /* the frame was resized but could not be written (cannot happen): drop */
};

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

#define SYNACK_HOP_LIMIT 64
#define COOKIE_PERIOD_MS 60000
#define COOKIE_HASH_MASK 0x003fffff
#define DEFAULT_MSS_V4 536  /* RFC 9293 3.7.1: 576 - 40 */
#define DEFAULT_MSS_V6 1220 /* 1280 - 60 */
#define MAX_TCP_OPTIONS 40

/* What the client's SYN offers (TCPOptions.scan: the first occurrence of each option counts). */
struct syn_offer {
	__u32 tsval; /* host order */
	__u16 mss;   /* host order; 0 when absent */
	__u8 has_mss;
	__u8 has_ws;
	__u8 ws;
	__u8 sack;
	__u8 has_ts;
	__u8 pad;
};

/*
 * State of the option walk. It lives in the scratch map value, not on the stack: the verifier tracks stack
 * values exactly, so a position kept there would differ on every round and the callback would never be
 * found to converge; map memory reads back as unknown.
 */
struct option_walk {
	struct syn_offer offer;
	__u8 buf[64]; /* the option bytes; what lies beyond len is left over from an earlier SYN */
	__u32 at;
	__u32 len;
	__u32 malformed;
	__u32 pad;
};

/* bpf_loop's context: where the walk is. */
struct option_walk_context {
	struct option_walk *walk;
};

/* One option (or one NOP) at walk->at. Returns 1 to stop, 0 to go on (bpf_loop's convention). */
static long scan_syn_option(__u64 index, void *context)
{
	struct option_walk *walk = ((struct option_walk_context *)context)->walk;
	struct syn_offer *offer = &walk->offer;
	const __u8 *buf = walk->buf;
	__u32 at = walk->at;
	__u32 len = walk->len;
	__u32 length;
	__u8 kind;

	if (at >= len || len > MAX_TCP_OPTIONS)
		return 1;
	kind = buf[at & 63];
	if (kind == 0) /* end of option list: the rest is ignored */
		return 1;
	if (kind == 1) { /* no-operation */
		walk->at = at + 1;
		return 0;
	}
	if (at + 1 >= len)
		goto malformed;
	length = buf[(at + 1) & 63];
	if (length < 2 || length > len - at)
		goto malformed;
	switch (kind) {
	case 2: /* MSS */
		if (length != 4)
			goto malformed;
		if (!offer->has_mss) {
			offer->has_mss = 1;
			offer->mss = (__u16)buf[(at + 2) & 63] << 8 | buf[(at + 3) & 63];
		}
		break;
	case 3: /* window scale */
		if (length != 3)
			goto malformed;
		if (!offer->has_ws) {
			offer->has_ws = 1;
			offer->ws = buf[(at + 2) & 63];
		}
		break;
	case 4: /* SACK permitted */
		if (length != 2)
			goto malformed;
		offer->sack = 1;
		break;
	case 5: /* SACK blocks */
		if (length < 10 || (length - 2) % 8 != 0)
			goto malformed;
		break;
	case 8: /* timestamps */
		if (length != 10)
			goto malformed;
		if (!offer->has_ts) {
			offer->has_ts = 1;
			offer->tsval = (__u32)buf[(at + 2) & 63] << 24 | (__u32)buf[(at + 3) & 63] << 16 |
				       (__u32)buf[(at + 4) & 63] << 8 | buf[(at + 5) & 63];
		}
		break;
	default:
		break;
	}
	walk->at = at + length;
	return 0;
malformed:
	walk->malformed = 1;
	return 1;
}

/*
 * Walks walk->len (<= 40) option bytes of walk->buf as TCPOptions.scan does, filling walk->offer. Returns
 * -1 when malformed. bpf_loop (kernel 5.17) has the verifier check one round until it converges; an
 * open-coded loop forks its state on every option kind of every round and exceeds the verifier's budget.
 */
static __always_inline int scan_syn_options(struct option_walk *walk)
{
	struct option_walk_context context = { .walk = walk };
	const __u8 *b = walk->buf;

	/*
	 * Linux's SYN (MSS, SACK permitted, timestamps, NOP, window scale; by far the most common layout) is
	 * read at fixed offsets instead: each bpf_loop round is a call, and this layout takes five. The
	 * result is the walk's, since every option here is well formed and occurs once.
	 */
	if (walk->len == 20 && b[0] == 2 && b[1] == 4 && b[4] == 4 && b[5] == 2 && b[6] == 8 && b[7] == 10 &&
	    b[16] == 1 && b[17] == 3 && b[18] == 3) {
		walk->offer.has_mss = 1;
		walk->offer.mss = (__u16)b[2] << 8 | b[3];
		walk->offer.sack = 1;
		walk->offer.has_ts = 1;
		walk->offer.tsval = (__u32)b[8] << 24 | (__u32)b[9] << 16 | (__u32)b[10] << 8 | b[11];
		walk->offer.has_ws = 1;
		walk->offer.ws = b[19];
		return 0;
	}

	/* Every round consumes at least one byte, so 40 rounds cover 40 bytes. */
	bpf_loop(MAX_TCP_OPTIONS, scan_syn_option, &context, 0);
	return walk->malformed ? -1 : 0;
}

/* CookieOptions.encodeMSS: the largest table entry not above the client's MSS, 0 when none is. */
static __always_inline __u32 cookie_mss_index(__u16 mss, int v6)
{
	if (v6) {
		if (mss >= 8940) return 7;
		if (mss >= 1440) return 6;
		if (mss >= 1432) return 5;
		if (mss >= 1420) return 4;
		if (mss >= 1380) return 3;
		if (mss >= 1340) return 2;
		if (mss >= 1280) return 1;
		return 0;
	}
	if (mss >= 1460) return 7;
	if (mss >= 1452) return 6;
	if (mss >= 1440) return 5;
	if (mss >= 1400) return 4;
	if (mss >= 1360) return 3;
	if (mss >= 1300) return 2;
	if (mss >= 1200) return 1;
	return 0;
}

/* SipHash-2-4 over whole 64-bit words (SluiceCore SipHash24). */
struct siphash {
	__u64 v0, v1, v2, v3;
};

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static __always_inline void sip_round(struct siphash *s)
{
	s->v0 += s->v1;
	s->v1 = SIP_ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = SIP_ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = SIP_ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = SIP_ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = SIP_ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = SIP_ROTL(s->v2, 32);
}

static __always_inline void sip_init(struct siphash *s, __u64 k0, __u64 k1)
{
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
}

static __always_inline void sip_word(struct siphash *s, __u64 m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

/* Finishes a message of `words` 64-bit words. */
static __always_inline __u64 sip_finish(struct siphash *s, __u64 words)
{
	sip_word(s, (words * 8) << 56);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* Reads 8 bytes as a big-endian number (IPv6 address halves as IPAddress.high/low hold them). */
static __always_inline __u64 load_be64(const __u8 *p)
{
	__u64 value = 0;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++)
		value = value << 8 | p[i];
	return value;
}

/*
 * SynCookie.make: count mod 4 (2 bits) | data (8 bits) | 22 hash bits. saddr/daddr are 4 or 16 bytes in
 * network order; sport/dport/isn in host order.
 */
static __always_inline __u32 make_cookie(const struct sluice_cookie_key *key, const __u8 *saddr, const __u8 *daddr,
					 int v6, __u16 sport, __u16 dport, __u32 isn, __u32 data, __u64 now_ms)
{
	struct siphash s;
	__u64 count = now_ms / COOKIE_PERIOD_MS;
	__u64 ports = (__u64)sport << 48 | (__u64)dport << 32 | isn;
	/* The family bits: 1 (source is IPv6) | 2 (destination is IPv6); both or neither. */
	__u64 last = count << 16 | (__u64)(data & 0xff) << 8 | (v6 ? 3 : 0);
	__u64 hash;

	sip_init(&s, key->k0, key->k1);
	if (v6) {
		sip_word(&s, load_be64(saddr));
		sip_word(&s, load_be64(saddr + 8));
		sip_word(&s, load_be64(daddr));
		sip_word(&s, load_be64(daddr + 8));
		sip_word(&s, ports);
		sip_word(&s, last);
		hash = sip_finish(&s, 6);
	} else {
		__u64 source = (__u64)saddr[0] << 24 | (__u64)saddr[1] << 16 | (__u64)saddr[2] << 8 | saddr[3];
		__u64 destination = (__u32)daddr[0] << 24 | (__u32)daddr[1] << 16 | (__u32)daddr[2] << 8 | daddr[3];

		sip_word(&s, source << 32 | destination);
		sip_word(&s, ports);
		sip_word(&s, last);
		hash = sip_finish(&s, 3);
	}
	return (__u32)(count & 3) << 30 | (data & 0xff) << 22 | ((__u32)hash & COOKIE_HASH_MASK);
}

static __always_inline __u16 fold_sum(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum of the 16-bit words of a 4-byte-aligned stack buffer of `words32` 32-bit words (as loaded). */
static __always_inline __u64 sum_words(const __u32 *buffer, int words32)
{
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < words32; i++)
		sum += (buffer[i] & 0xffff) + (buffer[i] >> 16);
	return sum;
}

static __always_inline void put16(__u8 *p, __u16 value)
{
	p[0] = value >> 8;
	p[1] = value;
}

static __always_inline void put32(__u8 *p, __u32 value)
{
	p[0] = value >> 24;
	p[1] = value >> 16;
	p[2] = value >> 8;
	p[3] = value;
}

#define SYN_FRAME_V6 0x1     /* the frame is IPv6 */
#define SYN_FRAME_DIRECT 0x2 /* TCP follows the fixed IP header: no IPv4 options, no IPv6 extension headers */

/* Working memory of one answer: too big for the 512-byte BPF stack next to SipHash's spills. */
struct synproxy_scratch {
	__u32 ip_header[10];  /* the answer's IP header (20 or 40 bytes) */
	__u32 tcp_header[10]; /* the answer's TCP header (24-40 bytes), zero beyond it */
	__u8 saddr[16];       /* the client */
	__u8 daddr[16];       /* the service */
	__u8 client_mac[8];
	__u8 our_mac[8];
	struct option_walk walk; /* the SYN's options and what they offer */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct synproxy_scratch);
} sluice_syn_scratch SEC(".maps");

/*
 * The SYN proxy's answer to a frame for `vip` (a service with SLUICE_VIP_SYNPROXY_XDP). l3 is the IP
 * header's offset (14, or 18 behind a VLAN tag); l4 points at the TCP header, of which only the ports were
 * bounds-checked; `frame` holds SYN_FRAME_* bits.
 *
 * Not inlined: one copy serves both families (BPF-to-BPF call; a call takes at most five arguments, hence
 * the bits).
 */
static __noinline int synproxy_answer(struct xdp_md *ctx, const struct sluice_vip_value *vip, __u32 l3,
				      __u8 *l4, __u32 frame)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	int v6 = frame & SYN_FRAME_V6;
	__u32 ip_length = v6 ? 40 : 20, segment, header, option_length, zero = 0, slot;
	__u32 cookie, data_bits, ws_field, ws_option, tcp_length, new_length, isn;
	const struct sluice_cookie_key *key;
	const struct sluice_config *config;
	struct synproxy_scratch *sc;
	__u8 *ip, *tcp, *th, *ih, *to;
	__u16 sport, dport, window, mss;
	__u64 now_ms, sum;
	int sack, timestamps, delta, i;

	if ((void *)(l4 + 14) > end)
		return SYN_NOT_SYN; /* too short for flags: the data plane drops it */
	if ((l4[13] & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN)) != TCP_FLAG_SYN)
		return SYN_NOT_SYN;
	if (!(vip->flags & SLUICE_VIP_SCHEDULABLE) || !(frame & SYN_FRAME_DIRECT) || l3 > 18)
		return SYN_TO_DATAPLANE;
	sc = bpf_map_lookup_elem(&sluice_syn_scratch, &zero);
	if (!sc)
		return SYN_TO_DATAPLANE;
	/* Everything but the option bytes, which are loaded below and never read beyond walk.len. */
	__builtin_memset(sc, 0, __builtin_offsetof(struct synproxy_scratch, walk.buf));
	sc->walk.at = 0;
	sc->walk.malformed = 0;
	th = (__u8 *)sc->tcp_header;
	ih = (__u8 *)sc->ip_header;

	ip = data + l3;
	if ((void *)(ip + 40) > end)
		return SYN_TO_DATAPLANE;
	if (v6) {
		if ((ip[0] >> 4) != 6 || ip[6] != IPPROTO_TCP)
			return SYN_TO_DATAPLANE;
		segment = (__u32)ip[4] << 8 | ip[5];
		if (segment > (__u32)(end - (void *)ip) - 40)
			return SYN_TO_DATAPLANE;
		__builtin_memcpy(sc->saddr, ip + 8, 16);
		__builtin_memcpy(sc->daddr, ip + 24, 16);
	} else {
		if (ip[0] != 0x45)
			return SYN_TO_DATAPLANE;
		segment = (__u32)ip[2] << 8 | ip[3];
		if (segment < 20 || segment > (__u32)(end - (void *)ip))
			return SYN_TO_DATAPLANE;
		/* The data plane drops a bad header checksum: leave it to do so. */
		sum = 0;
#pragma unroll
		for (i = 0; i < 20; i += 2)
			sum += (__u32)ip[i] << 8 | ip[i + 1];
		if (fold_sum(sum) != 0xffff)
			return SYN_TO_DATAPLANE;
		segment -= 20;
		__builtin_memcpy(sc->saddr, ip + 12, 4);
		__builtin_memcpy(sc->daddr, ip + 16, 4);
	}

	/* TCP: data offset within the segment, options well formed. */
	tcp = ip + ip_length;
	if ((void *)(tcp + 20) > end || segment < 20)
		return SYN_TO_DATAPLANE;
	header = (tcp[12] >> 4) * 4;
	if (header < 20 || header > segment)
		return SYN_TO_DATAPLANE;
	option_length = header - 20;
	/* Copied with a helper (kernel 5.18): a byte loop with a bound check per byte forks the verifier's state. */
	if (option_length > MAX_TCP_OPTIONS)
		return SYN_TO_DATAPLANE;
	if (option_length > 0 && bpf_xdp_load_bytes(ctx, l3 + ip_length + 20, sc->walk.buf, option_length))
		return SYN_TO_DATAPLANE;
	sc->walk.len = option_length;
	if (scan_syn_options(&sc->walk) < 0)
		return SYN_TO_DATAPLANE;

	config = bpf_map_lookup_elem(&sluice_config, &zero);
	if (!config || !(config->flags & SLUICE_CONFIG_COOKIE_READY))
		return SYN_TO_DATAPLANE;
	slot = config->flags & SLUICE_CONFIG_COOKIE_SLOT1 ? 1 : 0;
	key = bpf_map_lookup_elem(&sluice_cookie_keys, &slot);
	if (!key)
		return SYN_TO_DATAPLANE;

	if ((void *)((__u8 *)data + 14) > end)
		return SYN_TO_DATAPLANE;
	__builtin_memcpy(sc->our_mac, data, 6);
	__builtin_memcpy(sc->client_mac, (__u8 *)data + 6, 6);
	sport = (__u16)tcp[0] << 8 | tcp[1];
	dport = (__u16)tcp[2] << 8 | tcp[3];
	isn = (__u32)tcp[4] << 24 | (__u32)tcp[5] << 16 | (__u32)tcp[6] << 8 | tcp[7];
	window = (__u16)tcp[14] << 8 | tcp[15];

	/* The cookie (SynCookie.make with CookieOptions(syn:)): the client's own options, whatever we offer. */
	ws_field = sc->walk.offer.has_ws ? (sc->walk.offer.ws < 14 ? sc->walk.offer.ws : 14) : 15;
	data_bits = cookie_mss_index(sc->walk.offer.mss, v6) << 5 | ws_field << 1 | (sc->walk.offer.sack ? 1 : 0);
	now_ms = bpf_ktime_get_ns() / 1000000;
	cookie = make_cookie(key, sc->saddr, sc->daddr, v6, sport, dport, isn, data_bits, now_ms);

	/* SynAck.answer's parameters: min(client MSS or the default, the service's bound). */
	mss = sc->walk.offer.has_mss ? sc->walk.offer.mss : (v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
	if (mss > vip->mss)
		mss = vip->mss;
	sack = (vip->flags & SLUICE_VIP_SACK) && sc->walk.offer.sack;
	timestamps = (vip->flags & SLUICE_VIP_TIMESTAMPS) && sc->walk.offer.has_ts;
	option_length = 4 + (timestamps ? 12 : 0) + (sc->walk.offer.has_ws ? 4 : 0) + (sack && !timestamps ? 4 : 0);
	tcp_length = 20 + option_length;

	/* TCP header and options (SynAck.writeOptions: Linux's order). */
	th[0] = tcp[2];
	th[1] = tcp[3];
	th[2] = tcp[0];
	th[3] = tcp[1];
	put32(th + 4, cookie);
	put32(th + 8, isn + 1); /* the SYN takes one sequence number; wraps mod 2^32 */
	th[12] = (tcp_length / 4) << 4;
	th[13] = TCP_FLAG_SYN | TCP_FLAG_ACK;
	put16(th + 14, window);
	th[20] = 2;
	th[21] = 4;
	put16(th + 22, mss);
	/* Constant offsets only: MSS (4) · [SACK-perm|NOP NOP, TS (12)] · [NOP WS (4)] · [NOP NOP SACK-perm (4)]. */
	ws_option = (__u32)1 << 24 | 3 << 16 | 3 << 8 | (vip->wscale < 14 ? vip->wscale : 14);
	if (timestamps) {
		th[24] = sack ? 4 : 1;
		th[25] = sack ? 2 : 1;
		th[26] = 8;
		th[27] = 10;
		put32(th + 28, (__u32)now_ms); /* TSval: the gateway's millisecond clock, as the data plane's */
		put32(th + 32, sc->walk.offer.tsval);
		if (sc->walk.offer.has_ws)
			put32(th + 36, ws_option);
	} else if (sc->walk.offer.has_ws) {
		put32(th + 24, ws_option);
		if (sack)
			put32(th + 28, 0x01010402);
	} else if (sack) {
		put32(th + 24, 0x01010402);
	}

	/* IP header; the answer goes from the service to the client. */
	if (v6) {
		ih[0] = 0x60;
		put16(ih + 4, tcp_length);
		ih[6] = IPPROTO_TCP;
		ih[7] = SYNACK_HOP_LIMIT;
		__builtin_memcpy(ih + 8, sc->daddr, 16);
		__builtin_memcpy(ih + 24, sc->saddr, 16);
	} else {
		ih[0] = 0x45;
		put16(ih + 2, 20 + tcp_length);
		ih[6] = 0x40; /* DF, ID 0: an atomic datagram (RFC 6864) */
		ih[8] = SYNACK_HOP_LIMIT;
		ih[9] = IPPROTO_TCP;
		__builtin_memcpy(ih + 12, sc->daddr, 4);
		__builtin_memcpy(ih + 16, sc->saddr, 4);
		/* Summed as loaded (little-endian words): one's complement sums do not care (RFC 1071). */
		sum = sum_words(sc->ip_header, 5);
		*(__u16 *)(ih + 10) = ~fold_sum(sum);
	}

	/* TCP checksum: pseudo header (the address words of the IP header, protocol, length) + header. */
	sum = v6 ? sum_words(sc->ip_header + 2, 8) : sum_words(sc->ip_header + 3, 2);
	sum += bpf_htons(IPPROTO_TCP) + bpf_htons(tcp_length);
	sum += sum_words(sc->tcp_header, 10); /* zero beyond tcp_length */
	*(__u16 *)(th + 16) = ~fold_sum(sum);

	/* From here on the frame changes: nothing may fail except on impossible bounds. */
	new_length = l3 + ip_length + tcp_length;
	delta = (int)new_length - (int)(end - data);
	if (delta != 0 && bpf_xdp_adjust_tail(ctx, delta))
		return SYN_TO_DATAPLANE;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)((__u8 *)data + 14) > end)
		return SYN_BROKEN;
	__builtin_memcpy(data, sc->client_mac, 6);
	__builtin_memcpy((__u8 *)data + 6, sc->our_mac, 6);
	if (l3 > 18)
		return SYN_BROKEN;
	to = (__u8 *)data + l3;
#pragma unroll
	for (i = 0; i < 10; i++) {
		if (i * 4 < (int)ip_length) {
			if ((void *)(to + i * 4 + 4) > end)
				return SYN_BROKEN;
			__builtin_memcpy(to + i * 4, &sc->ip_header[i], 4);
		}
	}
	to += ip_length;
#pragma unroll
	for (i = 0; i < 10; i++) {
		if (i * 4 < (int)tcp_length) {
			if ((void *)(to + i * 4 + 4) > end)
				return SYN_BROKEN;
			__builtin_memcpy(to + i * 4, &sc->tcp_header[i], 4);
		}
	}
	return SYN_ANSWERED;
}

#endif /* SLUICE_SYNPROXY_H */
