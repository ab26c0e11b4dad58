#!/usr/bin/env bash
# Builds the aiex image (the repository's Dockerfile, unchanged) where no container
# registry is reachable and no Docker daemon runs: buildah (no daemon, chroot isolation,
# vfs storage) with local stand-ins for the three base images the Dockerfile names,
# made with debootstrap from the Debian mirror and this machine's Rust toolchain:
#
#   debian:bookworm-slim         debootstrap --variant=minbase bookworm
#   python:3.11-slim-bookworm    the same + python3 (3.11 in bookworm) and pip
#   rust:1-bookworm              the same + build-essential, and the host's toolchain
#                                (`rustc --print sysroot`) in /usr/local/rust
#
# Then smoke-tests the image: `aiex --version` and `id` as the image's user.
#
#   sudo scripts/build-image-offline.sh [TAG]      # default aiex:0.1.0
#
# Needs root, debootstrap and buildah (apt-get install buildah debootstrap). Work files
# go to $AIEX_IMAGE_WORK (default /var/tmp/aiex-img).
set -euo pipefail
tag=${1:-aiex:0.1.0}
work=${AIEX_IMAGE_WORK:-/var/tmp/aiex-img}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
repo=$(cd "$(dirname "$0")/.." && pwd)
b() { buildah --storage-driver vfs "$@"; }
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install buildah debootstrap" >&2; exit 1; }
done
mkdir -p "$work"

# A base image from a root file system, under the names the Dockerfile uses.
commit_rootfs() {
  local rootfs=$1; shift
  local ctr mnt
  ctr=$(b from scratch)
  mnt=$(b mount "$ctr")
  cp -a "$rootfs"/. "$mnt"/
  b umount "$ctr" >/dev/null
  for cfg in "$@"; do b config "$cfg" "$ctr"; done
  b commit -q "$ctr" "localhost/standin:$(basename "$rootfs")" >/dev/null
  b rm "$ctr" >/dev/null
}

debian=$work/debian
if [ ! -x "$debian/bin/sh" ]; then
  rm -rf "$debian"
  debootstrap --variant=minbase bookworm "$debian" "$mirror" >"$work/debootstrap.log"
fi
derive() { # derive NAME PACKAGES...: the Debian root file system plus packages
  local dir=$work/$1; shift
  if [ ! -e "$dir/.done" ]; then
    rm -rf "$dir"
    cp -a "$debian" "$dir"
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    chroot "$dir" apt-get update -q >/dev/null
    chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
    chroot "$dir" apt-get clean
    touch "$dir/.done"
  fi
}
derive python python3 python3-pip ca-certificates
derive rust build-essential ca-certificates
# A machine whose egress re-signs TLS trusts extra authorities: the build stages that
# download (pip from PyPI, cargo from crates.io) need them too. The runtime stand-in gets
# none, so the image itself trusts only Debian's.
for dir in "$work/python" "$work/rust"; do
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    chroot "$dir" update-ca-certificates >/dev/null 2>&1
  fi
done
if [ ! -x "$work/rust/usr/local/rust/bin/cargo" ]; then
  sysroot=$(rustc --print sysroot)
  mkdir -p "$work/rust/usr/local/rust" "$work/rust/usr/local/cargo"
  cp -a "$sysroot"/. "$work/rust/usr/local/rust/"
fi

# Each stand-in is committed once (committing again would give it a new id and rebuild
# every stage on top of it); `buildah rmi` one to make it again.
have() { b inspect --type image "$1" >/dev/null 2>&1; }
if ! have docker.io/library/debian:bookworm-slim; then
  commit_rootfs "$debian"
  b tag localhost/standin:debian docker.io/library/debian:bookworm-slim
fi
if ! have docker.io/library/python:3.11-slim-bookworm; then
  commit_rootfs "$work/python"
  b tag localhost/standin:python docker.io/library/python:3.11-slim-bookworm
fi
if ! have docker.io/library/rust:1-bookworm; then
  commit_rootfs "$work/rust" \
    "--env=CARGO_HOME=/usr/local/cargo" \
    "--env=PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  b tag localhost/standin:rust docker.io/library/rust:1-bookworm
fi

started=$(date +%s)
b bud --isolation chroot --pull=never --layers -t "$tag" -f "$repo/Dockerfile" "$repo"
echo "built $tag in $(( $(date +%s) - started )) s"
b images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -F "${tag%%:*}"

# Smoke test: the binary runs, as the unprivileged user, from the image's entrypoint.
ctr=$(b from --pull=never "$tag")
b run --isolation chroot "$ctr" -- aiex --version
b run --isolation chroot "$ctr" -- id
b run --isolation chroot "$ctr" -- sh -c 'test -f /opt/aiex/embed-model/model.safetensors && echo "embedding model present"'
# The embedded mode serves from the image, as its user, with the embedding model on.
port=$(( 20000 + RANDOM % 20000 ))
timeout 30 buildah --storage-driver vfs run --isolation chroot \
  --env AIEX_EMBED_MODEL=/opt/aiex/embed-model "$ctr" -- \
  aiex up --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" >"$work/up.log" 2>&1 &
up=$!
ready=
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$((port + 1))/health/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.3
done
samples=$(curl -fsS "http://127.0.0.1:$((port + 1))/metrics" | grep -c '^aiex_' || true)
kill "$up" 2>/dev/null || true
wait "$up" 2>/dev/null || true
b rm "$ctr" >/dev/null
[ -n "$ready" ] || { echo "aiex up in the image never became ready:" >&2; cat "$work/up.log" >&2; exit 1; }
echo "aiex up in the image: ready, $samples aiex_ metric samples"
