FROM python:3.12-slim-bookworm
RUN apt-get update && apt-get install --no-install-recommends -y build-essential && rm -rf /var/lib/apt/lists/*
RUN pip install flask
