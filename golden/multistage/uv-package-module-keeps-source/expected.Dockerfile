FROM python:3.12 AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /uvx /bin/
WORKDIR /app
COPY . .
RUN uv sync --locked --no-dev --no-editable

FROM python:3.12-slim
WORKDIR /app
COPY . .
COPY --from=builder /app/.venv /app/.venv
CMD ["/app/.venv/bin/python", "-m", "greeter.cli"]
