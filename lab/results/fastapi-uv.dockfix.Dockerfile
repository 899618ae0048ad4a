FROM python:3.11 AS builder
WORKDIR /app
# Install uv
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
COPY pyproject.toml uv.lock ./
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev

FROM python:3.11-slim

WORKDIR /app

COPY --from=builder /app/.venv /app/.venv

COPY . .

ENV PATH="/app/.venv/bin:$PATH"

EXPOSE 8000

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
