FROM debian:bookworm-slim
RUN apt-get update && apt-get install --no-install-recommends -y curl ca-certificates python3 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSLo /tmp/app.tar.gz https://example.com/app.tar.gz
CMD ["python3", "-m", "app"]
