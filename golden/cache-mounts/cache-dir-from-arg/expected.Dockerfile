FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
ARG UV_CACHE_DIR=/opt/uv-cache
ENV UV_LINK_MODE=copy
COPY requirements.txt .
RUN --mount=type=cache,target=/opt/uv-cache uv pip install --system -r requirements.txt
