FROM python:3.12-slim
RUN <<EOF
apt-get update
apt-get install -y curl && rm -rf /var/lib/apt/lists/*
EOF
