#!/usr/bin/env bash
# Each transport built with `--no-default-features --features rustls-ring` has no aws-lc-rs
# in its normal dependency graph, and with its default features it has aws-lc-rs (the
# post-quantum default). Exits non-zero, naming the transport, when either breaks.
set -euo pipefail
cd "$(dirname "$0")/.."

# `cargo tree -i X` prints X's reverse tree; when X is not in the selected graph it prints
# nothing or says the spec "did not match any packages".
graph_has() { # package, features args..., crate
  local crate="$1" needle="$2"; shift 2
  cargo tree -q -e normal -p "$crate" "$@" -i "$needle" 2>/dev/null | grep -q "^$needle v"
}

# (rebilly-auth-redis opens TLS connections too: `rediss://`.)
for transport in rebilly-auth-reqwest rebilly-auth-hyper rebilly-auth-redis rebilly-auth-ureq; do
  if graph_has "$transport" aws-lc-rs --no-default-features --features rustls-ring; then
    echo "$transport with rustls-ring still pulls in aws-lc-rs:"
    cargo tree -q -e normal -p "$transport" --no-default-features --features rustls-ring -i aws-lc-rs
    exit 1
  fi
  echo "$transport --no-default-features --features rustls-ring: no aws-lc-rs in the graph"
  if ! graph_has "$transport" aws-lc-rs; then
    echo "$transport's default features lost aws-lc-rs (the post-quantum default)"
    exit 1
  fi
  echo "$transport default features: aws-lc-rs (post-quantum key exchange)"
done
