FROM python:3.12-slim
ARG TARGETARCH
RUN case "$TARGETARCH" in \
      amd64|arm64) echo "supported" ;; \
      *) echo "unsupported: $TARGETARCH"; exit 1 ;; \
    esac
RUN apt-get update \
    && case "$TARGETARCH" in \
         (amd64) apt-get install -y libfoo ;; \
         *) apt-get install -y libbar ;; \
       esac \
    && rm -rf /var/lib/apt/lists/*
