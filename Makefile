# Sluice -- build, test and demo.
#
#   make deps    install the system packages the build and the end-to-end tests need (apt, idempotent)
#   make build   release build (.build/release/sluice)
#   make install release build, then sluice and sluicectl under PREFIX (default /usr/local) with sluicectl's
#                bash completion, man pages and, where /etc/systemd/system exists, the systemd unit
#   make test    deps, unit tests, then every Tests/EndToEnd/test_*.sh (as root; skipped otherwise)
#   make demo    the namespace lab with Sluice in it: curl and UDP through the VIPs, what the backends saw
#   make lint    swift format lint --strict        make format   swift format -i (rewrite in place)
#   make perf / perf-micro / perf-netns   benchmarks (Perf/README.md); not part of `make test`
#   make fuzz    a fuzz campaign (FUZZ_SECONDS per target, figures in Fuzz/results); `make fuzz-smoke`, a
#                fixed number of executions per target, is a step of `make test` (Fuzz/README.md)
#   make clean   remove build products and the lab
#
# Works without a TTY (CI) and as root. Variables: SWIFT, E2E (space-separated test scripts to run),
# DEMO_REQUESTS (requests per VIP in `make demo`), PREFIX and SYSTEMD_UNIT_DIR (`make install`).

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
SWIFT ?= swift
E2E ?= $(sort $(wildcard Tests/EndToEnd/test_*.sh))
DEMO_REQUESTS ?= 12
PREFIX ?= /usr/local
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
SUDO := $(shell if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then echo sudo; fi)

# Debian/Ubuntu packages: libraries for CXDP, tools for the lab and the end-to-end tests.
DEB_PACKAGES := libxdp-dev libbpf-dev libelf-dev zlib1g-dev pkg-config nginx-light hping3 tshark tcpdump \
	ethtool socat iproute2 nftables python3 python3-venv python3-yaml curl haproxy conntrack wrk python3-matplotlib \
	prometheus bird2
# From PyPI, into a virtual environment of the build (gitignored): schemathesis checks the admin API
# against docs/admin-api.yaml in the end-to-end tests.
PY_VENV := .build-py
PY_PACKAGES := schemathesis==4.32.5

# Fuzz targets (Fuzz/ is a package of its own): libFuzzer and AddressSanitizer, linked with lld.
FUZZ_BUILD_FLAGS := -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

.PHONY: all deps deps-deb deps-py build install test unit-test e2e-test demo lint format clean unsafe-check perf-micro perf-netns perf fuzz fuzz-build fuzz-smoke fuzz-seeds

all: build

deps: deps-deb deps-py

deps-py:
	@if $(PY_VENV)/bin/schemathesis --version >/dev/null 2>&1; then echo "deps: python tools present"; exit 0; fi; \
	echo "deps: installing $(PY_PACKAGES) into $(PY_VENV)"; \
	python3 -m venv $(PY_VENV) && $(PY_VENV)/bin/pip install --quiet $(PY_PACKAGES)

deps-deb:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "deps: missing:$$missing (no apt-get; install them by hand)" >&2; exit 1; fi; \
	echo "deps: installing$$missing"; \
	echo 'wireshark-common wireshark-common/install-setuid boolean false' | $(SUDO) debconf-set-selections; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $$missing

build:
	$(SWIFT) build -c release

# swift-argument-parser's generate-manual plugin builds every product in release, then writes a man page
# per ArgumentParser executable; its build is the release build installed here (a separate `swift build
# -c release` first would be partly redone by the plugin's). The unit's /usr/local/bin paths are
# rewritten to PREFIX; it is installed only where systemd keeps units.
install:
	@set -e; $(SWIFT) package plugin generate-manual; \
	bin=$$($(SWIFT) build -c release --show-bin-path); man=.build/plugins/GenerateManual/outputs; \
	install -d $(PREFIX)/bin $(PREFIX)/share/bash-completion/completions $(PREFIX)/share/man/man1; \
	install -m 0755 "$$bin/sluice" "$$bin/sluicectl" $(PREFIX)/bin/; \
	"$$bin/sluicectl" --generate-completion-script bash >$(PREFIX)/share/bash-completion/completions/sluicectl; \
	install -m 0644 "$$man/sluice/sluice.1" "$$man/sluicectl/sluicectl.1" $(PREFIX)/share/man/man1/; \
	if [ -d $(SYSTEMD_UNIT_DIR) ]; then \
		sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' Config/sluice.service >$(SYSTEMD_UNIT_DIR)/sluice.service; \
		chmod 0644 $(SYSTEMD_UNIT_DIR)/sluice.service; \
		echo "install: $(SYSTEMD_UNIT_DIR)/sluice.service (systemctl daemon-reload to load it)"; \
	else echo "install: no $(SYSTEMD_UNIT_DIR), systemd unit not installed"; fi; \
	echo "install: sluice and sluicectl in $(PREFIX)/bin, completion and man pages under $(PREFIX)/share"

unit-test:
	$(SWIFT) test

# Each script: exit 0 = passed, 77 = skipped (not root, missing tool), anything else = failed.
e2e-test:
	@passed=0; failed=0; skipped=0; failures=""; \
	for t in $(E2E); do \
		echo "=== $$t"; \
		if [ "$$(id -u)" -eq 0 ]; then bash "$$t" </dev/null; rc=$$?; \
		elif [ -n "$(SUDO)" ] && sudo -n true 2>/dev/null; then sudo -n bash "$$t" </dev/null; rc=$$?; \
		else bash "$$t" </dev/null; rc=$$?; fi; \
		case $$rc in \
			0) passed=$$((passed + 1));; \
			77) skipped=$$((skipped + 1));; \
			*) failed=$$((failed + 1)); failures="$$failures $$t";; \
		esac; \
	done; \
	echo "=== end-to-end: $$passed passed, $$failed failed, $$skipped skipped"; \
	[ -z "$$failures" ] || { echo "failed:$$failures"; exit 1; }

# `unsafe` (strict memory safety) is allowed only in SluiceXDP's ring, UMEM, map and netlink code.
unsafe-check:
	@found=$$(grep -rnw unsafe Sources Tests --include='*.swift' | grep -v '^Sources/SluiceXDP/' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true); \
	if [ -n "$$found" ]; then echo "unsafe outside SluiceXDP:"; echo "$$found"; exit 1; fi; \
	echo "unsafe-check: only SluiceXDP uses unsafe"

# Every step runs even when an earlier one failed; the last line counts the steps.
test: deps
	@passed=0; failed=0; failures=""; \
	for step in unsafe-check lint unit-test fuzz-smoke build e2e-test; do \
		if $(MAKE) --no-print-directory $$step; then passed=$$((passed + 1)); \
		else failed=$$((failed + 1)); failures="$$failures $$step"; fi; \
	done; \
	if [ -n "$$failures" ]; then echo "make test: FAILED:$$failures"; else echo "make test: OK"; fi; \
	echo "steps: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

# The build's own tools (bpf-embed) are built with the sanitizer too: their exit must not fail on leaks.
fuzz-build:
	cd Fuzz && ASAN_OPTIONS=detect_leaks=0 $(SWIFT) build $(FUZZ_BUILD_FLAGS)

fuzz-smoke: fuzz-build
	Fuzz/fuzz.sh smoke

fuzz: fuzz-build
	Fuzz/fuzz.sh campaign

fuzz-seeds: fuzz-build
	Fuzz/fuzz.sh seeds

demo: deps build
	@if [ "$$(id -u)" -ne 0 ]; then \
		if [ -n "$(SUDO)" ]; then exec sudo bash Tests/EndToEnd/lab.sh demo $(DEMO_REQUESTS); fi; \
		echo "make demo: needs root (network namespaces, XDP)" >&2; exit 1; \
	fi; \
	bash Tests/EndToEnd/lab.sh demo $(DEMO_REQUESTS)

# Benchmarks (Perf/ is a package of its own; see Perf/README.md). Not part of `make test`.
perf-micro:
	cd Perf && ./micro-all.sh --callgrind

perf-netns: build
	bash Perf/netns/forwarding.sh

# A routing daemon's full-table push: what following 100 000 route events costs (Perf/netns/route_storm.sh,
# Perf/README.md); runs the release binary as it is.
.PHONY: perf-routes
perf-routes:
	bash Perf/netns/route_storm.sh

# Where the gateway core goes per new connection: perf record of it while wrk opens connections through
# nftables FULLNAT and Sluice with and without syn_proxy (Perf/netns/conn_profile.sh, Perf/README.md);
# runs the release binary as it is.
.PHONY: perf-profile
perf-profile:
	bash Perf/netns/conn_profile.sh

# Connection sync under load: the peer's lag and the cost through the sending gateway, as root
# (Perf/netns/sync.sh, Perf/README.md). Runs the release binary as it is (.build/release/sluice, or
# SLUICE=path): no build, so that it measures what was built.
.PHONY: perf-sync
perf-sync:
	bash Perf/netns/sync.sh

# Sluice against routing, nftables FULLNAT/synproxy and HAProxy in one run, as root (Perf/perf.sh;
# Perf/README.md): packet path, connections, SYN floods, memory; results/perf-*.{md,png}. The 30-minute
# budget counts from here (PERF_START), deps and build included. SLUICE=path uses that binary, no build.
perf: export PERF_START := $(shell date +%s)
perf: export PERF_COMMAND := make perf$(if $(SLUICE), SLUICE=$(SLUICE))
perf: deps
	@if [ -z "$(SLUICE)" ]; then $(SWIFT) build -c release --product sluice || exit 1; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
		if [ -n "$(SUDO)" ]; then exec sudo env PERF_COMMAND="$$PERF_COMMAND" PERF_START="$$PERF_START" \
			$(if $(SLUICE),SLUICE="$(SLUICE)") bash Perf/perf.sh; fi; \
		echo "make perf: needs root (network namespaces, XDP)" >&2; exit 1; \
	fi; \
	bash Perf/perf.sh

lint:
	$(SWIFT) format lint --strict -r Sources Tests Fuzz/Sources

format:
	$(SWIFT) format -i -r Sources Tests Fuzz/Sources

clean:
	-[ "$$(id -u)" -ne 0 ] || bash Tests/EndToEnd/lab.sh down
	rm -rf .build Fuzz/.build
