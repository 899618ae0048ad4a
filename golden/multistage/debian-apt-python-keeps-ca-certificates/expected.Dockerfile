FROM debian:bookworm-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 \
        python3-venv \
        python3-pip \
        build-essential \
        libpq-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PATH="/opt/app-venv/bin:$PATH"
WORKDIR /srv
RUN python3 -m venv /opt/app-venv
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

FROM debian:bookworm-slim

RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 \
        ca-certificates \
        libpq5 \
    && rm -rf /var/lib/apt/lists/*

ENV PATH="/opt/app-venv/bin:$PATH"
WORKDIR /srv
COPY --from=builder /opt/app-venv /opt/app-venv
COPY . .
EXPOSE 8000
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
