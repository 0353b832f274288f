#!/usr/bin/env bash
# Dependency policy (House, item 2), read from `cargo tree -e normal,features` (dev-dependencies
# excluded), each check printing what it proved and exiting non-zero, naming the offender,
# when it breaks:
#   (a) rebilly-auth-testing with its default features pulls in no argument parser, no tokio
#       `signal` or `rt-multi-thread`, and not the binary's log filter (tracing-subscriber's
#       `env-filter`, matchers) (the emulator comes without its `cli` feature);
#   (b) rebilly-auth-testing with no default features pulls in no HTTP server, regex, HMAC/SHA,
#       base64 or TLS crate;
#   (c) rebilly-auth-core's default features pull in no rustls; the blocking path (core's
#       `blocking`, rebilly-auth-ureq, the CLI without its emulator) pulls in no async runtime;
#   (d) with default features, no published crate has two versions of getrandom (the axum
#       crate once exposed getrandom 0.2 beside moka's 0.4). rebilly-auth-redis is the known
#       exception: redis-rs 1.x pulls rand 0.9 (getrandom 0.3) while moka's uuid pulls 0.4;
#       redis-rs 2 (rand 0.10) removes it.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0

# tree PACKAGE [CARGO TREE FLAGS…]: every line of the package's normal dependency tree with
# features, prefixes stripped ("tokio feature \"signal\"", "hyper v1.6.0", …).
tree() {
  local package=$1
  shift
  cargo tree --quiet -p "$package" -e normal,features --prefix none "$@" | sort -u
}

# forbid WHAT TREE PATTERN…: fails when a line of TREE names a crate (or crate feature) of the
# patterns; a pattern is a crate name, or `crate/feature`.
forbid() {
  local what=$1 tree=$2
  shift 2
  local found=()
  for pattern in "$@"; do
    local name=${pattern%%/*} feature=
    [ "$pattern" != "$name" ] && feature=${pattern#*/}
    if [ -n "$feature" ]; then
      grep -qE "^${name} feature \"${feature}\"" <<<"$tree" && found+=("$pattern")
    else
      grep -qE "^${name} v[0-9]" <<<"$tree" && found+=("$pattern")
    fi
  done
  if [ ${#found[@]} -gt 0 ]; then
    echo "FAILED: $what pulls in: ${found[*]}"
    failed=1
  else
    echo "ok: $what pulls in none of: $*"
  fi
}

forbid "rebilly-auth-testing (default features)" \
  "$(tree rebilly-auth-testing)" \
  lexopt clap clap_builder pico-args argh gumdrop tokio/signal tokio/rt-multi-thread \
  tracing-subscriber/env-filter matchers

forbid "rebilly-auth-testing (--no-default-features)" \
  "$(tree rebilly-auth-testing --no-default-features)" \
  hyper hyper-util fancy-regex regex hmac sha2 base64 rustls ring aws-lc-rs aws-lc-sys

# The blocking client's path has no async runtime: core's `blocking` feature, the ureq
# transport, and the CLI without its embedded emulator pull in no tokio.
forbid "rebilly-auth-core (--no-default-features --features blocking)" \
  "$(tree rebilly-auth-core --no-default-features --features blocking)" \
  tokio async-std smol
forbid "rebilly-auth-ureq (default features)" "$(tree rebilly-auth-ureq)" tokio async-std smol
forbid "rebilly-auth-cli (--no-default-features)" \
  "$(tree rebilly-auth-cli --no-default-features)" tokio async-std smol

forbid "rebilly-auth-core (default features)" \
  "$(tree rebilly-auth-core)" \
  rustls tokio-rustls hyper-rustls

for crate in core reqwest hyper testing axum tower emulator ureq cli; do
  versions=$(cargo tree --quiet -p "rebilly-auth-$crate" -e normal --prefix none \
    | grep -oE '^getrandom v[0-9.]+' | sort -u || true)
  if [ "$(grep -c . <<<"$versions")" -gt 1 ]; then
    echo "FAILED: rebilly-auth-$crate (default features) has two getrandom versions:" $versions
    failed=1
  fi
done
[ "$failed" = 0 ] && echo "ok: with default features no crate but rebilly-auth-redis has two getrandom versions"

exit "$failed"
