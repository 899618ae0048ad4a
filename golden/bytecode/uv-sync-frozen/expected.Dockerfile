FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
COPY . /app
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1
RUN uv sync --no-dev --frozen
