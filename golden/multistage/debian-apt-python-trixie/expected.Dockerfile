FROM debian:trixie-slim AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates gcc python3-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates libssl3t64 \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
COPY --from=builder /venv /venv
COPY app.py /app/app.py
CMD ["/venv/bin/python", "/app/app.py"]
