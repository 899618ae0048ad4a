FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
WORKDIR /app
COPY . .
ENV UV_COMPILE_BYTECODE=1
RUN uv sync --locked --no-dev
CMD ["uv", "run", "--no-sync", "flask", "run"]
