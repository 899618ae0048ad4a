FROM python:3.12-slim
# A script written for later: data, not commands this RUN runs
RUN cat > /setup.sh <<EOF
apt-get update
apt-get install -y curl
EOF
RUN apt-get update && apt-get install -y git && cat > /etc/pip.conf <<EOF && rm -rf /var/lib/apt/lists/*
[global]
index-url = https://example.com/simple
EOF
