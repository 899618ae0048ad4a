FROM python:3.12-slim
RUN apt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*
RUN curl -fsSLo /tmp/app.tar.gz https://example.com/app.tar.gz
