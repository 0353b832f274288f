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
