FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.9.5 /uv /uvx /bin/
WORKDIR /app
COPY pyproject.toml .python-version ./
RUN uv sync --no-install-project
COPY . .
RUN uv sync
CMD ["uv", "run", "--no-sync", "uvicorn", "app.main:app"]
