# syntax=docker/dockerfile:1
FROM python:3.12-slim

RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
EOF

WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY . .
CMD ["python", "worker.py"]
