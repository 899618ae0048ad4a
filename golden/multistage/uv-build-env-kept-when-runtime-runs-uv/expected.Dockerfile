FROM python:3.12 AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /uvx /bin/
WORKDIR /app
COPY . .
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN uv sync --locked --no-dev

FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /uvx /bin/
WORKDIR /app
COPY . .
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
COPY --from=builder /app/.venv /app/.venv
CMD ["uv", "run", "--no-dev", "greeter"]
