#!/usr/bin/env bash
# Every publishable crate packs LICENSE-MIT, LICENSE-APACHE and its own README.md
# (`cargo package --list`). Exits non-zero, naming the crate and file, when one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for manifest in crates/*/Cargo.toml; do
  dir="$(dirname "$manifest")"
  crate="$(basename "$dir")"
  listed="$(cd "$dir" && cargo package --list --allow-dirty --quiet 2>/dev/null)"
  for file in LICENSE-MIT LICENSE-APACHE README.md; do
    if ! grep -qx "$file" <<<"$listed"; then
      echo "$crate does not pack $file"
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "every crate packs LICENSE-MIT, LICENSE-APACHE and its own README.md"
exit "$status"
