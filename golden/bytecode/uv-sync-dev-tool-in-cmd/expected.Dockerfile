FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
ENV UV_COMPILE_BYTECODE=1
RUN uv sync --locked --no-install-project
COPY . .
RUN uv sync --locked
# the image is the test runner: pytest comes from the dev group's included "test" group
CMD ["/app/.venv/bin/python", "-m", "pytest", "-q"]
