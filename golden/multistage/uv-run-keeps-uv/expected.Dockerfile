FROM python:3.12-bookworm AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /uvx /bin/
WORKDIR /app
COPY . .
RUN uv sync --locked

FROM python:3.12-slim-bookworm
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /uvx /bin/
WORKDIR /app
COPY . .
COPY --from=builder /app/.venv /app/.venv
CMD ["uv", "run", "--no-sync", "app"]
