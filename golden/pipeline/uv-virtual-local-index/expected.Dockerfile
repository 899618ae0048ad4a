FROM python:3.12 AS builder
WORKDIR /app
COPY --from=ghcr.io/astral-sh/uv:0.9.5 /uv /uvx /bin/
COPY . .
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev

FROM python:3.12-slim

WORKDIR /app

COPY . .

COPY --from=builder /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:$PATH"

EXPOSE 8000

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
