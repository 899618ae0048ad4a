FROM debian:bookworm-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends \
    python3 python3-venv python3-pip gcc python3-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python3 -m venv /venv
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install -r requirements.txt

FROM debian:bookworm-slim

# Debian's own Python, and what psycopg2 needs to build from source
RUN apt-get update && apt-get install -y --no-install-recommends \
    python3 ca-certificates libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=builder /venv /venv

COPY . .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["/venv/bin/python", "app.py"]
