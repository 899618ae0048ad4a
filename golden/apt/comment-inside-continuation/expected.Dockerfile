FROM python:3.12-slim
RUN apt-get update && \
    # the compilers
    apt-get install -y gcc && \

    apt-get install -y g++ && \
    rm -rf /var/lib/apt/lists/*
