#!/usr/bin/env bash
# test_config.sh -- `sluice check` from the operator's side: the shipped file passes, a broken file
# fails with every problem on its own line (`FILE: keyPath: message`), a missing file fails in one
# line. Needs the release binary, not root.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_sluice
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# `sluice check FILE` (docs/design.md §5); accept `--config FILE` too, like `sluice run`.
sluice_check() {
    if "$SLUICE_BIN" check --help 2>&1 | grep -q -- '--config'; then
        "$SLUICE_BIN" check --config "$1"
    else
        "$SLUICE_BIN" check "$1"
    fi
}

out=$(sluice_check "$REPO_ROOT/Config/sluice.yaml" 2>&1)
rc=$?
check_eq "Config/sluice.yaml passes 'sluice check'" 0 "$rc"
[ "$rc" -eq 0 ] || printf '%s\n' "$out" | sed 's/^/    | /'

sed -e 's/port: 80$/port: 0/' -e '0,/10.30.0.13/s//10.30.0.300/' -e 's/scheduler: wrr/shceduler: wrr/' \
    "$REPO_ROOT/Config/sluice.yaml" >"$tmp/bad.yaml"
out=$(sluice_check "$tmp/bad.yaml" 2>&1)
rc=$?
check "a broken file fails 'sluice check'" test "$rc" -ne 0
check "the bad port is reported with its key path" \
    grep -qF "$tmp/bad.yaml: virtual_servers[0].port: 0 is out of range" <<<"$out"
check "the bad address is reported with its key path" \
    grep -qF "$tmp/bad.yaml: virtual_servers[0].real_servers[2].address: \"10.30.0.300\" is not an IPv4 or IPv6 address" \
    <<<"$out"
check "the typo is reported as an unknown key with a suggestion" \
    grep -qF "virtual_servers[0].shceduler: unknown key \"shceduler\" (did you mean \"scheduler\"?)" <<<"$out"
check "the second service's typo is reported in the same run" \
    grep -qF "virtual_servers[1].shceduler" <<<"$out"

out=$(sluice_check "$tmp/missing.yaml" 2>&1)
rc=$?
check "a missing file fails 'sluice check'" test "$rc" -ne 0
check_eq "a missing file is reported in one line" 1 "$(grep -c . <<<"$out")"

printf 'interfaces:\n  external: ext0\n internal: int0\n' >"$tmp/syntax.yaml"
out=$(sluice_check "$tmp/syntax.yaml" 2>&1)
check "a YAML syntax error is reported with line and column" grep -qE "syntax.yaml:3:[0-9]+: YAML syntax error" <<<"$out"
finish
