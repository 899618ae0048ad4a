FROM python:3.11 AS builder
ENV UV_INDEX_URL=https://pypi.example.com/simple PIP_NO_CACHE_DIR=1
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN uv venv --python /usr/local/bin/python3 /venv
ENV VIRTUAL_ENV=/venv PATH="/venv/bin:$PATH"
RUN --mount=type=cache,target=/root/.cache/uv uv pip install gunicorn==22.0.0 "flask[async]>=3"

FROM python:3.11-slim
COPY --from=builder /venv /venv
ENV PATH="/venv/bin:$PATH"
CMD ["gunicorn", "app:app"]
