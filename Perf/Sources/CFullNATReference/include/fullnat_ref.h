// fullnat_ref.h -- a C reference of Sluice's established-connection FULLNAT rewrite (IPv4/TCP and UDP),
// written for the FullNATBenchmarks comparison: same algorithm, same tables, same checks as the Swift
// data plane (SluiceCore.Dataplane), so that the Swift/C ratio measures the implementation, not a
// difference in work. See fullnat_ref.c for what is and is not done per packet.
//
// The interface passes only integers, so the Swift side needs no pointers (and no `unsafe`): frames go
// in and out one byte at a time during setup, and the measured call processes a frame C already holds.
#ifndef FULLNAT_REF_H
#define FULLNAT_REF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Direction of a prebuilt frame: client -> VIP (inbound) or real server -> LIP (outbound).
enum { FNREF_INBOUND = 0, FNREF_OUTBOUND = 1 };

/// Resets the reference: empty tables, no interfaces, routes, neighbours or connections.
/// `k0`/`k1` key the connection-table hash (SipHash-2-4). Returns 0, or -1 when memory is short.
int fnref_reset(uint64_t k0, uint64_t k1, uint32_t connection_capacity);

/// Adds an interface (ifindex, MAC in the low 48 bits, MTU).
void fnref_add_interface(int32_t ifindex, uint64_t mac, uint32_t mtu);

/// Adds a connected (gateway 0) or gatewayed IPv4 route; addresses are host-order integers.
void fnref_add_route(uint32_t prefix, uint8_t length, int32_t ifindex, uint32_t gateway);

/// Adds a usable neighbour entry.
void fnref_add_neighbour(int32_t ifindex, uint32_t address, uint64_t mac);

/// Inserts an established connection under its inbound (cip:cport -> vip:vport) and outbound
/// (rip:rport -> lip:lport) keys. `protocol` is 6 or 17; `state` uses SluiceCore.ConnectionState raw
/// values. Returns 0, or -1 when the table is full.
int fnref_add_connection(uint32_t cip, uint16_t cport, uint32_t vip, uint16_t vport, uint32_t lip, uint16_t lport,
			 uint32_t rip, uint16_t rport, uint8_t protocol, uint8_t state, uint32_t seq_delta,
			 uint32_t ack_delta);

/// Interface indexes of the external (client) and internal (real server) sides.
void fnref_set_sides(int32_t external_ifindex, int32_t internal_ifindex);

/// Stores byte `index` of the pristine frame of `direction` (frames are at most 2048 bytes).
void fnref_set_frame_byte(int direction, int index, uint8_t value);

/// Sets the pristine frame's length.
void fnref_set_frame_length(int direction, int length);

/// Copies the pristine frame of `direction` into the work buffer and processes it, as the benchmark's
/// per-packet step. Returns 0 (transmit external), 1 (transmit internal) or -(1 + drop code).
int fnref_process_pristine(int direction, uint64_t now_ms);

/// Only the copy of `fnref_process_pristine` (pristine frame into the work buffer), to measure the
/// harness's share of a step. Returns the length copied.
int fnref_restore_pristine(int direction);

/// Byte `index` of the work buffer (the last processed frame), for comparing with the Swift output.
uint8_t fnref_work_byte(int index);

/// Length of the last processed frame.
int fnref_work_length(void);

/// Forwarded-packet count (both directions) since `fnref_reset`.
uint64_t fnref_forwarded(void);

#ifdef __cplusplus
}
#endif
#endif
