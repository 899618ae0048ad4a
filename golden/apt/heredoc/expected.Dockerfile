FROM python:3.12-slim
RUN <<EOF
  set -eux
  apt-get update
  apt-get install -y curl
  rm -rf /var/lib/apt/lists/*
EOF
