FROM python:3.12-slim

WORKDIR /app
# build tools for wheels
RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install -r requirements.txt
