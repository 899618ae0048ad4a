FROM python:3.12-slim
RUN if [ -f /etc/debian_version ]; then apt-get update && apt-get install -y curl; fi || { echo "failed"; exit 1; } && rm -rf /var/lib/apt/lists/*
