#!/usr/bin/env bash
# Unpacks the Elixir 1.14 standard library (Debian bookworm's elixir-lang source package)
# into $AIEX_CORPUS_DIR (default /var/tmp/aiex-corpus) for tests and benchmarks.
# Prints the path of the unpacked tree. Idempotent: a second run only prints the path.
set -euo pipefail
dir="${AIEX_CORPUS_DIR:-/var/tmp/aiex-corpus}"
found=$(ls -d "$dir"/elixir-lang-*/lib 2>/dev/null | head -n1 || true)
if [ -n "$found" ]; then dirname "$found"; exit 0; fi
mkdir -p "$dir"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ \
   && ! grep -rqs "Types:.*deb-src" /etc/apt/sources.list.d/; then
  echo "deb-src http://deb.debian.org/debian bookworm main" | $sudo tee /etc/apt/sources.list.d/aiex-src.list >/dev/null
fi
$sudo apt-get update -qq >&2
command -v dpkg-source >/dev/null || $sudo apt-get install -y -qq dpkg-dev >&2
( cd "$dir" && apt-get source -qq --download-only elixir-lang >&2 && dpkg-source -x --no-check elixir-lang_*.dsc >&2 ) 
found=$(ls -d "$dir"/elixir-lang-*/lib | head -n1)
dirname "$found"
