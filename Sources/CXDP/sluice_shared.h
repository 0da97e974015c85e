/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Structures and constants shared by the XDP steering program (Sources/BPF/sluice_steer.bpf.c, built with
 * clang -target bpf) and the Swift runtime (SluiceXDP, which sees them through the CXDP module).
 *
 * One header, included by both sides, so there is no hand-kept mirror (the DPVS include/conf trap). Only
 * fixed-width <linux/types.h> types appear here, every struct has explicit padding, and the sizes are
 * asserted so a layout change fails the build on both sides.
 *
 * Byte order: addresses and the VIP port are in network order (as they sit in the frame, so the BPF
 * program can copy them without swapping); the port range in the config map is in host order because the
 * program compares it numerically.
 */
#ifndef SLUICE_SHARED_H
#define SLUICE_SHARED_H

#include <linux/types.h>

/* Map sizes: build-time limits (Katran style), overridable with -D. */
#ifndef SLUICE_MAX_VIPS
#define SLUICE_MAX_VIPS 4096
#endif
#ifndef SLUICE_MAX_LIPS
#define SLUICE_MAX_LIPS 1024
#endif
#ifndef SLUICE_MAX_QUEUES
#define SLUICE_MAX_QUEUES 256
#endif

/* Address families in map keys (the IP version number, not AF_*). */
#define SLUICE_FAMILY_V4 4
#define SLUICE_FAMILY_V6 6

/* Map names, as found with bpf_object__find_map_fd_by_name. */
#define SLUICE_MAP_VIPS "sluice_vips"
#define SLUICE_MAP_LIPS "sluice_lips"
#define SLUICE_MAP_CONFIG "sluice_config"
#define SLUICE_MAP_XSKS "sluice_xsks"
#define SLUICE_MAP_STATS "sluice_stats"
#define SLUICE_PROGRAM_NAME "sluice_steer"

/* Key of sluice_vips: one virtual service. IPv4 addresses use addr[0..3], the rest is zero. */
struct sluice_vip_key {
	__u8 addr[16];
	__u8 family; /* SLUICE_FAMILY_V4 / _V6 */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u16 port;  /* network order */
};

/* Value of sluice_vips (reserved for per-service flags; 0 today). */
struct sluice_vip_value {
	__u32 flags;
};

/* Key of sluice_lips: one local address. */
struct sluice_lip_key {
	__u8 addr[16];
	__u8 family;
	__u8 pad[3];
};

/* Value of sluice_lips (reserved; 0 today). */
struct sluice_lip_value {
	__u32 flags;
};

/* The single entry (key 0) of the ARRAY map sluice_config. port_high == 0 disables LIP steering. */
struct sluice_config {
	__u16 port_low;  /* host order, inclusive */
	__u16 port_high; /* host order, inclusive */
	__u32 flags;
};

/* Indexes of the PERCPU_ARRAY sluice_stats (one __u64 each). Append only: the runtime names them. */
enum sluice_stat {
	SLUICE_STAT_PASSED_NOT_IP = 0,  /* ARP, LLDP, other ethertypes */
	SLUICE_STAT_PASSED_NO_MATCH,    /* IP, but not for a VIP service or a LIP data-plane port */
	SLUICE_STAT_PASSED_FRAGMENT,    /* IPv4 MF/offset or IPv6 fragment header */
	SLUICE_STAT_REDIRECTED_VIP,
	SLUICE_STAT_REDIRECTED_LIP,
	SLUICE_STAT_REDIRECTED_ICMP,    /* ICMP errors about FULLNAT traffic */
	SLUICE_STAT_REDIRECT_FAILED,    /* matched, but no socket in sluice_xsks for this queue: passed */
	SLUICE_STAT_MALFORMED,          /* truncated or invalid headers: passed */
	SLUICE_STAT_COUNT
};

_Static_assert(sizeof(struct sluice_vip_key) == 20, "sluice_vip_key layout");
_Static_assert(sizeof(struct sluice_lip_key) == 20, "sluice_lip_key layout");
_Static_assert(sizeof(struct sluice_config) == 8, "sluice_config layout");

#endif /* SLUICE_SHARED_H */
