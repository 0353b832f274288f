#!/usr/bin/env bash
# The blocking client's instructions per call against raw ureq on the same loopback exchange
# (a verify), counted by callgrind in the client process only; the server (the emulator binary)
# runs in its own process. Per call = (N calls − 0 calls) / N, as scripts/instructions.sh does.
# Usage: scripts/blocking-instructions.sh [calls]
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-2000}"
cargo build -p rebilly-auth-emulator --bin rebilly-auth-emulator >/dev/null 2>&1
# ring: no TLS is used over loopback, and it spares the release build aws-lc-rs's C code.
cargo build --release -p rebilly-auth-ureq --example callgrind_verify \
  --no-default-features --features rustls-ring >/dev/null 2>&1
bin=target/release/examples/callgrind_verify
out="$(mktemp)"
target/debug/rebilly-auth-emulator --port 0 --organization org --secret-key sk_bench >"$out" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$out" | head -n1)"
count() { # mode calls -> total instructions
  REBILLY_BENCH_URL="$url" REBILLY_BENCH_MODE="$1" REBILLY_BENCH_CALLS="$2" \
    valgrind --tool=callgrind --callgrind-out-file="${3:-/dev/null}" "$bin" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_call() { # mode -> instructions per call
  local base full
  base="$(count "$1" 0)"; full="$(count "$1" "$calls")"
  echo $(( (full - base) / calls ))
}
raw="$(per_call raw)"; deadline="$(per_call raw-deadline)"; sdk="$(per_call sdk)"
echo "| contender (client process only) | instructions/call |"
echo "|---|---:|"
echo "| raw ureq: GET + read under the limit + serde_json decode | $raw |"
echo "| raw ureq, plus a per-request deadline (configure_request) | $deadline |"
echo "| BlockingClient over UreqTransport: verify | $sdk |"
awk -v s="$sdk" -v r="$raw" 'BEGIN { printf "blocking client / raw ureq: %.3f (goal <= 1.05)\n", s / r }'
