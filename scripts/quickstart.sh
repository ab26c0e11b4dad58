#!/usr/bin/env bash
# Builds Aiex, indexes a real Elixir project (the sample under examples/inventory, or the
# directory given) into a local data directory, and searches it.
# Usage: scripts/quickstart.sh [PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
project="${1:-examples/inventory}"
export AIEX_DATA_DIR="${AIEX_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/aiex}"
cargo build --release -q -p aiex
aiex="$CARGO_TARGET_DIR/release/aiex"
"$aiex" index "$project"
for q in "cancel a reservation and return units to stock" "apply a percentage discount to a price" "Inventory.Stock.reserve"; do
  echo; echo "\$ aiex search \"$q\" --limit 3"
  "$aiex" search "$q" --limit 3
done
echo; echo "\$ aiex symbols map --tokens 300"
"$aiex" symbols map --tokens 300
