FROM python:3.12-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
ENV UV_LINK_MODE=copy
RUN --mount=type=cache,target=/root/.cache/uv uv venv /venv && VIRTUAL_ENV=/venv uv pip install -r requirements.txt

FROM build AS test
RUN --mount=type=cache,target=/root/.cache/uv VIRTUAL_ENV=/venv uv pip install pytest==8.3.0

FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
ENV UV_LINK_MODE=copy
RUN --mount=type=cache,target=/root/.cache/uv uv pip install --system gunicorn==23.0.0
