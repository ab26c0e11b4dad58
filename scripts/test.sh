#!/usr/bin/env bash
# The whole test suite, on a fresh machine with only a Rust toolchain: fetches what the
# tests need (the Elixir 1.14 source from Debian, used by the corpus tests), then runs
# every test of the workspace. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
AIEX_ELIXIR_SRC="$(./scripts/fetch-elixir-corpus.sh)"
export AIEX_ELIXIR_SRC
echo "elixir corpus: $AIEX_ELIXIR_SRC" >&2
cargo test --workspace --all-targets "$@"
