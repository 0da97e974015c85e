// fullnat_ref.c -- the established-connection FULLNAT fast path in plain C, as the yardstick for
// SluiceCore.Dataplane.process in Perf/Benchmarks/FullNATBenchmarks. Written for Sluice's Perf suite.
//
// It does the same work per packet as the Swift data plane, with the same data structures, so that
// the Swift/C time ratio measures how well the Swift compiles, not a difference in algorithm:
//   - parse Ethernet (one optional VLAN tag) and IPv4 with the same checks as SluicePacket.PacketParser:
//     lengths, version/IHL, total length, header checksum verified (RFC 1812 §5.2.2), fragments dropped,
//     TCP data offset and options walked, UDP length;
//   - look the 5-tuple up in a connection table shaped like SluiceCore.ConnectionTable: SipHash-2-4 keyed
//     hash of two 64-bit words, open addressing with linear probing over 64-bit slots (hash tag << 32 |
//     (id << 1 | direction) + 1), entries of 128 bytes, key compared field by field;
//   - treat an entry past its idle deadline as gone (the Swift code checks this before translating);
//   - advance the IPVS TCP state table (same packed rows as SluiceCore.TCPStateMachine) and refresh the
//     idle deadline (write only; timers re-arm lazily as in SluiceCore.TimerWheel);
//   - rewrite addresses, ports and the sequence/acknowledgement numbers (δ wrapping mod 2^32), update the
//     IPv4 header checksum and the TCP/UDP checksum incrementally (RFC 1624 eqn 3; UDP zero stays zero),
//     decrement the TTL;
//   - route the new destination with a longest-prefix match over per-length hash probes (as
//     SluiceCore.NetworkView), check the MTU, find the next hop's MAC in a neighbour hash table and the
//     egress interface's MAC by binary search, and write both into the Ethernet header;
//   - count received/forwarded packets per worker.
// Only IPv4 is implemented (the benchmark's frames are IPv4); the Swift code also branches on the family.
// New connections, SYNPROXY, ICMP and drops that generate frames are not part of this path.
#include "fullnat_ref.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FRAME 2048
#define MAX_IFACES 16
#define MAX_ROUTES 64
#define MAX_NEIGH 64

enum { DROP_TRUNCATED = 1, DROP_ETHERTYPE, DROP_IPV4_HEADER, DROP_IPV4_CHECKSUM, DROP_FRAGMENT, DROP_TCP_HEADER,
       DROP_TCP_OPTIONS, DROP_UDP_HEADER, DROP_PROTOCOL, DROP_NO_CONNECTION, DROP_TTL, DROP_NO_ROUTE,
       DROP_MTU, DROP_NO_NEIGHBOUR };

struct conn {                   // 128 bytes, like SluiceCore.Connection
	uint32_t cip, vip, lip, rip;
	uint16_t cport, vport, lport, rport;
	uint8_t proto, state;
	uint16_t service, real_server, flags, client_mss;
	uint32_t seq_delta, ack_delta, aux0, aux1;
	uint64_t expires_at;
	uint8_t pad[64];
};
_Static_assert(sizeof(struct conn) == 128, "an entry is two cache lines, as in Swift");

struct route_slot { uint32_t prefix; uint16_t tag; uint8_t usable, connected; int32_t ifindex; uint32_t gateway, mtu; };
struct neigh_slot { uint32_t address; int32_t ifindex; uint64_t mac; uint8_t occupied; };
struct iface { int32_t index; uint64_t mac; uint32_t mtu; };

static struct {
	uint64_t k0, k1;
	struct conn *entries;
	uint64_t *slots;
	uint32_t slot_mask, capacity, live;
	struct iface ifaces[MAX_IFACES];
	int n_ifaces;
	struct route_slot routes[MAX_ROUTES * 2];      // at most half full
	uint8_t lengths[33];                           // distinct prefix lengths, descending
	int n_lengths;
	struct neigh_slot neigh[MAX_NEIGH * 2];
	int32_t external_ifindex, internal_ifindex;
	uint32_t timeouts_ms[13];
	uint64_t received[2], forwarded[2], drops[16];
	uint8_t pristine[2][MAX_FRAME];
	int pristine_len[2];
	uint8_t work[MAX_FRAME];
	int work_len;
} R;

// ---------------------------------------------------------------- byte access (network order)
static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static inline void wr48(uint8_t *p, uint64_t v) { for (int i = 0; i < 6; i++) p[i] = (uint8_t)(v >> (40 - 8 * i)); }

// ---------------------------------------------------------------- checksums (RFC 1071, RFC 1624 eqn 3)
static inline uint16_t fold(uint64_t a)
{
	a = (a & 0xffffffff) + (a >> 32);
	a = (a & 0xffffffff) + (a >> 32);
	a = (a & 0xffff) + (a >> 16);
	a = (a & 0xffff) + (a >> 16);
	return (uint16_t)a;
}
static inline uint16_t csum_update32(uint16_t check, uint32_t old, uint32_t new)
{
	return (uint16_t)~fold((uint64_t)(uint16_t)~check + (uint64_t)(uint32_t)~old + new);
}
static inline uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new)
{
	return (uint16_t)~fold((uint64_t)(uint16_t)~check + (uint16_t)~old + new);
}

// ---------------------------------------------------------------- SipHash-2-4 of two 64-bit words
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                          \
	do {                                                                                              \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                  \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                     \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                     \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                  \
	} while (0)
static inline uint64_t siphash24_2(uint64_t k0, uint64_t k1, uint64_t a, uint64_t b)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	v3 ^= a; SIPROUND; SIPROUND; v0 ^= a;
	v3 ^= b; SIPROUND; SIPROUND; v0 ^= b;
	uint64_t m = 16ULL << 56;
	v3 ^= m; SIPROUND; SIPROUND; v0 ^= m;
	v2 ^= 0xff; SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint32_t tuple_hash(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto)
{
	uint64_t tail = (uint64_t)sport << 48 | (uint64_t)dport << 32 | (uint64_t)proto << 8;
	uint64_t h = siphash24_2(R.k0, R.k1, (uint64_t)src << 32 | dst, tail);
	return (uint32_t)(h ^ (h >> 32));
}

// ---------------------------------------------------------------- IPVS TCP state table, packed 4 bits per state
// Rows: INPUT syn, fin, ack, rst; OUTPUT syn, fin, ack, rst. States: NO ES SS SR FW TW CL CW LA LI SA = 0..10.
static uint64_t state_rows[8];
static const uint8_t state_table[8][11] = {
	{3, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3}, {6, 7, 2, 5, 5, 5, 6, 7, 8, 9, 5},
	{6, 1, 2, 1, 4, 5, 6, 7, 6, 9, 1}, {6, 6, 6, 3, 6, 6, 6, 6, 8, 9, 3},
	{2, 1, 2, 3, 2, 2, 2, 2, 2, 9, 3}, {5, 4, 2, 5, 4, 5, 6, 5, 8, 9, 5},
	{1, 1, 2, 1, 4, 5, 6, 7, 8, 1, 1}, {6, 6, 2, 6, 6, 5, 6, 6, 6, 6, 6},
};
static inline uint8_t tcp_next(uint8_t state, int dir, uint8_t flags)
{
	int e;
	if (state >= 11) return state;
	if (flags & 0x04) e = 3; else if (flags & 0x02) e = 0; else if (flags & 0x01) e = 1; else if (flags & 0x10) e = 2;
	else return state;
	return (uint8_t)((state_rows[dir * 4 + e] >> (state * 4)) & 0xf);
}

// ---------------------------------------------------------------- network view
static inline uint64_t mix(uint64_t high, uint64_t low, uint16_t tag)
{
	uint64_t h = high ^ (low * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)tag << 48);
	h ^= h >> 30; h *= 0xBF58476D1CE4E5B9ULL; h ^= h >> 27; h *= 0x94D049BB133111EBULL; h ^= h >> 31;
	return h;
}
static inline uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : 0xffffffffu << (32 - len); }
static inline uint16_t route_tag(uint8_t len) { return (uint16_t)(1 | len << 1); }

static inline int next_hop(uint32_t dst, int32_t *ifindex, uint32_t *via, uint32_t *mtu)
{
	const uint32_t m = MAX_ROUTES * 2 - 1;
	for (int n = 0; n < R.n_lengths; n++) {
		uint8_t len = R.lengths[n];
		uint32_t prefix = dst & mask_of(len);
		uint16_t tag = route_tag(len);
		for (uint32_t i = (uint32_t)mix(0, prefix, tag) & m; R.routes[i].tag; i = (i + 1) & m) {
			const struct route_slot *s = &R.routes[i];
			if (s->tag == tag && s->prefix == prefix) {
				if (!s->usable) return -1;
				*ifindex = s->ifindex; *via = s->connected ? dst : s->gateway; *mtu = s->mtu;
				return 0;
			}
		}
	}
	return -1;
}

static inline int neighbour(int32_t ifindex, uint32_t address, uint64_t *mac)
{
	const uint32_t m = MAX_NEIGH * 2 - 1;
	for (uint32_t i = (uint32_t)mix(0, address, (uint16_t)ifindex) & m; R.neigh[i].occupied; i = (i + 1) & m)
		if (R.neigh[i].ifindex == ifindex && R.neigh[i].address == address) { *mac = R.neigh[i].mac; return 0; }
	return -1;
}

static inline const struct iface *interface(int32_t ifindex)
{
	int lo = 0, hi = R.n_ifaces;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (R.ifaces[mid].index == ifindex) return &R.ifaces[mid];
		if (R.ifaces[mid].index < ifindex) lo = mid + 1; else hi = mid;
	}
	return NULL;
}

// ---------------------------------------------------------------- the per-packet path
static int drop(int code) { R.drops[code]++; return -(1 + code); }

static int process(uint8_t *f, int len, uint64_t now)
{
	R.received[0]++;
	if (len < 14) return drop(DROP_TRUNCATED);
	int l3 = 14;
	uint16_t etype = rd16(f + 12);
	if (etype == 0x8100 || etype == 0x88a8) {
		if (len < 18) return drop(DROP_TRUNCATED);
		etype = rd16(f + 16); l3 = 18;
	}
	if (etype != 0x0800) return drop(DROP_ETHERTYPE);
	uint8_t *ip = f + l3;
	if (len - l3 < 20) return drop(DROP_TRUNCATED);
	if (ip[0] >> 4 != 4) return drop(DROP_IPV4_HEADER);
	int hl = (ip[0] & 0xf) * 4;
	if (hl < 20) return drop(DROP_IPV4_HEADER);
	if (len - l3 < hl) return drop(DROP_TRUNCATED);
	int total = rd16(ip + 2);
	if (total < hl || total > len - l3) return drop(DROP_IPV4_HEADER);
	uint64_t sum = 0;
	for (int i = 0; i < hl; i += 4) sum += rd32(ip + i);
	if (fold(sum) != 0xffff) return drop(DROP_IPV4_CHECKSUM);
	if (rd16(ip + 6) & 0x3fff) return drop(DROP_FRAGMENT);
	int df = (rd16(ip + 6) & 0x4000) != 0;
	uint8_t proto = ip[9];
	uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
	uint8_t *l4 = ip + hl;
	int l4len = total - hl;
	uint8_t flags = 0;
	if (proto == 6) {
		if (l4len < 20) return drop(DROP_TCP_HEADER);
		int thl = (l4[12] >> 4) * 4;
		if (thl < 20 || thl > l4len) return drop(DROP_TCP_HEADER);
		for (int i = 20; i < thl;) {           // walk the options: kind, length, body
			uint8_t kind = l4[i];
			if (kind == 0) break;
			if (kind == 1) { i++; continue; }
			if (i + 1 >= thl || l4[i + 1] < 2 || i + l4[i + 1] > thl) return drop(DROP_TCP_OPTIONS);
			i += l4[i + 1];
		}
		flags = l4[13];
	} else if (proto == 17) {
		if (l4len < 8) return drop(DROP_UDP_HEADER);
		int ulen = rd16(l4 + 4);
		if (ulen < 8 || ulen > l4len) return drop(DROP_UDP_HEADER);
	} else {
		return drop(DROP_PROTOCOL);
	}
	uint16_t sport = rd16(l4), dport = rd16(l4 + 2);

	// connection lookup with the packet's own tuple
	uint32_t h = tuple_hash(src, dst, sport, dport, proto);
	struct conn *c = NULL;
	int dir = 0;
	for (uint32_t i = h & R.slot_mask;; i = (i + 1) & R.slot_mask) {
		uint64_t s = R.slots[i];
		if (!s) return drop(DROP_NO_CONNECTION);
		if ((uint32_t)(s >> 32) != h) continue;
		uint32_t ref = (uint32_t)s - 1;
		struct conn *e = &R.entries[ref >> 1];
		if (ref & 1) {
			if (e->rport == sport && e->lport == dport && e->proto == proto && e->rip == src && e->lip == dst) { c = e; dir = 1; break; }
		} else {
			if (e->cport == sport && e->vport == dport && e->proto == proto && e->cip == src && e->vip == dst) { c = e; dir = 0; break; }
		}
	}

	// an entry past its deadline no longer exists, even before the timer wheel reaps it
	if (c->expires_at <= now) return drop(DROP_NO_CONNECTION);

	// state and idle deadline
	if (proto == 6) c->state = tcp_next(c->state, dir, flags);
	else if (c->state == 11 && dir == 1) c->state = 12;     // UDP ONEWAY -> NORMAL on the first reply
	c->expires_at = now + R.timeouts_ms[c->state];

	// TTL
	if (ip[8] <= 1) return drop(DROP_TTL);
	uint16_t ttl_word = rd16(ip + 8);
	ip[8]--;
	uint16_t ip_check = csum_update16(rd16(ip + 10), ttl_word, rd16(ip + 8));

	// addresses, ports, sequence numbers
	uint32_t nsrc, ndst; uint16_t nsport, ndport;
	if (dir == 0) { nsrc = c->lip; ndst = c->rip; nsport = c->lport; ndport = c->rport; }
	else { nsrc = c->vip; ndst = c->cip; nsport = c->vport; ndport = c->cport; }
	ip_check = csum_update32(ip_check, src, nsrc);
	ip_check = csum_update32(ip_check, dst, ndst);
	wr16(ip + 10, ip_check);
	wr32(ip + 12, nsrc); wr32(ip + 16, ndst);
	if (proto == 6) {
		uint16_t tc = rd16(l4 + 16);
		tc = csum_update32(tc, src, nsrc);
		tc = csum_update32(tc, dst, ndst);
		tc = csum_update32(tc, (uint32_t)sport << 16 | dport, (uint32_t)nsport << 16 | ndport);
		uint32_t seq = rd32(l4 + 4), ack = rd32(l4 + 8), nseq, nack;
		if (dir == 0) { nseq = seq + c->seq_delta; nack = ack - c->ack_delta; }    // wrapping mod 2^32
		else { nseq = seq + c->ack_delta; nack = ack - c->seq_delta; }
		if (nseq != seq) { tc = csum_update32(tc, seq, nseq); wr32(l4 + 4, nseq); }
		if ((l4[13] & 0x10) && nack != ack) { tc = csum_update32(tc, ack, nack); wr32(l4 + 8, nack); }
		wr16(l4 + 16, tc);
	} else {
		uint16_t uc = rd16(l4 + 6);
		if (uc) {                                 // zero = no checksum (RFC 768): leave it
			uc = csum_update32(uc, src, nsrc);
			uc = csum_update32(uc, dst, ndst);
			uc = csum_update32(uc, (uint32_t)sport << 16 | dport, (uint32_t)nsport << 16 | ndport);
			wr16(l4 + 6, uc ? uc : 0xffff);
		}
	}
	wr16(l4, nsport); wr16(l4 + 2, ndport);

	// next hop and Ethernet header
	int32_t ifindex; uint32_t via, mtu; uint64_t dmac;
	if (next_hop(ndst, &ifindex, &via, &mtu)) return drop(DROP_NO_ROUTE);
	if (df && (uint32_t)total > mtu) return drop(DROP_MTU);
	if (neighbour(ifindex, via, &dmac)) return drop(DROP_NO_NEIGHBOUR);
	const struct iface *out = interface(ifindex);
	if (!out) return drop(DROP_NO_ROUTE);
	wr48(f, dmac); wr48(f + 6, out->mac);
	int side = ifindex == R.internal_ifindex ? 1 : 0;
	R.forwarded[dir]++;
	return side;
}

// ---------------------------------------------------------------- setup (not measured)
int fnref_reset(uint64_t k0, uint64_t k1, uint32_t capacity)
{
	free(R.entries); free(R.slots);
	memset(&R, 0, sizeof(R));
	R.k0 = k0; R.k1 = k1; R.capacity = capacity;
	uint32_t slots = 8;
	while ((uint64_t)slots * 3 < (uint64_t)capacity * 2 * 5) slots <<= 1;
	R.slot_mask = slots - 1;
	R.entries = calloc(capacity, sizeof(struct conn));
	R.slots = calloc(slots, sizeof(uint64_t));
	if (!R.entries || !R.slots) return -1;
	for (int r = 0; r < 8; r++) {
		state_rows[r] = 0;
		for (int s = 0; s < 11; s++) state_rows[r] |= (uint64_t)state_table[r][s] << (s * 4);
	}
	static const uint32_t seconds[13] = {2, 90, 3, 30, 7, 7, 3, 7, 7, 120, 30, 300, 300};
	for (int i = 0; i < 13; i++) R.timeouts_ms[i] = seconds[i] * 1000;
	return 0;
}

void fnref_add_interface(int32_t ifindex, uint64_t mac, uint32_t mtu)
{
	if (R.n_ifaces == MAX_IFACES) return;
	int i = R.n_ifaces++;
	while (i > 0 && R.ifaces[i - 1].index > ifindex) { R.ifaces[i] = R.ifaces[i - 1]; i--; }
	R.ifaces[i] = (struct iface){ ifindex, mac & 0xffffffffffffULL, mtu };
}

void fnref_add_route(uint32_t prefix, uint8_t length, int32_t ifindex, uint32_t gateway)
{
	const uint32_t m = MAX_ROUTES * 2 - 1;
	if (length > 32) return;
	const struct iface *itf = interface(ifindex);
	struct route_slot s = { prefix & mask_of(length), route_tag(length), itf != NULL, gateway == 0, ifindex, gateway,
				itf ? itf->mtu : 0 };
	uint32_t i = (uint32_t)mix(0, s.prefix, s.tag) & m;
	while (R.routes[i].tag && !(R.routes[i].tag == s.tag && R.routes[i].prefix == s.prefix)) i = (i + 1) & m;
	R.routes[i] = s;
	int n = 0;
	while (n < R.n_lengths && R.lengths[n] > length) n++;
	if (n < R.n_lengths && R.lengths[n] == length) return;
	memmove(&R.lengths[n + 1], &R.lengths[n], (size_t)(R.n_lengths - n));
	R.lengths[n] = length; R.n_lengths++;
}

void fnref_add_neighbour(int32_t ifindex, uint32_t address, uint64_t mac)
{
	const uint32_t m = MAX_NEIGH * 2 - 1;
	uint32_t i = (uint32_t)mix(0, address, (uint16_t)ifindex) & m;
	while (R.neigh[i].occupied && !(R.neigh[i].ifindex == ifindex && R.neigh[i].address == address)) i = (i + 1) & m;
	R.neigh[i] = (struct neigh_slot){ address, ifindex, mac & 0xffffffffffffULL, 1 };
}

static void place(uint32_t h, uint32_t ref)
{
	uint32_t i = h & R.slot_mask;
	while (R.slots[i]) i = (i + 1) & R.slot_mask;
	R.slots[i] = (uint64_t)h << 32 | (ref + 1);
}

int fnref_add_connection(uint32_t cip, uint16_t cport, uint32_t vip, uint16_t vport, uint32_t lip, uint16_t lport,
			 uint32_t rip, uint16_t rport, uint8_t protocol, uint8_t state, uint32_t seq_delta,
			 uint32_t ack_delta)
{
	if (R.live == R.capacity) return -1;
	uint32_t id = R.live++;
	struct conn *c = &R.entries[id];
	*c = (struct conn){ .cip = cip, .vip = vip, .lip = lip, .rip = rip, .cport = cport, .vport = vport,
			    .lport = lport, .rport = rport, .proto = protocol, .state = state,
			    .seq_delta = seq_delta, .ack_delta = ack_delta, .expires_at = UINT64_MAX };
	place(tuple_hash(cip, vip, cport, vport, protocol), id << 1);
	place(tuple_hash(rip, lip, rport, lport, protocol), id << 1 | 1);
	return 0;
}

void fnref_set_sides(int32_t external_ifindex, int32_t internal_ifindex)
{
	R.external_ifindex = external_ifindex; R.internal_ifindex = internal_ifindex;
}

void fnref_set_frame_byte(int direction, int index, uint8_t value)
{
	if ((direction == 0 || direction == 1) && index >= 0 && index < MAX_FRAME) R.pristine[direction][index] = value;
}

void fnref_set_frame_length(int direction, int length)
{
	if ((direction == 0 || direction == 1) && length >= 0 && length <= MAX_FRAME) R.pristine_len[direction] = length;
}

int fnref_process_pristine(int direction, uint64_t now_ms)
{
	int d = direction & 1;
	memcpy(R.work, R.pristine[d], (size_t)R.pristine_len[d]);
	R.work_len = R.pristine_len[d];
	return process(R.work, R.work_len, now_ms);
}

int fnref_restore_pristine(int direction)
{
	int d = direction & 1;
	memcpy(R.work, R.pristine[d], (size_t)R.pristine_len[d]);
	R.work_len = R.pristine_len[d];
	return R.work_len;
}

uint8_t fnref_work_byte(int index) { return index >= 0 && index < MAX_FRAME ? R.work[index] : 0; }
int fnref_work_length(void) { return R.work_len; }
uint64_t fnref_forwarded(void) { return R.forwarded[0] + R.forwarded[1]; }
