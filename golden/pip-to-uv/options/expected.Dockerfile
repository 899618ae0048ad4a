FROM python:3.12 AS builder
WORKDIR /app
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_INDEX_STRATEGY=unsafe-best-match
RUN uv venv --python /usr/local/bin/python /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/uv uv pip install \
    -r requirements.txt -c constraints.txt --prerelease=allow --allow-insecure-host pypi.internal \
    --extra-index-url https://pypi.internal/simple
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv uv pip install --no-deps -e .

FROM python:3.12-slim
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "-m", "app"]
