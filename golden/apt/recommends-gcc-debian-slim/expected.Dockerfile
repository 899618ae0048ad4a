FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y gcc python3-venv && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
COPY requirements.txt .
RUN /opt/venv/bin/pip install -r requirements.txt
