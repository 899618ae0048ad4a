FROM python:3.11-slim

LABEL org.opencontainers.image.title="nonroot-user" \
      org.opencontainers.image.description="A bottle app that runs as an unprivileged user"

RUN useradd --create-home --shell /bin/bash appuser

WORKDIR /home/appuser/app

COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

COPY --chown=appuser:appuser . .

USER appuser

VOLUME ["/home/appuser/data"]
EXPOSE 8080
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/')"

CMD ["python", "server.py"]
