FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libpq5 \
 && rm -rf /var/lib/apt/lists/*
COPY bin/worker /usr/local/bin/worker
ENTRYPOINT /usr/local/bin/worker --config /etc/worker.toml
