FROM python:3.12-slim
RUN apt-get update && \
    apt-get install --no-install-recommends -y gcc libpq-dev && \
    rm -rf /var/lib/apt/lists/*
