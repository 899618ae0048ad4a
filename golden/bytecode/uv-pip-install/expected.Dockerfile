FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
COPY requirements.txt .
ENV UV_COMPILE_BYTECODE=1
# dependencies
RUN uv pip install --system -r requirements.txt
COPY . .
