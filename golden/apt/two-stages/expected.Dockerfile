FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
FROM python:3.12-slim
RUN apt-get update && apt-get install -y libpq5 && rm -rf /var/lib/apt/lists/*
