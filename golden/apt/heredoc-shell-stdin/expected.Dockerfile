FROM python:3.12-slim
RUN bash -e <<EOF && rm -rf /var/lib/apt/lists/*
apt-get update
apt-get install -y curl
EOF
