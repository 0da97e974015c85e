// frames.h -- xsk_gen's test frames: 60 bytes (64 on the wire with the FCS), Ethernet + IPv4 + UDP or
// TCP SYN, written byte by byte in network order with their checksums.
//
//   UDP: IPv4 total length 46, UDP length 26 (18 zero bytes of payload), UDP checksum 0 ("none", which
//        IPv4 allows), IPv4 header checksum computed.
//   SYN: IPv4 total length 40, a bare 20-byte TCP header (no options), window 64240, sequence number
//        source port x 7919, TCP checksum computed; the last 6 bytes are Ethernet padding.
// Both: DF set, TTL 64, IP ID 0.
//
// A frame_template holds one frame plus the checksum sums of its fixed part, so that a frame with another
// source address and port (the random-source flood) costs a copy and a few additions, not a full sum.
#pragma once
#include <stdint.h>
#include <string.h>

#define FRAME_LEN 60
#define FRAME_L3 14               // IPv4 header offset
#define FRAME_L4 (FRAME_L3 + 20)  // UDP / TCP header offset
#define SYN_ISN_FACTOR 7919u

struct frame_template {
	uint8_t bytes[FRAME_LEN];
	int syn;
	uint32_t ip_fixed;  // one's-complement sum of the IPv4 header without its source address and checksum
	uint32_t l4_fixed;  // TCP: pseudo header + header without source address, source port and sequence
};

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

// Sum of big-endian 16-bit words (len even), not yet folded.
static inline uint32_t sum_words(const uint8_t *p, int len)
{
	uint32_t sum = 0;

	for (int i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	return sum;
}

static inline uint16_t fold_complement(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t sum_u32(uint32_t v) { return (v >> 16) + (v & 0xffff); }

// The fixed part of every frame: MACs as 6 bytes, the destination address in host byte order. The source
// address and port are written per frame by frame_stamp.
static inline void frame_template_init(struct frame_template *t, const uint8_t src_mac[6], const uint8_t dst_mac[6],
				       uint32_t dst_ip, uint16_t dst_port, int syn)
{
	uint8_t *f = t->bytes, *ip = f + FRAME_L3, *l4 = f + FRAME_L4;

	memset(t, 0, sizeof(*t));
	t->syn = syn;
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;                       // version 4, 5 words of header
	put16(ip + 2, syn ? 40 : 46);       // total length
	put16(ip + 6, 0x4000);              // don't fragment
	ip[8] = 64;                         // TTL
	ip[9] = syn ? 6 : 17;               // TCP / UDP
	put32(ip + 16, dst_ip);
	t->ip_fixed = sum_words(ip, 20);    // source and checksum still zero
	put16(l4 + 2, dst_port);
	if (syn) {
		l4[12] = 5 << 4;                // data offset: 5 words
		l4[13] = 0x02;                  // SYN
		put16(l4 + 14, 64240);          // window
		// pseudo header: destination, protocol, TCP length; the header's fixed words
		t->l4_fixed = sum_u32(dst_ip) + 6 + 20 + sum_words(l4, 20);
	} else {
		put16(l4 + 4, 26);              // UDP length; checksum stays 0
	}
}

// Writes the template's frame into `out` with this source address and port, checksums included.
static inline void frame_stamp(const struct frame_template *t, uint8_t *out, uint32_t src_ip, uint16_t src_port)
{
	uint8_t *ip = out + FRAME_L3, *l4 = out + FRAME_L4;

	memcpy(out, t->bytes, FRAME_LEN);
	put32(ip + 12, src_ip);
	put16(ip + 10, fold_complement(t->ip_fixed + sum_u32(src_ip)));
	put16(l4, src_port);
	if (t->syn) {
		uint32_t isn = (uint32_t)src_port * SYN_ISN_FACTOR;

		put32(l4 + 4, isn);
		put16(l4 + 16, fold_complement(t->l4_fixed + sum_u32(src_ip) + src_port + sum_u32(isn)));
	}
}
