FROM python:3.13 AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.4 /uv /bin/uv
ENV UV_PROJECT_ENVIRONMENT=/opt/env
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen

FROM python:3.13-slim
ENV UV_PROJECT_ENVIRONMENT=/opt/env
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY --from=builder /opt/env /opt/env
COPY src ./src
CMD ["/opt/env/bin/python", "-m", "src"]
