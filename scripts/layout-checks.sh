#!/usr/bin/env bash
# The layout rules every crate keeps (House): no import cycle between the top-level modules of
# a crate, and no file under a crate's src/ over 500 lines (inline tests counted; tests/,
# benches/ and examples/ are exempt). Exits non-zero, naming the offender, when one breaks.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 scripts/module-cycles.py crates/*/src
echo "no import cycles between the top-level modules of any crate"

too_long="$(find crates/*/src -name '*.rs' -print0 | xargs -0 wc -l | awk '$2 != "total" && $1 > 500')"
if [ -n "$too_long" ]; then
  echo "files under src/ over 500 lines:"
  echo "$too_long"
  exit 1
fi
echo "no file under any crate's src/ is over 500 lines"
