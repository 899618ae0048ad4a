FROM debian:trixie-slim
RUN apt-get update \
    && apt-get install --no-install-recommends -y \
        curl \
        ca-certificates \
        python3 \
        python3-venv \
    && rm -rf /var/lib/apt/lists/*
