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
 * program can copy them without swapping); the port range in the config map, the SYN-proxy MSS in the VIP
 * value and the cookie key words are in host order because the program computes with them.
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
#define SLUICE_MAP_COOKIE_KEYS "sluice_cookie_keys"
#define SLUICE_MAP_VIP_ADDRESSES "sluice_vip_addrs"
#define SLUICE_PROGRAM_NAME "sluice_steer"

/* Key of sluice_vips: one virtual service. IPv4 addresses use addr[0..3], the rest is zero. */
struct sluice_vip_key {
	__u8 addr[16];
	__u8 family; /* SLUICE_FAMILY_V4 / _V6 */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u16 port;  /* network order */
};

/* sluice_vip_value.flags. */
#define SLUICE_VIP_SYNPROXY_XDP 0x1 /* SYN proxy: answer pure SYNs with the cookie SYN-ACK in XDP (XDP_TX) */
#define SLUICE_VIP_SCHEDULABLE 0x2  /* the service has a real server with weight > 0 (else SYNs go to the data plane) */
#define SLUICE_VIP_SACK 0x4         /* offer SACK-permitted to clients that offer it */
#define SLUICE_VIP_TIMESTAMPS 0x8   /* offer timestamps to clients that offer them */

/*
 * Value of sluice_vips. Without SLUICE_VIP_SYNPROXY_XDP only the key matters (steer to the data plane);
 * with it, the rest are the SYN-ACK parameters the data plane would use for this service (Swift:
 * Dataplane.synProxyAnswerSYN), computed by the runtime from the configuration.
 */
struct sluice_vip_value {
	__u32 flags;
	__u16 mss;    /* host order: upper bound of the SYN-ACK MSS (synproxy mss, mss_clamp, TOA room applied) */
	__u8 wscale;  /* window-scale shift offered (0-14) */
	__u8 pad;
};

/*
 * One SYN-cookie key (SipHash-2-4, 128 bits) in the ARRAY map sluice_cookie_keys, which has two slots:
 * the current key and the previous one. k0 is key bytes 0-7 read little-endian, k1 bytes 8-15 (as
 * SluiceCore.SynCookie takes them). sluice_config.flags says which slot is current: the runtime writes a
 * new key into the other slot first and then flips the flag, so the program never reads a half-written key.
 */
struct sluice_cookie_key {
	__u64 k0;
	__u64 k1;
};

/* Key of sluice_lips (one local address) and of sluice_vip_addrs (one VIP address). */
struct sluice_lip_key {
	__u8 addr[16];
	__u8 family;
	__u8 pad[3];
};

/* Value of sluice_lips and sluice_vip_addrs (reserved; 0 today). */
struct sluice_lip_value {
	__u32 flags;
};

/* sluice_config.flags. */
#define SLUICE_CONFIG_COOKIE_READY 0x1 /* a cookie key has been written: the program may answer SYNs */
#define SLUICE_CONFIG_COOKIE_SLOT1 0x2 /* the current cookie key is in slot 1 of sluice_cookie_keys (else 0) */

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
	SLUICE_STAT_PASSED_FRAGMENT,    /* a fragment (IPv4 MF/offset, IPv6 fragment header) not for the data plane */
	SLUICE_STAT_REDIRECTED_VIP,
	SLUICE_STAT_REDIRECTED_LIP,
	SLUICE_STAT_REDIRECTED_ICMP,    /* ICMP errors about FULLNAT traffic */
	SLUICE_STAT_REDIRECT_FAILED,    /* matched, but no socket in sluice_xsks for this queue: passed */
	SLUICE_STAT_MALFORMED,          /* truncated or invalid headers: passed */
	SLUICE_STAT_SYN_ANSWERED,       /* pure SYN to an XDP-answering SYN-proxy service: cookie SYN-ACK sent (XDP_TX) */
	SLUICE_STAT_SYN_TO_DATAPLANE,   /* such a SYN left to the data plane (IP options, extension headers, bad
	                                   checksum or options, no key, no real server, no tailroom): redirected */
	SLUICE_STAT_REDIRECTED_FRAGMENT, /* a TCP/UDP fragment for the data plane: a first one to a VIP service or
	                                    a LIP port in the range, a later one to any VIP or LIP address */
	SLUICE_STAT_COUNT
};

_Static_assert(sizeof(struct sluice_vip_key) == 20, "sluice_vip_key layout");
_Static_assert(sizeof(struct sluice_lip_key) == 20, "sluice_lip_key layout");
_Static_assert(sizeof(struct sluice_config) == 8, "sluice_config layout");
_Static_assert(sizeof(struct sluice_vip_value) == 8, "sluice_vip_value layout");
_Static_assert(sizeof(struct sluice_cookie_key) == 16, "sluice_cookie_key layout");

#endif /* SLUICE_SHARED_H */
