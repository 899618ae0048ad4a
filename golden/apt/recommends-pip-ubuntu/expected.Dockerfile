FROM ubuntu:24.04
RUN apt-get update && apt-get install -y python3-pip && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --break-system-packages -r requirements.txt
