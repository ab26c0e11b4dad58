#!/usr/bin/env bash
# Unpacks the Elixir 1.14 standard library (Debian bookworm's elixir-lang source package)
# into $AIEX_CORPUS_DIR (default /var/tmp/aiex-corpus) for tests and benchmarks, and prints
# the path of the unpacked tree. Idempotent: once unpacked, it only prints the path.
set -euo pipefail
dir="${AIEX_CORPUS_DIR:-/var/tmp/aiex-corpus}"
found=$(ls -d "$dir"/elixir-lang-*/lib 2>/dev/null | head -n1 || true)
if [ -n "$found" ]; then dirname "$found"; exit 0; fi

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
command -v apt-get >/dev/null || {
  echo "apt-get is needed to fetch Debian's elixir-lang source; or set AIEX_ELIXIR_SRC to an unpacked Elixir source tree" >&2
  exit 1
}
mkdir -p "$dir"
download() { (cd "$dir" && apt-get source -qq --download-only elixir-lang >&2); }
if ! download 2>/dev/null; then
  # No source index yet: add bookworm's deb-src line and try again.
  echo "deb-src http://deb.debian.org/debian bookworm main" | $sudo tee /etc/apt/sources.list.d/aiex-src.list >/dev/null
  $sudo apt-get update -qq >&2
  download
fi
command -v dpkg-source >/dev/null || $sudo apt-get install -y -qq dpkg-dev >&2
(cd "$dir" && dpkg-source -x --no-check elixir-lang_*.dsc >&2)
found=$(ls -d "$dir"/elixir-lang-*/lib | head -n1)
dirname "$found"
