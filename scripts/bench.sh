#!/usr/bin/env bash
# Reproduces every figure of BENCHMARKS.md: the in-process criterion bench and its side-by-side
# table, callgrind instruction counts, then the loopback transport bench (SDK vs raw reqwest and
# raw hyper-util at concurrency 1/16/64, emulator throughput, memory).
# Usage: scripts/bench.sh   (a few minutes; needs valgrind for the instruction counts)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "## cargo bench -p rebilly-auth-core --bench in_process"
cargo bench -p rebilly-auth-core --bench in_process
echo
echo "## scripts/instructions.sh"
if command -v valgrind >/dev/null; then scripts/instructions.sh; else echo "valgrind not found: skipped"; fi
echo
echo "## cargo bench -p rebilly-auth-examples --bench transport_overhead"
cargo bench -p rebilly-auth-examples --bench transport_overhead
