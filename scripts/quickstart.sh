#!/usr/bin/env bash
# Aiex's main job on the embedded default: builds Aiex, starts `aiex up` (gateway and node
# in one process) on a free port, uploads a real Elixir project through the gateway (the
# sample under examples/inventory, or the directory given), prints search results and the
# ranked repository map, then stops the server.
# Usage: scripts/quickstart.sh [PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
project="${1:-examples/inventory}"
export AIEX_DATA_DIR="${AIEX_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/aiex}"
cargo build --release -q -p aiex
aiex="$CARGO_TARGET_DIR/release/aiex"
addr_file="$(mktemp)"
"$aiex" up --listen 127.0.0.1:0 --addr-file "$addr_file" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$addr_file"' EXIT
for _ in $(seq 300); do [ -s "$addr_file" ] && break; kill -0 $server || exit 1; sleep 0.1; done
export AIEX_ADDR="$(cat "$addr_file")"
echo "\$ aiex repo add $project"
"$aiex" repo add "$project"
for q in "cancel a reservation and return units to stock" "apply a percentage discount to a price" "Inventory.Stock.reserve"; do
  echo; echo "\$ aiex search \"$q\" --limit 3"
  "$aiex" search "$q" --limit 3
done
echo; echo "\$ aiex symbols map --tokens 300"
"$aiex" symbols map --tokens 300
echo; echo "\$ aiex cluster status"
"$aiex" cluster status
