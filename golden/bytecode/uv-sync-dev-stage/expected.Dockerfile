FROM python:3.12-slim AS dev
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1
COPY . /app
RUN uv sync --locked
