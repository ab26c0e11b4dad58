#!/usr/bin/env bash
# Keeps a shared build directory ($CARGO_TARGET_DIR, reused across CI runs and clones)
# from filling the disk. Every clone and every change links new test binaries beside the
# old ones (a few hundred MB each), and incremental caches pile up, so a long-lived build
# directory grows without bound. When the disk holding it has less than
# $AIEX_PRUNE_BELOW_GB (default 30) GB free, this removes the incremental caches and every
# test or bench executable but the newest of each name, and all but the newest few builds
# of the workspace's own libraries; third-party libraries are kept, so the next build does
# not rebuild the world. With more room it does nothing.
set -euo pipefail
target="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
below_gb="${AIEX_PRUNE_BELOW_GB:-30}"
[ -d "$target" ] || exit 0
free_gb() { echo $(($(df -Pk "$target" | awk 'NR == 2 { print $4 }') / 1024 / 1024)); }
free_gb=$(free_gb)
if [ "$free_gb" -ge "$below_gb" ]; then
  exit 0
fi
echo "prune-target: ${free_gb} GB free under $target (< ${below_gb} GB): pruning" >&2
for profile in debug release; do
  rm -rf "$target/$profile/incremental"
  deps="$target/$profile/deps"
  [ -d "$deps" ] || continue
  # Executables are named NAME-HASH (16 hex digits) with no extension: keep the newest
  # of each NAME.
  find "$deps" -maxdepth 1 -type f -perm -u+x -regextype posix-extended \
    -regex '.*/[A-Za-z0-9_]+-[0-9a-f]{16}' -printf '%T@ %p\n' |
    sort -rn |
    awk '{ name = $2; sub(/-[0-9a-f]+$/, "", name); if (seen[name]++) print $2 }' |
    while read -r old; do
      rm -f "$old" "$old.d"
      # Its fingerprint too: a library's and a binary's unit tests share a name
      # (`aiex_bench`), and cargo takes an executable whose fingerprint is left for
      # built, then cannot run it. Without one it builds it again.
      rm -rf "$target/$profile/.fingerprint/"*"-${old##*-}"
    done
  # The workspace's own libraries (libaiex_*) get a new hash per clone path and feature
  # set: keep the newest four of each name (a pruned one is simply rebuilt).
  find "$deps" -maxdepth 1 -type f -name 'libaiex_*.rlib' -printf '%T@ %p\n' |
    sort -rn |
    awk '{ name = $2; sub(/-[0-9a-f]+\.rlib$/, "", name); if (seen[name]++ >= 4) print $2 }' |
    while read -r old; do
      rm -f "$old" "${old%.rlib}.rmeta" "${old%.rlib}.d"
      stem="${old%.rlib}"
      rm -rf "$target/$profile/.fingerprint/"*"-${stem##*-}"
    done
  # Object files of links that never finished.
  find "$deps" -maxdepth 1 -type f -name '*.rcgu.o' -mmin +120 -delete
done
echo "prune-target: $(free_gb) GB free now" >&2
