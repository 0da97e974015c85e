/*
 * The only C headers Sluice includes (docs/design.md §3): libxdp/libbpf, the AF_XDP and link UAPI, and the
 * structures shared with the XDP program (sluice_shared.h).
 *
 * The xsk ring helpers are static inline in <xdp/xsk.h> and import into Swift as they are (they inline
 * into the Swift caller). The cxdp_ functions below exist only for glibc APIs that Swift's Glibc module
 * hides behind _GNU_SOURCE (setns, CPU affinity), for ioctls on struct ifreq, whose unions Swift
 * handles poorly, for ethtool replies that end in a flexible array member, which Swift cannot size,
 * and for sequentially consistent atomics on raw memory (the hand-off wakeups). They use raw syscalls
 * so that this header does not depend on feature macros.
 */
#ifndef CXDP_SHIM_H
#define CXDP_SHIM_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/sched.h>
#include <linux/sockios.h>
#include <linux/prctl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "sluice_shared.h"

/* Moves the calling thread into the network namespace open at fd. 0 or -1 with errno. */
static inline int cxdp_setns_net(int fd)
{
	return (int)syscall(SYS_setns, fd, CLONE_NEWNET);
}

/* Pins the calling thread to one CPU (sched_setaffinity on tid 0). 0 or -1 with errno. */
static inline int cxdp_pin_current_thread(int cpu)
{
	unsigned long mask[16];
	const int bits = (int)(8 * sizeof(unsigned long));

	if (cpu < 0 || cpu >= 16 * bits) {
		errno = EINVAL;
		return -1;
	}
	memset(mask, 0, sizeof(mask));
	mask[cpu / bits] = 1UL << (cpu % bits);
	return (int)syscall(SYS_sched_setaffinity, 0, sizeof(mask), mask);
}

/*
 * The CPUs the calling thread may run on (its affinity mask, which `taskset` and cgroups set), written
 * to out in increasing order, at most max of them. The count, or -1 with errno.
 */
static inline int cxdp_allowed_cpus(int *out, int max)
{
	unsigned long mask[16];
	const int bits = (int)(8 * sizeof(unsigned long));
	int cpu, count = 0;

	memset(mask, 0, sizeof(mask));
	if (syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask) < 0)
		return -1;
	for (cpu = 0; cpu < 16 * bits && count < max; cpu++)
		if (mask[cpu / bits] & (1UL << (cpu % bits)))
			out[count++] = cpu;
	return count;
}

/* Names the calling thread (15 characters kept), for top -H and perf. 0 or -1 with errno. */
static inline int cxdp_set_thread_name(const char *name)
{
	return (int)syscall(SYS_prctl, PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

/* Copies the hardware address of interface name into out. 0 or -1 with errno. */
static inline int cxdp_interface_mac(const char *name, unsigned char out[6])
{
	struct ifreq ifr;
	int fd, rc;

	if (strlen(name) >= IFNAMSIZ) {
		errno = ENODEV;
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	if (rc == 0)
		memcpy(out, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* The MTU of interface name, or -1 with errno. */
static inline int cxdp_interface_mtu(const char *name)
{
	struct ifreq ifr;
	int fd, rc;

	if (strlen(name) >= IFNAMSIZ) {
		errno = ENODEV;
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	return rc < 0 ? -1 : ifr.ifr_mtu;
}

/*
 * Runs one SIOCETHTOOL command on interface name: command points at the ethtool structure, whose
 * first field is the ETHTOOL_ command number, and receives the kernel's reply. 0 or -1 with errno
 * (EOPNOTSUPP when the driver does not implement the command).
 */
static inline int cxdp_ethtool(const char *name, void *command)
{
	struct ifreq ifr;
	int fd, rc, saved;

	if (strlen(name) >= IFNAMSIZ) {
		errno = ENODEV;
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_data = command;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	saved = errno;
	close(fd);
	errno = saved;
	return rc < 0 ? -1 : 0;
}

/*
 * ETHTOOL_GRSSH for RSS context 0 of interface name. On entry *indir_size and *key_size give the
 * room in indir (32-bit entries) and key (bytes); both 0 asks only for the sizes. Otherwise they
 * must equal the device's sizes (EINVAL if not). On return they hold the device's sizes, indir and
 * key the table and key (when room was given), *hfunc the active hash function (one ETH_RSS_HASH_
 * bit, 0 when the driver does not say) and *input_xfrm the input transformation (0 on kernels before
 * 6.8, where the byte was reserved). 0 or -1 with errno.
 */
static inline int cxdp_ethtool_get_rxfh(const char *name, __u32 *indir_size, __u32 *key_size, __u8 *hfunc,
					__u8 *input_xfrm, __u32 *indir, __u8 *key)
{
	size_t indir_bytes = (size_t)*indir_size * sizeof(__u32);
	struct ethtool_rxfh *rxfh;
	int rc, saved;

	rxfh = calloc(1, sizeof(*rxfh) + indir_bytes + *key_size);
	if (rxfh == NULL)
		return -1;
	rxfh->cmd = ETHTOOL_GRSSH;
	rxfh->indir_size = *indir_size;
	rxfh->key_size = *key_size;
	rc = cxdp_ethtool(name, rxfh);
	if (rc == 0) {
		if (*indir_size != 0 && indir != NULL)
			memcpy(indir, rxfh->rss_config, indir_bytes);
		if (*key_size != 0 && key != NULL)
			memcpy(key, (const __u8 *)rxfh->rss_config + indir_bytes, *key_size);
		*indir_size = rxfh->indir_size;
		*key_size = rxfh->key_size;
		*hfunc = rxfh->hfunc;
		/* input_xfrm follows hfunc; older headers call that byte rsvd8[0], newer ones input_xfrm. */
		*input_xfrm = ((const __u8 *)rxfh)[offsetof(struct ethtool_rxfh, hfunc) + 1];
	}
	saved = errno;
	free(rxfh);
	errno = saved;
	return rc;
}

/*
 * Receive classification ("ntuple") rules, as `ethtool -N` programs them (Sources/SluiceXDP/NtupleRuleTable.swift).
 *
 * cxdp_ethtool_rule_count: ETHTOOL_GRXCLSRLCNT. *count the rules installed, *table_size the rule table's
 * size, *any_location 1 when the driver picks a rule's location itself (RX_CLS_LOC_SPECIAL). 0 or -1
 * with errno (EOPNOTSUPP: no classification rules on this device).
 */
static inline int cxdp_ethtool_rule_count(const char *name, __u32 *count, __u32 *table_size, int *any_location)
{
	struct ethtool_rxnfc nfc;
	int rc;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ETHTOOL_GRXCLSRLCNT;
	rc = cxdp_ethtool(name, &nfc);
	if (rc == 0) {
		*count = nfc.rule_cnt;
		*table_size = (__u32)(nfc.data & ~(__u64)RX_CLS_LOC_SPECIAL);
		*any_location = (nfc.data & RX_CLS_LOC_SPECIAL) != 0;
	}
	return rc;
}

/*
 * ETHTOOL_GRXCLSRLALL: the locations of the installed rules, at most *count of them into locations;
 * *count becomes the number written. 0 or -1 with errno.
 */
static inline int cxdp_ethtool_rule_locations(const char *name, __u32 *count, __u32 *locations)
{
	struct ethtool_rxnfc *nfc;
	int rc, saved;

	nfc = calloc(1, sizeof(*nfc) + (size_t)*count * sizeof(__u32));
	if (nfc == NULL)
		return -1;
	nfc->cmd = ETHTOOL_GRXCLSRLALL;
	nfc->rule_cnt = *count;
	rc = cxdp_ethtool(name, nfc);
	if (rc == 0) {
		if (nfc->rule_cnt < *count)
			*count = nfc->rule_cnt;
		memcpy(locations, nfc->rule_locs, (size_t)*count * sizeof(__u32));
	}
	saved = errno;
	free(nfc);
	errno = saved;
	return rc;
}

/*
 * ETHTOOL_SRXCLSRLINS: TCP (tcp != 0) or UDP frames to address dst (16 bytes when v6, else the first 4,
 * network order) whose destination port ANDed with port_mask equals port go to RX queue queue. The
 * kernel's masks have a bit set for every bit that must match. location is the rule's place, or
 * RX_CLS_LOC_ANY where the driver picks one; *placed is where it went. 0 or -1 with errno.
 */
static inline int cxdp_ethtool_rule_insert(const char *name, int v6, int tcp, const __u8 *dst, __u16 port,
					   __u16 port_mask, __u32 queue, __u32 location, __u32 *placed)
{
	struct ethtool_rxnfc nfc;
	int rc;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ETHTOOL_SRXCLSRLINS;
	if (v6) {
		nfc.fs.flow_type = tcp ? TCP_V6_FLOW : UDP_V6_FLOW;
		memcpy(nfc.fs.h_u.tcp_ip6_spec.ip6dst, dst, 16);
		memset(nfc.fs.m_u.tcp_ip6_spec.ip6dst, 0xff, 16);
		nfc.fs.h_u.tcp_ip6_spec.pdst = htons(port);
		nfc.fs.m_u.tcp_ip6_spec.pdst = htons(port_mask);
	} else {
		nfc.fs.flow_type = tcp ? TCP_V4_FLOW : UDP_V4_FLOW;
		memcpy(&nfc.fs.h_u.tcp_ip4_spec.ip4dst, dst, 4);
		nfc.fs.m_u.tcp_ip4_spec.ip4dst = 0xffffffffu;
		nfc.fs.h_u.tcp_ip4_spec.pdst = htons(port);
		nfc.fs.m_u.tcp_ip4_spec.pdst = htons(port_mask);
	}
	nfc.fs.ring_cookie = queue;
	nfc.fs.location = location;
	rc = cxdp_ethtool(name, &nfc);
	if (rc == 0)
		*placed = nfc.fs.location;
	return rc;
}

/* ETHTOOL_SRXCLSRLDEL: removes the rule at location. 0 or -1 with errno. */
static inline int cxdp_ethtool_rule_delete(const char *name, __u32 location)
{
	struct ethtool_rxnfc nfc;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ETHTOOL_SRXCLSRLDEL;
	nfc.fs.location = location;
	return cxdp_ethtool(name, &nfc);
}

/*
 * Waking a worker that sleeps in poll() when another hands it frames (Sources/SluiceXDP/HandOffMesh.swift).
 * The sleeper stores its flag and then reads the rings; the producer publishes to a ring and then reads the
 * flag. Each side needs a full fence between its store and its load, or both may miss the other's store
 * (the store-load case release/acquire does not order). Swift's Synchronization has no atomics on raw
 * memory, and the flags live in raw memory so that the hot loop holds no reference-counted object.
 */
static inline int cxdp_eventfd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static inline void cxdp_store_seq_cst(uint32_t *word, uint32_t value)
{
	__atomic_store_n(word, value, __ATOMIC_SEQ_CST);
}

/*
 * Descriptors published on a producer ring (tx) that the kernel has not taken yet: the producer index
 * is ours, the consumer index the kernel's (an acquire load, as libxdp reads it).
 */
static inline uint32_t cxdp_prod_unconsumed(const struct xsk_ring_prod *ring)
{
	return *ring->producer - __atomic_load_n(ring->consumer, __ATOMIC_ACQUIRE);
}

static inline uint32_t cxdp_load_seq_cst(const uint32_t *word)
{
	return __atomic_load_n(word, __ATOMIC_SEQ_CST);
}

static inline void cxdp_fence_seq_cst(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif /* CXDP_SHIM_H */
