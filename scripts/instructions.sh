#!/usr/bin/env bash
# Deterministic cost of the SDK's verify round trip next to a bare serde_json decode:
# instructions per call counted by callgrind (independent of machine load).
# Usage: scripts/instructions.sh [calls]
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-2000}"
cargo bench -p rebilly-auth-core --bench in_process --no-run >/dev/null 2>&1
bin="$(ls -t target/release/deps/in_process-* | grep -v '\.d$' | head -n1)"
count() { # mode calls -> total instructions
  REBILLY_BENCH_LOOP="$1" REBILLY_BENCH_CALLS="$2" valgrind --tool=callgrind \
    --callgrind-out-file=/dev/null "$bin" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per_call() { # mode -> instructions per call, with the process's fixed cost removed
  local base full
  base="$(count "$1" 0)"; full="$(count "$1" "$calls")"
  echo $(( (full - base) / calls ))
}
bare="$(per_call bare)"; build="$(per_call build)"; sdk="$(per_call sdk)"
echo "| measure | instructions/call |"
echo "|---|---:|"
echo "| bare serde_json decode of a token | $bare |"
echo "| SDK: build the verify request only | $build |"
echo "| SDK: verify round trip (build + no-op transport + decode) | $sdk |"
awk -v s="$sdk" -v b="$bare" 'BEGIN { printf "verify / bare decode instruction ratio: %.2f (goal <= 1.50)\n", s / b }'

# Per request over loopback, client and server (the quantity the CPU-bound transport rows divide
# two cores between): each contender of benches/transport_overhead.rs alone, 2000 calls minus 0.
if [ "${REBILLY_INSTRUCTIONS_TRANSPORTS:-1}" = 1 ]; then
  cargo bench -p rebilly-auth-examples --bench transport_overhead --no-run >/dev/null 2>&1
  tbin="$(ls -t target/release/deps/transport_overhead-* | grep -v '\.d$' | head -n1)"
  solo() { # contender calls -> total instructions
    REBILLY_BENCH_SOLO="$1" REBILLY_BENCH_CALLS="$2" valgrind --tool=callgrind \
      --callgrind-out-file=/dev/null "$tbin" --bench 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  echo
  echo "| contender (loopback, client + server) | instructions/request | vs its raw client |"
  echo "|---|---:|---:|"
  for stack in hyper reqwest; do
    raw_base="$(solo "raw-$stack" 0)"; raw_full="$(solo "raw-$stack" "$calls")"
    raw=$(( (raw_full - raw_base) / calls ))
    echo "| raw $stack | $raw | 1.000 |"
    for who in "transport-$stack" "sdk-$stack"; do
      base="$(solo "$who" 0)"; full="$(solo "$who" "$calls")"
      n=$(( (full - base) / calls ))
      awk -v w="$who" -v n="$n" -v r="$raw" \
        'BEGIN { printf "| %s | %d | +%d (+%.1f %%), predicted throughput ratio %.3f |\n", w, n, n - r, 100 * (n - r) / r, r / n }'
    done
  done
fi
