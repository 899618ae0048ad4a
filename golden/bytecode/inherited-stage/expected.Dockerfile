FROM python:3.12-slim AS base
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1
RUN uv pip install --system -r requirements.txt

FROM base AS app
RUN uv pip install --system gunicorn==23.0.0
