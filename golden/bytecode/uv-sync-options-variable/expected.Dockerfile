FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
ARG UV_OPTIONS="--frozen"
WORKDIR /app
COPY . .
ENV UV_COMPILE_BYTECODE=1
RUN uv sync $UV_OPTIONS
