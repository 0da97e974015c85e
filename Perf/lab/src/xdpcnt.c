// xdpcnt.c -- the lab's receive-side counter: attaches one XDP program from a lab BPF object to an
// interface and prints, once a second, how many frames that program saw (its per-CPU map pkt_count, summed
// over the CPUs). Rates in the lab are counted here, at the receiver, never from a sender's own count.
//
// usage: xdpcnt -i IFACE [-p PROGRAM] [-m native|generic] [-t SECONDS] [-w WARMUP] [-o OBJECT] [-q]
//   -p  the program's name (default xdp_drop_cnt; lab_xdp.o also has xdp_pass_cnt, lab_sinks.o has
//       xdp_client_sink and xdp_flood_drop)
//   -m  native (default) or generic XDP
//   -t  how long to count (default 10; 0: until SIGINT/SIGTERM)
//   -w  leading seconds left out of the summary (default 1)
//   -o  the BPF object (default ../bpf/lab_xdp.o beside the binary)
//   -q  no per-second lines
// Output: "READY <iface> <program> <mode>" once attached; "<second> <frames/s> pps" every second; at the
// end "SUMMARY iface=.. prog=.. mode=.. samples=N median_pps=.. min=.. max=.. total=<frames>". Any program
// already on the interface is replaced, and ours is detached at exit; no bpffs is needed.
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "labtool.h"

#define TOOL "xdpcnt"

static uint64_t frames_counted(int map_fd, int ncpus)
{
	uint64_t per_cpu[ncpus], total = 0;
	__u32 key = 0;

	if (bpf_map_lookup_elem(map_fd, &key, per_cpu))
		return 0;
	for (int i = 0; i < ncpus; i++)
		total += per_cpu[i];
	return total;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *prog_name = "xdp_drop_cnt", *mode = "native", *object = NULL;
	int seconds = 10, warmup = 1, quiet = 0, opt;

	while ((opt = getopt(argc, argv, "i:p:m:t:w:o:q")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'p': prog_name = optarg; break;
		case 'm': mode = optarg; break;
		case 't': seconds = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'o': object = optarg; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr, "usage: %s -i IFACE [-p PROGRAM] [-m native|generic] [-t SECS] [-w N] [-o OBJECT] [-q]\n",
				argv[0]);
			return 2;
		}
	}
	if (!ifname)
		lab_fail(TOOL, "-i IFACE is required");
	if (strcmp(mode, "native") && strcmp(mode, "generic"))
		lab_fail(TOOL, "-m must be native or generic");
	unsigned int ifindex = if_nametoindex(ifname);
	if (!ifindex)
		lab_fail(TOOL, "no interface %s", ifname);
	if (!object)
		object = lab_object_path("lab_xdp.o");
	__u32 flags = !strcmp(mode, "generic") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;

	libbpf_set_print(NULL);
	struct bpf_object *obj = bpf_object__open_file(object, NULL);
	if (!obj || bpf_object__load(obj))
		lab_fail(TOOL, "cannot load %s", object);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
	if (!prog)
		lab_fail(TOOL, "%s has no program %s", object, prog_name);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "pkt_count");
	if (!map)
		lab_fail(TOOL, "%s has no map pkt_count", object);
	int map_fd = bpf_map__fd(map), ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1)
		lab_fail(TOOL, "cannot tell the number of CPUs");

	bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);  // whatever an earlier run left behind
	bpf_xdp_detach((int)ifindex, XDP_FLAGS_SKB_MODE, NULL);
	int err = bpf_xdp_attach((int)ifindex, bpf_program__fd(prog), flags, NULL);
	if (err)
		lab_fail(TOOL, "attaching %s to %s (%s): %s", prog_name, ifname, mode, strerror(-err));

	lab_catch_signals();
	struct lab_series samples = {0};
	uint64_t first = frames_counted(map_fd, ncpus), previous = first;
	double start = lab_now(), previous_t = start;
	printf("READY %s %s %s\n", ifname, prog_name, mode);
	fflush(stdout);

	for (int second = 1; !lab_stop && (seconds == 0 || second <= seconds); second++) {
		lab_sleep_until(start + second);  // ticks on whole seconds from the start, not drifting
		if (lab_stop)
			break;
		uint64_t now_count = frames_counted(map_fd, ncpus);
		double now = lab_now(), pps = (double)(now_count - previous) / (now - previous_t);

		if (!quiet) {
			printf("%d %.0f pps\n", second, pps);
			fflush(stdout);
		}
		if (second > warmup)
			series_add(&samples, pps);
		previous = now_count;
		previous_t = now;
	}
	uint64_t total = frames_counted(map_fd, ncpus) - first;
	bpf_xdp_detach((int)ifindex, flags, NULL);
	printf("SUMMARY iface=%s prog=%s mode=%s samples=%zu median_pps=%.0f min=%.0f max=%.0f total=%llu\n", ifname,
	       prog_name, mode, samples.n, series_median(&samples), series_min(&samples), series_max(&samples),
	       (unsigned long long)total);
	fflush(stdout);
	bpf_object__close(obj);
	return 0;
}
