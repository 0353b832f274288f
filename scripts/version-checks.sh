#!/usr/bin/env bash
# Dependency versions beyond the committed Cargo.lock. Each check resolves in a scratch copy
# of the committed tree (the real Cargo.lock is never touched); all three build into one
# target directory, where cargo keeps each version and feature set apart, so CI pays one cold
# build, not three.
#
#   scripts/version-checks.sh minimal   every direct requirement at its stated lower bound
#                                       (cargo +nightly update -Z direct-minimal-versions),
#                                       then every crate checked with all its features
#   scripts/version-checks.sh latest    the newest releases, those raising their MSRV included
#                                       (CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=allow),
#                                       then clippy -D warnings (all features, and each
#                                       crate with `rustls-ring` alone) and the library tests
#   scripts/version-checks.sh msrv      each package's rust-version: std APIs (clippy's
#                                       incompatible_msrv, on by default, reads it) and a
#                                       resolution where every dependency supports it
#
# Each prints what it proved, and exits non-zero when its condition is broken.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${VERSION_CHECKS_TARGET_DIR:-$root/target/version-checks}"
mode="${1:?usage: version-checks.sh minimal|latest|msrv}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# The working tree's files (committed or not), without target/ and .git.
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) \
  | tar -xf - -C "$scratch"
cd "$scratch"

case "$mode" in
  minimal)
    cargo +nightly update --quiet -Z direct-minimal-versions
    cargo check --quiet --workspace --all-features --lib --bins
    echo "minimal versions: every crate builds with all its features when each direct" \
      "dependency is at its stated lower bound"
    ;;
  latest)
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=allow cargo update --quiet
    cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings
    # With all features aws-lc-rs wins, so code under `rustls-ring` alone (ring's provider,
    # which new rustls releases deprecate) is compiled only when ring is chosen by itself.
    for manifest in crates/*/Cargo.toml; do
      if grep -q '^rustls-ring *=' "$manifest"; then
        crate="$(basename "$(dirname "$manifest")")"
        cargo clippy --quiet -p "$crate" --no-default-features --features rustls-ring --lib \
          -- -D warnings
      fi
    done
    cargo test --quiet --workspace --all-features --lib
    echo "latest versions: clippy -D warnings (all features, and each crate on ring alone)" \
      "and the library tests pass on the newest releases of every dependency"
    ;;
  msrv)
    # Resolution: resolver 3 picks versions whose rust-version each package supports
    # (the default fallback); then every locked package must declare no newer one.
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update --quiet
    cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
meta = json.load(sys.stdin)
def v(s):
    parts = [int(x) for x in (s or "0").split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))
pkgs = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
def closure(root):
    # What a user of the crate compiles: normal and build dependencies, transitively.
    seen, todo = set(), [root]
    while todo:
        for dep in nodes[todo.pop()]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds - {"dev"} and dep["pkg"] not in seen:
                seen.add(dep["pkg"]); todo.append(dep["pkg"])
    return seen
bad = 0
for member in meta["workspace_members"]:
    own = pkgs[member]
    floor = v(own["rust_version"])
    for dep in sorted(closure(member), key=lambda d: pkgs[d]["name"]):
        p = pkgs[dep]
        if p["source"] is not None and v(p["rust_version"]) > floor:
            bad += 1
            print("%s (rust-version %s) depends on %s %s (rust-version %s)" % (
                own["name"], own["rust_version"], p["name"], p["version"], p["rust_version"]))
sys.exit(1 if bad else 0)
'
    for manifest in crates/*/Cargo.toml; do
      crate="$(basename "$(dirname "$manifest")")"
      cargo clippy --quiet -p "$crate" --all-features -- -D clippy::incompatible_msrv
    done
    echo "MSRV: every crate uses no std API newer than its rust-version (clippy" \
      "incompatible_msrv), and a full dependency graph resolves within it; syntax (such as" \
      "let-chains) is not checked: no older toolchain can be installed here"
    ;;
  *)
    echo "usage: version-checks.sh minimal|latest|msrv" >&2
    exit 2
    ;;
esac
