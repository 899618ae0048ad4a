FROM python:3.12-slim
ARG PKGS="curl git"
RUN apt-get update && apt-get install -y $PKGS && rm -rf /var/lib/apt/lists/*
